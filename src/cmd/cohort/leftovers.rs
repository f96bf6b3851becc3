//! `labcheck cohort leftovers`: who left resources running (the arguments
//! are the library's, [`labcheck::cohort::leftovers::LeftoversArgs`]).

use crate::cmd::{Common, Error};
use labcheck::exit::Exit;

pub(crate) use labcheck::cohort::leftovers::LeftoversArgs as Args;

pub(crate) async fn run(common: &Common, args: &Args) -> Result<Exit, Error> {
    let course = common.course()?;
    let lab = common.lab(&course)?;
    Ok(labcheck::cohort::leftovers::run(lab, args, common.cohort_access()).await?)
}
