//! Running a step's checks for a page: the same engine, parameters,
//! profile and Region as `labcheck check` from the folder the server runs
//! in; each check's result handed on as it finishes, the run recorded in
//! the state file at its end, as `labcheck check` records it.
//!
//! One run per step at a time: a click while the step runs joins that run
//! (it gets what the run has said so far, then the rest), whoever started
//! it. The run goes on when the page that started it goes away, so its end
//! is still recorded.

use super::{RunSettings, Server};
use crate::course::lab::Lab;
use crate::engine::{self, RunOptions};
use crate::report::CheckReport;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// What a run tells the pages, in order: `start`, a `check` per check as it
/// finishes, then `done` (or `failed` when the run could not start).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum RunEvent {
    /// The run started: what it grades.
    Start {
        /// The step's id (empty: the whole lab).
        step: String,
        /// The checks it reports, in lab order.
        checks: Vec<Planned>,
    },
    /// One check finished.
    Check {
        /// Its result, as the report holds it (scored, secrets redacted).
        check: CheckReport,
    },
    /// The run ended.
    Done {
        /// The step's id (empty: the whole lab).
        step: String,
        /// Points earned.
        score: u32,
        /// Points possible (checks that could not be graded here left out).
        max_score: u32,
        /// The account and Region checked.
        account: String,
        /// The Region.
        region: String,
        /// What the report says about the run as a whole.
        notes: Vec<String>,
        /// `passed`, `failed` or `incomplete`.
        verdict: &'static str,
    },
    /// The run could not start (the parameters or the AWS configuration are
    /// bad input, as `labcheck check` would say).
    Failed {
        /// Why.
        message: String,
    },
}

impl RunEvent {
    /// The event's name, as sent.
    pub fn name(&self) -> &'static str {
        match self {
            RunEvent::Start { .. } => "start",
            RunEvent::Check { .. } => "check",
            RunEvent::Done { .. } => "done",
            RunEvent::Failed { .. } => "failed",
        }
    }

    fn last(&self) -> bool {
        matches!(self, RunEvent::Done { .. } | RunEvent::Failed { .. })
    }
}

/// A check a run will report.
#[derive(Clone, Debug, Serialize)]
pub struct Planned {
    /// Its id.
    pub id: String,
    /// Its title (parameters not filled in yet).
    pub title: String,
    /// Points it is worth.
    pub points: u32,
}

/// One run in progress.
struct Running {
    /// What it has said so far, for those who join.
    said: Mutex<Vec<RunEvent>>,
    /// What it says next.
    tx: broadcast::Sender<RunEvent>,
}

impl Running {
    fn say(&self, event: RunEvent) {
        let mut said = self.said.lock().unwrap_or_else(|p| p.into_inner());
        said.push(event.clone());
        let _ = self.tx.send(event);
    }
}

/// What a page that asked for a run gets: what was said before it came, then
/// what is said after.
pub struct Joined {
    /// Events so far.
    pub so_far: Vec<RunEvent>,
    /// Events from now on (none once the run has ended).
    pub next: broadcast::Receiver<RunEvent>,
    /// Whether the page joined a run already going.
    pub joined: bool,
}

/// The runs in progress, by step id (empty: the whole lab).
#[derive(Default)]
pub struct Runs {
    running: Mutex<HashMap<String, Arc<Running>>>,
}

/// The checks selected by `step` in `lab` (every check when empty); `None`
/// when the lab has no such step.
pub fn selection(lab: &Lab, step: &str) -> Option<Vec<String>> {
    if step.is_empty() {
        return engine::select(lab, &[]).ok();
    }
    lab.step(step)?;
    engine::select(lab, &[step.to_string()]).ok()
}

impl Runs {
    /// Joins the run of `step`, or starts one (selecting `selected`).
    pub fn start_or_join(&self, server: &Arc<Server>, step: &str, selected: Vec<String>) -> Joined {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(run) = running.get(step) {
            let said = run.said.lock().unwrap_or_else(|p| p.into_inner());
            return Joined {
                so_far: said.clone(),
                next: run.tx.subscribe(),
                joined: true,
            };
        }
        let (tx, next) = broadcast::channel(256);
        let run = Arc::new(Running {
            said: Mutex::new(Vec::new()),
            tx,
        });
        running.insert(step.to_string(), run.clone());
        let (server, step) = (server.clone(), step.to_string());
        tokio::spawn(async move {
            let last = execute(&server, &step, selected, &run).await;
            // Gone from the list before its end is told: a click after the
            // results came starts a new run.
            server
                .runs
                .running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&step);
            run.say(last);
        });
        Joined {
            so_far: Vec::new(),
            next,
            joined: false,
        }
    }
}

/// The context `labcheck check` would build from the same command line.
async fn connect(settings: &RunSettings) -> Result<Arc<crate::engine::account::Account>, crate::connect::Error> {
    let config = crate::connect::config_path(settings.config.as_deref());
    crate::connect::connect(&crate::connect::ConnectOptions {
        config: config.as_deref(),
        set: &settings.set,
        region: settings.region.as_deref(),
        profile: settings.profile.as_deref(),
        insecure: settings.insecure,
        verbose: false,
    })
    .await
}

/// Runs the checks, telling `run` each as it finishes; returns the last
/// event (`done`, or `failed`).
async fn execute(server: &Arc<Server>, step: &str, selected: Vec<String>, run: &Arc<Running>) -> RunEvent {
    let course = server.course();
    let Ok(lab) = course.lab(server.lab.as_deref()) else {
        return RunEvent::Failed {
            message: "the course no longer has this lab".into(),
        };
    };
    let checks = selected
        .iter()
        .filter_map(|id| lab.check(id))
        .map(|c| Planned {
            id: c.id.clone(),
            title: c.title.clone(),
            points: c.points,
        })
        .collect();
    run.say(RunEvent::Start {
        step: step.to_string(),
        checks,
    });
    let account = match connect(&server.settings).await {
        Ok(account) => account,
        Err(e) => {
            return RunEvent::Failed {
                message: crate::redact::strip_control(&e.to_string()),
            };
        }
    };
    let wanted: HashSet<String> = selected.iter().cloned().collect();
    let teller = run.clone();
    let opts = RunOptions {
        timeout: server.settings.timeout,
        on_done: Some(Arc::new(move |check: &CheckReport| {
            // Prerequisites of other steps run unreported, as in the report.
            if wanted.contains(&check.id) {
                teller.say(RunEvent::Check { check: check.clone() });
            }
        })),
        ..RunOptions::default()
    };
    let report = engine::run(lab, &selected, account, &opts).await;
    let mut notes = report.notes.clone();
    if let Err(e) = crate::state::record(&report) {
        notes.push(format!("this run was not recorded for `labcheck status`: {e}"));
    }
    *server.account.lock().unwrap_or_else(|p| p.into_inner()) = Some(report.account.clone());
    let verdict = match report.verdict() {
        crate::report::Verdict::Passed => "passed",
        crate::report::Verdict::Failed => "failed",
        crate::report::Verdict::Incomplete => "incomplete",
    };
    RunEvent::Done {
        step: step.to_string(),
        score: report.score,
        max_score: report.max_score,
        account: report.account.clone(),
        region: report.region.clone(),
        notes,
        verdict,
    }
}

/// Whether an event ends its run.
pub fn is_last(event: &RunEvent) -> bool {
    event.last()
}
