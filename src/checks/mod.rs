//! The check kinds labcheck ships: each is a small async function plus its
//! metadata (what passes, the IAM actions it calls, whether it needs a
//! network path into the VPC). Lab files refer to them by id and give each
//! check its title.

pub(crate) mod address;
pub mod cache;
pub mod command;
pub mod eb;
pub mod http;
pub mod network;
pub use labcheck_django::process;
pub mod project;
pub mod rds;
pub mod s3;
pub(crate) mod scope;
pub mod site;

use crate::course::lab::CheckSpec;
use crate::run::account::Account;
use crate::run::outcome::CheckResult;
use futures::future::BoxFuture;
use std::sync::Arc;

/// Runs one check against one account.
pub type RunFn = fn(Arc<Account>, Arc<CheckSpec>) -> BoxFuture<'static, CheckResult>;

/// A built-in check kind and what it needs.
pub struct CheckKind {
    /// The name a lab's `kind` field gives, like `s3.cors`.
    pub id: &'static str,
    /// When the check passes, in one sentence.
    pub passes: &'static str,
    /// IAM actions the check calls (for `labcheck policy`).
    pub iam_actions: &'static [&'static str],
    /// Opens a connection inside the VPC (cache, database), rather than
    /// calling AWS APIs or public URLs.
    pub data_plane: bool,
    /// Reads the learner's project (`project_dir`): a grader without the
    /// project cannot grade it.
    pub reads_project: bool,
    /// Runs the check.
    pub run: RunFn,
}

/// Every check kind, in lab order.
pub static KINDS: &[CheckKind] = &[
    s3::BUCKET,
    s3::CORS,
    s3::PRIVATE,
    s3::MEDIA,
    s3::PRESIGNED,
    cache::EXISTS,
    cache::TLS,
    cache::REACHABLE,
    cache::SESSIONS,
    cache::NETWORK,
    rds::INSTANCE,
    rds::REACHABLE,
    rds::MIGRATED,
    rds::DATA,
    rds::SUPERUSER,
    rds::NETWORK,
    project::EBEXTENSIONS,
    project::REQUIREMENTS,
    project::SETTINGS,
    project::STATIC,
    project::DEPLOY_CHECK,
    eb::APP,
    eb::ENV,
    eb::PLATFORM,
    eb::ENVVARS,
    eb::ROLE,
    site::SITE,
    site::STATIC,
    site::MEDIA,
    site::DEBUG_OFF,
    command::COMMAND,
];

/// The Beanstalk environment's own environment properties (name, value):
/// what someone else's project runs with on AWS, which the project probe
/// gives its settings on top of `.ebextensions`.
pub async fn environment_properties(acc: &Account) -> Result<Vec<(String, String)>, crate::aws::AwsError> {
    let settings = eb::option_settings(acc).await?;
    Ok(settings
        .iter()
        .filter(|o| o.namespace == eb::PROPERTIES)
        .map(|o| (o.name.clone(), o.value.clone()))
        .collect())
}

/// The check kind named `id`.
pub fn find(id: &str) -> Option<&'static CheckKind> {
    KINDS.iter().find(|k| k.id == id)
}

/// The names of every check kind, in lab order.
pub fn kind_ids() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.id).collect()
}

/// The IAM actions the checks of a lab call, sorted: the read-only policy
/// `labcheck policy` prints and the grader role's template grants.
pub fn policy_actions(lab: &crate::course::lab::Lab) -> Vec<&'static str> {
    let mut actions: Vec<&str> = lab
        .checks()
        .filter_map(|(_, c)| find(&c.kind))
        .flat_map(|k| k.iam_actions.iter().copied())
        .collect();
    actions.sort_unstable();
    actions.dedup();
    actions
}

#[cfg(test)]
mod tests {
    /// The lab fuzz target (labcheck-course, which cannot see `KINDS`) takes
    /// its vocabulary from the embedded labs plus the `command` kind. The two
    /// lists hold the same kinds: a kind labcheck runs that no lab names, or
    /// one a lab names that labcheck cannot run, fails here. (As sets: the
    /// order of `KINDS` is labcheck's to choose.)
    #[test]
    fn the_fuzz_vocabulary_is_the_kinds_labcheck_runs() {
        let mut derived = crate::course::embedded::check_kinds();
        let mut ours = super::kind_ids();
        derived.sort_unstable();
        ours.sort_unstable();
        assert_eq!(derived, ours);
    }
}
