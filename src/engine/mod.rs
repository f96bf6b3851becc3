//! The runner: selects checks, orders them by `needs`, runs them concurrently
//! with a timeout each, turns every error, timeout or panic into an `error`
//! outcome, and builds the scored report. It never panics.

pub use crate::run::{account, memo, outcome};

use crate::checks;
use crate::course::lab::{CheckSpec, Lab};
use crate::report::{CheckReport, Report, SCHEMA, Status, StepReport};
use account::Account;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use outcome::Outcome;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// A name on the command line that is neither a step nor a check.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{name}` is not a step or check of lab {lab}{suggestion}\n  steps: {steps}\n  run `labcheck list` to see every check id"
)]
pub struct UnknownName {
    /// The name given.
    pub name: String,
    /// `; did you mean …?`, or empty.
    pub suggestion: String,
    /// The lab's id.
    pub lab: String,
    /// The lab's step ids, comma-separated.
    pub steps: String,
}

/// The check ids that `names` (step or check ids) select, in lab order.
/// No names selects every check.
pub fn select(lab: &Lab, names: &[String]) -> Result<Vec<String>, UnknownName> {
    let mut wanted: HashSet<&str> = HashSet::new();
    for name in names {
        if let Some(step) = lab.step(name) {
            wanted.extend(step.checks.iter().map(|c| c.id.as_str()));
        } else if lab.check(name).is_some() {
            wanted.insert(name);
        } else {
            let known = lab
                .steps
                .iter()
                .map(|s| s.id.as_str())
                .chain(lab.checks().map(|(_, c)| c.id.as_str()));
            return Err(UnknownName {
                name: name.clone(),
                suggestion: crate::suggest::did_you_mean(name, known),
                lab: lab.id.clone(),
                steps: lab.steps.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", "),
            });
        }
    }
    Ok(lab
        .checks()
        .map(|(_, c)| c.id.clone())
        .filter(|id| names.is_empty() || wanted.contains(id.as_str()))
        .collect())
}

/// Called with each check's result as soon as it finishes (prerequisites
/// the selection did not name included), scored and cleaned of secrets as
/// the report will hold it: for progress display and streaming results.
pub type OnDone = Arc<dyn Fn(&CheckReport) + Send + Sync>;

/// Decides, before a check runs, that it cannot be graded here: returns the
/// reason (the check is then skipped, and left out of the maximum).
pub type Ungradable = Arc<dyn Fn(&CheckSpec, &checks::CheckKind) -> Option<String> + Send + Sync>;

/// How to run.
#[derive(Clone)]
pub struct RunOptions {
    /// Longest a single check may take.
    pub timeout: Duration,
    /// Checks running at once. A check waiting on a shared answer (the
    /// project's Python, another check's AWS call) holds its place, so the
    /// default lets every check of a lab run at once: a lower limit makes
    /// AWS calls that do not depend on each other wait in line.
    pub concurrency: usize,
    /// Called when each check finishes (see [`OnDone`]).
    pub on_done: Option<OnDone>,
    /// Checks that cannot be graded where this run happens (cohort mode).
    pub ungradable: Option<Ungradable>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            timeout: Duration::from_secs(60),
            concurrency: 64,
            on_done: None,
            ungradable: None,
        }
    }
}

/// What one check run produced; cheap to share between dependents.
#[derive(Clone)]
struct Ran {
    outcome: Outcome,
    duration: Duration,
}

type RanFuture = Shared<BoxFuture<'static, Ran>>;

/// Runs the selected checks (and, unreported, the checks they need).
pub async fn run(lab: &Lab, selected: &[String], account: Arc<Account>, opts: &RunOptions) -> Report {
    let started_at = SystemTime::now();
    let start = Instant::now();
    let to_run = with_prerequisites(lab, selected);
    let limit = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let mut futures: HashMap<String, RanFuture> = HashMap::new();
    for spec in in_needs_order(lab, &to_run) {
        let deps: Vec<(String, RanFuture)> = spec
            .needs
            .iter()
            .filter_map(|n| futures.get(n).map(|f| (n.clone(), f.clone())))
            .collect();
        let fut = run_one(
            Arc::new(spec.clone()),
            deps,
            account.clone(),
            limit.clone(),
            opts.clone(),
        )
        .boxed()
        .shared();
        futures.insert(spec.id.clone(), fut);
    }
    let ordered: Vec<(&str, RanFuture)> = selected
        .iter()
        .filter_map(|id| futures.get(id).map(|f| (id.as_str(), f.clone())))
        .collect();
    // Who the account is matters to the report's header and to hints that
    // name the default bucket; asked alongside the checks, never before them.
    let calls_aws = to_run
        .iter()
        .filter_map(|id| lab.check(id))
        .any(|spec| checks::find(&spec.kind).is_some_and(|k| !k.iam_actions.is_empty()));
    let identity = async {
        if calls_aws {
            let _ = account.identity().await;
        }
    };
    let (results, ()) = futures::join!(
        futures::future::join_all(ordered.into_iter().map(|(id, f)| async move { (id, f.await) })),
        identity
    );
    let results: HashMap<&str, Ran> = results.into_iter().collect();

    let mut report = Report {
        schema: SCHEMA.into(),
        lab: lab.id.clone(),
        account: account.account_id(),
        region: account.region.clone(),
        identity: account.known_identity().map(|k| k.arn).unwrap_or_default(),
        started_at: humantime::format_rfc3339_seconds(started_at).to_string(),
        duration_ms: 0,
        score: 0,
        max_score: 0,
        steps: Vec::new(),
        notes: Vec::new(),
    };
    for step in &lab.steps {
        let checks: Vec<CheckReport> = step
            .checks
            .iter()
            .filter_map(|spec| {
                results
                    .get(spec.id.as_str())
                    .map(|ran| check_report(spec, ran, &account))
            })
            .collect();
        if !checks.is_empty() {
            report.steps.push(StepReport {
                id: step.id.clone(),
                title: step.title.clone(),
                score: 0,
                max_score: 0,
                checks,
            });
        }
    }
    report.notes = account.notes();
    report.duration_ms = start.elapsed().as_millis() as u64;
    report.rescore();
    report.sanitize(&account.redactor());
    report
}

fn check_report(spec: &CheckSpec, ran: &Ran, account: &Account) -> CheckReport {
    let hint = ran.outcome.hint.as_deref().unwrap_or(&spec.hint);
    CheckReport {
        id: spec.id.clone(),
        title: account.expand(&spec.title),
        status: ran.outcome.status,
        message: ran.outcome.message.clone(),
        hint: account.expand(hint),
        fix: match &ran.outcome.fix {
            Some(fix) => fix.clone(),
            None => account.expand(&spec.fix),
        },
        points: spec.points,
        score: if ran.outcome.status == Status::Pass {
            spec.points
        } else {
            0
        },
        duration_ms: ran.duration.as_millis() as u64,
        evidence: ran.outcome.evidence.clone(),
        ungraded: ran.outcome.ungraded,
        transient: ran.outcome.transient,
        denied: ran.outcome.denied,
        basis: ran.outcome.basis,
    }
}

/// The selected checks plus everything they need, transitively.
fn with_prerequisites(lab: &Lab, selected: &[String]) -> HashSet<String> {
    let mut all: HashSet<String> = HashSet::new();
    let mut todo: Vec<String> = selected.to_vec();
    while let Some(id) = todo.pop() {
        if all.insert(id.clone())
            && let Some(spec) = lab.check(&id)
        {
            todo.extend(spec.needs.iter().cloned());
        }
    }
    all
}

/// Checks in an order where each comes after what it needs (the lab parser
/// has rejected cycles).
fn in_needs_order<'a>(lab: &'a Lab, ids: &HashSet<String>) -> Vec<&'a CheckSpec> {
    let mut placed: HashSet<&str> = HashSet::new();
    let mut order = Vec::new();
    let mut pending: Vec<&CheckSpec> = lab.checks().map(|(_, c)| c).filter(|c| ids.contains(&c.id)).collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|c| {
            if c.needs.iter().all(|n| placed.contains(n.as_str()) || !ids.contains(n)) {
                placed.insert(&c.id);
                order.push(*c);
                false
            } else {
                true
            }
        });
        if pending.len() == before {
            // Unreachable for a validated lab; run the rest rather than hang.
            order.append(&mut pending);
        }
    }
    order
}

async fn run_one(
    spec: Arc<CheckSpec>,
    deps: Vec<(String, RanFuture)>,
    account: Arc<Account>,
    limit: Arc<tokio::sync::Semaphore>,
    opts: RunOptions,
) -> Ran {
    let ran = grade(spec.clone(), deps, account.clone(), limit, &opts).await;
    if let Some(on_done) = &opts.on_done {
        let mut report = check_report(&spec, &ran, &account);
        report.sanitize(&account.redactor());
        on_done(&report);
    }
    ran
}

async fn grade(
    spec: Arc<CheckSpec>,
    deps: Vec<(String, RanFuture)>,
    account: Arc<Account>,
    limit: Arc<tokio::sync::Semaphore>,
    opts: &RunOptions,
) -> Ran {
    // What cannot be graded here is left out whatever the checks it needs
    // give, so every learner graded in one place has the same maximum.
    let kind = checks::find(&spec.kind);
    if let Some(kind) = kind
        && let Some(reason) = opts
            .ungradable
            .as_ref()
            .and_then(|ungradable| ungradable(&spec, kind))
            .or_else(|| checks::network::told_outside(&account, kind))
    {
        return Ran {
            outcome: Outcome::ungraded(reason),
            duration: Duration::ZERO,
        };
    }
    for (dep, fut) in deps {
        let ran = fut.await;
        if ran.outcome.status != Status::Pass {
            let why = match ran.outcome.status {
                Status::Fail => "failed",
                Status::Error => "could not be checked",
                _ if ran.outcome.ungraded => "could not be graded here",
                _ => "was skipped",
            };
            let mut outcome = Outcome::skip(format!("needs {dep}, which {why}"));
            // A check waiting on one that could not be graded here cannot be
            // graded either; one waiting on a failure is the learner's to fix.
            outcome.ungraded = ran.outcome.ungraded;
            return Ran {
                outcome,
                duration: Duration::ZERO,
            };
        }
    }
    let _permit = limit.acquire().await;
    let start = Instant::now();
    let outcome = match kind {
        None => Outcome::error(format!("unknown check kind `{}`", spec.kind)),
        Some(kind) if !kind.iam_actions.is_empty() && account.aws_ready().await.is_err() => {
            // The note at the end says how to fix it, once for every check.
            let short = match account.aws_ready().await {
                Err(why) => {
                    account.note(why.to_string());
                    why.short()
                }
                Ok(()) => String::new(),
            };
            Outcome::error(short).hint("")
        }
        Some(kind) => {
            let task = tokio::spawn(tokio::time::timeout(opts.timeout, (kind.run)(account, spec.clone())));
            match task.await {
                Ok(Ok(Ok(outcome))) => outcome,
                Ok(Ok(Err(e))) => e.into_outcome(),
                Ok(Err(_)) => {
                    let mut outcome = Outcome::error(format!("timed out after {}s", opts.timeout.as_secs())).hint(
                        "The service did not answer in time. Check your network, then run this check again; `--timeout SECS` allows more time.",
                    );
                    outcome.transient = true;
                    outcome
                }
                Err(join) => Outcome::error(format!(
                    "internal error in check kind `{}`: {}",
                    spec.kind,
                    panic_text(join)
                )),
            }
        }
    };
    Ran {
        outcome,
        duration: start.elapsed(),
    }
}

fn panic_text(err: tokio::task::JoinError) -> String {
    match err.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into()),
        Err(e) => e.to_string(),
    }
}
