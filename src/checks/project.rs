//! The `project` step's check kinds. Each runs a check of labcheck-django
//! (`labcheck_django::checks`: the learner's project read, and its Python
//! run, without AWS) over the account, which answers what those checks ask
//! of a run ([`ProjectRun`]): parameters, notes, secrets, the memo, the
//! probe cache's folder, and the Beanstalk environment's properties.

use super::CheckKind;
use crate::params::Param;
use crate::run::account::Account;
use labcheck_django::checks::{deploy, ebextensions_check, requirements_check, settings, static_files};
use labcheck_django::run::{ProjectRun, Properties, PropertiesError};
use labcheck_outcome::memo::Memo;
use std::path::PathBuf;

pub use labcheck_django::checks::sandbox_ready;
pub use labcheck_django::isolation;
pub use labcheck_django::requirements::pinned_version;

pub(crate) const EBEXTENSIONS: CheckKind = CheckKind {
    id: "project.ebextensions",
    passes: "`.ebextensions/*.config` sets a WSGIPath whose module is a file of the project, and maps `/static` to the STATIC_ROOT folder",
    iam_actions: &[],
    data_plane: false,
    reads_project: true,
    run: |a, _| Box::pin(ebextensions_check::check(a)),
};

pub(crate) const REQUIREMENTS: CheckKind = CheckKind {
    id: "project.requirements",
    passes: "`requirements.txt` (with the files it includes) pins django, gunicorn, django-storages, boto3, redis, a MySQL driver and pillow with `==`, and does not list awsebcli",
    iam_actions: &[],
    data_plane: false,
    reads_project: true,
    run: |a, _| Box::pin(requirements_check::check(a)),
};

pub(crate) const SETTINGS: CheckKind = CheckKind {
    id: "project.settings",
    passes: "the effective settings turn DEBUG off, admit .elasticbeanstalk.com, store media on S3, keep sessions in a rediss:// Redis cache and use a database other than SQLite, and the settings files hold no password or AWS key",
    iam_actions: &[],
    data_plane: false,
    reads_project: true,
    run: |a, _| Box::pin(settings::check(a)),
};

pub(crate) const STATIC: CheckKind = CheckKind {
    id: "project.static",
    passes: "the STATIC_ROOT folder holds every file collectstatic gathers (the admin's among them)",
    iam_actions: &[],
    data_plane: false,
    reads_project: true,
    run: |a, _| Box::pin(static_files::check(a)),
};

pub(crate) const DEPLOY_CHECK: CheckKind = CheckKind {
    id: "project.deploy-check",
    passes: "`manage.py check --deploy` reports no error (warnings are listed)",
    iam_actions: &[],
    data_plane: false,
    reads_project: true,
    run: |a, _| Box::pin(deploy::check(a)),
};

/// What the project checks ask of a run, answered by the account: its
/// parameters, notes, secrets and memo, and the one AWS answer the probe
/// uses (the Beanstalk environment's properties, with `eb.envvars`'
/// permission).
impl ProjectRun for Account {
    fn param(&self, param: Param) -> String {
        Account::param(self, param)
    }

    fn param_from_roster(&self, param: Param) -> bool {
        Account::param_from_roster(self, param)
    }

    fn learner_code(&self) -> isolation::LearnerCode {
        Account::learner_code(self)
    }

    fn note(&self, note: String) {
        Account::note(self, note);
    }

    fn add_secret(&self, secret: &str) {
        Account::add_secret(self, secret);
    }

    fn memo(&self) -> &Memo {
        &self.memo
    }

    fn environment_properties(&self) -> Properties<'_> {
        Box::pin(async move {
            if self.aws_ready().await.is_err() {
                return Err(PropertiesError::NoAws);
            }
            super::environment_properties(self)
                .await
                .map_err(|e| PropertiesError::Failed(e.to_string()))
        })
    }

    fn probe_cache_folder(&self) -> Option<PathBuf> {
        crate::store::STATE.dir().ok().map(|d| d.join("probe-cache"))
    }
}
