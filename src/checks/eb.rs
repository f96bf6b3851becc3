//! The `eb` step, the Elastic Beanstalk side: the application, the
//! environment's state and health, its platform against the Django the
//! project pins, the environment properties that carry the database
//! credentials, and the instance role's access to the media bucket.

mod health;
mod policy;

use super::CheckKind;
use crate::aws::{AwsError, AwsErrorKind};
use crate::params::Param;
use crate::run::account::Account;
use crate::run::memo::MemoKey;
use crate::run::outcome::{CheckError, CheckResult, Outcome};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) const APP: CheckKind = CheckKind {
    id: "eb.app",
    passes: "the Elastic Beanstalk application exists",
    iam_actions: &[
        "elasticbeanstalk:DescribeApplications",
        "elasticbeanstalk:DescribeEnvironments",
    ],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(app(a)),
};

pub(crate) const ENV: CheckKind = CheckKind {
    id: "eb.env",
    passes: "the environment is Ready and its health is Green, or Yellow only because of HTTP 4xx answers",
    iam_actions: &[
        "elasticbeanstalk:DescribeEnvironments",
        "elasticbeanstalk:DescribeEnvironmentHealth",
        "elasticbeanstalk:DescribeEvents",
        "elasticbeanstalk:DescribeConfigurationSettings",
    ],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(env(a)),
};

pub(crate) const PLATFORM: CheckKind = CheckKind {
    id: "eb.platform",
    passes: "the Python version of the environment's platform is one the pinned Django version supports",
    iam_actions: &["elasticbeanstalk:DescribeEnvironments"],
    data_plane: false,
    reads_project: true,
    run: |a, _| Box::pin(platform(a)),
};

pub(crate) const ENVVARS: CheckKind = CheckKind {
    id: "eb.envvars",
    passes: "the environment gives the app the database user and password: environment properties, secrets (Secrets Manager or Parameter Store ARNs) or a database Beanstalk created (names shown, values never)",
    iam_actions: &[
        "elasticbeanstalk:DescribeEnvironments",
        "elasticbeanstalk:DescribeConfigurationSettings",
    ],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(envvars(a)),
};

pub(crate) const ROLE: CheckKind = CheckKind {
    id: "eb.role",
    passes: "the role of the instance profile the environment uses allows s3:GetObject and s3:PutObject on the media bucket's objects, without s3:* on every resource",
    iam_actions: &[
        "elasticbeanstalk:DescribeConfigurationSettings",
        "iam:GetInstanceProfile",
        "iam:ListAttachedRolePolicies",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
    ],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(role(a)),
};

/// The environment as described.
#[derive(Clone, Debug)]
pub struct Environment {
    /// The environment's name.
    pub name: String,
    /// The environment's id, like `e-abc123`.
    pub id: String,
    /// `Ready`, `Launching`, `Updating`, ... ("" when AWS gives none).
    pub status: String,
    /// `Green`, `Yellow`, `Red` or `Grey` ("" when AWS gives none).
    pub health: String,
    /// Enhanced health's status: `Ok`, `Info`, `Warning`, `Degraded`,
    /// `Severe`, `Pending`, `Unknown`, `Suspended`, `NoData` ("" with basic
    /// health).
    pub health_status: String,
    /// The environment's host name, without a scheme.
    pub cname: String,
    /// The solution stack name, like `64bit Amazon Linux 2023 v4.1.0 running Python 3.11`.
    pub stack: String,
    /// The ARN of the environment's platform.
    pub platform_arn: String,
}

/// The lab's environment, described once per run.
#[derive(PartialEq, Eq, Hash)]
struct TheEnvironment;
impl MemoKey for TheEnvironment {
    type Value = Result<Option<Environment>, AwsError>;
}

/// Whether a described environment still exists: one that DescribeEnvironments
/// lists as Terminated is gone, whatever else the answer says of it.
pub fn is_live(e: &aws_sdk_elasticbeanstalk::types::EnvironmentDescription) -> bool {
    e.status().is_none_or(|s| s.as_str() != "Terminated")
}

/// Describes the lab's environment once per run.
pub async fn environment(acc: &Account) -> Result<Option<Environment>, AwsError> {
    acc.memo
        .once(TheEnvironment, || async {
            let out = acc
                .eb
                .describe_environments()
                .application_name(acc.param(Param::EbApp))
                .environment_names(acc.param(Param::EbEnv))
                .include_deleted(false)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("elasticbeanstalk:DescribeEnvironments", e))?;
            Ok(out.environments().iter().find(|e| is_live(e)).map(|e| Environment {
                name: e.environment_name().unwrap_or_default().to_string(),
                id: e.environment_id().unwrap_or_default().to_string(),
                status: e.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                health: e.health().map(|h| h.as_str().to_string()).unwrap_or_default(),
                health_status: e.health_status().map(|h| h.as_str().to_string()).unwrap_or_default(),
                cname: e.cname().unwrap_or_default().to_string(),
                stack: e.solution_stack_name().unwrap_or_default().to_string(),
                platform_arn: e.platform_arn().unwrap_or_default().to_string(),
            }))
        })
        .await
}

/// The environment for the checks that read its settings or its site: it
/// must exist and be Ready. While it launches or updates (minutes, on every
/// `eb deploy` or `eb setenv`) they could not be graded yet; its health's
/// colour is `eb.env`'s business, not theirs.
pub async fn the_environment(acc: &Account) -> Result<Environment, CheckError> {
    let e = environment(acc).await?.ok_or_else(|| {
        CheckError::Other(format!(
            "the Elastic Beanstalk environment {} was not found",
            acc.param(Param::EbEnv)
        ))
    })?;
    match health::phase(&e.status) {
        health::Phase::Ready => Ok(e),
        health::Phase::Changing => Err(CheckError::NotYet(health::changing(&e.name, &e.status))),
        health::Phase::Gone => Err(CheckError::Other(format!("environment {} is {}", e.name, e.status))),
    }
}

/// One option setting of the environment's configuration.
#[derive(Clone, Debug)]
pub struct OptionSetting {
    /// The option's namespace, like `aws:elasticbeanstalk:application:environment`.
    pub namespace: String,
    /// The option's name.
    pub name: String,
    /// The option's value.
    pub value: String,
}

/// The environment's option settings, read once per run.
#[derive(PartialEq, Eq, Hash)]
struct OptionSettings;
impl MemoKey for OptionSettings {
    type Value = Result<Arc<Vec<OptionSetting>>, AwsError>;
}

/// The environment's option settings, once per run (also read for its
/// security groups). An environment that does not exist has none.
pub async fn option_settings(acc: &Account) -> Result<Arc<Vec<OptionSetting>>, AwsError> {
    acc.memo
        .once(OptionSettings, || async {
            let out = match acc
                .eb
                .describe_configuration_settings()
                .application_name(acc.param(Param::EbApp))
                .environment_name(acc.param(Param::EbEnv))
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => {
                    let e = AwsError::from_sdk("elasticbeanstalk:DescribeConfigurationSettings", e);
                    let missing =
                        e.kind == AwsErrorKind::NotFound || e.code.as_deref() == Some("InvalidParameterValue");
                    return if missing { Ok(Arc::new(Vec::new())) } else { Err(e) };
                }
            };
            Ok(Arc::new(
                out.configuration_settings()
                    .iter()
                    .flat_map(|c| c.option_settings())
                    .map(|o| OptionSetting {
                        namespace: o.namespace().unwrap_or_default().to_string(),
                        name: o.option_name().unwrap_or_default().to_string(),
                        value: o.value().unwrap_or_default().to_string(),
                    })
                    .collect(),
            ))
        })
        .await
}

async fn app(acc: Arc<Account>) -> CheckResult {
    let name = acc.param(Param::EbApp);
    // The environment, which the checks that need this one read, is asked
    // for at the same time: it does not depend on this answer, and the two
    // calls would otherwise be made one after the other.
    let (out, _) = tokio::join!(
        acc.eb.describe_applications().application_names(&name).send(),
        environment(&acc)
    );
    let out = out.map_err(|e| AwsError::from_sdk("elasticbeanstalk:DescribeApplications", e))?;
    Ok(match out.applications().first() {
        Some(a) => Outcome::pass(format!("application {} exists", a.application_name().unwrap_or(&name)))
            .evidence(json!({"application": name})),
        None => Outcome::fail(format!(
            "no Elastic Beanstalk application named {name} in {}",
            acc.region
        )),
    })
}

async fn env(acc: Arc<Account>) -> CheckResult {
    let Some(e) = environment(&acc).await? else {
        return Ok(Outcome::fail(format!(
            "no environment named {} in application {}",
            acc.param(Param::EbEnv),
            acc.param(Param::EbApp)
        )));
    };
    if !needs_a_closer_look(&e) {
        return Ok(judge(&e, &Looked::default()));
    }
    // Why not Green: the causes, the latest error events and the health
    // rules, asked at once.
    let (causes, events, settings) = tokio::join!(
        health_causes(&acc, &e.name),
        error_events(&acc, &e.name),
        option_settings(&acc)
    );
    // A Yellow environment is graded by its causes; for another colour they
    // only explain the failure.
    let causes = match causes {
        Ok(causes) => causes,
        Err(err) if e.health == "Yellow" => return Err(err.into()),
        Err(_) => None,
    };
    let looked = Looked {
        causes,
        events,
        settings: settings.map(|s| s.to_vec()).unwrap_or_default(),
    };
    Ok(judge(&e, &looked))
}

/// What `eb.env` reads beyond the environment when it is Ready but not
/// Green.
#[derive(Default)]
struct Looked {
    /// Enhanced health's causes (`None` with basic health).
    causes: Option<Vec<String>>,
    /// The latest error events.
    events: Vec<String>,
    /// The environment's option settings (for the health rules).
    settings: Vec<OptionSetting>,
}

/// Whether the verdict needs the health causes: a Ready environment that is
/// neither Green nor still starting its instances.
fn needs_a_closer_look(e: &Environment) -> bool {
    health::phase(&e.status) == health::Phase::Ready && e.health != "Green" && !starting_instances(e)
}

/// Enhanced health's Pending (Grey): an operation on the instances within
/// its command timeout, such as a new instance bootstrapping.
fn starting_instances(e: &Environment) -> bool {
    e.health == "Grey" && e.health_status == "Pending"
}

/// `eb.env`'s verdict on an environment, and what was read about its health.
fn judge(e: &Environment, looked: &Looked) -> Outcome {
    let evidence = json!({
        "environment": e.name, "id": e.id, "status": e.status,
        "health": e.health, "health_status": e.health_status, "cname": e.cname,
    });
    match health::phase(&e.status) {
        health::Phase::Changing => return Outcome::not_yet(health::changing(&e.name, &e.status)).evidence(evidence),
        health::Phase::Gone => {
            return Outcome::fail(format!("environment {} is {}", e.name, e.status))
                .hint("Create the environment again with eb create, as in this step.")
                .evidence(evidence);
        }
        health::Phase::Ready => {}
    }
    if e.health == "Green" {
        return Outcome::pass(format!(
            "environment {} ({}) is Ready and Green at {}",
            e.name, e.id, e.cname
        ))
        .evidence(evidence);
    }
    if starting_instances(e) {
        return Outcome::not_yet(format!(
            "environment {} is Ready, but its health is Pending: its instances are still starting, so it could not be graded yet; run the check again in a few minutes",
            e.name
        ))
        .evidence(evidence);
    }
    let colour = if e.health_status.is_empty() {
        e.health.clone()
    } else {
        format!("{} ({})", e.health, e.health_status)
    };
    let causes = looked.causes.clone().unwrap_or_default();
    let only_4xx = looked.causes.as_deref().and_then(health::only_4xx);
    if e.health == "Yellow"
        && let Some(whose) = only_4xx
    {
        let ignored = health::ignores_4xx(&looked.settings, whose);
        let (who, rule) = match whose {
            health::Only4xx::Application => ("the app", "the enhanced health rule that ignores the app's 4xx answers"),
            health::Only4xx::LoadBalancer => (
                "the load balancer",
                "the enhanced health rule that ignores the load balancer's 4xx answers (ELBRequests4xx)",
            ),
        };
        let advice = if ignored {
            format!("{rule} is already set")
        } else {
            format!("add {rule} to .ebextensions to keep them out of the colour")
        };
        return Outcome::pass(format!(
            "environment {} ({}) is Ready at {}; its health is {colour} only because of HTTP 4xx answers from {who} ({}). Accepted: enhanced health counts 4xx answers, such as the 400s Django gives internet scanners and labcheck's own 404 probe; {advice}",
            e.name,
            e.id,
            e.cname,
            causes.join(" ")
        ))
        .hint(format!(
            "Enhanced health turns an environment Yellow when many requests get 4xx answers, which a correct site gives to scanners and to unknown URLs. To count only real faults, save this as .ebextensions/health.config and run eb deploy:\n{}",
            health::IGNORE_4XX_CONFIG
        ))
        .evidence(with(
            evidence,
            json!({"causes": causes, "only_4xx": true, "ignores_4xx_rule": ignored}),
        ));
    }
    let mut why: Vec<String> = causes.iter().map(|c| format!("cause: {c}")).collect();
    why.extend(looked.events.iter().map(|m| format!("event: {m}")));
    let state = format!("environment {} is {} with health {colour}", e.name, e.status);
    let message = if why.is_empty() {
        state
    } else {
        format!("{state}\n{}", why.join("\n"))
    };
    let mut outcome = Outcome::fail(message).evidence(with(evidence, json!({"causes": causes})));
    if only_4xx.is_some() {
        outcome = outcome.hint(
            "Most requests get a 4xx answer: when Django answers 400 to every request, the environment's host name is missing from ALLOWED_HOSTS (add '.elasticbeanstalk.com'); read eb logs for the requests that fail.",
        );
    }
    outcome
}

/// `evidence` with the fields of `more` added.
fn with(mut evidence: serde_json::Value, more: serde_json::Value) -> serde_json::Value {
    if let (Some(all), serde_json::Value::Object(more)) = (evidence.as_object_mut(), more) {
        all.extend(more);
    }
    evidence
}

/// Enhanced health's causes for the environment's colour
/// (DescribeEnvironmentHealth, `Causes`); `None` where enhanced health is
/// off (basic health answers InvalidRequestException "not supported").
async fn health_causes(acc: &Account, environment: &str) -> Result<Option<Vec<String>>, AwsError> {
    match acc
        .eb
        .describe_environment_health()
        .environment_name(environment)
        .attribute_names(aws_sdk_elasticbeanstalk::types::EnvironmentHealthAttribute::All)
        .send()
        .await
    {
        Ok(h) => Ok(Some(h.causes().to_vec())),
        Err(e) => {
            let e = AwsError::from_sdk("elasticbeanstalk:DescribeEnvironmentHealth", e);
            if e.is_code("InvalidRequestException") || e.is_code("InvalidRequest") {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// The latest error events of the environment (what `eb events` shows), for
/// a failing verdict; none when they cannot be read.
async fn error_events(acc: &Account, environment: &str) -> Vec<String> {
    match acc
        .eb
        .describe_events()
        .environment_name(environment)
        .severity(aws_sdk_elasticbeanstalk::types::EventSeverity::Error)
        .max_records(3)
        .send()
        .await
    {
        Ok(ev) => ev
            .events()
            .iter()
            .filter_map(|x| x.message())
            .map(str::to_string)
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Which Python versions each Django release supports (labs/django-python.toml).
fn compatibility() -> BTreeMap<String, Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Table {
        versions: BTreeMap<String, Vec<String>>,
    }
    toml::from_str::<Table>(include_str!("../../labs/django-python.toml"))
        .map(|t| t.versions)
        .unwrap_or_default()
}

/// "3.11" from "64bit Amazon Linux 2023 v4.6.0 running Python 3.11" or a platform ARN.
fn python_of(platform: &str) -> Option<String> {
    let at = platform.find("Python ")? + "Python ".len();
    let version: String = platform[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let mut parts = version.split('.').filter(|p| !p.is_empty());
    Some(format!("{}.{}", parts.next()?, parts.next()?))
}

/// The Django version the project pins in requirements.txt, as "5.2".
fn pinned_django(project_dir: &str) -> Option<String> {
    let version = super::project::pinned_version(std::path::Path::new(project_dir), "django")?;
    let mut parts = version.split('.');
    Some(format!("{}.{}", parts.next()?, parts.next()?))
}

async fn platform(acc: Arc<Account>) -> CheckResult {
    let e = the_environment(&acc).await?;
    let described = if e.stack.is_empty() {
        e.platform_arn.clone()
    } else {
        e.stack.clone()
    };
    let Some(python) = python_of(&e.stack).or_else(|| python_of(&e.platform_arn)) else {
        return Ok(Outcome::fail(format!(
            "environment {} does not run a Python platform ({described})",
            e.name
        ))
        .hint("Create the environment on a Python platform: eb init -p python-3.11."));
    };
    let project_dir = acc.param(Param::ProjectDir);
    if project_dir.is_empty() {
        // Cohort grading without the learner's project.
        return Ok(Outcome::ungraded(
            "no project folder was given, so the Django version to compare with is unknown",
        ));
    }
    let Some(django) = pinned_django(&project_dir) else {
        return Err(CheckError::Other(format!(
            "no Django pin (django==X.Y.Z) in {project_dir}/requirements.txt, so the platform cannot be compared; run labcheck from the project folder or set project_dir"
        )));
    };
    let table = compatibility();
    let evidence = json!({"platform": described, "python": python, "django": django, "supported": table.get(&django)});
    Ok(match table.get(&django) {
        None => Outcome::fail(format!("Django {django} is not in labcheck's compatibility table"))
            .hint("Pin a Django release that is still supported, such as the 5.2 LTS."),
        Some(pythons) if pythons.contains(&python) => {
            Outcome::pass(format!("Python {python} ({described}) runs Django {django}"))
        }
        Some(pythons) => Outcome::fail(format!(
            "the platform runs Python {python}, but Django {django} supports Python {}",
            pythons.join(", ")
        )),
    }
    .evidence(evidence))
}

/// Variable names that carry the database user and password: the course's
/// own, and the ones Beanstalk gives for a database it created.
const USER_VARS: &[&str] = &["RDS_USER_NAME", "RDS_USERNAME"];
const PASSWORD_VARS: &[&str] = &["RDS_USER_PASSWORD", "RDS_PASSWORD"];

/// Where an environment's variables come from (Elastic Beanstalk developer
/// guide): environment properties; secrets, each option naming the ARN of
/// a Secrets Manager secret or a Parameter Store parameter the instances
/// fetch when they start ("Fetching secrets and parameters to Elastic
/// Beanstalk environment variables", platform versions released since
/// 26 March 2025); and a database Beanstalk created with the environment,
/// whose `aws:rds:dbinstance` options give the app RDS_USERNAME and
/// RDS_PASSWORD ("Adding a database to your Elastic Beanstalk
/// environment").
pub(super) const PROPERTIES: &str = "aws:elasticbeanstalk:application:environment";
const SECRETS: &str = "aws:elasticbeanstalk:application:environmentsecrets";
const COUPLED_DATABASE: &str = "aws:rds:dbinstance";

/// How the app gets one variable.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    /// An environment property (its value is in the configuration).
    Property,
    /// A secret: the ARN it is fetched from, and the service that holds it.
    Secret { arn: String, store: &'static str },
    /// A value in the secrets namespace that is not a secret's ARN.
    NotAnArn,
    /// The database Beanstalk created with the environment.
    CoupledDatabase,
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::Property => "environment property".into(),
            Source::Secret { store, .. } => format!("secret from {store}"),
            Source::NotAnArn => "in the secrets namespace, but not a secret's ARN".into(),
            Source::CoupledDatabase => "from the database Beanstalk created".into(),
        }
    }

    fn counts(&self) -> bool {
        !matches!(self, Source::NotAnArn)
    }
}

/// The store a secret's ARN points into: `arn:PARTITION:secretsmanager:…`
/// or `arn:PARTITION:ssm:…:parameter/…`.
fn secret_store(value: &str) -> Option<&'static str> {
    let mut fields = value.trim().split(':');
    if fields.next() != Some("arn") {
        return None;
    }
    fields.next()?;
    match fields.next()? {
        "secretsmanager" => Some("Secrets Manager"),
        "ssm" if value.contains(":parameter/") => Some("Parameter Store"),
        _ => None,
    }
}

/// The variables the environment's configuration gives the app, with where
/// each comes from, in the order the configuration lists them.
fn variables(settings: &[OptionSetting]) -> Vec<(String, Source)> {
    let mut out: Vec<(String, Source)> = Vec::new();
    for o in settings {
        let source = match o.namespace.as_str() {
            PROPERTIES => Source::Property,
            SECRETS => match secret_store(&o.value) {
                Some(store) => Source::Secret {
                    arn: o.value.trim().to_string(),
                    store,
                },
                None => Source::NotAnArn,
            },
            _ => continue,
        };
        out.push((o.name.clone(), source));
    }
    let coupled = settings
        .iter()
        .any(|o| o.namespace == COUPLED_DATABASE && o.name == "DBUser" && !o.value.is_empty());
    if coupled {
        for name in ["RDS_USERNAME", "RDS_PASSWORD"] {
            if !out.iter().any(|(n, _)| n == name) {
                out.push((name.to_string(), Source::CoupledDatabase));
            }
        }
    }
    out
}

async fn envvars(acc: Arc<Account>) -> CheckResult {
    let e = the_environment(&acc).await?;
    let settings = option_settings(&acc).await?;
    for o in settings.iter() {
        let secret = (o.namespace == PROPERTIES && is_secret_name(&o.name))
            || (o.namespace == COUPLED_DATABASE && o.name == "DBPassword");
        if secret {
            // Secret values never leave labcheck; register them in case anything quotes one.
            acc.add_secret(&o.value);
        }
    }
    let vars = variables(&settings);
    let find = |candidates: &[&str]| {
        vars.iter()
            .find(|(name, source)| source.counts() && candidates.contains(&name.as_str()))
            .map(|(name, source)| format!("{name} ({})", source.describe()))
    };
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    let evidence = json!({
        "environment": e.name,
        "properties": vars.iter().filter(|(_, s)| *s == Source::Property).map(|(n, _)| n).collect::<Vec<_>>(),
        "secrets": vars.iter().filter_map(|(n, s)| match s {
            Source::Secret { arn, .. } => Some((n.clone(), json!(arn))),
            _ => None,
        }).collect::<serde_json::Map<_, _>>(),
        "coupled_database": vars.iter().any(|(_, s)| *s == Source::CoupledDatabase),
    });
    let (user, password) = (find(USER_VARS), find(PASSWORD_VARS));
    let mut missing = Vec::new();
    if user.is_none() {
        missing.push(USER_VARS.join(" or "));
    }
    if password.is_none() {
        missing.push(PASSWORD_VARS.join(" or "));
    }
    Ok(match (user, password) {
        (Some(user), Some(password)) => {
            let host = if names.contains(&"RDS_HOSTNAME") {
                ""
            } else {
                " (no RDS_HOSTNAME: the settings must name the host)"
            };
            Outcome::pass(format!(
                "the app gets the database credentials: {user}, {password}{host}"
            ))
        }
        _ => {
            let misplaced: Vec<&str> = vars
                .iter()
                .filter(|(_, s)| *s == Source::NotAnArn)
                .map(|(n, _)| n.as_str())
                .collect();
            let mut message = format!(
                "environment {} lacks the properties {} (it has: {})",
                e.name,
                missing.join(" and "),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            );
            if !misplaced.is_empty() {
                message.push_str(&format!(
                    "; {} in the secrets namespace must name the ARN of a Secrets Manager secret or a Parameter Store parameter",
                    misplaced.join(", ")
                ));
            }
            Outcome::fail(message)
        }
    }
    .evidence(evidence))
}

/// Whether an environment property's name says it holds a secret.
fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["PASSWORD", "SECRET", "TOKEN", "PASSWD", "_KEY", "CREDENTIAL"]
        .iter()
        .any(|w| upper.contains(w))
}

/// Every statement of a role's policies, attached (managed) then inline.
/// Calls that do not depend on each other run at once: the two listings,
/// then every policy document, so the chain is three calls deep however many
/// policies the role has.
async fn role_statements(acc: &Account, role: &str) -> Result<Vec<policy::Statement>, AwsError> {
    let iam = &acc.iam;
    let (attached, inline) = tokio::join!(
        async {
            iam.list_attached_role_policies()
                .role_name(role)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("iam:ListAttachedRolePolicies", e))
        },
        async {
            iam.list_role_policies()
                .role_name(role)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("iam:ListRolePolicies", e))
        }
    );
    let (attached, inline) = (attached?, inline?);
    let managed = attached.attached_policies().iter().filter_map(|p| {
        let arn = p.policy_arn()?.to_string();
        let name = p.policy_name().unwrap_or(&arn).to_string();
        Some(async move {
            let policy = iam
                .get_policy()
                .policy_arn(&arn)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("iam:GetPolicy", e))?;
            let Some(version) = policy.policy().and_then(|p| p.default_version_id()) else {
                return Ok(Vec::new());
            };
            let doc = iam
                .get_policy_version()
                .policy_arn(&arn)
                .version_id(version)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("iam:GetPolicyVersion", e))?;
            Ok::<_, AwsError>(
                doc.policy_version()
                    .and_then(|v| v.document())
                    .map(|text| policy::statements(text, &name))
                    .unwrap_or_default(),
            )
        })
    });
    let inline_docs = inline.policy_names().iter().map(|name| async move {
        let doc = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam:GetRolePolicy", e))?;
        Ok::<_, AwsError>(policy::statements(doc.policy_document(), name))
    });
    let (managed, inline_docs) = tokio::join!(
        futures::future::join_all(managed),
        futures::future::join_all(inline_docs)
    );
    let mut all = Vec::new();
    for part in managed.into_iter().chain(inline_docs) {
        all.extend(part?);
    }
    Ok(all)
}

/// The instance profile the environment's instances use, as its
/// `aws:autoscaling:launchconfiguration` / `IamInstanceProfile` option
/// names it: a name, or an ARN
/// (`arn:PARTITION:iam::ACCOUNT:instance-profile/PATH/NAME`) whose last
/// segment is the name GetInstanceProfile takes.
fn environment_profile(settings: &[OptionSetting]) -> Option<String> {
    let value = settings
        .iter()
        .find(|o| o.namespace == "aws:autoscaling:launchconfiguration" && o.name == "IamInstanceProfile")?
        .value
        .trim();
    let name = if value.starts_with("arn:") {
        value.rsplit('/').next().unwrap_or_default()
    } else {
        value
    };
    (!name.is_empty()).then(|| name.to_string())
}

/// The partition of the account's ARNs, from the caller's identity.
async fn partition(acc: &Account) -> String {
    let arn = acc.identity().await.ok().map(|k| k.arn);
    crate::arn::partition(arn.as_deref(), &acc.region)
}

/// What an instance profile says of itself: its role and every statement
/// of that role's policies.
enum ProfileRead {
    /// IAM has no instance profile of that name.
    Missing,
    /// The profile holds no role.
    NoRole,
    /// The profile's role and its policies' statements.
    Role(String, Vec<policy::Statement>),
}

/// Reads instance profile `name`: GetInstanceProfile, then the role's
/// policies (`role_statements`). The role of the profile's own name is read
/// at the same time: the lab wraps the role in a profile of the same name,
/// as Elastic Beanstalk's default (`aws-elasticbeanstalk-ec2-role`) and the
/// console's wizard do, so the policies are most often known when the
/// profile answers, a whole IAM call earlier. A profile holding a role of
/// another name has that role read next, and the early read is dropped.
async fn read_profile(acc: &Account, name: &str) -> Result<ProfileRead, AwsError> {
    let (profile, same_name) = tokio::join!(
        acc.iam.get_instance_profile().instance_profile_name(name).send(),
        role_statements(acc, name)
    );
    let profile = match profile {
        Ok(out) => out,
        Err(e) => {
            let e = AwsError::from_sdk("iam:GetInstanceProfile", e);
            return if e.kind == AwsErrorKind::NotFound {
                Ok(ProfileRead::Missing)
            } else {
                Err(e)
            };
        }
    };
    let Some(role) = profile
        .instance_profile()
        .and_then(|p| p.roles().first())
        .map(|r| r.role_name().to_string())
    else {
        return Ok(ProfileRead::NoRole);
    };
    let statements = if role == name {
        same_name?
    } else {
        role_statements(acc, &role).await?
    };
    Ok(ProfileRead::Role(role, statements))
}

async fn role(acc: Arc<Account>) -> CheckResult {
    // The profile the environment uses; the lab's parameter when there is
    // no environment, or it names none. The parameter's profile is read at
    // the same time as the environment's settings: the environment almost
    // always names that one, and waiting for its settings first would add a
    // whole call to the longest chain. When it names another, that one is
    // read next and the early read is dropped.
    let lab_profile = acc.param(Param::InstanceProfile);
    let (settings, early, bucket, partition) = tokio::join!(
        option_settings(&acc),
        read_profile(&acc, &lab_profile),
        acc.resolved_param(Param::Bucket),
        partition(&acc)
    );
    let settings = settings?;
    let (profile_name, whose, read) = match environment_profile(&settings) {
        Some(name) => {
            let whose = format!("the one environment {} uses", acc.param(Param::EbEnv));
            let read = if name == lab_profile {
                early
            } else {
                read_profile(&acc, &name).await
            };
            (name, whose, read)
        }
        None => (lab_profile, "the lab's instance_profile".to_string(), early),
    };
    let (role, statements) = match read? {
        ProfileRead::Missing => {
            return Ok(Outcome::fail(format!(
                "no instance profile named {profile_name} ({whose})"
            )));
        }
        ProfileRead::NoRole => {
            return Ok(Outcome::fail(format!(
                "instance profile {profile_name} ({whose}) holds no role"
            )));
        }
        ProfileRead::Role(role, statements) => (role, statements),
    };
    let bucket = bucket?;
    // Any object key stands for all of them: the lab's policy names bucket/*.
    let objects = format!("arn:{partition}:s3:::{bucket}/*");
    let object = format!("arn:{partition}:s3:::{bucket}/labcheck-example.png");
    let get = policy::evaluate(&statements, "s3:GetObject", &object);
    let put = policy::evaluate(&statements, "s3:PutObject", &object);
    let broad = policy::too_broad(&statements, &partition);
    let source = |v: &policy::Verdict| match v {
        policy::Verdict::Allowed(s) | policy::Verdict::Uncertain(s, _) => Some(s.clone()),
        _ => None,
    };
    let evidence = json!({
        "instance_profile": profile_name,
        "instance_profile_from": whose,
        "role": role,
        "get_object_from": source(&get),
        "put_object_from": source(&put),
        "s3_everything_from": broad.map(|s| s.source.clone()),
    });
    let mut missing = Vec::new();
    let mut denied = Vec::new();
    for (action, verdict) in [("s3:GetObject", &get), ("s3:PutObject", &put)] {
        match verdict {
            policy::Verdict::NotAllowed => missing.push(action),
            policy::Verdict::Denied(by) => denied.push(format!("{action} is denied by {by}")),
            _ => {}
        }
    }
    let uncertain: Vec<String> = [("s3:GetObject", &get), ("s3:PutObject", &put)]
        .iter()
        .filter_map(|(action, v)| match v {
            policy::Verdict::Uncertain(by, why) => Some(format!("{action} through {by}: {why}")),
            _ => None,
        })
        .collect();
    let profile_said = format!("role {role} (of instance profile {profile_name}, {whose})");
    Ok(if !missing.is_empty() || !denied.is_empty() {
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!("does not allow {} on {objects}", missing.join(" and ")));
        }
        problems.extend(denied);
        Outcome::fail(format!("{profile_said} {}", problems.join("; ")))
    } else {
        let mut message = format!("{profile_said} may read and write the objects of {bucket}");
        if !uncertain.is_empty() {
            message.push_str(&format!(
                "; uncertain: {}, which labcheck cannot evaluate (it depends on the request)",
                uncertain.join("; ")
            ));
        }
        if let Some(s) = broad {
            message.push_str(&format!(
                "; warning: policy {} grants s3:* on every resource, more than the lab needs",
                s.source
            ));
        }
        Outcome::pass(message)
    }
    .evidence(evidence))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_from_stack_and_arn() {
        assert_eq!(
            python_of("64bit Amazon Linux 2023 v4.6.0 running Python 3.11").as_deref(),
            Some("3.11")
        );
        assert_eq!(
            python_of(
                "arn:aws:elasticbeanstalk:us-west-2::platform/Python 3.13 running on 64bit Amazon Linux 2023/4.6.0"
            )
            .as_deref(),
            Some("3.13")
        );
        assert_eq!(python_of("64bit Amazon Linux 2023 v6.1.0 running Node.js 20"), None);
    }

    #[test]
    fn compatibility_table_parses() {
        let t = compatibility();
        assert!(t["5.2"].contains(&"3.11".to_string()));
        assert!(!t["5.2"].contains(&"3.8".to_string()));
    }

    #[test]
    fn django_pin_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("requirements.txt"),
            "# deps\nboto3==1.0\nDjango==5.2.19  # LTS\n",
        )
        .unwrap();
        assert_eq!(pinned_django(dir.path().to_str().unwrap()).as_deref(), Some("5.2"));
    }

    #[test]
    fn secret_property_names() {
        assert!(
            is_secret_name("RDS_USER_PASSWORD")
                && is_secret_name("DJANGO_SECRET_KEY")
                && is_secret_name("AWS_ACCESS_KEY_ID")
        );
        assert!(!is_secret_name("RDS_HOSTNAME") && !is_secret_name("RDS_DB_NAME"));
    }

    fn setting(namespace: &str, name: &str, value: &str) -> OptionSetting {
        OptionSetting {
            namespace: namespace.into(),
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn credentials_as_properties_secrets_or_a_coupled_database() {
        // Option settings as DescribeConfigurationSettings lists them.
        let plain = [
            setting(PROPERTIES, "RDS_USER_NAME", "django"),
            setting(PROPERTIES, "RDS_USER_PASSWORD", "s3cret-value"),
        ];
        let vars = variables(&plain);
        assert_eq!(vars[1], ("RDS_USER_PASSWORD".to_string(), Source::Property));

        // A password in the secrets namespace, as the developer guide's
        // example sets it: the option's value is the secret's ARN.
        let secret_arn = "arn:aws:secretsmanager:us-west-2:111122223333:secret:pets-db-password-AbCdEf";
        let param_arn = "arn:aws:ssm:us-west-2:111122223333:parameter/pets/db_user";
        let vars = variables(&[
            setting(SECRETS, "RDS_USER_PASSWORD", secret_arn),
            setting(SECRETS, "RDS_USER_NAME", param_arn),
        ]);
        assert_eq!(
            vars,
            vec![
                (
                    "RDS_USER_PASSWORD".to_string(),
                    Source::Secret {
                        arn: secret_arn.into(),
                        store: "Secrets Manager"
                    }
                ),
                (
                    "RDS_USER_NAME".to_string(),
                    Source::Secret {
                        arn: param_arn.into(),
                        store: "Parameter Store"
                    }
                ),
            ]
        );
        assert_eq!(
            secret_store("arn:aws-cn:secretsmanager:cn-north-1:1:secret:x"),
            Some("Secrets Manager")
        );
        assert_eq!(secret_store("hunter2"), None);
        assert_eq!(secret_store("arn:aws:ssm:us-west-2:1:document/x"), None);
        assert!(!Source::NotAnArn.counts());
        assert_eq!(
            variables(&[setting(SECRETS, "RDS_USER_PASSWORD", "hunter2")])[0].1,
            Source::NotAnArn
        );

        // A database Beanstalk created: its options, no properties.
        let coupled = [
            setting(COUPLED_DATABASE, "DBEngine", "mysql"),
            setting(COUPLED_DATABASE, "DBUser", "ebroot"),
            setting(COUPLED_DATABASE, "DBPassword", ""),
        ];
        let names: Vec<String> = variables(&coupled).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["RDS_USERNAME", "RDS_PASSWORD"]);
        assert!(variables(&[setting(COUPLED_DATABASE, "DBEngine", "mysql")]).is_empty());
    }

    #[test]
    fn the_environments_instance_profile_by_name_or_arn() {
        let lc = "aws:autoscaling:launchconfiguration";
        assert_eq!(
            environment_profile(&[setting(lc, "IamInstanceProfile", "aws-elasticbeanstalk-ec2-role")]).as_deref(),
            Some("aws-elasticbeanstalk-ec2-role")
        );
        assert_eq!(
            environment_profile(&[setting(
                lc,
                "IamInstanceProfile",
                "arn:aws:iam::111122223333:instance-profile/teams/pets-profile"
            )])
            .as_deref(),
            Some("pets-profile")
        );
        assert_eq!(environment_profile(&[setting(lc, "IamInstanceProfile", " ")]), None);
        assert_eq!(environment_profile(&[setting(lc, "InstanceType", "t3.micro")]), None);
    }

    /// The environment as DescribeEnvironments describes it (the API
    /// reference's example, with the state under test).
    fn described(status: &str, health: &str, health_status: &str) -> Environment {
        Environment {
            name: "my-env".into(),
            id: "e-rpqsewtp2j".into(),
            status: status.into(),
            health: health.into(),
            health_status: health_status.into(),
            cname: "my-env.elasticbeanstalk.com".into(),
            stack: "64bit Amazon Linux 2023 v4.6.0 running Python 3.11".into(),
            platform_arn: String::new(),
        }
    }

    /// DescribeEnvironmentHealth's answer, shaped as the API reference's
    /// example (`Causes` is a list of sentences).
    fn looked(health_json: &str) -> Looked {
        let v: serde_json::Value = serde_json::from_str(health_json).unwrap();
        Looked {
            causes: Some(
                v["Causes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_string())
                    .collect(),
            ),
            events: Vec::new(),
            settings: Vec::new(),
        }
    }

    #[test]
    fn green_passes_and_updating_is_not_yet_graded() {
        let ok = judge(&described("Ready", "Green", "Ok"), &Looked::default());
        assert_eq!(ok.status, crate::report::Status::Pass);
        for status in ["Launching", "Updating"] {
            let e = described(status, "Grey", "Info");
            assert!(!needs_a_closer_look(&e));
            let o = judge(&e, &Looked::default());
            assert_eq!(o.status, crate::report::Status::Error, "{status}");
            assert!(o.transient, "asking again later grades it");
            assert!(o.message.contains("could not be graded yet"), "{}", o.message);
        }
        let pending = judge(&described("Ready", "Grey", "Pending"), &Looked::default());
        assert_eq!(pending.status, crate::report::Status::Error);
        let gone = judge(&described("Terminating", "Grey", ""), &Looked::default());
        assert_eq!(gone.status, crate::report::Status::Fail);
    }

    #[test]
    fn yellow_with_only_4xx_causes_passes_with_a_note() {
        let e = described("Ready", "Yellow", "Warning");
        assert!(needs_a_closer_look(&e));
        let o = judge(
            &e,
            &looked(
                r#"{"EnvironmentName":"my-env","HealthStatus":"Warning","Status":"Ready","Color":"Yellow",
                "Causes":["42.9 % of the requests are erroring with HTTP 4xx.",
                          "Insufficient request rate (6.0 requests/min) to determine application health."],
                "RefreshedAt":"2015-08-20T21:09:18Z"}"#,
            ),
        );
        assert_eq!(o.status, crate::report::Status::Pass, "{}", o.message);
        assert!(
            o.message.contains("only because of HTTP 4xx answers from the app"),
            "{}",
            o.message
        );
        assert!(o.message.contains("add the enhanced health rule"), "{}", o.message);
        assert!(o.hint.as_deref().unwrap().contains("ApplicationRequests4xx"));
        assert_eq!(o.evidence["ignores_4xx_rule"], false);
        // With the rule set, it says so instead.
        let mut with_rule = looked(r#"{"Causes":["42.9 % of the requests to the ELB are erroring with HTTP 4xx."]}"#);
        with_rule.settings = vec![setting(
            health::RULES_NAMESPACE,
            "ConfigDocument",
            r#"{"Rules":{"Environment":{"ELB":{"ELBRequests4xx":{"Enabled":false}}}},"Version":1}"#,
        )];
        let o = judge(&e, &with_rule);
        assert_eq!(o.status, crate::report::Status::Pass);
        assert!(
            o.message.contains("from the load balancer") && o.message.contains("is already set"),
            "{}",
            o.message
        );
    }

    #[test]
    fn other_warnings_red_and_grey_fail_with_the_causes_quoted() {
        let o = judge(
            &described("Ready", "Yellow", "Warning"),
            &looked(
                r#"{"Causes":["Impaired services on 1 out of 1 instance.","42.9 % of the requests are erroring with HTTP 4xx."]}"#,
            ),
        );
        assert_eq!(o.status, crate::report::Status::Fail);
        assert!(
            o.message
                .starts_with("environment my-env is Ready with health Yellow (Warning)\ncause: Impaired services"),
            "{}",
            o.message
        );
        let red = judge(
            &described("Ready", "Red", "Severe"),
            &looked(r#"{"Causes":["100.0 % of the requests are erroring with HTTP 4xx."]}"#),
        );
        assert_eq!(red.status, crate::report::Status::Fail);
        assert!(red.hint.as_deref().unwrap().contains("ALLOWED_HOSTS"));
        let grey = judge(&described("Ready", "Grey", "Unknown"), &Looked::default());
        assert_eq!(grey.status, crate::report::Status::Fail);
        assert_eq!(grey.message, "environment my-env is Ready with health Grey (Unknown)");
    }
}
