//! The `eb` step, the Elastic Beanstalk side: the application, the
//! environment's state and health, its platform against the Django the
//! project pins, the environment properties that carry the database
//! credentials, and the instance role's access to the media bucket.

use super::CheckKind;
use crate::aws::{AwsError, AwsErrorKind};
use crate::engine::account::Account;
use crate::engine::memo::MemoKey;
use crate::engine::outcome::{CheckError, CheckResult, Outcome};
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
    passes: "the environment's status is Ready and its health is Green",
    iam_actions: &[
        "elasticbeanstalk:DescribeEnvironments",
        "elasticbeanstalk:DescribeEnvironmentHealth",
        "elasticbeanstalk:DescribeEvents",
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
    passes: "the environment properties hold the database user and password (names shown, values never)",
    iam_actions: &["elasticbeanstalk:DescribeConfigurationSettings"],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(envvars(a)),
};

pub(crate) const ROLE: CheckKind = CheckKind {
    id: "eb.role",
    passes: "the instance profile's role allows s3:GetObject and s3:PutObject on the media bucket's objects, without s3:* on every resource",
    iam_actions: &[
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

/// Describes the lab's environment once per run.
pub async fn environment(acc: &Account) -> Result<Option<Environment>, AwsError> {
    acc.memo
        .once(TheEnvironment, || async {
            let out = acc
                .eb
                .describe_environments()
                .application_name(acc.param("eb_app"))
                .environment_names(acc.param("eb_env"))
                .include_deleted(false)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("elasticbeanstalk:DescribeEnvironments", e))?;
            Ok(out
                .environments()
                .iter()
                .find(|e| e.status().is_none_or(|s| s.as_str() != "Terminated"))
                .map(|e| Environment {
                    name: e.environment_name().unwrap_or_default().to_string(),
                    id: e.environment_id().unwrap_or_default().to_string(),
                    status: e.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    health: e.health().map(|h| h.as_str().to_string()).unwrap_or_default(),
                    cname: e.cname().unwrap_or_default().to_string(),
                    stack: e.solution_stack_name().unwrap_or_default().to_string(),
                    platform_arn: e.platform_arn().unwrap_or_default().to_string(),
                }))
        })
        .await
}

/// The environment for checks that need `eb.env`-level facts.
pub async fn the_environment(acc: &Account) -> Result<Environment, CheckError> {
    environment(acc)
        .await?
        .ok_or_else(|| CheckError::Other("the Elastic Beanstalk environment was not found".into()))
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
                .application_name(acc.param("eb_app"))
                .environment_name(acc.param("eb_env"))
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
    let name = acc.param("eb_app");
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
            acc.param("eb_env"),
            acc.param("eb_app")
        )));
    };
    let evidence = json!({"environment": e.name, "id": e.id, "status": e.status, "health": e.health, "cname": e.cname});
    if e.status == "Ready" && e.health == "Green" {
        return Ok(Outcome::pass(format!(
            "environment {} ({}) is Ready and Green at {}",
            e.name, e.id, e.cname
        ))
        .evidence(evidence));
    }
    // Say why: the health causes and the latest error events.
    let mut why = Vec::new();
    if let Ok(h) = acc
        .eb
        .describe_environment_health()
        .environment_name(&e.name)
        .attribute_names(aws_sdk_elasticbeanstalk::types::EnvironmentHealthAttribute::All)
        .send()
        .await
    {
        why.extend(h.causes().iter().map(|c| format!("cause: {c}")));
    }
    if let Ok(ev) = acc
        .eb
        .describe_events()
        .environment_name(&e.name)
        .severity(aws_sdk_elasticbeanstalk::types::EventSeverity::Error)
        .max_records(3)
        .send()
        .await
    {
        why.extend(
            ev.events()
                .iter()
                .filter_map(|x| x.message())
                .map(|m| format!("event: {m}")),
        );
    }
    let state = format!("environment {} is {} with health {}", e.name, e.status, e.health);
    let message = if why.is_empty() {
        state
    } else {
        format!("{state}\n{}", why.join("\n"))
    };
    Ok(Outcome::fail(message).evidence(evidence))
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
    let project_dir = acc.param("project_dir");
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

/// Environment property names that carry the database user and password.
const USER_VARS: &[&str] = &["RDS_USER_NAME", "RDS_USERNAME"];
const PASSWORD_VARS: &[&str] = &["RDS_USER_PASSWORD", "RDS_PASSWORD"];

async fn envvars(acc: Arc<Account>) -> CheckResult {
    let e = the_environment(&acc).await?;
    let settings = option_settings(&acc).await?;
    let props: Vec<&OptionSetting> = settings
        .iter()
        .filter(|o| o.namespace == "aws:elasticbeanstalk:application:environment")
        .collect();
    for p in props.iter().filter(|p| is_secret_name(&p.name)) {
        // Secret values never leave labcheck; register them in case anything quotes one.
        acc.add_secret(&p.value);
    }
    let names: Vec<&str> = props.iter().map(|p| p.name.as_str()).collect();
    let has = |candidates: &[&'static str]| candidates.iter().find(|c| names.contains(c)).copied();
    let evidence = json!({"environment": e.name, "properties": names});
    let mut missing = Vec::new();
    if has(USER_VARS).is_none() {
        missing.push(USER_VARS.join(" or "));
    }
    if has(PASSWORD_VARS).is_none() {
        missing.push(PASSWORD_VARS.join(" or "));
    }
    Ok(if missing.is_empty() {
        let host = if names.contains(&"RDS_HOSTNAME") {
            ""
        } else {
            " (no RDS_HOSTNAME: the settings must name the host)"
        };
        Outcome::pass(format!(
            "environment properties carry the database credentials: {}{host}",
            names.join(", ")
        ))
    } else {
        Outcome::fail(format!(
            "environment {} lacks the properties {} (it has: {})",
            e.name,
            missing.join(" and "),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ))
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

/// One Allow or Deny statement of a policy, flattened.
#[derive(Clone, Debug)]
struct Statement {
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
    source: String,
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// Statements of a policy document (URL-encoded JSON, as IAM returns it).
fn statements(document: &str, source: &str) -> Vec<Statement> {
    let decoded = percent_encoding::percent_decode_str(document)
        .decode_utf8_lossy()
        .to_string();
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&decoded) else {
        return Vec::new();
    };
    let list = match &doc["Statement"] {
        serde_json::Value::Array(items) => items.clone(),
        one @ serde_json::Value::Object(_) => vec![one.clone()],
        _ => Vec::new(),
    };
    list.iter()
        .filter(|s| s.get("NotAction").is_none() && s.get("NotResource").is_none())
        .map(|s| Statement {
            allow: s["Effect"] == "Allow",
            actions: strings(&s["Action"]),
            resources: strings(&s["Resource"]),
            source: source.to_string(),
        })
        .collect()
}

/// IAM-style matching: `*` any run of characters, `?` one; case-insensitive
/// for actions, as IAM compares them.
fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// Whether the statements allow `action` on `resource` (an explicit Deny wins).
fn allows(statements: &[Statement], action: &str, resource: &str) -> Option<String> {
    let matches =
        |s: &&Statement| s.actions.iter().any(|a| glob(a, action)) && s.resources.iter().any(|r| glob(r, resource));
    if statements.iter().filter(|s| !s.allow).any(|s| matches(&s)) {
        return None;
    }
    statements
        .iter()
        .filter(|s| s.allow)
        .find(matches)
        .map(|s| s.source.clone())
}

/// Every statement of a role's policies, attached (managed) then inline.
/// Calls that do not depend on each other run at once: the two listings,
/// then every policy document, so the chain is three calls deep however many
/// policies the role has.
async fn role_statements(acc: &Account, role: &str) -> Result<Vec<Statement>, AwsError> {
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
                    .map(|text| statements(text, &name))
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
        Ok::<_, AwsError>(statements(doc.policy_document(), name))
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

async fn role(acc: Arc<Account>) -> CheckResult {
    let profile_name = acc.param("instance_profile");
    let profile = match acc
        .iam
        .get_instance_profile()
        .instance_profile_name(&profile_name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e = AwsError::from_sdk("iam:GetInstanceProfile", e);
            if e.kind == AwsErrorKind::NotFound {
                return Ok(Outcome::fail(format!("no instance profile named {profile_name}")));
            }
            return Err(e.into());
        }
    };
    let Some(role) = profile
        .instance_profile()
        .and_then(|p| p.roles().first())
        .map(|r| r.role_name().to_string())
    else {
        return Ok(Outcome::fail(format!("instance profile {profile_name} holds no role")));
    };
    let statements = role_statements(&acc, &role).await?;
    let bucket = acc.resolved_param("bucket").await.map_err(CheckError::Other)?;
    // Any object key stands for all of them: the lab's policy names bucket/*.
    let object = format!("arn:aws:s3:::{bucket}/labcheck-example.png");
    let get = allows(&statements, "s3:GetObject", &object);
    let put = allows(&statements, "s3:PutObject", &object);
    let everything = statements
        .iter()
        .find(|s| s.allow && s.actions.iter().any(|a| a == "s3:*" || a == "*") && s.resources.iter().any(|r| r == "*"));
    let evidence = json!({
        "instance_profile": profile_name,
        "role": role,
        "get_object_from": get,
        "put_object_from": put,
        "s3_everything_from": everything.map(|s| s.source.clone()),
    });
    let mut missing = Vec::new();
    if get.is_none() {
        missing.push("s3:GetObject");
    }
    if put.is_none() {
        missing.push("s3:PutObject");
    }
    Ok(if !missing.is_empty() {
        Outcome::fail(format!("role {role} does not allow {} on arn:aws:s3:::{bucket}/*", missing.join(" and ")))
    } else if let Some(s) = everything {
        Outcome::pass(format!(
            "role {role} may read and write the media bucket; warning: policy {} grants s3:* on every resource, more than the lab needs",
            s.source
        ))
    } else {
        Outcome::pass(format!("role {role} may read and write the objects of {bucket}"))
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
    fn policy_matching() {
        let doc = r#"{"Statement":[
            {"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::media-b/*"},
            {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::media-b"}]}"#;
        let s = statements(doc, "inline");
        assert_eq!(
            allows(&s, "s3:GetObject", "arn:aws:s3:::media-b/x.png").as_deref(),
            Some("inline")
        );
        assert_eq!(allows(&s, "s3:GetObject", "arn:aws:s3:::other/x.png"), None);
        assert_eq!(allows(&s, "s3:DeleteObject", "arn:aws:s3:::media-b/x.png"), None);
        let encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        let s = statements(encoded, "full");
        assert_eq!(
            allows(&s, "s3:PutObject", "arn:aws:s3:::media-b/x.png").as_deref(),
            Some("full")
        );
        let deny = r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}"#;
        assert_eq!(allows(&statements(deny, "d"), "s3:PutObject", "arn:aws:s3:::b/k"), None);
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

    #[test]
    fn globs() {
        assert!(glob("s3:Get*", "s3:GetObject"));
        assert!(glob("arn:aws:s3:::pets-*/*", "arn:aws:s3:::pets-project-x/a.png"));
        assert!(!glob("arn:aws:s3:::pets-*/*", "arn:aws:s3:::pets-project-x"));
        assert!(glob("S3:getobject", "s3:GetObject"));
    }
}
