//! `labcheck cohort leftovers [ROSTER]`: who left resources running at the
//! end of the week. Through the same grader role as `cohort grade`, each
//! learner's Region is read for what costs money by the hour
//! ([`crate::cleanup::Costly`]: DB instances, caches, Beanstalk environments
//! and the instances they run, other running instances, the media bucket),
//! with since when, and a month's cost estimated from the price table kept
//! beside this file (`prices.toml`: on-demand list prices per Region, its
//! date and sources). Learners sorted by cost, with the total; csv, json or
//! html. Read only: it lists and describes, and deletes nothing.

use super::command::{self, Access, Error, write_out};
use super::grade::{self, Grader};
use super::organizations::OrganizationArgs;
use super::roster::Entry;
use crate::aws::AwsError;
use crate::cleanup::Costly;
use crate::course::lab::Lab;
use crate::engine::account::Account;
use crate::exit::Exit;
use crate::report::html::{escape, page};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// The IAM actions the listing calls beyond the checks' (the grader role's
/// template grants them: [`crate::policy::actions`]). The calls it shares
/// with the checks (describing DB instances, caches, environments, the
/// bucket) are theirs already.
pub const IAM_ACTIONS: &[&str] = &["ec2:DescribeInstances"];

/// The `schema` of the json output.
pub const SCHEMA: &str = "labcheck/leftovers-v1";

/// The tag Elastic Beanstalk puts on its environment's instances.
const EB_ENVIRONMENT_TAG: &str = "elasticbeanstalk:environment-name";

/// `labcheck cohort leftovers`'s arguments.
#[derive(clap::Args, Clone, Debug)]
#[command(
    after_help = "What is listed, in each learner's Region (the roster's region column, else --region):
  RDS DB instances, ElastiCache serverless caches, replication groups and cache
  clusters, Elastic Beanstalk environments with their running instances, other
  running EC2 instances, and the lab's media bucket. Each with since when, and an
  estimated cost per month from the price table labcheck carries (on-demand list
  prices per Region, with their date and source pages; see the instructors'
  chapter). A resource whose Region or class is not in the table is listed
  without a cost.

It reads through the learners' grader roles, as cohort grade does (a role made
from an older template may lack ec2:DescribeInstances: that learner's row says
so). It deletes nothing; each row has the command that deletes the resource.

Examples:
  labcheck cohort leftovers roster.csv --format html -o leftovers.html
  labcheck cohort leftovers roster.csv > leftovers.csv
  labcheck cohort leftovers --organization ou-ab12-cd34ef56 --recursive --external-id ID

Exit codes: 0 nothing left running, 1 something is left, 2 bad roster or usage,
3 nothing found but some learners could not be looked at."
)]
pub struct LeftoversArgs {
    /// The roster CSV (optional with --organization).
    #[arg(value_name = "ROSTER", required_unless_present = "organization")]
    pub roster: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// External id for AssumeRole, for learners whose row has none.
    #[arg(long, env = "LABCHECK_EXTERNAL_ID", value_name = "ID", hide_env_values = true)]
    pub external_id: Option<String>,
    /// Learners looked at at once.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub jobs: usize,
    /// Longest time one learner may take, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub learner_timeout: u64,
    /// Accept a roster that gives two learners the same account or role (teams).
    #[arg(long)]
    pub allow_shared_accounts: bool,
    /// The learners from AWS Organizations.
    #[command(flatten)]
    pub organization: OrganizationArgs,
}

/// Output formats of `cohort leftovers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One row per resource left, the most expensive learner first, and a total row.
    Csv,
    /// The whole report, schema labcheck/leftovers-v1.
    Json,
    /// One self-contained HTML page.
    Html,
}

// ---- the price table ----------------------------------------------------------

/// The price table (`prices.toml`).
#[derive(Clone, Debug, Deserialize)]
pub struct Prices {
    /// When the prices were taken from the sources.
    pub as_of: String,
    /// The prices' currency.
    pub currency: String,
    /// Hours counted in a month.
    pub hours_per_month: f64,
    /// The pages the prices come from, by service.
    pub sources: BTreeMap<String, String>,
    /// ElastiCache Serverless's minimum of stored data, in GB, by engine.
    pub serverless_minimum_gb: BTreeMap<String, f64>,
    /// The prices of each Region.
    pub regions: BTreeMap<String, RegionPrices>,
}

/// One Region's prices.
#[derive(Clone, Debug, Deserialize)]
pub struct RegionPrices {
    /// EC2 instance types, per hour.
    pub ec2_hourly: BTreeMap<String, f64>,
    /// RDS DB instance classes (MySQL, Single-AZ), per hour.
    pub rds_hourly: BTreeMap<String, f64>,
    /// RDS storage types, per GB-month.
    pub rds_storage_gb_month: BTreeMap<String, f64>,
    /// ElastiCache node types, per hour.
    pub cache_node_hourly: BTreeMap<String, f64>,
    /// ElastiCache Serverless data stored, per GB-hour, by engine.
    pub serverless_gb_hour: BTreeMap<String, f64>,
    /// S3 Standard storage, per GB-month.
    pub s3_gb_month: f64,
}

/// The price table labcheck carries.
pub static PRICES: LazyLock<Prices> =
    LazyLock::new(|| toml::from_str(include_str!("prices.toml")).expect("prices.toml is a valid price table"));

// ---- what is left -------------------------------------------------------------

/// One resource left in a learner's account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// What it is (`RDS DB instance`, ...).
    pub kind: String,
    /// Its name or id.
    pub name: String,
    /// Its size: the instance class, node type or engine, how many.
    pub size: String,
    /// Its state as AWS gives it.
    pub state: String,
    /// When it was created (RFC 3339), when AWS says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The estimated cost of a month, None when the price table lacks its
    /// Region or class.
    pub monthly: Option<f64>,
    /// How the estimate is made, or why there is none.
    pub estimate: String,
    /// The command that deletes it.
    pub delete: String,
}

/// One learner's leftovers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnerLeftovers {
    /// The learner.
    pub learner: String,
    /// Their account.
    pub account: String,
    /// The Region looked at.
    pub region: String,
    /// `checked`, `incomplete: WHY` (some listings failed), or `error: WHY`
    /// (the account could not be reached).
    pub status: String,
    /// What is left, the most expensive first.
    pub resources: Vec<Resource>,
    /// The sum of the resources' estimates.
    pub monthly: f64,
}

/// The report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Leftovers {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// When it was made, RFC 3339.
    pub generated_at: String,
    /// The price table's date.
    pub prices_as_of: String,
    /// The price table's sources.
    pub price_sources: BTreeMap<String, String>,
    /// The currency.
    pub currency: String,
    /// Learners, the most expensive first (those not looked at last).
    pub learners: Vec<LearnerLeftovers>,
    /// The sum over the learners.
    pub total_monthly: f64,
    /// Resources left without a cost (not in the price table).
    pub unpriced: usize,
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// An AWS time as RFC 3339, in seconds (every SDK's `DateTime` is the same type).
fn time(t: Option<&aws_sdk_rds::primitives::DateTime>) -> Option<String> {
    let secs = u64::try_from(t?.secs()).ok()?;
    let at = std::time::UNIX_EPOCH.checked_add(Duration::from_secs(secs))?;
    Some(humantime::format_rfc3339_seconds(at).to_string())
}

/// An hourly price over a month, or why there is none.
fn per_month(hourly: Option<&f64>, count: f64, what: &str, region: &str, prices: &Prices) -> (Option<f64>, String) {
    match hourly {
        Some(h) => (
            Some(cents(h * count * prices.hours_per_month)),
            format!(
                "{}{what} at {h}/h × {} h",
                if count == 1.0 {
                    String::new()
                } else {
                    format!("{count} × ")
                },
                prices.hours_per_month
            ),
        ),
        None => (None, format!("no price for {what} in {region} in the price table")),
    }
}

/// Cost of a DB instance: its hours (twice for Multi-AZ; none while
/// stopped) and its storage.
pub fn db_cost(
    class: &str,
    storage: &str,
    gb: f64,
    multi_az: bool,
    stopped: bool,
    region: &str,
    prices: &Prices,
) -> (Option<f64>, String) {
    let Some(r) = prices.regions.get(region) else {
        return (None, format!("no prices for {region} in the price table"));
    };
    let copies = if multi_az { 2.0 } else { 1.0 };
    let hours = if stopped {
        (Some(0.0), "stopped: no instance hours".to_string())
    } else {
        per_month(r.rds_hourly.get(class), copies, class, region, prices)
    };
    let store = match r.rds_storage_gb_month.get(storage) {
        Some(p) => (
            Some(p * gb * copies),
            format!(
                "{gb} GB {storage} at {p}/GB-month{}",
                if multi_az { " × 2" } else { "" }
            ),
        ),
        None => (None, format!("no price for {storage} storage in {region}")),
    };
    match (hours, store) {
        ((Some(h), hw), (Some(s), sw)) => (Some(cents(h + s)), format!("{hw} + {sw}")),
        ((None, w), _) | (_, (None, w)) => (None, w),
    }
}

/// Cost of a serverless cache: the minimum of stored data it is billed for.
pub fn serverless_cost(engine: &str, region: &str, prices: &Prices) -> (Option<f64>, String) {
    let engine = engine.to_ascii_lowercase();
    let (Some(r), Some(min)) = (prices.regions.get(region), prices.serverless_minimum_gb.get(&engine)) else {
        return (
            None,
            format!("no price for serverless {engine} in {region} in the price table"),
        );
    };
    match r.serverless_gb_hour.get(&engine) {
        Some(p) => (
            Some(cents(min * p * prices.hours_per_month)),
            format!(
                "the minimum {min} GB stored at {p}/GB-h × {} h, plus the ECPUs used",
                prices.hours_per_month
            ),
        ),
        None => (
            None,
            format!("no price for serverless {engine} in {region} in the price table"),
        ),
    }
}

/// Cost of `count` EC2 instances or cache nodes of one type.
fn hourly_cost(
    table: impl Fn(&RegionPrices) -> Option<f64>,
    count: f64,
    what: &str,
    region: &str,
    prices: &Prices,
) -> (Option<f64>, String) {
    let price = prices.regions.get(region).and_then(table);
    per_month(price.as_ref(), count, what, region, prices)
}

/// Cost of the objects in the bucket.
pub fn bucket_cost(bytes: i64, region: &str, prices: &Prices) -> (Option<f64>, String) {
    let gb = bytes.max(0) as f64 / (1u64 << 30) as f64;
    match prices.regions.get(region) {
        Some(r) => (
            Some(cents(gb * r.s3_gb_month)),
            format!("{gb:.3} GB at {}/GB-month", r.s3_gb_month),
        ),
        None => (None, format!("no prices for {region} in the price table")),
    }
}

/// What a listing that failed leaves for the learner's row.
fn failed(what: &str, e: &AwsError) -> String {
    let fix = if e.kind == crate::aws::AwsErrorKind::AccessDenied {
        " (the grader role lacks it: the learner updates the role from `labcheck policy --role-template`)"
    } else {
        ""
    };
    format!("{what}: {}{fix}", crate::redact::one_line(&e.message, 300))
}

/// What is left in one learner's Region, and what could not be listed.
pub async fn scan(acc: &Account, prices: &Prices) -> (Vec<Resource>, Vec<String>) {
    let region = acc.region.clone();
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let (dbs, serverless, groups, clusters, envs, instances, bucket) = tokio::join!(
        db_instances(acc),
        serverless_caches(acc),
        replication_groups(acc),
        cache_clusters(acc),
        environments(acc),
        running_instances(acc),
        crate::checks::s3::bucket_summary(acc),
    );
    match dbs {
        Ok(list) => {
            for d in list {
                let (monthly, estimate) = db_cost(
                    &d.class,
                    &d.storage,
                    d.gb,
                    d.multi_az,
                    d.status == "stopped",
                    &region,
                    prices,
                );
                found.push(Resource {
                    kind: Costly::DbInstance.label().into(),
                    size: format!(
                        "{}, {} GB {}{}",
                        d.class,
                        d.gb,
                        d.storage,
                        if d.multi_az { ", Multi-AZ" } else { "" }
                    ),
                    state: d.status,
                    since: d.since,
                    monthly,
                    estimate,
                    delete: Costly::DbInstance.delete(&d.id, &region),
                    name: d.id,
                });
            }
        }
        Err(e) => problems.push(failed("DB instances", &e)),
    }
    match serverless {
        Ok(list) => {
            for (name, engine, status, since) in list {
                let (monthly, estimate) = serverless_cost(&engine, &region, prices);
                found.push(Resource {
                    kind: Costly::ServerlessCache.label().into(),
                    size: format!("serverless {engine}"),
                    state: status,
                    since,
                    monthly,
                    estimate,
                    delete: Costly::ServerlessCache.delete(&name, &region),
                    name,
                });
            }
        }
        Err(e) => problems.push(failed("serverless caches", &e)),
    }
    let nodes = |kind: Costly, list: Vec<Nodes>, found: &mut Vec<Resource>| {
        for n in list {
            let (monthly, estimate) = hourly_cost(
                |r| r.cache_node_hourly.get(&n.node_type).copied(),
                n.count as f64,
                &n.node_type,
                &region,
                prices,
            );
            found.push(Resource {
                kind: kind.label().into(),
                size: format!("{} × {}", n.count, n.node_type),
                state: n.status,
                since: n.since,
                monthly,
                estimate,
                delete: kind.delete(&n.name, &region),
                name: n.name,
            });
        }
    };
    match groups {
        Ok(list) => nodes(Costly::ReplicationGroup, list, &mut found),
        Err(e) => problems.push(failed("replication groups", &e)),
    }
    match clusters {
        Ok(list) => nodes(Costly::CacheCluster, list, &mut found),
        Err(e) => problems.push(failed("cache clusters", &e)),
    }
    let instances = match instances {
        Ok(list) => list,
        Err(e) => {
            problems.push(failed("EC2 instances", &e));
            Vec::new()
        }
    };
    let mut of_env: BTreeMap<String, Vec<&Instance>> = BTreeMap::new();
    let mut alone = Vec::new();
    for i in &instances {
        match &i.environment {
            Some(env) => of_env.entry(env.clone()).or_default().push(i),
            None => alone.push(i),
        }
    }
    match envs {
        Ok(list) => {
            for (name, status, since) in list {
                let mine = of_env.remove(&name).unwrap_or_default();
                let (monthly, estimate, size) = instances_cost(&mine, &region, prices);
                found.push(Resource {
                    kind: Costly::Environment.label().into(),
                    size,
                    state: status,
                    since,
                    monthly,
                    estimate,
                    delete: Costly::Environment.delete(&name, &region),
                    name,
                });
            }
        }
        Err(e) => problems.push(failed("Elastic Beanstalk environments", &e)),
    }
    // Instances of an environment not listed (terminated, or not readable) stand alone.
    alone.extend(of_env.into_values().flatten());
    for i in alone {
        let (monthly, estimate) = hourly_cost(|r| r.ec2_hourly.get(&i.kind).copied(), 1.0, &i.kind, &region, prices);
        found.push(Resource {
            kind: Costly::Instance.label().into(),
            size: i.kind.clone(),
            state: i.state.clone(),
            since: i.since.clone(),
            monthly,
            estimate,
            delete: Costly::Instance.delete(&i.id, &region),
            name: i.id.clone(),
        });
    }
    match bucket {
        Ok(Some((name, objects, bytes))) => {
            let (monthly, estimate) = bucket_cost(bytes, &region, prices);
            found.push(Resource {
                kind: Costly::Bucket.label().into(),
                size: format!("{objects} objects, {bytes} bytes"),
                state: String::new(),
                since: None,
                monthly,
                estimate,
                delete: Costly::Bucket.delete(&name, &region),
                name,
            });
        }
        Ok(None) => {}
        Err(e) => problems.push(failed("the media bucket", &e)),
    }
    found.sort_by(|a, b| {
        b.monthly
            .unwrap_or(-1.0)
            .partial_cmp(&a.monthly.unwrap_or(-1.0))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.name.cmp(&b.name))
    });
    (found, problems)
}

/// An environment's instances: their cost and their sizes in a few words.
fn instances_cost(instances: &[&Instance], region: &str, prices: &Prices) -> (Option<f64>, String, String) {
    if instances.is_empty() {
        return (
            Some(0.0),
            "no running instance (Elastic Beanstalk itself costs nothing)".into(),
            "no running instance".into(),
        );
    }
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for i in instances {
        *by_type.entry(i.kind.as_str()).or_default() += 1;
    }
    let mut total = Some(0.0);
    let mut how = Vec::new();
    for (kind, n) in &by_type {
        let (m, w) = hourly_cost(|r| r.ec2_hourly.get(*kind).copied(), *n as f64, kind, region, prices);
        total = total.zip(m).map(|(t, m)| t + m);
        how.push(w);
    }
    let size = by_type
        .iter()
        .map(|(k, n)| format!("{n} × {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    (total.map(cents), how.join(" + "), format!("{size} running"))
}

// ---- the listings ---------------------------------------------------------------

struct Db {
    id: String,
    class: String,
    status: String,
    storage: String,
    gb: f64,
    multi_az: bool,
    since: Option<String>,
}

async fn db_instances(acc: &Account) -> Result<Vec<Db>, AwsError> {
    let mut pages = acc.rds.describe_db_instances().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("rds:DescribeDBInstances", e))?;
        for d in page.db_instances() {
            out.push(Db {
                id: d.db_instance_identifier().unwrap_or_default().to_string(),
                class: d.db_instance_class().unwrap_or_default().to_string(),
                status: d.db_instance_status().unwrap_or_default().to_string(),
                storage: d.storage_type().unwrap_or("gp2").to_string(),
                gb: d.allocated_storage().unwrap_or(0).max(0) as f64,
                multi_az: d.multi_az().unwrap_or(false),
                since: time(d.instance_create_time()),
            });
        }
    }
    Ok(out)
}

type Serverless = (String, String, String, Option<String>);

async fn serverless_caches(acc: &Account) -> Result<Vec<Serverless>, AwsError> {
    let mut pages = acc.elasticache.describe_serverless_caches().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("elasticache:DescribeServerlessCaches", e))?;
        for c in page.serverless_caches() {
            out.push((
                c.serverless_cache_name().unwrap_or_default().to_string(),
                c.engine().unwrap_or_default().to_string(),
                c.status().unwrap_or_default().to_string(),
                time(c.create_time()),
            ));
        }
    }
    Ok(out)
}

struct Nodes {
    name: String,
    node_type: String,
    count: usize,
    status: String,
    since: Option<String>,
}

async fn replication_groups(acc: &Account) -> Result<Vec<Nodes>, AwsError> {
    let mut pages = acc.elasticache.describe_replication_groups().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("elasticache:DescribeReplicationGroups", e))?;
        for g in page.replication_groups() {
            out.push(Nodes {
                name: g.replication_group_id().unwrap_or_default().to_string(),
                node_type: g.cache_node_type().unwrap_or_default().to_string(),
                count: g.member_clusters().len().max(1),
                status: g.status().unwrap_or_default().to_string(),
                since: time(g.replication_group_create_time()),
            });
        }
    }
    Ok(out)
}

/// Cache clusters outside a replication group (a group's members are its nodes).
async fn cache_clusters(acc: &Account) -> Result<Vec<Nodes>, AwsError> {
    let mut pages = acc.elasticache.describe_cache_clusters().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("elasticache:DescribeCacheClusters", e))?;
        for c in page
            .cache_clusters()
            .iter()
            .filter(|c| c.replication_group_id().is_none())
        {
            out.push(Nodes {
                name: c.cache_cluster_id().unwrap_or_default().to_string(),
                node_type: c.cache_node_type().unwrap_or_default().to_string(),
                count: c.num_cache_nodes().unwrap_or(1).max(1) as usize,
                status: c.cache_cluster_status().unwrap_or_default().to_string(),
                since: time(c.cache_cluster_create_time()),
            });
        }
    }
    Ok(out)
}

/// (name, status, created) of every environment not yet terminated.
async fn environments(acc: &Account) -> Result<Vec<(String, String, Option<String>)>, AwsError> {
    let out = acc
        .eb
        .describe_environments()
        .include_deleted(false)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("elasticbeanstalk:DescribeEnvironments", e))?;
    Ok(out
        .environments()
        .iter()
        .filter(|e| crate::checks::eb::is_live(e))
        .map(|e| {
            (
                e.environment_name().unwrap_or_default().to_string(),
                e.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                time(e.date_created()),
            )
        })
        .collect())
}

struct Instance {
    id: String,
    kind: String,
    state: String,
    since: Option<String>,
    environment: Option<String>,
}

/// The instances that run (or are about to): stopped ones bill only their volumes.
async fn running_instances(acc: &Account) -> Result<Vec<Instance>, AwsError> {
    use aws_sdk_ec2::types::Filter;
    let mut pages = acc
        .ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .build(),
        )
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ec2:DescribeInstances", e))?;
        for i in page.reservations().iter().flat_map(|r| r.instances()) {
            out.push(Instance {
                id: i.instance_id().unwrap_or_default().to_string(),
                kind: i.instance_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                state: i
                    .state()
                    .and_then(|s| s.name())
                    .map(|n| n.as_str().to_string())
                    .unwrap_or_default(),
                since: time(i.launch_time()),
                environment: i
                    .tags()
                    .iter()
                    .find(|t| t.key() == Some(EB_ENVIRONMENT_TAG))
                    .and_then(|t| t.value())
                    .map(str::to_string),
            });
        }
    }
    Ok(out)
}

// ---- the command ------------------------------------------------------------------

/// One learner: reach their account, list what is left.
async fn learner(grader: &Grader, entry: &Entry, timeout: Duration) -> LearnerLeftovers {
    let region = grader.region_of(entry);
    let mut row = LearnerLeftovers {
        learner: entry.learner.clone(),
        account: entry.account.clone(),
        region: region.clone(),
        status: "checked".into(),
        resources: Vec::new(),
        monthly: 0.0,
    };
    let work = async {
        let acc = grader.account_for(entry, &region).await.map_err(|(why, _)| why)?;
        let (resources, problems) = scan(&acc, &PRICES).await;
        let redactor = acc.redactor();
        Ok::<_, String>((resources, problems, redactor))
    };
    match tokio::time::timeout(timeout, work).await {
        Err(_) => row.status = format!("error: took longer than {}s (--learner-timeout)", timeout.as_secs()),
        Ok(Err(why)) => row.status = format!("error: {}", crate::redact::one_line(&why, 600)),
        Ok(Ok((resources, problems, redactor))) => {
            row.monthly = cents(resources.iter().filter_map(|r| r.monthly).sum());
            row.resources = resources;
            if !problems.is_empty() {
                row.status = format!("incomplete: could not list {}", problems.join("; "));
            }
            row.status = redactor.clean(&row.status);
        }
    }
    row
}

/// Builds the report from the learners' rows: the most expensive first,
/// those not looked at last.
pub fn report(mut learners: Vec<LearnerLeftovers>, prices: &Prices) -> Leftovers {
    learners.sort_by(|a, b| {
        a.status
            .starts_with("error")
            .cmp(&b.status.starts_with("error"))
            .then(b.monthly.partial_cmp(&a.monthly).unwrap_or(std::cmp::Ordering::Equal))
            .then(b.resources.len().cmp(&a.resources.len()))
            .then(a.learner.cmp(&b.learner))
    });
    Leftovers {
        schema: SCHEMA.into(),
        generated_at: super::gradebook::now(),
        prices_as_of: prices.as_of.clone(),
        price_sources: prices.sources.clone(),
        currency: prices.currency.clone(),
        total_monthly: cents(learners.iter().map(|l| l.monthly).sum()),
        unpriced: learners
            .iter()
            .flat_map(|l| &l.resources)
            .filter(|r| r.monthly.is_none())
            .count(),
        learners,
    }
}

/// `labcheck cohort leftovers`.
pub async fn run(lab: &Lab, args: &LeftoversArgs, common: Access) -> Result<Exit, Error> {
    let access = Access {
        roster: args.roster.clone(),
        organization: args.organization.clone(),
        allow_shared_accounts: args.allow_shared_accounts,
        ..common
    };
    let given = command::load_roster(&access)?;
    let c = command::connect(&access, given, "look at anybody's account").await?;
    if let Some(l) = c.roster.learners.iter().find(|l| l.region.is_none())
        && c.default_region.is_none()
    {
        return Err(Error::bad(format!(
            "learner `{}` has no region; add a `region` column to the roster, or pass --region",
            l.learner
        )));
    }
    let grader = Arc::new(Grader::new(
        lab.clone(),
        c.sdk,
        c.params,
        c.default_region,
        c.instructor,
        grade::Options {
            jobs: args.jobs.max(1),
            learner_timeout: Duration::from_secs(args.learner_timeout.max(1)),
            check_timeout: Duration::from_secs(60),
            checks_at_once: 8,
            external_id: args.external_id.clone().filter(|x| !x.is_empty()),
            inside: c.inside,
            reports: None,
            trust_learner_code: false,
            reports_since: None,
        },
    ));
    let bar = command::progress_bar(c.roster.learners.len() as u64, "looking");
    let timeout = Duration::from_secs(args.learner_timeout.max(1));
    let rows: Vec<LearnerLeftovers> = futures::stream::iter(c.roster.learners.iter().map(|entry| {
        let grader = grader.clone();
        let bar = bar.clone();
        async move {
            let row = learner(&grader, entry, timeout).await;
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            row
        }
    }))
    .buffer_unordered(args.jobs.max(1))
    .collect()
    .await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = report(rows, &PRICES).sanitized();
    let text = match args.format {
        Format::Csv => csv(&report),
        Format::Json => serde_json::to_string_pretty(&report).expect("serializes") + "\n",
        Format::Html => html(&report),
    };
    let wrote = write_out(args.output.as_deref(), &text)?;
    let left: Vec<&LearnerLeftovers> = report.learners.iter().filter(|l| !l.resources.is_empty()).collect();
    let unreachable = report.learners.iter().filter(|l| l.status != "checked").count();
    eprintln!(
        "{} of {} learners left {} resources running, about {:.2} {} a month{}{}{}",
        left.len(),
        report.learners.len(),
        left.iter().map(|l| l.resources.len()).sum::<usize>(),
        report.total_monthly,
        report.currency,
        match report.unpriced {
            0 => String::new(),
            n => format!(" ({n} without a price in the table)"),
        },
        match unreachable {
            0 => String::new(),
            n => format!("; {n} could not be looked at in full"),
        },
        wrote.map(|p| format!("; wrote {p}")).unwrap_or_default()
    );
    Ok(if !left.is_empty() {
        Exit::Fail
    } else if unreachable > 0 {
        Exit::NotEvaluated
    } else {
        Exit::Pass
    })
}

impl Leftovers {
    /// A copy with every string through the sanitizer (names and tags come
    /// from the learners' accounts).
    pub fn sanitized(&self) -> Leftovers {
        use crate::redact::strip_control;
        let mut out = self.clone();
        for l in &mut out.learners {
            for s in [&mut l.learner, &mut l.account, &mut l.region, &mut l.status] {
                *s = strip_control(s);
            }
            for r in &mut l.resources {
                for s in [
                    &mut r.kind,
                    &mut r.name,
                    &mut r.size,
                    &mut r.state,
                    &mut r.estimate,
                    &mut r.delete,
                ] {
                    *s = strip_control(s);
                }
                if let Some(s) = &mut r.since {
                    *s = strip_control(s);
                }
            }
        }
        out
    }
}

/// A cost as the csv and html write it.
fn money(x: Option<f64>) -> String {
    x.map(|m| format!("{m:.2}")).unwrap_or_default()
}

/// `learner,account,region,resource,name,size,state,since,monthly_cost,estimate,delete`:
/// a row per resource, the most expensive learner first; a learner who
/// could not be looked at is a row with their status; a last row, `total`.
pub fn csv(report: &Leftovers) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let _ = w.write_record([
        "learner",
        "account",
        "region",
        "resource",
        "name",
        "size",
        "state",
        "since",
        &format!("monthly_{}", report.currency.to_ascii_lowercase()),
        "estimate",
        "delete",
    ]);
    for l in &report.learners {
        if l.status != "checked" {
            let _ = w.write_record([
                l.learner.as_str(),
                &l.account,
                &l.region,
                &l.status,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
            ]);
        }
        for r in &l.resources {
            let _ = w.write_record([
                l.learner.as_str(),
                &l.account,
                &l.region,
                &r.kind,
                &r.name,
                &r.size,
                &r.state,
                r.since.as_deref().unwrap_or_default(),
                &money(r.monthly),
                &r.estimate,
                &r.delete,
            ]);
        }
    }
    let total = format!("{:.2}", report.total_monthly);
    let note = format!("prices of {}", report.prices_as_of);
    let _ = w.write_record(["total", "", "", "", "", "", "", "", &total, &note, ""]);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The report as one self-contained page.
pub fn html(report: &Leftovers) -> String {
    let mut b = String::new();
    let left: Vec<&LearnerLeftovers> = report.learners.iter().filter(|l| !l.resources.is_empty()).collect();
    let _ = writeln!(
        b,
        "<h1>Left running</h1>\n<p class=\"meta\"><span>generated {}</span><span>prices of {}</span></p>",
        escape(&report.generated_at),
        escape(&report.prices_as_of)
    );
    let _ = writeln!(
        b,
        "<p><span class=\"score\">{} {:.2} a month</span> <span class=\"meta\"><span>{} of {} learners left something running</span>{}</span></p>",
        escape(&report.currency),
        report.total_monthly,
        left.len(),
        report.learners.len(),
        match report.unpriced {
            0 => String::new(),
            n => format!("<span>{n} resources without a price in the table</span>"),
        }
    );
    b.push_str("<table id=\"leftovers\"><thead><tr><th>learner</th><th>account</th><th>resource</th><th>name</th><th>size</th><th>since</th><th class=\"num\">a month</th><th>delete with</th></tr></thead><tbody>\n");
    for l in &report.learners {
        if l.status != "checked" {
            let _ = writeln!(
                b,
                "<tr class=\"status\"><td>{}</td><td>{}</td><td colspan=\"6\">{}</td></tr>",
                escape(&l.learner),
                escape(&l.account),
                escape(&l.status)
            );
        }
        for r in &l.resources {
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"num\" title=\"{}\">{}</td><td><code>{}</code></td></tr>",
                escape(&l.learner),
                escape(&l.account),
                escape(&r.kind),
                escape(&r.name),
                escape(&r.size),
                escape(r.since.as_deref().unwrap_or("–")),
                escape(&r.estimate),
                if r.monthly.is_some() {
                    money(r.monthly)
                } else {
                    "–".into()
                },
                escape(&r.delete)
            );
        }
        if l.resources.len() > 1 {
            let _ = writeln!(
                b,
                "<tr class=\"subtotal\"><td colspan=\"6\">{}</td><td class=\"num\">{:.2}</td><td></td></tr>",
                escape(&l.learner),
                l.monthly
            );
        }
    }
    let _ = writeln!(
        b,
        "<tr class=\"total\"><td colspan=\"6\"><strong>total</strong></td><td class=\"num\"><strong>{:.2}</strong></td><td></td></tr>\n</tbody></table>",
        report.total_monthly
    );
    let clean: Vec<String> = report
        .learners
        .iter()
        .filter(|l| l.status == "checked" && l.resources.is_empty())
        .map(|l| escape(&l.learner))
        .collect();
    if !clean.is_empty() {
        let _ = writeln!(b, "<p>Nothing left running: {}.</p>", clean.join(", "));
    }
    let sources: Vec<String> = report
        .price_sources
        .iter()
        .map(|(service, url)| format!("{} ({})", escape(service), escape(url)))
        .collect();
    let _ = writeln!(
        b,
        "<p class=\"meta\">Estimates: on-demand list prices of {}, {}; usage (requests, data transfer, ElastiCache ECPUs) is not counted.</p>",
        escape(&report.prices_as_of),
        sources.join(", ")
    );
    page("labcheck leftovers", &b, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_price_table_holds_what_the_lab_runs_in_every_region() {
        let p = &*PRICES;
        assert_eq!(p.currency, "USD");
        assert!(p.as_of.len() == 10 && p.as_of.starts_with("20"), "{}", p.as_of);
        for service in ["ec2", "rds", "elasticache", "s3"] {
            assert!(
                p.sources
                    .get(service)
                    .is_some_and(|u| u.starts_with("https://aws.amazon.com/")),
                "{service}"
            );
        }
        assert!(p.regions.contains_key("us-west-2"), "the lab's Region");
        for (region, r) in &p.regions {
            assert!(
                r.ec2_hourly.contains_key("t3.micro"),
                "{region}: the guide's instance type"
            );
            assert!(r.rds_hourly.contains_key("db.t3.micro"), "{region}");
            assert!(r.rds_storage_gb_month.contains_key("gp2"), "{region}");
            for engine in ["valkey", "redis"] {
                assert!(r.serverless_gb_hour.contains_key(engine), "{region}: {engine}");
                assert!(p.serverless_minimum_gb.contains_key(engine));
            }
        }
    }

    #[test]
    fn estimates_follow_the_table() {
        let p = &*PRICES;
        let r = &p.regions["us-west-2"];
        let (m, how) = db_cost("db.t3.micro", "gp2", 20.0, false, false, "us-west-2", p);
        let want = r.rds_hourly["db.t3.micro"] * 730.0 + 20.0 * r.rds_storage_gb_month["gp2"];
        assert_eq!(m, Some(cents(want)), "{how}");
        let (multi, _) = db_cost("db.t3.micro", "gp2", 20.0, true, false, "us-west-2", p);
        assert_eq!(multi, Some(cents(2.0 * want)));
        let (stopped, how) = db_cost("db.t3.micro", "gp2", 20.0, false, true, "us-west-2", p);
        assert_eq!(stopped, Some(cents(20.0 * r.rds_storage_gb_month["gp2"])), "{how}");
        let (none, how) = db_cost("db.x2.huge", "gp2", 20.0, false, false, "us-west-2", p);
        assert_eq!(none, None);
        assert!(how.contains("no price for db.x2.huge in us-west-2"), "{how}");
        assert_eq!(db_cost("db.t3.micro", "gp2", 20.0, false, false, "mars-1", p).0, None);
        let (valkey, how) = serverless_cost("valkey", "us-west-2", p);
        assert_eq!(
            valkey,
            Some(cents(0.1 * r.serverless_gb_hour["valkey"] * 730.0)),
            "{how}"
        );
        assert!(how.ends_with("plus the ECPUs used"));
        assert_eq!(bucket_cost(1 << 30, "us-west-2", p).0, Some(cents(r.s3_gb_month)));
    }

    fn row(learner: &str, monthly: Option<f64>, status: &str) -> LearnerLeftovers {
        LearnerLeftovers {
            learner: learner.into(),
            account: "111122223333".into(),
            region: "us-west-2".into(),
            status: status.into(),
            resources: monthly
                .map(|m| Resource {
                    kind: "RDS DB instance".into(),
                    name: "pets-project-mysql".into(),
                    size: "db.t3.micro".into(),
                    state: "available".into(),
                    since: Some("2026-12-01T09:00:00Z".into()),
                    monthly: Some(m),
                    estimate: "x".into(),
                    delete: "aws rds delete-db-instance".into(),
                })
                .into_iter()
                .collect(),
            monthly: monthly.unwrap_or(0.0),
        }
    }

    #[test]
    fn the_most_expensive_learner_comes_first_with_the_total_last() {
        let r = report(
            vec![
                row("ada", None, "checked"),
                row("bob", None, "error: AssumeRole refused"),
                row("cy", Some(3.5), "checked"),
                row("dan", Some(14.6), "checked"),
            ],
            &PRICES,
        );
        let order: Vec<&str> = r.learners.iter().map(|l| l.learner.as_str()).collect();
        assert_eq!(order, ["dan", "cy", "ada", "bob"]);
        assert_eq!(r.total_monthly, 18.1);
        let text = csv(&r);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("learner,account,region,resource,name,size,state,since,monthly_usd,"));
        assert!(
            lines[1].starts_with("dan,") && lines[1].contains(",14.60,"),
            "{}",
            lines[1]
        );
        assert!(lines[3].starts_with("bob,111122223333,us-west-2,error: AssumeRole refused"));
        assert!(lines.last().unwrap().starts_with("total,,,,,,,,18.10,prices of "));
        let html = html(&r);
        assert!(html.contains("Nothing left running: ada."));
        assert!(!html.contains("http://") && !html.contains("src="), "self-contained");
    }
}
