//! Grading learners: for each, AssumeRole into the learner's grader role
//! (session `labcheck-<learner>`, with the external id), then the lab's
//! checks with that learner's parameters, through the same engine as
//! `labcheck check`. Many learners at once; a learner whose checks met a
//! transient fault (throttling, a server error, a dropped or stalled
//! connection, the time limit) is graded once more at the end, so faults on
//! the way never change a grade.

use super::gradebook::{GRADED, LearnerResult, now};
use super::roster::Entry;
use crate::aws::{AwsError, AwsErrorKind};
use crate::checks::CheckKind;
use crate::checks::project::isolation::LearnerCode;
use crate::course::lab::{CheckSpec, Lab};
use crate::engine::account::{Account, Known};
use crate::engine::{self, RunOptions, Ungradable};
use crate::params::Param;
use crate::params::{Params, Source};
use crate::report::Report;
use aws_config::{Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use futures::StreamExt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The skip reason of data-plane checks in cohort mode.
pub const NOT_REACHABLE: &str = "not reachable from the grader";
/// The skip reason of project checks for a learner without `project_dir`.
pub const NO_PROJECT: &str = "no project_dir for this learner in the roster";

/// How to grade.
#[derive(Clone, Debug)]
pub struct Options {
    /// Learners graded at once.
    pub jobs: usize,
    /// Longest time one learner may take.
    pub learner_timeout: Duration,
    /// Longest time one check may take.
    pub check_timeout: Duration,
    /// Checks of one learner running at once.
    pub checks_at_once: usize,
    /// External id for learners whose row gives none.
    pub external_id: Option<String>,
    /// The grader has a network path into the learners' VPCs.
    pub inside: bool,
    /// Folder of learners' own reports (`LEARNER.json`).
    pub reports: Option<PathBuf>,
    /// Run learners' code without the sandbox (`--trust-learner-code`).
    pub trust_learner_code: bool,
    /// Learners' own reports written before this are ignored.
    pub reports_since: Option<std::time::SystemTime>,
}

/// What every learner's grading shares.
pub struct Grader {
    /// The lab graded.
    pub lab: Lab,
    /// The instructor's SDK configuration (credentials, endpoint, timeouts).
    pub base_sdk: SdkConfig,
    /// Parameters from labcheck.toml, the environment and `--set`.
    pub base_params: Params,
    /// Region for learners whose row names none.
    pub default_region: Option<String>,
    /// The principal the learners' roles trust (the instructor's role or
    /// user), for the learner's fix when AssumeRole is refused.
    pub instructor: Option<String>,
    /// How learners are graded.
    pub opts: Options,
    sts: aws_sdk_sts::Client,
}

/// The grader role's ARN in a learner's account, in the partition of the
/// Region graded: a role in `aws-cn` or `aws-us-gov` has an ARN of that
/// partition, and the instructor's credentials that assume it live there too.
fn default_role_arn(account: &str, role: &str, region: &str) -> String {
    let partition = crate::arn::partition_for_region(region);
    format!("arn:{partition}:iam::{account}:role/{role}")
}

impl Grader {
    /// A grader for `lab`, from the instructor's SDK configuration and parameters.
    pub fn new(
        lab: Lab,
        base_sdk: SdkConfig,
        base_params: Params,
        default_region: Option<String>,
        instructor: Option<String>,
        opts: Options,
    ) -> Self {
        Grader {
            sts: aws_sdk_sts::Client::new(&base_sdk),
            lab,
            base_sdk,
            base_params,
            default_region,
            instructor,
            opts,
        }
    }

    /// The role grading assumes for a learner.
    fn role_arn(&self, entry: &Entry) -> String {
        if let Some(arn) = &entry.role_arn {
            return arn.clone();
        }
        let role = entry
            .params
            .iter()
            .find(|(k, _)| k == Param::GraderRole.name())
            .map(|(_, v)| v.clone())
            .or_else(|| self.base_params.explicit(Param::GraderRole).map(str::to_string))
            .unwrap_or_else(|| "labcheck-grader".into());
        let region = entry
            .region
            .as_deref()
            .or(self.default_region.as_deref())
            .unwrap_or_default();
        default_role_arn(&entry.account, &role, region)
    }

    /// The Region graded for a learner: their row's, else the grader's default.
    pub fn region_of(&self, entry: &Entry) -> String {
        entry
            .region
            .clone()
            .or_else(|| self.default_region.clone())
            .unwrap_or_default()
    }

    /// Grades one learner. The flag says whether a transient fault got in
    /// the way (then the learner is graded again at the end).
    pub async fn grade_one(&self, entry: &Entry) -> (LearnerResult, bool) {
        let region = self.region_of(entry);
        let base = LearnerResult {
            index: entry.index,
            learner: entry.learner.clone(),
            account: entry.account.clone(),
            region: region.clone(),
            grading_status: GRADED.into(),
            graded_at: String::new(),
            self_reported: Vec::new(),
            self_reported_score: 0,
            self_reported_max: 0,
            notes: Vec::new(),
            identity: entry.identity.clone(),
            excused: Vec::new(),
            report: None,
        };
        let error = |status: String| LearnerResult {
            grading_status: format!("error: {}", one_line(&status)),
            graded_at: now(),
            ..base.clone()
        };
        let graded = tokio::time::timeout(self.opts.learner_timeout, self.grade_in_account(entry, &region)).await;
        match graded {
            Err(_) => (
                error(format!(
                    "grading took longer than {}s (--learner-timeout); AWS or the network may be slow",
                    self.opts.learner_timeout.as_secs()
                )),
                true,
            ),
            Ok(Err((status, transient))) => (error(status), transient),
            Ok(Ok(mut report)) => {
                let mut result = LearnerResult {
                    graded_at: now(),
                    ..base.clone()
                };
                if let Some(dir) = &self.opts.reports {
                    super::self_report::fill(&mut report, &mut result, dir, &self.lab, self.opts.reports_since);
                }
                if let Some(note) = not_graded_note(&report, &self.lab) {
                    result.notes.push(note);
                }
                if let Some(note) = error_note(&report) {
                    result.notes.push(note);
                }
                let transient = report.checks().any(|c| c.transient);
                result.report = Some(report);
                (result, transient)
            }
        }
    }

    /// AssumeRole, then the lab. Err is the grading status and whether the
    /// fault was transient.
    async fn grade_in_account(&self, entry: &Entry, region: &str) -> Result<Report, (String, bool)> {
        let account = self.account_for(entry, region).await?;
        let selected = engine::select(&self.lab, &[]).unwrap_or_default();
        let run = RunOptions {
            timeout: self.opts.check_timeout,
            concurrency: self.opts.checks_at_once,
            on_done: None,
            ungradable: Some(ungradable(self.opts.inside, entry.project_dir.is_some())),
        };
        let report = engine::run(&self.lab, &selected, account, &run).await;
        Ok(report)
    }

    /// The learner's account as the grader sees it: AssumeRole into their
    /// grader role (with their external id), then an [`Account`] with that
    /// learner's parameters and Region, the role's secrets redacted from
    /// everything it says. Err is what to tell the instructor and whether
    /// the fault was transient. `labcheck cohort leftovers` reads through it too.
    pub async fn account_for(&self, entry: &Entry, region: &str) -> Result<Arc<Account>, (String, bool)> {
        let role_arn = self.role_arn(entry);
        let external_id = entry.external_id.clone().or_else(|| self.opts.external_id.clone());
        let assumed = self
            .sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(session_name(&entry.learner))
            .set_external_id(external_id.clone())
            .duration_seconds(3600)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("sts:AssumeRole", e))
            .map_err(|e| (self.refused(&e, &role_arn, external_id.is_some()), e.is_transient()))?;
        let (Some(creds), Some(user)) = (assumed.credentials(), assumed.assumed_role_user()) else {
            return Err(("AssumeRole answered without credentials".into(), true));
        };
        let credentials = Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_string()),
            std::time::SystemTime::try_from(*creds.expiration()).ok(),
            "sts:AssumeRole",
        );
        let sdk = self
            .base_sdk
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .region(Region::new(region.to_string()))
            .build();
        let mut params = self.base_params.clone();
        let row = Source::Roster { line: entry.line };
        params.set(Param::Region, region, row.clone());
        params.set(Param::Account, &entry.account, row.clone());
        let project = entry
            .project_dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        params.set(Param::ProjectDir, project, row.clone());
        if self.opts.inside {
            params.set(Param::Network, "inside", Source::Flag);
        }
        // The roster's parser admits parameter names only.
        for (param, value) in entry
            .params
            .iter()
            .filter_map(|(name, value)| Some((Param::from_name(name)?, value)))
        {
            params.set(param, value, row.clone());
        }
        let account = Account::new(sdk, params).with_identity(Known {
            account: entry.account.clone(),
            arn: user.arn().to_string(),
        });
        account.add_secret(creds.secret_access_key());
        account.add_secret(creds.session_token());
        account.set_learner_code(if self.opts.trust_learner_code {
            LearnerCode::Trusted
        } else {
            LearnerCode::Sandboxed
        });
        Ok(Arc::new(account))
    }

    /// The grading status when AssumeRole fails: what AWS said, and what the
    /// learner does about it.
    fn refused(&self, e: &AwsError, role_arn: &str, has_external_id: bool) -> String {
        let trusted = self
            .instructor
            .as_deref()
            .map(str::to_string)
            .unwrap_or_else(|| "the instructor's role or user".into());
        let fix = format!(
            "the learner creates the role {role_arn} from `labcheck policy --role-template` (trusting {trusted}{}), or fixes its trust policy",
            if has_external_id {
                " with the roster's external id"
            } else {
                "; no external id was given: set the roster's external_id column or --external-id"
            }
        );
        match e.kind {
            AwsErrorKind::AccessDenied => format!(
                "AssumeRole refused ({}): {}. Fix: {fix}",
                code(e),
                e.message.trim_start_matches(&format!("{}: ", code(e)))
            ),
            AwsErrorKind::NotFound => format!("the grader role does not exist ({}). Fix: {fix}", e.message),
            AwsErrorKind::Certificate => format!("AWS STS's TLS certificate is not trusted ({})", e.message),
            _ if e.is_transient() => format!("AWS STS did not answer ({})", e.message),
            _ => format!("AssumeRole failed: {}. Fix: {fix}", e.message),
        }
    }
}

/// Which checks were left out of the learner's maximum, and why, in one line.
fn not_graded_note(report: &Report, lab: &Lab) -> Option<String> {
    let ungraded: Vec<_> = report.checks().filter(|c| c.ungraded).collect();
    if ungraded.is_empty() {
        return None;
    }
    let data_plane = ungraded
        .iter()
        .filter(|c| {
            lab.check(&c.id)
                .and_then(|s| crate::checks::find(&s.kind))
                .is_some_and(|k| k.data_plane)
        })
        .count();
    let mut parts = Vec::new();
    if data_plane > 0 {
        parts.push(format!(
            "{data_plane} checks {NOT_REACHABLE} (cache and database connections)"
        ));
    }
    let no_sandbox = ungraded
        .iter()
        .filter(|c| c.message.starts_with(crate::checks::project::isolation::NO_SANDBOX))
        .count();
    if ungraded.len() > data_plane + no_sandbox {
        parts.push(format!(
            "{} that need the learner's project",
            ungraded.len() - data_plane - no_sandbox
        ));
    }
    if no_sandbox > 0 {
        parts.push(format!(
            "{no_sandbox} that run the learner's code, for want of a sandbox here (their messages say why; --trust-learner-code runs them without one)"
        ));
    }
    Some(format!("left out of max_score: {}", parts.join(", ")))
}

/// The checks that could not be evaluated for a graded learner (they score
/// nothing, like a failure, but say nothing of the learner's work), so the
/// instructor sees why a score is low; a permission refused is the grader
/// role's, and the learner fixes it.
fn error_note(report: &Report) -> Option<String> {
    let errors: Vec<_> = report.not_evaluated().collect();
    if errors.is_empty() {
        return None;
    }
    let ids: Vec<&str> = errors.iter().map(|c| c.id.as_str()).collect();
    let denied = errors.iter().any(|c| c.denied);
    Some(format!(
        "{} could not be evaluated ({}): {}",
        if errors.len() == 1 {
            "1 check".to_string()
        } else {
            format!("{} checks", errors.len())
        },
        ids.join(", "),
        if denied {
            "the grader role was refused a permission; the learner updates it from `labcheck policy --role-template`"
        } else {
            "their messages say why"
        }
    ))
}

fn code(e: &AwsError) -> &str {
    e.code.as_deref().unwrap_or("AccessDenied")
}

/// Which checks the grader cannot grade: data-plane checks without a network
/// path, project checks without the learner's project.
pub fn ungradable(inside: bool, has_project: bool) -> Ungradable {
    Arc::new(move |_spec: &CheckSpec, kind: &CheckKind| {
        if kind.data_plane && !inside {
            Some(NOT_REACHABLE.to_string())
        } else if kind.reads_project && !has_project {
            Some(NO_PROJECT.to_string())
        } else {
            None
        }
    })
}

/// The role session name for a learner: `labcheck-<learner>`, in the
/// characters and length STS accepts.
pub fn session_name(learner: &str) -> String {
    let clean: String = learner
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64 - "labcheck-".len())
        .collect();
    format!("labcheck-{clean}")
}

fn one_line(text: &str) -> String {
    crate::redact::one_line(text, 600)
}

/// Grades `todo`, `jobs` learners at once, calling `finished` with each
/// final result as it comes; learners that met a transient fault are graded
/// once more at the end. Stops starting and finishing learners when
/// `cancel` completes: returns the results so far and whether it was cancelled.
pub async fn grade_all<F>(
    grader: Arc<Grader>,
    todo: Vec<Entry>,
    mut finished: F,
    cancel: impl Future<Output = ()>,
) -> (Vec<LearnerResult>, bool)
where
    F: FnMut(&LearnerResult, bool),
{
    tokio::pin!(cancel);
    let jobs = grader.opts.jobs.max(1);
    let mut results = Vec::new();
    let mut again = Vec::new();
    let mut batch = todo;
    for round in 0..2 {
        if round == 1 {
            batch = std::mem::take(&mut again);
        }
        if batch.is_empty() {
            break;
        }
        let mut stream = futures::stream::iter(std::mem::take(&mut batch).into_iter().map(|entry| {
            let grader = grader.clone();
            async move {
                let (result, transient) = grader.grade_one(&entry).await;
                (entry, result, transient)
            }
        }))
        .buffer_unordered(jobs);
        loop {
            tokio::select! {
                biased;
                _ = &mut cancel => return (results, true),
                next = stream.next() => match next {
                    None => break,
                    Some((entry, _, true)) if round == 0 => again.push(entry),
                    Some((_, result, transient)) => {
                        finished(&result, transient);
                        results.push(result);
                    }
                },
            }
        }
    }
    (results, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

    #[test]
    fn checks_that_could_not_be_evaluated_are_noted_with_what_to_do() {
        let mut report = crate::report::sample::report();
        assert_eq!(
            error_note(&report).as_deref(),
            Some(
                "1 check could not be evaluated (s3.private): the grader role was refused a permission; \
                 the learner updates it from `labcheck policy --role-template`"
            )
        );
        for c in report.steps.iter_mut().flat_map(|s| s.checks.iter_mut()) {
            if c.status == Status::Error {
                c.message = "timed out after 60s".into();
                c.denied = false;
            }
        }
        assert!(error_note(&report).unwrap().ends_with("their messages say why"));
        for c in report.steps.iter_mut().flat_map(|s| s.checks.iter_mut()) {
            c.ungraded |= c.status == Status::Error;
        }
        assert_eq!(
            error_note(&report),
            None,
            "a check left out is not an error of the learner's"
        );
    }

    #[test]
    fn default_role_arns_name_the_partition() {
        assert_eq!(
            default_role_arn("111122223333", "labcheck-grader", "us-west-2"),
            "arn:aws:iam::111122223333:role/labcheck-grader"
        );
        assert_eq!(
            default_role_arn("111122223333", "labcheck-grader", "cn-northwest-1"),
            "arn:aws-cn:iam::111122223333:role/labcheck-grader"
        );
        assert_eq!(
            default_role_arn("111122223333", "labcheck-grader", "us-gov-west-1"),
            "arn:aws-us-gov:iam::111122223333:role/labcheck-grader"
        );
    }

    #[test]
    fn session_names_fit_sts() {
        assert_eq!(session_name("ada"), "labcheck-ada");
        assert_eq!(session_name("Ada Lovelace/1"), "labcheck-Ada-Lovelace-1");
        assert_eq!(session_name(&"x".repeat(100)).len(), 64);
    }
}
