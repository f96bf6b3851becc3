//! `labcheck cohort invite ROSTER`: an external id per learner, and the
//! command (and link) that deploys each learner's grader role.

use crate::cmd::{Common, Error};
use labcheck::cohort::invite::InviteSettings;
use labcheck::exit::Exit;
use std::path::PathBuf;

/// What is filled in and printed, examples, and exit codes.
pub(crate) const AFTER_HELP: &str = "Fills the roster's external_id column (added when missing) with a random id
for every learner who has none: 128 bits from the operating system's random
number generator, never the same for two learners. Existing ids are kept
(--renew replaces them all; learners then deploy their role again). The
roster is written back in place, atomically, or to -o FILE.

Then, for each learner, the `aws cloudformation deploy` command that creates
their grader role from `labcheck policy --role-template > labcheck-grader.yaml`,
trusting --principal (the role or user you grade with, not your whole account)
under that learner's own id; with --template-url (the template published in
S3), a CloudFormation console link with the parameters filled in as well.

Examples:
  labcheck cohort invite roster.csv --principal arn:aws:iam::111122223333:role/instructor
  labcheck cohort invite roster.csv --principal arn:aws:iam::111122223333:user/teacher \\
    --template-url https://my-course.s3.amazonaws.com/labcheck-grader.yaml > invitations.txt
  labcheck cohort invite roster.csv --principal ARN --renew -o roster-2.csv

Exit codes: 0 done, 2 bad roster or usage (a roster that gives two learners
one account or role is refused unless --allow-shared-accounts).";

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The roster CSV.
    #[arg(value_name = "ROSTER")]
    roster: PathBuf,
    /// The IAM role or user ARN you grade with: the only principal the
    /// learners' grader roles trust (`aws sts get-caller-identity` shows it;
    /// for an assumed role, give the role's ARN).
    #[arg(long, value_name = "ARN")]
    principal: String,
    /// Write the roster with its ids to FILE (atomically) instead of back in place.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Give every learner a new external id, not only those without one.
    #[arg(long)]
    renew: bool,
    /// The template's URL in S3 (`labcheck policy --role-template`,
    /// uploaded): also print a CloudFormation quick-create link per learner.
    #[arg(long, value_name = "URL")]
    template_url: Option<String>,
    /// Accept a roster that gives two learners the same account or role (teams).
    #[arg(long)]
    allow_shared_accounts: bool,
}

pub(crate) fn run(common: &Common, args: &Args) -> Result<Exit, Error> {
    Ok(labcheck::cohort::invite::invite(&InviteSettings {
        roster: args.roster.clone(),
        output: args.output.clone(),
        renew: args.renew,
        principal: args.principal.clone(),
        template_url: args.template_url.clone(),
        region: common.region.clone(),
        allow_shared_accounts: args.allow_shared_accounts,
    })?)
}
