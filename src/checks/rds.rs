//! The `rds` step: the database instance, a real connection with the lab's
//! credentials, Django's migrations and data in it, a superuser, and the
//! security group that lets the app in. MySQL and MariaDB by default;
//! PostgreSQL too, since RDS offers it to Django as well.

mod status;

use super::CheckKind;
use super::network::{self, require_inside};
use crate::aws::{AwsError, AwsErrorKind};
use crate::params::Param;
use crate::run::account::Account;
use crate::run::memo::MemoKey;
use crate::run::outcome::{CheckError, CheckResult, Outcome};
use serde_json::json;
use sqlx::{ConnectOptions, mysql, postgres};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

pub(crate) const INSTANCE: CheckKind = CheckKind {
    id: "rds.instance",
    passes: "the DB instance is available and runs an engine Django supports (MySQL by default)",
    iam_actions: &["rds:DescribeDBInstances"],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(instance(a)),
};

pub(crate) const REACHABLE: CheckKind = CheckKind {
    id: "rds.reachable",
    passes: "a connection with the lab's user and password (from RDS_USER_PASSWORD) succeeds, over TLS when the server offers it",
    iam_actions: &["rds:DescribeDBInstances"],
    data_plane: true,
    reads_project: false,
    run: |a, _| Box::pin(reachable(a)),
};

pub(crate) const MIGRATED: CheckKind = CheckKind {
    id: "rds.migrated",
    passes: "every migration of the project is recorded in django_migrations and the lab's five tables exist",
    iam_actions: &["rds:DescribeDBInstances"],
    data_plane: true,
    reads_project: false,
    run: |a, _| Box::pin(migrated(a)),
};

pub(crate) const DATA: CheckKind = CheckKind {
    id: "rds.data",
    passes: "each of the lab's five tables holds at least one row",
    iam_actions: &["rds:DescribeDBInstances"],
    data_plane: true,
    reads_project: false,
    run: |a, _| Box::pin(data(a)),
};

pub(crate) const SUPERUSER: CheckKind = CheckKind {
    id: "rds.superuser",
    passes: "auth_user holds an active superuser",
    iam_actions: &["rds:DescribeDBInstances"],
    data_plane: true,
    reads_project: false,
    run: |a, _| Box::pin(superuser(a)),
};

pub(crate) const NETWORK: CheckKind = CheckKind {
    id: "rds.network",
    passes: "an inbound rule of the DB security group admits the database port from the Elastic Beanstalk or IDE security group",
    iam_actions: &[
        "rds:DescribeDBInstances",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVpcs",
        "ec2:GetManagedPrefixListEntries",
        "elasticbeanstalk:DescribeConfigurationSettings",
    ],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(network_rule(a)),
};

/// The tables the lab's models create.
pub const LAB_TABLES: &[&str] = &[
    "pets_app_breed",
    "pets_app_pet",
    "pets_app_pet_breed",
    "pets_app_vaccinationcard",
    "pets_app_vetvisit",
];

/// The DB instance as described.
#[derive(Clone, Debug)]
struct Instance {
    id: String,
    status: String,
    engine: String,
    version: String,
    endpoint: Option<(String, u16)>,
    vpc_id: Option<String>,
    security_groups: Vec<String>,
}

fn engine_family(engine: &str) -> Option<Family> {
    match engine {
        "mysql" | "mariadb" | "aurora-mysql" | "aurora" => Some(Family::MySql),
        "postgres" | "aurora-postgresql" => Some(Family::Postgres),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    MySql,
    Postgres,
}

fn from_sdk(db: &aws_sdk_rds::types::DbInstance) -> Instance {
    Instance {
        id: db.db_instance_identifier().unwrap_or_default().to_string(),
        status: db.db_instance_status().unwrap_or_default().to_string(),
        engine: db.engine().unwrap_or_default().to_string(),
        version: db.engine_version().unwrap_or_default().to_string(),
        endpoint: db
            .endpoint()
            .and_then(|e| Some((e.address()?.to_string(), u16::try_from(e.port()?).ok()?))),
        vpc_id: db.db_subnet_group().and_then(|g| g.vpc_id()).map(str::to_string),
        security_groups: db
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
            .collect(),
    }
}

/// The DB instance, found once per run.
#[derive(PartialEq, Eq, Hash)]
struct TheInstance;
impl MemoKey for TheInstance {
    type Value = Result<Option<Instance>, AwsError>;
}

/// Finds the DB instance once per run; when the default name is missing and
/// exactly one instance with a Django engine exists, uses it and says so.
async fn find(acc: &Account) -> Result<Option<Instance>, AwsError> {
    acc.memo
        .once(TheInstance, || async {
            let id = acc.param(Param::DbInstance);
            match acc.rds.describe_db_instances().db_instance_identifier(&id).send().await {
                Ok(out) => return Ok(out.db_instances().first().map(from_sdk)),
                Err(e) => {
                    let e = AwsError::from_sdk("rds:DescribeDBInstances", e);
                    if e.kind != AwsErrorKind::NotFound {
                        return Err(e);
                    }
                }
            }
            if acc.param_is_explicit(Param::DbInstance) {
                return Ok(None);
            }
            let all = acc
                .rds
                .describe_db_instances()
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("rds:DescribeDBInstances", e))?;
            let candidates: Vec<Instance> = all
                .db_instances()
                .iter()
                .map(from_sdk)
                .filter(|i| engine_family(&i.engine).is_some())
                .collect();
            if let [only] = candidates.as_slice() {
                acc.discovered(Param::DbInstance, &only.id);
                return Ok(Some(only.clone()));
            }
            Ok(None)
        })
        .await
}

/// The DB instance (its id, engine and status), for `labcheck cleanup`.
pub async fn instance_summary(acc: &Account) -> Result<Option<(String, String, String)>, AwsError> {
    Ok(find(acc).await?.map(|i| (i.id, i.engine, i.status)))
}

async fn the_instance(acc: &Account) -> Result<Instance, CheckError> {
    find(acc)
        .await?
        .ok_or_else(|| CheckError::Other("the DB instance was not found".into()))
}

fn evidence(i: &Instance) -> serde_json::Value {
    json!({
        "instance": i.id,
        "status": i.status,
        "engine": i.engine,
        "engine_version": i.version,
        "endpoint": i.endpoint.as_ref().map(|(h, p)| format!("{h}:{p}")),
        "vpc": i.vpc_id,
        "security_groups": i.security_groups,
    })
}

async fn instance(acc: Arc<Account>) -> CheckResult {
    let Some(i) = find(&acc).await? else {
        return Ok(Outcome::fail(format!(
            "no DB instance named {} in {}",
            acc.param(Param::DbInstance),
            acc.region
        )));
    };
    let what = format!("DB instance {} ({} {})", i.id, i.engine, i.version);
    if engine_family(&i.engine).is_none() {
        return Ok(
            Outcome::fail(format!("{what} runs an engine labcheck and this lab do not use"))
                .hint("Create a MySQL instance (the lab's choice); MariaDB and PostgreSQL work with Django too.")
                .evidence(evidence(&i)),
        );
    }
    Ok(match status::meaning(&i.status) {
        Some(status::Meaning::Available) => Outcome::pass(format!("{what} is available")),
        Some(status::Meaning::Up(doing)) => Outcome::pass(format!(
            "{what} is {}: the database is up and serving ({doing})",
            i.status
        )),
        Some(status::Meaning::NotYet(doing)) => Outcome::not_yet(format!(
            "{what} is {}: {doing}, so it could not be graded yet; run the check again in a few minutes",
            i.status
        )),
        Some(status::Meaning::Down(what_to_do)) => {
            Outcome::fail(format!("{what} is {}, so the app cannot use it", i.status)).hint(what_to_do.replace("{id}", &i.id))
        }
        None => Outcome::error(format!(
            "{what} is {}, a status labcheck does not know; look it up in the RDS User Guide (\"Viewing Amazon RDS DB instance status\")",
            i.status
        )),
    }
    .evidence(evidence(&i)))
}

/// One connection to the database, opened once per run and shared by the
/// checks (they take turns; each runs a few quick SELECTs).
#[derive(Clone)]
enum Db {
    MySql(Arc<Mutex<sqlx::MySqlConnection>>),
    Postgres(Arc<Mutex<sqlx::PgConnection>>),
}

#[derive(Clone)]
enum Connected {
    Ok(Db, String),
    Skip(String),
    Failed {
        message: String,
        hint: String,
        unevaluated: bool,
    },
}

/// The run's connection to the database (or why there is none).
#[derive(PartialEq, Eq, Hash)]
struct TheConnection;
impl MemoKey for TheConnection {
    type Value = Connected;
}

async fn connect(acc: &Account) -> Result<Connected, CheckError> {
    let i = the_instance(acc).await?;
    Ok(acc
        .memo
        .once(TheConnection, || async {
            let Some((host, port)) = i.endpoint.clone() else {
                return Connected::Failed {
                    message: format!("DB instance {} has no endpoint yet", i.id),
                    hint: "Wait until the instance is available.".into(),
                    unevaluated: false,
                };
            };
            if let Err(skip) = require_inside(acc, "database", &host, i.vpc_id.as_deref()).await {
                return Connected::Skip(skip.message);
            }
            let password = acc.param(Param::DbPassword);
            if password.is_empty() {
                return Connected::Failed {
                    message: "no database password: RDS_USER_PASSWORD is not set where labcheck runs".into(),
                    hint: "Export the password the app uses (export RDS_USER_PASSWORD=...) in this shell, then run the check again; labcheck never prints it.".into(),
                    unevaluated: true,
                };
            }
            open(acc, engine_family(&i.engine), &host, port, &password).await
        })
        .await)
}

async fn open(acc: &Account, family: Option<Family>, host: &str, port: u16, password: &str) -> Connected {
    let (user, db_name) = (acc.param(Param::DbUser), acc.param(Param::DbName));
    let where_ = format!("{user}@{host}:{port}/{db_name}");
    let timeout = Duration::from_secs(8);
    let result = match family {
        Some(Family::MySql) => {
            let opts = mysql::MySqlConnectOptions::new()
                .host(host)
                .port(port)
                .username(&user)
                .password(password)
                .database(&db_name)
                .ssl_mode(mysql::MySqlSslMode::Preferred)
                .disable_statement_logging();
            with_timeout(timeout, opts.connect())
                .await
                .map(|c| Db::MySql(Arc::new(Mutex::new(c))))
        }
        Some(Family::Postgres) => {
            let opts = postgres::PgConnectOptions::new()
                .host(host)
                .port(port)
                .username(&user)
                .password(password)
                .database(&db_name)
                .ssl_mode(postgres::PgSslMode::Prefer)
                .disable_statement_logging();
            with_timeout(timeout, opts.connect())
                .await
                .map(|c| Db::Postgres(Arc::new(Mutex::new(c))))
        }
        None => {
            return Connected::Failed {
                message: "labcheck connects to MySQL, MariaDB and PostgreSQL only".into(),
                hint: String::new(),
                unevaluated: true,
            };
        }
    };
    match result {
        Ok(db) => Connected::Ok(db, where_),
        Err(e) => {
            let (message, hint) = explain(&e, &where_, &user, &db_name);
            Connected::Failed {
                message,
                hint,
                unevaluated: false,
            }
        }
    }
}

async fn with_timeout<T>(
    limit: Duration,
    connecting: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, sqlx::Error> {
    match tokio::time::timeout(limit, connecting).await {
        Ok(result) => result,
        Err(_) => Err(sqlx::Error::PoolTimedOut),
    }
}

/// A connection error in the learner's terms, with what to do.
fn explain(e: &sqlx::Error, where_: &str, user: &str, db_name: &str) -> (String, String) {
    let code = e
        .as_database_error()
        .and_then(|d| d.code().map(|c| c.to_string()))
        .unwrap_or_default();
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    match code.as_str() {
        // MySQL 1045 / PostgreSQL 28P01: bad password; 1044 / 42501: no rights.
        "1045" | "28000" | "28P01" => (
            format!("the database refused user {user} at {where_}: the password does not match"),
            "RDS_USER_PASSWORD must hold the password of the database user the app uses (the one you created, not the master password of the instance).".into(),
        ),
        "1044" | "42501" => (format!("user {user} may not use database {db_name}"), format!("Grant {user} all privileges on {db_name}.")),
        "1049" | "3D000" => (
            format!("database {db_name} does not exist on {where_}"),
            format!("Create it (CREATE DATABASE {db_name};) or set db_name to the database the app uses."),
        ),
        _ if lower.contains("timed out") || matches!(e, sqlx::Error::PoolTimedOut) => (
            format!("no answer from {where_} (timed out)"),
            "A silent timeout inside the VPC usually means a security group drops the traffic: let the database's security group admit its port from the IDE's and the Elastic Beanstalk environment's security groups.".into(),
        ),
        _ if lower.contains("refused") => (
            format!("{where_} refused the connection"),
            "Nothing listens at that address: check that the instance is available and that the endpoint and port are right.".into(),
        ),
        _ => (format!("cannot connect to {where_}: {text}"), String::new()),
    }
}

/// The database pool, or the outcome a check gives when there is none.
async fn pool(acc: &Account, on_fail_skip: bool) -> Result<Result<(Db, String), Outcome>, CheckError> {
    Ok(match connect(acc).await? {
        Connected::Ok(db, where_) => Ok((db, where_)),
        Connected::Skip(why) => Err(Outcome::ungraded(why)),
        Connected::Failed {
            message,
            hint,
            unevaluated,
        } => {
            if on_fail_skip || unevaluated {
                return Err(CheckError::Other(message));
            }
            let outcome = Outcome::fail(message);
            Err(if hint.is_empty() { outcome } else { outcome.hint(hint) })
        }
    })
}

impl Db {
    async fn scalar_i64(&self, sql: &str) -> Result<i64, sqlx::Error> {
        match self {
            Db::MySql(c) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *c.lock().await).await,
            Db::Postgres(c) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *c.lock().await).await,
        }
    }

    async fn strings(&self, sql: &str) -> Result<Vec<String>, sqlx::Error> {
        match self {
            Db::MySql(c) => {
                sqlx::query_scalar::<_, String>(sql)
                    .fetch_all(&mut *c.lock().await)
                    .await
            }
            Db::Postgres(c) => {
                sqlx::query_scalar::<_, String>(sql)
                    .fetch_all(&mut *c.lock().await)
                    .await
            }
        }
    }

    async fn pairs(&self, sql: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
        match self {
            Db::MySql(c) => {
                sqlx::query_as::<_, (String, String)>(sql)
                    .fetch_all(&mut *c.lock().await)
                    .await
            }
            Db::Postgres(c) => {
                sqlx::query_as::<_, (String, String)>(sql)
                    .fetch_all(&mut *c.lock().await)
                    .await
            }
        }
    }

    /// Tables of the connected database.
    async fn tables(&self) -> Result<BTreeSet<String>, sqlx::Error> {
        let sql = match self {
            Db::MySql(_) => {
                "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE()"
            }
            Db::Postgres(_) => "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()",
        };
        Ok(self.strings(sql).await?.into_iter().collect())
    }

    async fn tls(&self) -> Option<String> {
        match self {
            Db::MySql(c) => sqlx::query_as::<_, (String, String)>("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
                .fetch_optional(&mut *c.lock().await)
                .await
                .ok()
                .flatten()
                .map(|(_, cipher)| cipher)
                .filter(|c| !c.is_empty()),
            Db::Postgres(c) => {
                sqlx::query_scalar::<_, String>("SELECT cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                    .fetch_optional(&mut *c.lock().await)
                    .await
                    .ok()
                    .flatten()
            }
        }
    }
}

fn query_error(e: sqlx::Error) -> CheckError {
    CheckError::Other(format!("query failed: {e}"))
}

async fn reachable(acc: Arc<Account>) -> CheckResult {
    let (db, where_) = match pool(&acc, false).await? {
        Ok(p) => p,
        Err(outcome) => return Ok(outcome),
    };
    let version = db
        .strings("SELECT CAST(VERSION() AS CHAR)")
        .await
        .map_err(query_error)?
        .pop()
        .unwrap_or_default();
    let tls = db.tls().await;
    let how = match &tls {
        Some(cipher) => format!("over TLS ({cipher})"),
        None => "without TLS (the server does not offer it)".to_string(),
    };
    Ok(Outcome::pass(format!("connected as {where_} {how}"))
        .evidence(json!({"endpoint": endpoint_of(&where_), "server_version": version, "tls_cipher": tls})))
}

/// `HOST:PORT` of a connection described as `USER@HOST:PORT/DB`: the
/// endpoint, as `rds.instance` shows what AWS describes.
fn endpoint_of(where_: &str) -> &str {
    let at_host = where_.rsplit_once('@').map_or(where_, |(_, rest)| rest);
    at_host.split_once('/').map_or(at_host, |(endpoint, _)| endpoint)
}

/// How deep below `project_dir` Django apps are looked for.
const MAX_DEPTH: usize = 4;

/// Migrations in the project's migration folders: (app label, name).
fn project_migrations(project_dir: &Path) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let mut stack = vec![(project_dir.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if path.is_dir() {
                let skipped = name.starts_with('.')
                    || matches!(
                        name.as_str(),
                        "node_modules" | "site-packages" | "venv" | "env" | "__pycache__" | "target"
                    );
                if !skipped && depth < MAX_DEPTH {
                    stack.push((path, depth + 1));
                }
            } else if dir.file_name().is_some_and(|d| d == "migrations")
                && name.ends_with(".py")
                && name.chars().next().is_some_and(|c| c.is_ascii_digit())
                && let Some(app) = dir.parent().and_then(|p| p.file_name())
            {
                found.insert((
                    app.to_string_lossy().to_string(),
                    name.trim_end_matches(".py").to_string(),
                ));
            }
        }
    }
    found
}

async fn migrated(acc: Arc<Account>) -> CheckResult {
    let (db, _) = match pool(&acc, true).await? {
        Ok(p) => p,
        Err(outcome) => return Ok(outcome),
    };
    let tables = db.tables().await.map_err(query_error)?;
    let missing_tables: Vec<&str> = LAB_TABLES.iter().copied().filter(|t| !tables.contains(*t)).collect();
    if !tables.contains("django_migrations") {
        return Ok(Outcome::fail(format!(
            "database {} has no django_migrations table: no migration was applied",
            acc.param(Param::DbName)
        ))
        .evidence(json!({"missing_tables": missing_tables})));
    }
    let applied: BTreeSet<(String, String)> = db
        .pairs("SELECT CAST(app AS CHAR), CAST(name AS CHAR) FROM django_migrations")
        .await
        .map_err(query_error)?
        .into_iter()
        .collect();
    let project_dir = acc.param(Param::ProjectDir);
    let expected = project_migrations(Path::new(&project_dir));
    let missing_migrations: Vec<String> = expected
        .difference(&applied)
        .map(|(app, name)| format!("{app}.{name}"))
        .collect();
    let evidence = json!({
        "applied": applied.len(),
        "project_migrations": expected.len(),
        "missing_migrations": missing_migrations,
        "missing_tables": missing_tables,
    });
    let mut problems = Vec::new();
    if !missing_migrations.is_empty() {
        problems.push(format!("migrations not applied: {}", missing_migrations.join(", ")));
    }
    if !missing_tables.is_empty() {
        problems.push(format!("tables missing: {}", missing_tables.join(", ")));
    }
    let checked = if expected.is_empty() {
        "(no project migrations found under project_dir; checked the lab's tables)".to_string()
    } else {
        format!("all project migrations applied ({})", expected.len())
    };
    Ok(if problems.is_empty() {
        Outcome::pass(format!(
            "{} migrations recorded, {checked}; the lab's {} tables exist",
            applied.len(),
            LAB_TABLES.len()
        ))
    } else {
        Outcome::fail(problems.join("; "))
    }
    .evidence(evidence))
}

async fn data(acc: Arc<Account>) -> CheckResult {
    let (db, _) = match pool(&acc, true).await? {
        Ok(p) => p,
        Err(outcome) => return Ok(outcome),
    };
    let mut counts = serde_json::Map::new();
    let mut empty = Vec::new();
    for table in LAB_TABLES {
        // Table names come from the constant list above, never from input.
        let n = db
            .scalar_i64(&format!("SELECT COUNT(*) FROM {table}"))
            .await
            .map_err(query_error)?;
        counts.insert(table.to_string(), json!(n));
        if n == 0 {
            empty.push(*table);
        }
    }
    let total: i64 = counts.values().filter_map(|v| v.as_i64()).sum();
    Ok(if empty.is_empty() {
        Outcome::pass(format!("{total} rows across the lab's {} tables", LAB_TABLES.len()))
    } else {
        Outcome::fail(format!("empty tables: {}", empty.join(", ")))
    }
    .evidence(serde_json::Value::Object(counts)))
}

async fn superuser(acc: Arc<Account>) -> CheckResult {
    let (db, _) = match pool(&acc, true).await? {
        Ok(p) => p,
        Err(outcome) => return Ok(outcome),
    };
    if !db.tables().await.map_err(query_error)?.contains("auth_user") {
        return Ok(Outcome::fail(
            "there is no auth_user table: Django's auth app is not migrated",
        ));
    }
    let sql = "SELECT COUNT(*) FROM auth_user WHERE is_superuser = TRUE AND is_active = TRUE";
    let n = db.scalar_i64(sql).await.map_err(query_error)?;
    Ok(if n > 0 {
        Outcome::pass(format!("{n} active superuser{}", if n == 1 { "" } else { "s" }))
    } else {
        Outcome::fail("auth_user holds no active superuser")
    }
    .evidence(json!({"superusers": n})))
}

async fn network_rule(acc: Arc<Account>) -> CheckResult {
    let i = the_instance(&acc).await?;
    let port = i.endpoint.as_ref().map_or(3306, |(_, p)| *p as i32);
    let what = format!("DB instance {}", i.id);
    Ok(network::security_group_outcome(&acc, &what, &i.security_groups, port).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_of_a_connection_is_host_and_port() {
        assert_eq!(endpoint_of("django@db.example.com:3306/pets"), "db.example.com:3306");
        assert_eq!(endpoint_of("a@b@127.0.0.1:23306/x/y"), "127.0.0.1:23306");
    }

    #[test]
    fn finds_project_migrations_by_app_folder() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("pets_app/migrations");
        std::fs::create_dir_all(&m).unwrap();
        for f in ["__init__.py", "0001_initial.py", "0002_vetvisit.py", "notes.txt"] {
            std::fs::write(m.join(f), "").unwrap();
        }
        std::fs::create_dir_all(dir.path().join(".venv/lib/x/migrations")).unwrap();
        std::fs::write(dir.path().join(".venv/lib/x/migrations/0001_initial.py"), "").unwrap();
        let found: Vec<_> = project_migrations(dir.path()).into_iter().collect();
        assert_eq!(
            found,
            vec![
                ("pets_app".to_string(), "0001_initial".to_string()),
                ("pets_app".to_string(), "0002_vetvisit".to_string())
            ]
        );
    }

    #[test]
    fn engines() {
        assert_eq!(engine_family("mysql"), Some(Family::MySql));
        assert_eq!(engine_family("aurora-postgresql"), Some(Family::Postgres));
        assert_eq!(engine_family("sqlserver-ex"), None);
    }
}

#[cfg(test)]
mod explain_tests {
    use super::*;

    #[test]
    fn a_timeout_points_at_security_groups() {
        let (m, h) = explain(&sqlx::Error::PoolTimedOut, "django@db:3306/pets", "django", "pets");
        assert_eq!(m, "no answer from django@db:3306/pets (timed out)");
        assert!(h.contains("security group"), "{h}");
    }
}
