//! `labcheck cohort grade [ROSTER]`: grade every learner and write the gradebook.

use crate::cmd::{Common, Error};
use labcheck::cohort::command;
use labcheck::cohort::render::Format;
use labcheck::exit::Exit;
use std::path::PathBuf;
use std::time::Duration;

/// The roster's columns, examples, and exit codes.
pub(crate) const AFTER_HELP: &str = "Roster: a CSV file with a header row, a learner a row: `learner` and
`account` (or `role_arn`), and optional columns: external_id (labcheck cohort
invite fills it), region, project_dir, the learner's LMS identities (email,
sis_login_id, sis_user_id, section) and any lab parameter. The instructor's
guide documents every column, in \"The roster's columns\" (labcheck book
serve --open, then Instructor's guide).

Examples:
  labcheck cohort grade roster.csv --format html -o gradebook.html
  labcheck cohort grade roster.csv --format json -o friday.json --compare wednesday.json
  labcheck cohort grade roster.csv --excuses excuses.csv --format canvas --assignment \"Lab 3\" -o canvas.csv
  labcheck cohort grade roster.csv --format moodle --moodle-id username -o moodle.csv
  labcheck cohort grade --organization ou-ab12-cd34ef56 --recursive --external-id ID -o grades.csv
  labcheck cohort grade roster.csv -o grades.csv --journal grading.jsonl
  labcheck cohort grade roster.csv -o grades.csv --journal grading.jsonl --resume
  labcheck cohort grade roster.csv -o grades.csv --journal grading.jsonl --regrade-errors
  labcheck cohort grade roster.csv -o grades.csv --journal grading.jsonl --regrade ada
  labcheck cohort grade roster.csv --shard auto/10 --format json -o part.json
  labcheck cohort grade roster.csv --reports handed-in/ --reports-since 2026-03-01 -o grades.csv

Two learners with one account or role are refused (each learner grades their
own account) unless --allow-shared-accounts. Learners' own reports count only
where they can be true, and apart: the self_reported column, beside the
verified score. A journal is locked while a run uses it.

Exit codes: 0 every learner graded, 2 bad roster or usage, 3 some learners
could not be graded (their grading_status says why), 130 interrupted.";

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The roster CSV (optional with --organization).
    #[arg(value_name = "ROSTER", required_unless_present = "organization")]
    roster: Option<PathBuf>,
    /// Gradebook format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Write the gradebook to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Learners graded at once.
    #[arg(long, value_name = "N", default_value_t = 32)]
    jobs: usize,
    /// Longest time one learner may take, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    learner_timeout: u64,
    /// Longest time one check may take, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// External id for AssumeRole, for learners whose row has none.
    #[arg(long, env = "LABCHECK_EXTERNAL_ID", value_name = "ID", hide_env_values = true)]
    external_id: Option<String>,
    /// Folder of learners' own `labcheck check --format json` reports
    /// (LEARNER.json): they fill in the checks the grader cannot reach, marked
    /// self-reported and counted apart from the verified score, where they can
    /// be true (the checks they need passed, same account and endpoints).
    #[arg(long, value_name = "DIR")]
    reports: Option<PathBuf>,
    /// Ignore learners' reports written before this time: RFC 3339
    /// (2026-03-01T09:00:00Z) or a date (2026-03-01, from midnight UTC).
    #[arg(long, value_name = "TIME", requires = "reports", value_parser = labcheck::cohort::self_report::parse_since)]
    reports_since: Option<std::time::SystemTime>,
    /// Grade a roster that gives two learners the same account or role
    /// (teams); otherwise such a roster is refused.
    #[arg(long)]
    allow_shared_accounts: bool,
    /// Append each finished learner to FILE (JSON lines, synced), so nothing is lost on a crash.
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Grade only the learners missing from the journal.
    #[arg(long, requires = "journal")]
    resume: bool,
    /// Grade this learner again, though the journal has them (after they
    /// fixed something); the rest come from the journal. Repeatable.
    #[arg(long, value_name = "LEARNER", requires = "journal")]
    regrade: Vec<String>,
    /// Grade again the learners the journal has as not graded (a role that
    /// could not be assumed, say); the rest come from the journal.
    #[arg(long, requires = "journal")]
    regrade_errors: bool,
    /// Run learners' code (their settings, manage.py) without the sandbox.
    /// By default the project checks run each learner's code in a
    /// bubblewrap sandbox (no network, that learner's project alone and
    /// read-only, limits on memory, processes, CPU time and file size,
    /// nothing left running after); where it cannot be built, those checks
    /// are left out with a note saying why. With this flag the code runs as
    /// you, with your files and network: only for code you have read.
    #[arg(long)]
    trust_learner_code: bool,
    /// Grade one shard: the learners whose roster index mod N is I (I/N),
    /// or auto/N from AWS_BATCH_JOB_ARRAY_INDEX or JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// The learners from AWS Organizations.
    #[command(flatten)]
    organization: labcheck::cohort::organizations::OrganizationArgs,
    /// Checks excused for some learners.
    #[command(flatten)]
    excuses: labcheck::cohort::excuses::ExcusesArgs,
    /// What changed since an earlier grading.
    #[command(flatten)]
    compare: labcheck::cohort::compare::CompareArgs,
    /// The LMS files' options.
    #[command(flatten)]
    lms: labcheck::cohort::lms::LmsArgs,
}

pub(crate) async fn run(common: &Common, args: &Args) -> Result<Exit, Error> {
    let course = common.course()?;
    let lab = common.lab(&course)?;
    let settings = command::GradeSettings {
        access: command::Access {
            roster: args.roster.clone(),
            organization: args.organization.clone(),
            allow_shared_accounts: args.allow_shared_accounts,
            ..common.cohort_access()
        },
        format: args.format,
        output: args.output.clone(),
        journal: args.journal.clone(),
        resume: args.resume,
        regrade: command::Regrade {
            learners: args.regrade.clone(),
            errors: args.regrade_errors,
        },
        shard: args.shard.clone(),
        opts: labcheck::cohort::grade::Options {
            jobs: args.jobs.max(1),
            learner_timeout: Duration::from_secs(args.learner_timeout.max(1)),
            check_timeout: Duration::from_secs(args.timeout.max(1)),
            checks_at_once: 8,
            external_id: args.external_id.clone().filter(|x| !x.is_empty()),
            inside: false,
            reports: args.reports.clone(),
            trust_learner_code: args.trust_learner_code,
            reports_since: args.reports_since,
        },
        excuses: args.excuses.excuses.clone(),
        compare: args.compare.compare.clone(),
        lms: args.lms.clone(),
    };
    Ok(command::grade(lab, &settings).await?)
}

#[cfg(test)]
mod tests {
    use super::AFTER_HELP;
    use labcheck::cohort::roster::COLUMNS;

    /// The instructor's guide is where the roster's columns are documented;
    /// `--help` names them and points there. Both follow the parser's list.
    #[test]
    fn the_instructors_guide_documents_every_roster_column_and_help_names_it() {
        let guide = include_str!("../../../book/src/instructors.md");
        let start = guide
            .find("**The roster's columns:**")
            .expect("the instructor's guide has the roster's columns");
        let table: String = guide[start..]
            .lines()
            .skip(1)
            .skip_while(|l| l.trim().is_empty())
            .take_while(|l| l.starts_with('|'))
            .collect::<Vec<_>>()
            .join("\n");
        for column in COLUMNS {
            assert!(
                table.contains(&format!("`{column}`")),
                "the roster's columns in book/src/instructors.md do not document `{column}`:\n{table}"
            );
            assert!(
                AFTER_HELP.contains(column),
                "cohort grade --help does not name `{column}`"
            );
        }
        assert!(AFTER_HELP.contains("The roster's columns"));
    }
}
