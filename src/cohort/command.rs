//! `labcheck cohort grade` and `labcheck cohort merge`, from parsed flags to
//! an exit code: load and check the roster, pick the shard, open the
//! journal, grade with a progress bar, write the gradebook atomically, and
//! say in one line how it went.

use super::grade::{self, Grader};
use super::gradebook::{Gradebook, LearnerResult, Outline, RosterInfo};
use super::journal::Journal;
use super::lms::LmsArgs;
use super::organizations::OrganizationArgs;
use super::render::{self, Format};
use super::roster;
use crate::aws::{self, AwsOptions};
use crate::course::lab::Lab;
use crate::exit::Exit;
use crate::params::Param;
use crate::params::Params;
use crate::report::output::write_atomic;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a cohort command stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad usage, a bad roster or a bad file: nobody was graded.
    #[error("{0}")]
    BadInput(String),
    /// The instructor's AWS could not be reached or asked (no credentials,
    /// an organization that cannot be listed): nobody was graded.
    #[error("cannot {what}: {reason}")]
    Unavailable {
        /// What could not be done ("grade anybody").
        what: String,
        /// Why.
        reason: String,
    },
    /// The journal could not be written: the gradebook holds what was graded.
    #[error("the journal could not be written: {0}")]
    Journal(String),
    /// A gradebook file (`merge`, `export`, `--compare`) is not one.
    #[error(transparent)]
    Gradebook(#[from] super::gradebook::GradebookError),
    /// The output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// Standard output could not be written.
    #[error("cannot write to standard output: {0}")]
    Output(std::io::Error),
}

impl Error {
    /// Bad input, with its message.
    pub fn bad(message: impl ToString) -> Error {
        Error::BadInput(message.to_string())
    }

    /// How the process ends for this error.
    pub fn exit(&self) -> Exit {
        match self {
            Error::BadInput(_) | Error::Gradebook(_) => Exit::BadInput,
            Error::Unavailable { .. } | Error::Journal(_) => Exit::NotEvaluated,
            Error::Write { .. } | Error::Output(_) => Exit::Fail,
        }
    }
}

fn bad(message: impl ToString) -> Error {
    Error::bad(message)
}

/// What `labcheck cohort grade` was asked to do.
pub struct GradeSettings {
    /// Who is graded, and as whom.
    pub access: Access,
    /// The gradebook's format.
    pub format: Format,
    /// Where to write the gradebook (atomically); `None` is standard output.
    pub output: Option<PathBuf>,
    /// The journal file each finished learner is appended to, if any.
    pub journal: Option<PathBuf>,
    /// Grade only the learners missing from the journal.
    pub resume: bool,
    /// Learners of the journal to grade again (implies `resume`).
    pub regrade: Regrade,
    /// The shard to grade, as given: `I/N` or `auto/N`.
    pub shard: Option<String>,
    /// How learners are graded.
    pub opts: grade::Options,
    /// The excuses file (`--excuses`).
    pub excuses: Option<PathBuf>,
    /// The earlier gradebook to compare with (`--compare`).
    pub compare: Option<PathBuf>,
    /// The LMS files' assignment and grade (`--format canvas|moodle`).
    pub lms: LmsArgs,
}

/// Learners the journal has that are graded again, the rest kept from it.
#[derive(Clone, Debug, Default)]
pub struct Regrade {
    /// By name (`--regrade LEARNER`).
    pub learners: Vec<String>,
    /// Those not graded (`--regrade-errors`).
    pub errors: bool,
}

impl Regrade {
    fn any(&self) -> bool {
        self.errors || !self.learners.is_empty()
    }

    /// Whether the journal's result for this learner is set aside.
    fn takes(&self, result: &LearnerResult) -> bool {
        (self.errors && !result.is_graded()) || self.learners.contains(&result.learner)
    }
}

/// What `--resume` says before grading: what the journal holds, and what is
/// graded now.
fn resume_line(kept: &[LearnerResult], again: &[LearnerResult], learners: usize, missing: usize) -> String {
    let errors = |r: &[LearnerResult]| r.iter().filter(|d| !d.is_graded()).count();
    let mut now = Vec::new();
    if missing > 0 || again.is_empty() {
        now.push(format!("{missing} missing from it"));
    }
    if !again.is_empty() {
        now.push(format!("{} again", again.len()));
    }
    format!(
        "resuming: the journal has {} of {learners} learners ({} not graded); grading {}{}",
        kept.len() + again.len(),
        errors(kept) + errors(again),
        now.join(" and "),
        match errors(kept) {
            0 => String::new(),
            n => format!(" (--regrade-errors grades the {n} not graded again)"),
        }
    )
}

/// Which learners one shard grades: those whose roster index mod `of` is `index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard's number, 0-based, below `of`.
    pub index: usize,
    /// How many shards the roster is split into (at least 1).
    pub of: usize,
}

/// A `--shard` that names no shard.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// Not `I/N` or `auto/N`.
    #[error("--shard `{0}`: expected I/N (like 0/4) or auto/N")]
    Syntax(String),
    /// `N` is 0.
    #[error("--shard `{0}`: the number of shards must be at least 1")]
    NoShards(String),
    /// `auto/N` without an index in the environment.
    #[error(
        "--shard auto/{0}: neither AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job) nor JOB_COMPLETION_INDEX (Kubernetes Indexed Job) is set"
    )]
    NoIndex(usize),
    /// `auto/N` with an index variable that is not a number.
    #[error("--shard auto/{of}: {var} is `{value}`, not a number")]
    BadIndex {
        /// N.
        of: usize,
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
    /// An index of N or more.
    #[error("--shard `{text}`: the shard index must be below {of} (0 to {})", of - 1)]
    OutOfRange {
        /// The flag's value.
        text: String,
        /// N.
        of: usize,
    },
}

/// Parses `I/N`, or `auto/N` (the index from AWS Batch's
/// `AWS_BATCH_JOB_ARRAY_INDEX` or a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX`).
pub fn parse_shard(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Shard, ShardError> {
    let usage = || ShardError::Syntax(text.to_string());
    let (i, n) = text.split_once('/').ok_or_else(usage)?;
    let of: usize = n.trim().parse().map_err(|_| usage())?;
    if of == 0 {
        return Err(ShardError::NoShards(text.to_string()));
    }
    let index: usize = if i.trim() == "auto" {
        let (var, value) = ["AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX"]
            .iter()
            .find_map(|v| env(v).map(|x| (*v, x)))
            .ok_or(ShardError::NoIndex(of))?;
        value.trim().parse().map_err(|_| ShardError::BadIndex {
            of,
            var,
            value: value.clone(),
        })?
    } else {
        i.trim().parse().map_err(|_| usage())?
    };
    if index >= of {
        return Err(ShardError::OutOfRange {
            text: text.to_string(),
            of,
        });
    }
    Ok(Shard { index, of })
}

/// Who is graded and as whom: what `cohort grade` and `cohort leftovers`
/// both need.
#[derive(Clone, Debug, Default)]
pub struct Access {
    /// The roster CSV file (optional with an organization).
    pub roster: Option<PathBuf>,
    /// The AWS Organizations unit whose accounts are the learners.
    pub organization: OrganizationArgs,
    /// Grade a roster that gives two learners one account or role (teams).
    pub allow_shared_accounts: bool,
    /// The instructor's AWS profile.
    pub profile: Option<String>,
    /// The `--region`: the instructor's, and the default for learners whose row names none.
    pub region: Option<String>,
    /// A labcheck config file with parameter values.
    pub config: Option<PathBuf>,
    /// Parameter values from `--set key=value`.
    pub sets: Vec<String>,
}

/// The learners and the instructor's side of AWS, ready to reach each
/// learner's account.
pub struct Connected {
    /// The learners (a roster, an organization's accounts, or both merged).
    pub roster: roster::Roster,
    /// The instructor's SDK configuration.
    pub sdk: aws_config::SdkConfig,
    /// Parameters from the config file, the environment and `--set`, with
    /// `network` settled.
    pub params: Params,
    /// The Region of learners whose row names none.
    pub default_region: Option<String>,
    /// The principal the learners' roles trust.
    pub instructor: Option<String>,
    /// The grader has a network path into the learners' VPCs.
    pub inside: bool,
}

/// Loads the roster of `access` (if it names one) and checks it: nobody is
/// reached before a bad roster is refused whole.
pub fn load_roster(access: &Access) -> Result<Option<roster::Roster>, Error> {
    let Some(path) = &access.roster else {
        return Ok(None);
    };
    let roster = roster::load(path).map_err(bad)?;
    if !access.allow_shared_accounts {
        roster::shared_accounts(&roster).map_err(bad)?;
    }
    Ok(Some(roster))
}

/// The instructor's AWS configuration and identity, and the learners: the
/// roster given, or the organization's accounts (merged with it). `what`
/// says what the command cannot do without credentials ("grade anybody").
pub async fn connect(access: &Access, roster: Option<roster::Roster>, what: &str) -> Result<Connected, Error> {
    let env = |v: &str| std::env::var(v).ok().filter(|x| !x.is_empty());
    let mut params = Params::gather(access.config.as_deref(), &access.sets, &env).map_err(bad)?;
    let inside = params.explicit(Param::Network) == Some("inside");
    let region = access
        .region
        .clone()
        .or_else(|| params.explicit(Param::Region).map(str::to_string));
    if let Some(r) = &region
        && !aws::is_valid_region(r)
    {
        return Err(bad(format!("`{r}` is not an AWS Region name (like us-west-2)")));
    }
    let organization = access.organization.organization.as_deref();
    if let Some(ou) = organization {
        super::organizations::check_parent_id(ou).map_err(bad)?;
    }
    if let Some(note) = aws::profile_note(access.profile.as_deref(), &|var| std::env::var(var).ok()) {
        eprintln!("note: {note}");
    }
    let sdk = aws::load(&AwsOptions {
        profile: access.profile.clone(),
        region: region.clone(),
    })
    .await;
    let default_region = sdk.region().map(|r| r.to_string());
    params.set(
        Param::Network,
        if inside { "inside" } else { "outside" },
        crate::params::Source::Flag,
    );
    let unavailable = |reason: String| Error::Unavailable {
        what: what.to_string(),
        reason,
    };
    // The instructor's own identity: who the learners' roles must trust.
    let has_region = default_region.is_some()
        || (organization.is_none()
            && roster
                .as_ref()
                .is_some_and(|r| r.learners.iter().all(|l| l.region.is_some())));
    aws::credentials(&sdk, has_region)
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    let instructor = Some(super::template::trusted_principal(
        &aws::identify(&sdk).await.map_err(|e| unavailable(e.to_string()))?.arn,
    ));
    let roster = match (organization, roster) {
        (None, Some(roster)) => roster,
        (None, None) => return Err(bad("give a ROSTER, or --organization OU_ID")),
        (Some(ou), roster) => {
            let client = aws_sdk_organizations::Client::new(&sdk);
            let accounts = super::organizations::accounts(&client, ou, access.organization.recursive)
                .await
                .map_err(|e| unavailable(super::organizations::listing_failed(&e, ou)))?;
            let (roster, notes) = super::organizations::roster_of(
                &accounts,
                ou,
                access.organization.recursive,
                access.organization.learner_name,
                roster.as_ref(),
            );
            for n in notes {
                eprintln!("note: {}", crate::redact::strip_control(&n));
            }
            eprintln!(
                "{} ACTIVE accounts in {ou}{}",
                roster.learners.len(),
                if access.organization.recursive {
                    " and the units below it"
                } else {
                    ""
                }
            );
            roster
        }
    };
    Ok(Connected {
        roster,
        sdk,
        params,
        default_region,
        instructor,
        inside,
    })
}

/// `labcheck cohort grade [ROSTER]`.
pub async fn grade(lab: &Lab, s: &GradeSettings) -> Result<Exit, Error> {
    let previous = s
        .compare
        .as_deref()
        .map(|p| super::compare::load(p, &lab.id))
        .transpose()?;
    let outline = Outline::of(lab);
    let load_excuses = |roster: &roster::Roster| {
        let names: Vec<&str> = roster.learners.iter().map(|l| l.learner.as_str()).collect();
        s.excuses
            .as_deref()
            .map(|p| super::excuses::load(p, &names, &outline))
            .transpose()
            .map_err(bad)
    };
    let given = load_roster(&s.access)?;
    // Checked against the roster before anybody is reached, when the roster is all.
    let mut excuses = match &given {
        Some(r) if s.access.organization.organization.is_none() => load_excuses(r)?,
        _ => None,
    };
    let env = |v: &str| std::env::var(v).ok().filter(|x| !x.is_empty());
    let shard = s
        .shard
        .as_deref()
        .map(|t| parse_shard(t, &env))
        .transpose()
        .map_err(bad)?;
    let Connected {
        roster,
        sdk,
        params,
        default_region,
        instructor,
        inside,
    } = connect(&s.access, given, "grade anybody").await?;
    if excuses.is_none() {
        excuses = load_excuses(&roster)?;
    }
    if s.access.organization.organization.is_none()
        && let Some(note) = shared_external_ids(&roster, s.opts.external_id.as_deref())
    {
        eprintln!("note: {note}");
    }
    let learners: Vec<_> = roster
        .learners
        .iter()
        .filter(|l| shard.is_none_or(|sh| l.index % sh.of == sh.index))
        .cloned()
        .collect();
    if let Some(sh) = shard
        && learners.is_empty()
    {
        eprintln!(
            "note: shard {i}/{n} holds no learner: the roster has only {} (shard {i} grades positions {i}, {i}+{n}, {i}+2×{n}, … counted from 0)",
            roster.learners.len(),
            i = sh.index,
            n = sh.of,
        );
    }
    if let Some(l) = learners.iter().find(|l| l.region.is_none())
        && default_region.is_none()
    {
        return Err(bad(format!(
            "{}: learner `{}` has no region; add a `region` column to the roster, or pass --region",
            at_line(&roster.file, l.line),
            l.learner
        )));
    }

    let info = RosterInfo {
        file: match &s.access.roster {
            Some(path) if s.access.organization.organization.is_none() => path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            _ => roster.file.clone(),
        },
        fingerprint: roster.fingerprint.clone(),
        learners: roster.learners.len(),
    };
    if let Some(name) = s
        .regrade
        .learners
        .iter()
        .find(|n| !roster.learners.iter().any(|l| &l.learner == *n))
    {
        return Err(bad(format!("--regrade {name}: no learner `{name}` in {}", roster.file)));
    }
    let resume = s.resume || s.regrade.any();
    let (mut journal, done, dropped) = match &s.journal {
        Some(path) => {
            let (j, resumed) = Journal::open(path, &lab.id, &roster, resume).map_err(bad)?;
            let dropped = dropped_lines(path, &resumed, &roster);
            (Some(j), resumed.results, dropped)
        }
        None if resume => {
            return Err(bad(
                "--resume and --regrade need --journal FILE: the journal of the earlier run",
            ));
        }
        None => (None, Vec::new(), Vec::new()),
    };
    let (again, done): (Vec<LearnerResult>, Vec<LearnerResult>) = done
        .into_iter()
        .filter(|d| learners.iter().any(|l| l.index == d.index && l.learner == d.learner))
        .partition(|d| s.regrade.takes(d));
    let todo: Vec<_> = learners
        .iter()
        .filter(|l| !done.iter().any(|d| d.index == l.index))
        .cloned()
        .collect();
    if resume {
        eprintln!(
            "{}",
            resume_line(&done, &again, learners.len(), todo.len() - again.len())
        );
    }

    if !s.opts.trust_learner_code
        && todo.iter().any(|l| l.project_dir.is_some())
        && let Err(u) = crate::checks::project::sandbox_ready(params.explicit(Param::Python).unwrap_or_default()).await
    {
        eprintln!(
            "note: the checks that run learners' code (project.settings, project.static, project.deploy-check, and project.ebextensions' static mapping) are left out: {} {}",
            u.message(),
            u.hint()
        );
    }
    let grader = Arc::new(Grader::new(
        lab.clone(),
        sdk,
        params,
        default_region,
        instructor,
        grade::Options {
            inside,
            ..s.opts.clone()
        },
    ));
    let start = Instant::now();
    let bar = progress_bar(todo.len() as u64, "grading");
    if let Some(bar) = &bar {
        bar.set_message("0 not graded");
    }
    let mut errors = 0usize;
    let mut journal_error: Option<String> = None;
    let finished = |result: &LearnerResult, _transient: bool| {
        if let Some(j) = journal.as_mut()
            && let Err(e) = j.append(result)
            && journal_error.is_none()
        {
            journal_error = Some(e.to_string());
        }
        if !result.is_graded() {
            errors += 1;
        }
        if let Some(bar) = &bar {
            bar.set_message(format!("{errors} not graded"));
            bar.inc(1);
        }
    };
    let cancel = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let (mut results, interrupted) = grade::grade_all(grader, todo.clone(), finished, cancel).await;
    for r in &mut results {
        r.notes.extend(
            dropped
                .iter()
                .filter(|(i, _)| *i == r.index)
                .map(|(_, note)| note.clone()),
        );
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let graded_now = results.len();
    // A learner set aside to grade again but not reached (Ctrl-C) keeps the
    // journal's result: after the new ones, so the build keeps a new one first.
    let mut all = done;
    all.extend(results);
    all.extend(again);
    if let Some(e) = &excuses {
        e.apply(&mut all);
    }
    let mut book = Gradebook::build(outline, info, shard.map(|s| format!("{}/{}", s.index, s.of)), all);
    if let (Some(before), Some(path)) = (&previous, &s.compare) {
        let c = super::compare::compare(before, &book, &path.display().to_string());
        eprintln!("{}", crate::redact::strip_control(&c.summary()));
        book.compared = Some(c);
    }
    for w in render::lms_warnings(&book, s.format, &s.lms) {
        eprintln!("warning: {}", crate::redact::strip_control(&w));
    }
    let text = render::render_with(&book, s.format, &s.lms);
    let wrote = write_out(s.output.as_deref(), &text)?;

    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{}graded {} of {} learners{} in {:.1}s ({:.1}/s); {} could not be graded{}{}",
        if interrupted { "interrupted: " } else { "" },
        book.totals.graded,
        book.totals.learners,
        shard
            .map(|s| format!(" (shard {}/{})", s.index, s.of))
            .unwrap_or_default(),
        secs,
        graded_now as f64 / secs.max(0.001),
        book.totals.not_graded,
        if interrupted {
            format!(
                "; {} not started (run {})",
                todo.len() - graded_now,
                if s.regrade.any() {
                    "the same command again"
                } else {
                    "again with --resume"
                }
            )
        } else {
            String::new()
        },
        wrote.map(|p| format!("; wrote {p}")).unwrap_or_default()
    );
    if let Some(e) = journal_error {
        return Err(Error::Journal(e.to_string()));
    }
    Ok(if interrupted {
        Exit::Interrupted
    } else if book.all_graded() && book.totals.learners == learners.len() {
        Exit::Pass
    } else {
        Exit::NotEvaluated
    })
}

/// `FILE:LINE` of a learner's row; an account from an organization, which
/// has no row, is named by the unit alone.
fn at_line(file: &str, line: usize) -> String {
    if line == 0 {
        file.to_string()
    } else {
        format!("{file}:{line}")
    }
}

/// When learners share an external id (the roster's, or `--external-id`
/// for rows without one): what to do about it. The id itself is not shown.
fn shared_external_ids(roster: &roster::Roster, default: Option<&str>) -> Option<String> {
    let mut count: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for l in &roster.learners {
        if let Some(id) = l.external_id.as_deref().or(default) {
            *count.entry(id).or_default() += 1;
        }
    }
    let shared: usize = count.values().filter(|n| **n > 1).sum();
    (shared > 0).then(|| {
        format!(
            "{shared} learners share an external id with a classmate; a learner who knows another's id and account can be graded as them. `labcheck cohort invite {} --principal ARN` gives each their own",
            roster.file
        )
    })
}

/// Says on standard error which journal lines were left out and why (the
/// first few); returns the note each regraded learner's row gets (one per
/// learner), by roster position.
fn dropped_lines(path: &Path, resumed: &super::journal::Resumed, roster: &roster::Roster) -> Vec<(usize, String)> {
    const SHOWN: usize = 20;
    let mut notes: Vec<(usize, String)> = Vec::new();
    for (n, d) in resumed.dropped.iter().enumerate() {
        let learner = d.index.and_then(|i| roster.learners.iter().find(|l| l.index == i));
        if n < SHOWN {
            eprintln!(
                "warning: {}:{}: line left out: {}; {}",
                path.display(),
                d.line,
                d.why,
                match learner {
                    Some(l) => format!("{} is graded again", l.learner),
                    None => "it names no learner of the roster".into(),
                }
            );
        }
        if let Some(l) = learner
            && !notes.iter().any(|(i, _)| *i == l.index)
        {
            notes.push((
                l.index,
                format!("graded again: journal line {} was left out ({})", d.line, d.why),
            ));
        }
    }
    let unshown = resumed.dropped.len().saturating_sub(SHOWN) + resumed.more;
    if unshown > 0 {
        eprintln!(
            "warning: {}: {unshown} more lines left out; their learners are graded again",
            path.display()
        );
    }
    notes
}

/// `labcheck cohort merge PART... --output FILE`.
pub fn merge(parts: &[PathBuf], format: Format, output: Option<&Path>) -> Result<Exit, Error> {
    let mut books = Vec::new();
    for part in parts {
        let book = Gradebook::read(part, "merge the shards' `--format json` gradebooks")?;
        books.push((part.display().to_string(), book));
    }
    let merged = Gradebook::merge(books)?;
    let wrote = write_out(output, &render::render(&merged, format))?;
    eprintln!(
        "merged {} gradebooks: {} of {} roster learners, {} graded, {} could not be graded{}",
        parts.len(),
        merged.totals.learners,
        merged.roster.learners,
        merged.totals.graded,
        merged.totals.not_graded,
        wrote.map(|p| format!("; wrote {p}")).unwrap_or_default()
    );
    if merged.totals.learners < merged.roster.learners {
        eprintln!(
            "warning: {} learners of the roster are in none of the gradebooks (a shard missing?)",
            merged.roster.learners - merged.totals.learners
        );
    }
    Ok(
        if merged.all_graded() && merged.totals.learners == merged.roster.learners {
            Exit::Pass
        } else {
            Exit::NotEvaluated
        },
    )
}

/// `labcheck cohort quizzes DIR`: the per-question report of a folder of
/// quiz results (see [`crate::cohort::quiz_stats`]).
pub fn quizzes(
    dir: &Path,
    course: &crate::course::Course,
    format: crate::cohort::quiz_stats::render::Format,
    output: Option<&Path>,
) -> Result<Exit, Error> {
    use crate::cohort::quiz_stats;
    let stats = quiz_stats::analyse(dir, course).map_err(bad)?;
    for s in &stats.skipped {
        eprintln!("skipped {}: {}", s.file, s.reason);
    }
    let wrote = write_out(output, &quiz_stats::render::render(&stats, format))?;
    let flagged = stats.questions.iter().filter(|q| !q.flags.is_empty()).count();
    eprintln!(
        "{} results of {} learners, {} questions, {flagged} flagged{}{}",
        stats.results,
        stats.learners,
        stats.questions.len(),
        match stats.skipped.len() {
            0 => String::new(),
            n => format!(", {n} files skipped"),
        },
        wrote.map(|p| format!("; wrote {p}")).unwrap_or_default()
    );
    Ok(Exit::Pass)
}

/// Writes `text` to `output` atomically, or to standard output; returns the
/// file written.
pub(crate) fn write_out(output: Option<&Path>, text: &str) -> Result<Option<String>, Error> {
    match output {
        Some(path) => {
            write_atomic(path, text.as_bytes()).map_err(|source| Error::Write {
                path: path.to_path_buf(),
                source,
            })?;
            Ok(Some(path.display().to_string()))
        }
        None => {
            crate::report::print_stdout(text).map_err(Error::Output)?;
            Ok(None)
        }
    }
}

/// A progress bar on standard error when it is a terminal: `verb` (like
/// "grading") over `len` learners.
pub(crate) fn progress_bar(len: u64, verb: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() || len == 0 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {verb} [{{bar:30}}] {{pos}}/{{len}} learners · {{per_sec}} · ETA {{eta}} · {{msg}}"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards() {
        let none = |_: &str| None;
        assert_eq!(parse_shard("1/4", &none), Ok(Shard { index: 1, of: 4 }));
        assert!(matches!(
            parse_shard("4/4", &none),
            Err(ShardError::OutOfRange { of: 4, .. })
        ));
        assert!(matches!(parse_shard("x/4", &none), Err(ShardError::Syntax(_))));
        assert!(matches!(parse_shard("0/0", &none), Err(ShardError::NoShards(_))));
        let err = parse_shard("auto/3", &none).unwrap_err();
        assert_eq!(err, ShardError::NoIndex(3));
        assert!(err.to_string().contains("JOB_COMPLETION_INDEX"), "{err}");
        let k8s = |v: &str| (v == "JOB_COMPLETION_INDEX").then(|| "2".to_string());
        assert_eq!(parse_shard("auto/3", &k8s), Ok(Shard { index: 2, of: 3 }));
        let batch = |v: &str| (v == "AWS_BATCH_JOB_ARRAY_INDEX").then(|| "7".to_string());
        assert!(
            matches!(parse_shard("auto/3", &batch), Err(ShardError::OutOfRange { of: 3, .. })),
            "index out of range"
        );
        let bad = |v: &str| (v == "JOB_COMPLETION_INDEX").then(|| "two".to_string());
        assert!(matches!(parse_shard("auto/3", &bad), Err(ShardError::BadIndex { .. })));
    }
}
