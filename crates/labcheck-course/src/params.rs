//! Lab parameters: the names of the learner's resources, and where each value
//! came from. Defaults < `labcheck.toml` < environment < `--set key=value`;
//! `region` and `account` fall back to the AWS configuration and STS.

use crate::diagnostic::{Diagnostics, LineIndex};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// One known parameter.
pub struct ParamDef {
    /// The parameter's name, as in `--set NAME=...`, config files and `{NAME}` placeholders.
    pub name: &'static str,
    /// Default value; `{region}` and `{account}` are filled in.
    pub default: Option<&'static str>,
    /// Environment variables read, first match wins (after `LABCHECK_<NAME>`).
    pub extra_env: &'static [&'static str],
    /// Never shown in any output.
    pub secret: bool,
    /// What the parameter is, in a few words, as messages name it.
    pub help: &'static str,
}

/// Writes the one table of parameters ([`DEFS`]) and, from the same lines,
/// [`Param`], the type code names a parameter by: a misspelt name does not
/// compile.
macro_rules! parameters {
    ($($param:ident => ParamDef { name: $name:literal, $($field:ident: $value:expr),* $(,)? },)*) => {
        /// A lab parameter, as code names it (`acc.param(Param::Bucket)`).
        /// Its text name is [`Param::name`]; names from files and flags
        /// become one through [`Param::from_name`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Param {
            $(#[doc = concat!("`", $name, "`")] $param,)*
        }

        impl Param {
            /// Every parameter, in the table's order.
            pub const ALL: &[Param] = &[$(Param::$param),*];

            /// The parameter's name, as in `--set NAME=...`, config files
            /// and `{NAME}` placeholders.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Param::$param => $name,)*
                }
            }
        }

        /// Every parameter a lab may use, with its default.
        pub const DEFS: &[ParamDef] = &[$(ParamDef { name: $name, $($field: $value),* }),*];
    };
}

parameters! {
    Region => ParamDef {
        name: "region",
        default: None,
        extra_env: &[],
        secret: false,
        help: "AWS Region of the lab (default: from the AWS config)",
    },
    Account => ParamDef {
        name: "account",
        default: None,
        extra_env: &[],
        secret: false,
        help: "AWS account id (default: from STS GetCallerIdentity)",
    },
    GraderRole => ParamDef {
        name: "grader_role",
        default: Some("labcheck-grader"),
        extra_env: &[],
        secret: false,
        help: "cohort grading: the role assumed in each learner's account, when the roster gives no role_arn",
    },
    Bucket => ParamDef {
        name: "bucket",
        default: Some("pets-project-{region}-{account}"),
        extra_env: &[],
        secret: false,
        help: "S3 bucket that holds the media files",
    },
    Cache => ParamDef {
        name: "cache",
        default: Some("pets-project"),
        extra_env: &[],
        secret: false,
        help: "ElastiCache cache name",
    },
    DbInstance => ParamDef {
        name: "db_instance",
        default: Some("pets-project-mysql"),
        extra_env: &[],
        secret: false,
        help: "RDS DB instance identifier",
    },
    DbName => ParamDef {
        name: "db_name",
        default: Some("pets"),
        extra_env: &[],
        secret: false,
        help: "database name",
    },
    DbUser => ParamDef {
        name: "db_user",
        default: Some("django"),
        extra_env: &[],
        secret: false,
        help: "database user the app connects as",
    },
    DbPassword => ParamDef {
        name: "db_password",
        default: None,
        extra_env: &["RDS_USER_PASSWORD"],
        secret: true,
        help: "database password (from RDS_USER_PASSWORD; never printed)",
    },
    EbApp => ParamDef {
        name: "eb_app",
        default: Some("pets-project-ebapp"),
        extra_env: &[],
        secret: false,
        help: "Elastic Beanstalk application",
    },
    EbEnv => ParamDef {
        name: "eb_env",
        default: Some("pets-project-env"),
        extra_env: &[],
        secret: false,
        help: "Elastic Beanstalk environment",
    },
    InstanceProfile => ParamDef {
        name: "instance_profile",
        default: Some("pets-project-ebInstanceProfile"),
        extra_env: &[],
        secret: false,
        help: "instance profile of the environment",
    },
    ProjectDir => ParamDef {
        name: "project_dir",
        default: Some("."),
        extra_env: &[],
        secret: false,
        help: "folder of the learner's Django project",
    },
    Python => ParamDef {
        name: "python",
        default: Some(""),
        extra_env: &[],
        secret: false,
        help: "Python that runs the Django project (empty: $VIRTUAL_ENV/bin/python, then .venv/bin/python or venv/bin/python in project_dir, then python3)",
    },
    SiteOrigin => ParamDef {
        name: "site_origin",
        default: Some(""),
        extra_env: &[],
        secret: false,
        help: "origin the site is served from, for CORS (empty: any origin)",
    },
    CacheCa => ParamDef {
        name: "cache_ca",
        default: Some(""),
        extra_env: &[],
        secret: false,
        help: "PEM file of a CA to trust for the cache's TLS certificate (empty: the system's roots)",
    },
    CacheUser => ParamDef {
        name: "cache_user",
        default: Some(""),
        extra_env: &["CACHE_USER"],
        secret: false,
        help: "user labcheck signs in to the cache as, when it requires one (from CACHE_USER; empty: no sign-in)",
    },
    CachePassword => ParamDef {
        name: "cache_password",
        default: Some(""),
        extra_env: &["CACHE_PASSWORD"],
        secret: true,
        help: "that user's password (from CACHE_PASSWORD; never printed)",
    },
    Network => ParamDef {
        name: "network",
        default: Some("auto"),
        extra_env: &[],
        secret: false,
        help: "where labcheck runs: auto, inside (the lab's VPC) or outside; decides whether cache and database connections are tried",
    },
    SiteUrl => ParamDef {
        name: "site_url",
        default: Some(""),
        extra_env: &[],
        secret: false,
        help: "URL of the deployed site (empty: http:// and the environment's CNAME)",
    },
}

impl Param {
    /// The parameter named `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Param> {
        Param::ALL.iter().copied().find(|p| p.name() == name)
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parameters that take one of a few values.
const CHOICES: &[(&str, &[&str])] = &[("network", &["auto", "inside", "outside"])];

/// Whether `value` is acceptable for parameter `name`: one of its choices,
/// and not empty where the parameter names a resource.
pub fn check_value(name: &str, value: &str) -> Result<(), String> {
    let Some(d) = def(name) else {
        return Err(format!(
            "unknown parameter `{name}`{}",
            crate::suggest::did_you_mean(name, names())
        ));
    };
    if value.trim().is_empty() && !d.secret && d.default.is_none_or(|v| !v.is_empty()) {
        return Err(format!("parameter `{name}` is empty; it names a resource ({})", d.help));
    }
    if name == "account" && !is_account_id(value) {
        return Err(format!(
            "parameter `account` is `{value}`; an AWS account id is 12 digits"
        ));
    }
    if let Some((_, choices)) = CHOICES.iter().find(|(n, _)| *n == name)
        && !choices.contains(&value)
    {
        return Err(format!(
            "parameter `{name}` is `{value}`; it must be one of: {}",
            choices.join(", ")
        ));
    }
    Ok(())
}

/// Whether `value` is an AWS account id: 12 digits.
pub fn is_account_id(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `region` is a well-formed Region name (`us-west-2`, `eu-central-1`,
/// `us-gov-west-1`, `cn-north-1`, `il-central-1`...).
pub fn is_valid_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && region.len() <= 32
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// Names of all parameters, for placeholders and errors.
pub fn names() -> Vec<&'static str> {
    DEFS.iter().map(|d| d.name).collect()
}

fn def(name: &str) -> Option<&'static ParamDef> {
    DEFS.iter().find(|d| d.name == name)
}

/// Where a parameter's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The parameter's default.
    Default,
    /// A config file.
    Config {
        /// The config file.
        file: String,
        /// 1-based line in it.
        line: usize,
    },
    /// An environment variable, named.
    Env(String),
    /// A command-line flag (`--set`, `--region`).
    Flag,
    /// The AWS configuration or caller identity (region, account).
    Aws,
    /// Found in the account by labcheck.
    Discovered,
    /// A column of the cohort roster.
    Roster {
        /// 1-based line of the learner's row.
        line: usize,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Config { file, line } => write!(f, "{file}:{line}"),
            Source::Env(var) => write!(f, "${var}"),
            Source::Flag => f.write_str("--set"),
            Source::Aws => f.write_str("AWS"),
            Source::Discovered => f.write_str("found in the account"),
            Source::Roster { line } => write!(f, "roster line {line}"),
        }
    }
}

/// A bad parameter given on the command line or in a config file.
#[derive(Debug, thiserror::Error)]
pub enum ParamError {
    /// A config file has problems.
    #[error("{0}")]
    Config(Diagnostics),
    /// A config file could not be read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// A bad value, with its message.
    #[error("{0}")]
    Value(String),
    /// A `--set` argument that is not `key=value`.
    #[error("--set {0}: expected key=value")]
    SetSyntax(String),
    /// A value that is not one of the parameter's choices.
    #[error("parameter `{name}` is `{value}` (from {origin}); it must be one of: {choices}")]
    Choice {
        /// The parameter.
        name: String,
        /// The value given.
        value: String,
        /// Where the value came from.
        origin: String,
        /// The allowed values, comma-separated.
        choices: String,
    },
    /// A parameter labcheck does not know.
    #[error("unknown parameter `{name}` (from {origin}); known parameters: {known}{suggestion}")]
    Unknown {
        /// The name given.
        name: String,
        /// `; did you mean …?`, or empty.
        suggestion: String,
        /// Where it was given.
        origin: String,
        /// The known parameters, comma-separated.
        known: String,
    },
}

/// Resolved parameter values with their sources.
#[derive(Clone, Debug, Default)]
pub struct Params {
    values: BTreeMap<String, (String, Source)>,
}

impl Params {
    /// Reads explicit values: the config file (if any), the environment and
    /// `--set` pairs. `env` looks up an environment variable.
    pub fn gather(
        config: Option<&Path>,
        sets: &[String],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Params, ParamError> {
        let mut params = Params::default();
        if let Some(path) = config {
            params.read_config(path)?;
        }
        for d in DEFS {
            let own = format!("LABCHECK_{}", d.name.to_uppercase());
            let found = std::iter::once(own.as_str())
                .chain(d.extra_env.iter().copied())
                .find_map(|var| env(var).filter(|v| !v.is_empty()).map(|v| (var.to_string(), v)));
            if let Some((var, value)) = found {
                params.values.insert(d.name.to_string(), (value, Source::Env(var)));
            }
        }
        for pair in sets {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| ParamError::SetSyntax(pair.clone()))?;
            let key = key.trim();
            if def(key).is_none() {
                return Err(unknown(key, "--set"));
            }
            if let Err(e) = check_value(key, value) {
                return Err(ParamError::Value(format!("--set {key}: {e}")));
            }
            params.values.insert(key.to_string(), (value.to_string(), Source::Flag));
        }
        for (name, choices) in CHOICES {
            if let Some((value, source)) = params.values.get(*name)
                && !choices.contains(&value.as_str())
            {
                return Err(ParamError::Choice {
                    name: name.to_string(),
                    value: value.clone(),
                    origin: source.to_string(),
                    choices: choices.join(", "),
                });
            }
        }
        Ok(params)
    }

    fn read_config(&mut self, path: &Path) -> Result<(), ParamError> {
        let file = path.display().to_string();
        let text = crate::textfile::read_capped(path, crate::textfile::SMALL).map_err(|source| ParamError::Read {
            file: file.clone(),
            source,
        })?;
        let index = LineIndex::new(&text);
        let table: toml::Spanned<toml::Table> = toml::from_str(&text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            ParamError::Config(Diagnostics(vec![index.diagnostic_at(
                &file,
                offset,
                e.message().trim_end(),
            )]))
        })?;
        let mut errors = Vec::new();
        // Spans of keys are found by searching the text: toml::Table keeps no spans.
        let offsets = key_offsets(&text);
        for (key, value) in table.get_ref() {
            let offset = offsets.get(key.as_str()).copied().unwrap_or(0);
            let (line, _) = index.locate(offset);
            if def(key).is_none() {
                errors.push(index.diagnostic_at(
                    &file,
                    offset,
                    format!(
                        "unknown parameter `{key}` (known: {}){}",
                        names().join(", "),
                        crate::suggest::did_you_mean(key, names())
                    ),
                ));
                continue;
            }
            let value = match value {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                other => {
                    errors.push(index.diagnostic_at(
                        &file,
                        offset,
                        format!("`{key}` must be a string, not {}", other.type_str()),
                    ));
                    continue;
                }
            };
            if let Err(e) = check_value(key, &value) {
                errors.push(index.diagnostic_at(&file, offset, e));
                continue;
            }
            self.values.insert(
                key.clone(),
                (
                    value,
                    Source::Config {
                        file: file.clone(),
                        line,
                    },
                ),
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ParamError::Config(Diagnostics(errors)))
        }
    }

    /// An explicit value, before defaults are filled.
    pub fn explicit(&self, param: Param) -> Option<&str> {
        self.values.get(param.name()).map(|(v, _)| v.as_str())
    }

    /// Sets a value (from a flag, AWS, or discovery).
    pub fn set(&mut self, param: Param, value: impl Into<String>, source: Source) {
        self.values.insert(param.name().to_string(), (value.into(), source));
    }

    /// Fills every default, given the region and account.
    pub fn fill_defaults(&mut self) {
        for d in DEFS {
            if let (Some(default), false) = (d.default, self.values.contains_key(d.name)) {
                let value = self.expand(default);
                self.values.insert(d.name.to_string(), (value, Source::Default));
            }
        }
    }

    /// Where a value came from, when it was not a default.
    pub fn explicit_source(&self, param: Param) -> Option<&Source> {
        self.source(param).filter(|s| **s != Source::Default)
    }

    /// Once the account id is known: fills `{account}` in the defaults that
    /// were waiting for it (the default bucket name).
    pub fn fill_account(&mut self, account: &str) {
        for (value, source) in self.values.values_mut() {
            if *source == Source::Default && value.contains("{account}") {
                *value = value.replace("{account}", account);
            }
        }
    }

    /// The value of a parameter, if it has one.
    pub fn get(&self, param: Param) -> Option<&str> {
        self.values.get(param.name()).map(|(v, _)| v.as_str())
    }

    /// Where a parameter's value came from, if it has one.
    pub fn source(&self, param: Param) -> Option<&Source> {
        self.values.get(param.name()).map(|(_, s)| s)
    }

    /// Values of secret parameters, to redact from output.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        self.values
            .iter()
            .filter(|(k, _)| def(k).is_some_and(|d| d.secret))
            .map(|(_, (v, _))| v.as_str())
    }

    /// Non-secret values with their sources, for reports.
    pub fn public(&self) -> impl Iterator<Item = (&str, &str, &Source)> {
        self.values
            .iter()
            .filter(|(k, _)| !def(k).is_some_and(|d| d.secret))
            .map(|(k, (v, s))| (k.as_str(), v.as_str(), s))
    }

    /// Replaces `{name}` placeholders by values; unknown or unset ones stay.
    pub fn expand(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}').map(|close| (&after[..close], close)) {
                Some((name, close))
                    if is_name(name) && !def(name).is_some_and(|d| d.secret) && self.values.contains_key(name) =>
                {
                    out.push_str(&self.values[name].0);
                    rest = &after[close + 1..];
                }
                _ => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

fn unknown(name: &str, origin: &str) -> ParamError {
    ParamError::Unknown {
        name: name.to_string(),
        suggestion: crate::suggest::did_you_mean(name, names()),
        origin: origin.to_string(),
        known: names().join(", "),
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

/// The `{name}` placeholders in a text.
pub fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices('{').filter_map(move |(i, _)| {
        let after = &text[i + 1..];
        let name = &after[..after.find('}')?];
        is_name(name).then_some(name)
    })
}

/// Where each key of a config file is first written (the offset of its
/// line's first non-blank), found in one pass over the text: searching the
/// text again for each key took quadratic time on a file of many keys.
fn key_offsets(text: &str) -> std::collections::HashMap<&str, usize> {
    let mut out = std::collections::HashMap::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let key = match trimmed.strip_prefix('"') {
            Some(quoted) => quoted
                .split_once('"')
                .filter(|(_, rest)| rest.trim_start().starts_with('='))
                .map(|(key, _)| key),
            None => trimmed.split_once('=').map(|(key, _)| key.trim_end()),
        };
        if let Some(key) = key {
            out.entry(key).or_insert(offset + line.len() - trimmed.len());
        }
        offset += line.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_checked_by_shape() {
        for good in [
            "us-west-2",
            "eu-central-1",
            "us-gov-west-1",
            "cn-north-1",
            "il-central-1",
        ] {
            assert!(is_valid_region(good), "{good}");
        }
        for bad in ["mars-1", "US-West-2", "us-west-x", "us--west-2", "", "us-west-2-"] {
            assert!(!is_valid_region(bad), "{bad}");
        }
    }

    #[test]
    fn each_param_is_its_line_of_the_table() {
        assert_eq!(Param::ALL.len(), DEFS.len());
        for (p, d) in Param::ALL.iter().zip(DEFS) {
            assert_eq!(p.name(), d.name);
            assert_eq!(Param::from_name(d.name), Some(*p));
        }
        assert_eq!(Param::from_name("bukcet"), None);
    }
    use crate::diagnostic::Diagnostic;
    /// The diagnostics of a config-file error.
    fn diagnostic_for(err: &ParamError) -> Option<&[Diagnostic]> {
        match err {
            ParamError::Config(d) => Some(&d.0),
            _ => None,
        }
    }

    use std::io::Write;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_expand_region_and_account() {
        let mut p = Params::gather(None, &[], &no_env).unwrap();
        p.set(Param::Region, "us-west-2", Source::Aws);
        p.set(Param::Account, "123456789012", Source::Aws);
        p.fill_defaults();
        assert_eq!(p.get(Param::Bucket), Some("pets-project-us-west-2-123456789012"));
        assert_eq!(p.get(Param::Cache), Some("pets-project"));
        assert_eq!(p.source(Param::Bucket), Some(&Source::Default));
    }

    #[test]
    fn precedence_is_config_then_env_then_set() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            file,
            "# my lab\nbucket = \"from-config\"\ncache = \"cfg-cache\"\ndb_name = \"cfgdb\""
        )
        .unwrap();
        let env = |var: &str| match var {
            "LABCHECK_CACHE" => Some("env-cache".to_string()),
            "LABCHECK_DB_NAME" => Some("envdb".to_string()),
            "RDS_USER_PASSWORD" => Some("pw-from-env".to_string()),
            _ => None,
        };
        let p = Params::gather(Some(file.path()), &["db_name=flagdb".into()], &env).unwrap();
        assert_eq!(p.get(Param::Bucket), Some("from-config"));
        assert!(matches!(p.source(Param::Bucket), Some(Source::Config { line: 2, .. })));
        assert_eq!(p.get(Param::Cache), Some("env-cache"));
        assert_eq!(p.get(Param::DbName), Some("flagdb"));
        assert_eq!(p.get(Param::DbPassword), Some("pw-from-env"));
        assert_eq!(p.secrets().collect::<Vec<_>>(), vec!["pw-from-env"]);
        assert!(p.public().all(|(k, _, _)| k != "db_password"));
    }

    #[test]
    fn unknown_key_in_config_names_file_and_line() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "bucket = \"b\"\n\nbukket = \"typo\"").unwrap();
        let err = Params::gather(Some(file.path()), &[], &no_env).unwrap_err();
        let d = &diagnostic_for(&err).unwrap()[0];
        assert_eq!((d.line, d.col), (3, 1));
        assert!(d.message.contains("unknown parameter `bukket`"), "{}", d.message);
        assert!(d.message.ends_with("; did you mean `bucket`?"), "{}", d.message);
    }

    #[test]
    fn bad_toml_in_config_names_line() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "bucket = \"b\"\ncache = ").unwrap();
        let err = Params::gather(Some(file.path()), &[], &no_env).unwrap_err();
        assert_eq!(diagnostic_for(&err).unwrap()[0].line, 2);
    }

    #[test]
    fn choices_are_enforced() {
        let err = Params::gather(None, &["network=vpn".into()], &no_env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--set network: parameter `network` is `vpn`; it must be one of: auto, inside, outside"
        );
        assert!(Params::gather(None, &["network=outside".into()], &no_env).is_ok());
        // A name that is empty names nothing: bad input, not a missing bucket.
        let err = Params::gather(None, &["bucket=".into()], &no_env).unwrap_err();
        assert!(
            err.to_string().starts_with("--set bucket: parameter `bucket` is empty"),
            "{err}"
        );
        assert!(
            Params::gather(None, &["site_url=".into()], &no_env).is_ok(),
            "an optional value may be empty"
        );
    }

    #[test]
    fn unknown_or_malformed_set_is_an_error() {
        assert!(matches!(
            Params::gather(None, &["nope=1".into()], &no_env),
            Err(ParamError::Unknown { .. })
        ));
        assert!(matches!(
            Params::gather(None, &["bucket".into()], &no_env),
            Err(ParamError::SetSyntax(_))
        ));
    }

    #[test]
    fn expand_fills_known_and_keeps_the_rest() {
        let mut p = Params::default();
        p.set(Param::Bucket, "b1", Source::Flag);
        p.set(Param::DbPassword, "secret!", Source::Flag);
        assert_eq!(
            p.expand("s3://{bucket}/ {nope} {db_password} {"),
            "s3://b1/ {nope} {db_password} {"
        );
        assert_eq!(
            placeholders("a {bucket} {x-y} {region}").collect::<Vec<_>>(),
            vec!["bucket", "region"]
        );
    }
}
