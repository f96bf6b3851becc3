//! The `labcheck` command line: argument parsing (clap) and one function per
//! command. Everything else lives in the library.

use clap::{Args, Parser, Subcommand, ValueEnum};
use labcheck::checks::project::isolation::LearnerCode;
use labcheck::course::Course;
use labcheck::engine::{self, RunOptions, account::Account};
use labcheck::params::Params;
use labcheck::report::Format;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const AFTER_HELP: &str = "\
Getting started:
  labcheck list                 see the lab's steps and check ids
  labcheck check                grade every step against your AWS account
  labcheck check s3             grade one step
  labcheck check s3.cors        grade one check (and what it needs)

Rehearse without AWS on the local sandbox:
  sandbox/up && source sandbox/env && labcheck check

Exit codes: 0 all graded checks passed, 1 a check failed, 2 bad usage or bad
input, 3 nothing failed but some checks could not be evaluated.";

/// Grade the Django-on-Elastic-Beanstalk lab against your own AWS account.
///
/// labcheck reads your account (it never changes anything) and tells you, for
/// each step of the lab, what passes, what does not, and how to fix it.
#[derive(Parser)]
#[command(name = "labcheck", version, after_help = AFTER_HELP, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// Lab to use (default: deploy-django-eb).
    #[arg(long, global = true, value_name = "ID")]
    lab: Option<String>,
    /// AWS profile from ~/.aws/config (default: AWS_PROFILE or `default`).
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
    /// AWS Region (default: region parameter, then your AWS config).
    #[arg(long, global = true, value_name = "REGION")]
    region: Option<String>,
    /// Set a lab parameter, e.g. `--set bucket=my-media-bucket` (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Parameter file (default: ./labcheck.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Read labs from this course folder instead of the built-in copy.
    #[arg(long, global = true, value_name = "DIR")]
    course_dir: Option<PathBuf>,
    /// When to use colours (NO_COLOR is honoured).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Show more: parameters and where each value came from.
    #[arg(short, long, global = true)]
    verbose: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Grade the lab: every step, or the steps and checks you name.
    #[command(after_help = "Examples:
  labcheck check                      every step
  labcheck check s3 cache             two steps
  labcheck check s3.cors              one check (its prerequisites run too)
  labcheck check --format json -o report.json
  labcheck check --set bucket=my-bucket --region eu-west-1

The site checks fetch only the site's own origin (site_url, else the
environment's CNAME) and pictures only from the media bucket's S3 hosts; they
never connect to a loopback, private or link-local address other than the
environment's own endpoint. A refused fetch fails the check and says why.")]
    Check(CheckArgs),
    /// List the lab's steps and checks, with their ids and points.
    List(ListArgs),
    /// Where you stand: each step's last results, your quiz scores, what to do next.
    #[command(
        after_help = "Every `labcheck check` (and `labcheck watch`) run records its results per
account and lab in $LABCHECK_STATE_DIR, else $XDG_STATE_HOME/labcheck, else
~/.local/state/labcheck; quiz scores come from `labcheck quiz`'s progress file.

Examples:
  labcheck status
  labcheck status --format json
  labcheck status --account 123456789012"
    )]
    Status(StatusArgs),
    /// Grade again whenever a project file changes, and every few seconds, until green.
    #[command(after_help = "Examples:
  labcheck watch                       every step; q quits
  labcheck watch s3 --exit-on-pass     until the S3 step passes, then exit 0
  labcheck watch project --interval 60

On a terminal the screen is redrawn in place (q or Esc quits, r or Enter runs
again now, Ctrl-C quits with 130); otherwise one summary line is printed per run.
Files under .git, target, node_modules, __pycache__ and virtualenvs are ignored.")]
    Watch(WatchArgs),
    /// Take a quiz in the terminal; with no QUIZ, list the quizzes and your best scores.
    #[command(after_help = "Examples:
  labcheck quiz                                   the quizzes, with your best scores
  labcheck quiz pre-assessment                    one question at a time
  labcheck quiz knowledge-check --answers a.toml --format json
                                                  scripted: question id = \"option text\"

Exit codes: 0 every answer right, 1 some answer wrong, 2 bad usage or input.
Results are kept in $LABCHECK_DATA_DIR, else $XDG_DATA_HOME/labcheck, else
~/.local/share/labcheck (progress.json).")]
    Quiz(QuizArgs),
    /// Print the read-only IAM policy that labcheck's checks need.
    Policy(PolicyArgs),
    /// Grade a whole cohort: every learner of a roster, through a read-only role in each account.
    #[command(subcommand)]
    Cohort(CohortCommand),
    /// List the lab's resources that still cost money, and how to delete them.
    Cleanup(CleanupArgs),
    /// The course book (mdBook, in process): build it, or serve it with a "Check my progress" button on every lab step.
    #[command(subcommand)]
    Book(BookCommand),
    /// mdBook preprocessor protocol, for `mdbook build book` (see book/book.toml).
    Mdbook(MdbookArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = "Install (see the README):
  bash:        labcheck completions bash > ~/.local/share/bash-completion/completions/labcheck
  zsh:         labcheck completions zsh > ~/.zfunc/_labcheck   (with fpath+=(~/.zfunc) before compinit)
  fish:        labcheck completions fish > ~/.config/fish/completions/labcheck.fish
  powershell:  labcheck completions powershell >> $PROFILE")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output.
    #[command(after_help = "Install:
  mkdir -p ~/.local/share/man/man1 && labcheck man > ~/.local/share/man/man1/labcheck.1
  man labcheck")]
    Man,
}

#[derive(Args)]
struct StatusArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    format: ListFormat,
    /// The account whose results to show (default: the `account` parameter,
    /// else the account checked most recently).
    #[arg(long, value_name = "ID")]
    account: Option<String>,
}

#[derive(Args)]
struct WatchArgs {
    /// Step ids (s3, cache, rds, project, eb) or check ids (s3.cors); none means all.
    #[arg(value_name = "STEP|CHECK")]
    names: Vec<String>,
    /// Grade again every SECS seconds even when no file changed (AWS state).
    #[arg(long, value_name = "SECS", default_value_t = 15)]
    interval: u64,
    /// Exit 0 as soon as every selected check passes.
    #[arg(long)]
    exit_on_pass: bool,
    /// Longest time one check may take, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// Do NOT verify the cache's TLS certificate (see `labcheck check --help`).
    #[arg(long)]
    insecure: bool,
}

#[derive(Args)]
struct PolicyArgs {
    /// Print a CloudFormation template (YAML) of the grader role learners
    /// create for cohort grading, instead of the policy.
    #[arg(long)]
    role_template: bool,
}

#[derive(Subcommand)]
enum CohortCommand {
    /// Grade every learner of ROSTER (CSV), or of an AWS Organizations unit, and write the gradebook.
    #[command(after_help = "Roster (CSV, header row, columns in any order):
  learner       required, unique
  account       12-digit account id, or 1234-5678-9012 (the role is arn:aws:iam::ACCOUNT:role/labcheck-grader)
  role_arn      instead of, or with, account
  external_id   this learner's own (labcheck cohort invite fills the column),
                else --external-id / LABCHECK_EXTERNAL_ID
  region        else --region / your AWS config
  project_dir   the learner's cloned project, relative to the roster (project checks)
  email, sis_login_id, sis_user_id, section
                the learner in your LMS, for --format canvas and --format moodle
  any lab parameter (bucket, eb_env, ...) overrides it for that learner

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
could not be graded (their grading_status says why), 130 interrupted.")]
    Grade(Box<CohortGradeArgs>),
    /// What the cohort got wrong in the quizzes: per question, from a folder of quiz results.
    #[command(
        after_help = "DIR holds learners' `labcheck quiz QUIZ --format json` results (any .json
file below it, up to four folders deep). A result is the learner's named by its
`learner` field, else by its first folder below DIR (DIR/ada/kc.json), else by
its file name (DIR/ada.json). A learner's earliest attempt at a quiz is their
first try.

Per question: learners, attempts, the share right on the first try, the
discrimination (point-biserial correlation of the first try with the rest of
the quiz's score), the wrong answer chosen most, and flags: too-easy (>= 95 %),
too-hard (<= 30 %), negative-discrimination (the key is probably wrong).
Worst first. Files that are not quiz results are named and skipped.

Examples:
  labcheck cohort quizzes results/ --format html -o quizzes.html
  labcheck cohort quizzes results/ --format csv > quizzes.csv"
    )]
    Quizzes {
        /// Folder of quiz results (labcheck/quiz-result-v1 JSON files).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Report format.
        #[arg(long, value_enum, default_value_t = QuizStatsFormat::Html)]
        format: QuizStatsFormat,
        /// Write the report to FILE (atomically) instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Give each learner of ROSTER an external id of their own, and print the
    /// command (and link) that deploys each learner's grader role.
    #[command(
        after_help = "Fills the roster's external_id column (added when missing) with a random id
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
one account or role is refused unless --allow-shared-accounts)."
    )]
    Invite(CohortInviteArgs),
    /// Write an existing gradebook (`--format json`) in another format: Canvas or Moodle's import CSV, html, ...
    Export(labcheck::cohort::export::ExportArgs),
    /// Who left resources running: per learner, what still costs money, since when, and about how much a month.
    Leftovers(Box<labcheck::cohort::leftovers::LeftoversArgs>),
    /// Combine shard gradebooks (`--format json`) into the one an unsharded run gives.
    Merge {
        /// Gradebooks written by `cohort grade --shard I/N --format json`.
        #[arg(required = true, value_name = "PART")]
        parts: Vec<PathBuf>,
        /// Gradebook format.
        #[arg(long, value_enum, default_value_t = CohortFormat::Csv)]
        format: CohortFormat,
        /// Write the gradebook to FILE (atomically) instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

use labcheck::cohort::quiz_stats::render::Format as QuizStatsFormat;
use labcheck::cohort::render::Format as CohortFormat;

#[derive(Args)]
struct CohortGradeArgs {
    /// The roster CSV (optional with --organization).
    #[arg(value_name = "ROSTER", required_unless_present = "organization")]
    roster: Option<PathBuf>,
    /// Gradebook format.
    #[arg(long, value_enum, default_value_t = CohortFormat::Csv)]
    format: CohortFormat,
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

#[derive(Args)]
struct CohortInviteArgs {
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

#[derive(Subcommand)]
enum BookCommand {
    /// Build the book's HTML: the book built into labcheck (into ./labcheck-book),
    /// or with --course-dir a checkout's (into its book/book).
    Build {
        /// Write the HTML to DIR.
        #[arg(long, value_name = "DIR")]
        dest: Option<PathBuf>,
    },
    /// Serve the book on 127.0.0.1 (only), where every lab step checks your work in the page.
    #[command(
        after_help = "Run it from your Django project folder, with your AWS configuration, as you
run `labcheck check`: each step of the lab gets a \"Check my progress\" button
that runs that step's checks here, with the same parameters (labcheck.toml,
--set), profile and Region, and shows each result as it finishes, with its hint
and fix. Runs are recorded for `labcheck status`, and quizzes answered in the
page too. Open the link it prints: it holds a token the page needs to run
checks (other sites and other users' pages get 403).

Examples:
  labcheck book serve --open            serve the book and open it in the browser
  labcheck book serve --port 0          any free port
  labcheck book serve --course-dir . --watch
                                        authors: a checkout's book, rebuilt and
                                        reloaded on every change"
    )]
    Serve(BookServeArgs),
}

#[derive(Args)]
struct BookServeArgs {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Write the HTML to DIR (default: a temporary folder).
    #[arg(long, value_name = "DIR")]
    dest: Option<PathBuf>,
    /// Open the book in your browser.
    #[arg(long)]
    open: bool,
    /// With --course-dir: rebuild when book/, labs/ or quizzes/ change, and reload open pages.
    #[arg(long)]
    watch: bool,
    /// Longest time one check may take, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// Do NOT verify the cache's TLS certificate (see `labcheck check --help`).
    #[arg(long)]
    insecure: bool,
}

#[derive(Args)]
struct MdbookArgs {
    #[command(subcommand)]
    command: Option<MdbookCommand>,
}

#[derive(Subcommand)]
enum MdbookCommand {
    /// Exit 0 when the preprocessor supports RENDERER (html).
    Supports { renderer: String },
}

#[derive(Args)]
struct CheckArgs {
    /// Step ids (s3, cache, rds, project, eb) or check ids (s3.cors); none means all.
    #[arg(value_name = "STEP|CHECK")]
    names: Vec<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Longest time one check may take, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// Do NOT verify the cache's TLS certificate (the report says so). Prefer
    /// `--set cache_ca=FILE` when the cache uses a CA of its own.
    #[arg(long)]
    insecure: bool,
    /// Grade a project that is not yours (a learner's clone, checked by a
    /// TA): its code runs in a sandbox (bubblewrap: no network, a read-only
    /// view of the project alone, a throwaway HOME and /tmp, limits on
    /// memory, processes, CPU time and file size, nothing left running
    /// after), with your Python (the python parameter, else $VIRTUAL_ENV,
    /// else python3; never a .venv found in the project), and with the
    /// project's own environment properties (.ebextensions, and its
    /// Beanstalk environment's when AWS can be asked) instead of your
    /// shell's variables. Where the sandbox cannot be built (no bwrap, user
    /// namespaces off, not Linux), the checks that run its code are left
    /// out and say why.
    #[arg(long)]
    untrusted: bool,
    /// With --untrusted: run the project's code without the sandbox (still
    /// with your Python and the project's variables only). Only for code
    /// you have read, or where no sandbox can be built and you accept the
    /// risk: the code then runs as you, with your files and network.
    #[arg(long, requires = "untrusted")]
    trust_learner_code: bool,
}

#[derive(Args)]
struct CleanupArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    format: ListFormat,
}

#[derive(Args)]
struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    format: ListFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Human,
    Json,
}

/// A command's failure: the message and the exit code it maps to.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl ToString) -> Self {
        Failure {
            code: 2,
            message: message.to_string(),
        }
    }
    fn unavailable(message: impl ToString) -> Self {
        Failure {
            code: 3,
            message: message.to_string(),
        }
    }
}

fn main() -> ExitCode {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => e.exit(),
        // --help and --version: printed like any command's output, so a closed
        // pipe is quiet and a failed write is an error.
        Err(e) => {
            let text = if std::io::stdout().is_terminal() {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            return match labcheck::report::print_stdout(&text) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("error: cannot write to standard output: {err}");
                    ExitCode::from(1)
                }
            };
        }
    };
    let color = use_color(cli.common.color);
    console::set_colors_enabled(color);
    console::set_colors_enabled_stderr(color);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Check(args) => check(&cli.common, args, color).await,
            Command::List(args) => list(&cli.common, args),
            Command::Status(args) => status(&cli.common, args),
            Command::Watch(args) => watch(&cli.common, args, color).await,
            Command::Completions { shell } => completions(*shell),
            Command::Man => man(),
            Command::Policy(args) => policy(&cli.common, args),
            Command::Cohort(cmd) => cohort(&cli.common, cmd).await,
            Command::Cleanup(args) => cleanup(&cli.common, args).await,
            Command::Quiz(args) => quiz(&cli.common, args),
            Command::Book(cmd) => book(&cli.common, cmd).await,
            Command::Mdbook(args) => mdbook(args),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            // A message may quote what a user or a learner typed (a flag, a
            // roster cell, a file name): no control sequence of theirs
            // reaches the terminal.
            let message = labcheck::redact::strip_control(&f.message);
            eprintln!("{} {message}", console::style("error:").red().bold());
            ExitCode::from(f.code)
        }
    }
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
        }
    }
}

fn load_course(common: &Common) -> Result<Course, Failure> {
    Course::load(common.course_dir.as_deref(), &labcheck::checks::kind_ids()).map_err(Failure::usage)
}

fn config_path(common: &Common) -> Option<PathBuf> {
    common
        .config
        .clone()
        .or_else(|| Some(PathBuf::from("labcheck.toml")).filter(|p| p.is_file()))
}

/// `labcheck check`: grade the lab.
async fn check(common: &Common, args: &CheckArgs, color: bool) -> Result<u8, Failure> {
    let course = load_course(common)?;
    let lab = course.lab(common.lab.as_deref()).map_err(Failure::usage)?;
    let selected = engine::select(lab, &args.names).map_err(Failure::usage)?;
    let account = connect(common, args.insecure).await?;
    if args.untrusted {
        account.set_learner_code(if args.trust_learner_code {
            LearnerCode::Trusted
        } else {
            LearnerCode::Sandboxed
        });
    }
    let opts = labcheck::check::Options {
        selected,
        format: args.format,
        output: args.output.clone(),
        timeout: Duration::from_secs(args.timeout.max(1)),
        color,
    };
    labcheck::check::run(lab, account, &opts).await.map_err(|e| Failure {
        code: e.exit_code(),
        message: e.to_string(),
    })
}

/// The context checks run in, from the command line (`labcheck::connect`).
async fn connect(common: &Common, insecure: bool) -> Result<Arc<Account>, Failure> {
    let config = config_path(common);
    labcheck::connect::connect(&labcheck::connect::ConnectOptions {
        config: config.as_deref(),
        set: &common.set,
        region: common.region.as_deref(),
        profile: common.profile.as_deref(),
        insecure,
        verbose: common.verbose,
    })
    .await
    .map_err(Failure::usage)
}

/// `labcheck list`: the lab's steps and checks.
fn list(common: &Common, args: &ListArgs) -> Result<u8, Failure> {
    let course = load_course(common)?;
    let lab = course.lab(common.lab.as_deref()).map_err(Failure::usage)?;
    print(&match args.format {
        ListFormat::Json => labcheck::list::json(&course, lab),
        ListFormat::Human => labcheck::list::human(&course, lab),
    })
}

/// `labcheck status`: recorded results, quiz scores, what next.
fn status(common: &Common, args: &StatusArgs) -> Result<u8, Failure> {
    let course = load_course(common)?;
    let lab = course.lab(common.lab.as_deref()).map_err(Failure::usage)?;
    let env = |var: &str| std::env::var(var).ok();
    let params = Params::gather(config_path(common).as_deref(), &common.set, &env).map_err(Failure::usage)?;
    let account = args
        .account
        .clone()
        .or_else(|| params.explicit(labcheck::params::Param::Account).map(str::to_string));
    let overview = labcheck::status::gather(lab, account.as_deref());
    for w in &overview.warnings {
        eprintln!("warning: {w}");
    }
    print(&match args.format {
        ListFormat::Json => serde_json::to_string_pretty(&overview.to_json(&course, lab)).expect("serializes") + "\n",
        ListFormat::Human => overview.to_human(&course, lab),
    })
}

/// `labcheck watch`: grade again on file changes and every few seconds.
async fn watch(common: &Common, args: &WatchArgs, color: bool) -> Result<u8, Failure> {
    let course = load_course(common)?;
    let lab = course.lab(common.lab.as_deref()).map_err(Failure::usage)?;
    let selected = engine::select(lab, &args.names).map_err(Failure::usage)?;
    // The first connection finds bad input (a bad config, a bad Region) before the loop.
    let first = connect(common, args.insecure).await?;
    let project_dir = PathBuf::from(first.param(labcheck::params::Param::ProjectDir)).join("");
    let project_dir = if project_dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        project_dir
    };
    let opts = labcheck::watch::Options {
        selected,
        names: args.names.clone(),
        interval: Duration::from_secs(args.interval.max(1)),
        exit_on_pass: args.exit_on_pass,
        run: RunOptions {
            timeout: Duration::from_secs(args.timeout.max(1)),
            ..RunOptions::default()
        },
        color,
    };
    let first = std::sync::Mutex::new(Some(first));
    labcheck::watch::run(lab, &opts, &project_dir, || {
        let reuse = first.lock().expect("lock").take();
        async move {
            match reuse {
                Some(account) => Ok(account),
                None => connect(common, args.insecure)
                    .await
                    .map_err(|f| labcheck::watch::WatchError {
                        code: f.code,
                        message: f.message,
                    }),
            }
        }
    })
    .await
    .map_err(|e| Failure {
        code: e.code,
        message: e.message,
    })
}

/// `labcheck completions SHELL`: a completion script.
fn completions(shell: clap_complete::Shell) -> Result<u8, Failure> {
    let mut buf = Vec::new();
    clap_complete::generate(
        shell,
        &mut <Cli as clap::CommandFactory>::command(),
        "labcheck",
        &mut buf,
    );
    print(&String::from_utf8_lossy(&buf))
}

/// `labcheck man`: the man page, roff.
fn man() -> Result<u8, Failure> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
        .render(&mut buf)
        .map_err(Failure::usage)?;
    print(&String::from_utf8_lossy(&buf))
}

/// `labcheck cleanup`: what of the lab still costs money.
async fn cleanup(common: &Common, args: &CleanupArgs) -> Result<u8, Failure> {
    let account = connect(common, false).await?;
    account.aws_ready_advice().await.map_err(Failure::unavailable)?;
    account.identity().await.map_err(Failure::unavailable)?;
    let found = labcheck::cleanup::leftovers(&account)
        .await
        .map_err(Failure::unavailable)?;
    let redactor = account.redactor();
    let text = match args.format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&serde_json::json!({"leftovers": found})).expect("serializes") + "\n"
        }
        ListFormat::Human => labcheck::cleanup::render(&found),
    };
    print(&redactor.clean(&text))
}

/// `labcheck policy`: the read-only policy, or the grader role's template.
fn policy(common: &Common, args: &PolicyArgs) -> Result<u8, Failure> {
    let course = load_course(common)?;
    let lab = course.lab(common.lab.as_deref()).map_err(Failure::usage)?;
    print(&labcheck::policy::render(lab, args.role_template))
}

/// `labcheck cohort grade|merge`.
async fn cohort(common: &Common, cmd: &CohortCommand) -> Result<u8, Failure> {
    use labcheck::cohort::command;
    let result = match cmd {
        CohortCommand::Grade(args) => {
            let course = load_course(common)?;
            let lab = course.lab(common.lab.as_deref()).map_err(Failure::usage)?;
            let settings = command::GradeSettings {
                access: command::Access {
                    roster: args.roster.clone(),
                    organization: args.organization.clone(),
                    allow_shared_accounts: args.allow_shared_accounts,
                    ..cohort_access(common)
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
            command::grade(lab, &settings).await
        }
        CohortCommand::Invite(args) => labcheck::cohort::invite::invite(&labcheck::cohort::invite::InviteSettings {
            roster: args.roster.clone(),
            output: args.output.clone(),
            renew: args.renew,
            principal: args.principal.clone(),
            template_url: args.template_url.clone(),
            region: common.region.clone(),
            allow_shared_accounts: args.allow_shared_accounts,
        }),
        CohortCommand::Merge { parts, format, output } => command::merge(parts, *format, output.as_deref()),
        CohortCommand::Export(args) => labcheck::cohort::export::run(args),
        CohortCommand::Leftovers(args) => {
            let course = load_course(common)?;
            let lab = course.lab(common.lab.as_deref()).map_err(Failure::usage)?;
            labcheck::cohort::leftovers::run(lab, args, cohort_access(common)).await
        }
        CohortCommand::Quizzes { dir, format, output } => {
            let course = load_course(common)?;
            command::quizzes(dir, &course, *format, output.as_deref())
        }
    };
    result.map_err(|e| Failure {
        code: e.code,
        message: e.message,
    })
}

/// The instructor's side of a cohort command, from the common flags.
fn cohort_access(common: &Common) -> labcheck::cohort::command::Access {
    labcheck::cohort::command::Access {
        profile: common.profile.clone(),
        region: common.region.clone(),
        config: config_path(common),
        sets: common.set.clone(),
        ..Default::default()
    }
}

/// Prints a command's output; a closed pipe ends it quietly.
fn print(text: &str) -> Result<u8, Failure> {
    labcheck::report::print_stdout(text).map_err(|e| Failure {
        code: 1,
        message: format!("cannot write to standard output: {e}"),
    })?;
    Ok(0)
}

/// `labcheck book build|serve`: the book built into labcheck, or a checkout's.
async fn book(common: &Common, cmd: &BookCommand) -> Result<u8, Failure> {
    let course_dir = common.course_dir.clone();
    match cmd {
        BookCommand::Build { dest } => {
            let dest = dest.clone();
            let dir = tokio::task::spawn_blocking(move || match (&course_dir, dest) {
                (Some(course), dest) => labcheck::book::build(course, dest.as_deref()),
                (None, dest) => labcheck::book::build_embedded(&dest.unwrap_or_else(|| "labcheck-book".into())),
            })
            .await
            .map_err(Failure::usage)?
            .map_err(Failure::usage)?;
            eprintln!("built the book in {}", dir.display());
            Ok(0)
        }
        BookCommand::Serve(args) => {
            use labcheck::book::server;
            let opts = server::ServeOptions {
                course_dir,
                dest: args.dest.clone(),
                port: args.port,
                open: args.open,
                watch: args.watch,
                lab: common.lab.clone(),
                run: server::RunSettings {
                    config: common.config.clone(),
                    set: common.set.clone(),
                    region: common.region.clone(),
                    profile: common.profile.clone(),
                    insecure: args.insecure,
                    timeout: Duration::from_secs(args.timeout.max(1)),
                },
            };
            server::run(opts).await.map(|()| 0).map_err(|e| Failure {
                code: e.exit_code(),
                message: e.to_string(),
            })
        }
    }
}

/// `labcheck mdbook [supports RENDERER]`: the mdBook preprocessor protocol.
fn mdbook(args: &MdbookArgs) -> Result<u8, Failure> {
    match &args.command {
        Some(MdbookCommand::Supports { renderer }) => Ok(if labcheck::book::supports(renderer) { 0 } else { 1 }),
        None => labcheck::book::protocol::run_stdio().map(|()| 0).map_err(|e| Failure {
            code: e.exit_code(),
            message: e.to_string(),
        }),
    }
}

#[derive(Args)]
struct QuizArgs {
    /// Quiz id (pre-assessment, knowledge-check, one per chapter); none lists them.
    #[arg(value_name = "QUIZ")]
    quiz: Option<String>,
    /// Answer from FILE instead of the terminal: TOML or JSON, question id = option text (or a list).
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = labcheck::quiz::Format::Human)]
    format: labcheck::quiz::Format,
    /// Shuffle the options with this seed (default: a random seed, shown in the JSON).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
}

/// `labcheck quiz [QUIZ]`: list the quizzes, or run one.
fn quiz(common: &Common, args: &QuizArgs) -> Result<u8, Failure> {
    let course = load_course(common)?;
    let opts = labcheck::quiz::Options {
        quiz: args.quiz.clone(),
        answers: args.answers.clone(),
        format: args.format,
        seed: args.seed,
    };
    labcheck::quiz::run(&course, &opts).map_err(|e| Failure {
        code: e.exit_code(),
        message: e.to_string(),
    })
}
