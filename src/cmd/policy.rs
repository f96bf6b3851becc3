//! `labcheck policy`: the read-only IAM policy, or the grader role's template.

use super::common::print;
use super::{Common, Error};
use labcheck::exit::Exit;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Print a CloudFormation template (YAML) of the grader role learners
    /// create for cohort grading, instead of the policy.
    #[arg(long)]
    role_template: bool,
}

pub(crate) fn run(common: &Common, args: &Args) -> Result<Exit, Error> {
    let course = common.course()?;
    let lab = common.lab(&course)?;
    print(&labcheck::policy::render(lab, args.role_template))
}
