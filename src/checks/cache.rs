//! The `cache` step: the ElastiCache cache that holds Django's sessions —
//! that it exists, encrypts in transit, answers PING over TLS, holds session
//! keys, and that its security group lets the app in. A node-based cache
//! with cluster mode on is read through its configuration endpoint with a
//! cluster client, every shard scanned.

use super::CheckKind;
use super::network::{self, require_inside};
use crate::aws::{AwsError, AwsErrorKind};
use crate::params::Param;
use crate::run::account::Account;
use crate::run::memo::MemoKey;
use crate::run::outcome::{CheckError, CheckResult, Outcome};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// What finding the cache calls: every cache check reads its answer (the
/// endpoint, the encryption, the security groups), so each declares it.
const DESCRIBE: &[&str] = &[
    "elasticache:DescribeServerlessCaches",
    "elasticache:DescribeReplicationGroups",
    "elasticache:DescribeCacheClusters",
];

/// What connecting calls: finding the cache, and its security groups' VPC
/// (to decide whether it can be reached from here).
const CONNECT: &[&str] = &[
    "elasticache:DescribeServerlessCaches",
    "elasticache:DescribeReplicationGroups",
    "elasticache:DescribeCacheClusters",
    "ec2:DescribeSecurityGroups",
];

pub(crate) const EXISTS: CheckKind = CheckKind {
    id: "cache.exists",
    passes: "a serverless cache (or a replication group or cluster) with engine Redis or Valkey is available",
    iam_actions: DESCRIBE,
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(exists(a)),
};

pub(crate) const TLS: CheckKind = CheckKind {
    id: "cache.tls",
    passes: "encryption in transit is on, so the app connects with `rediss://`",
    iam_actions: DESCRIBE,
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(tls(a)),
};

pub(crate) const REACHABLE: CheckKind = CheckKind {
    id: "cache.reachable",
    passes: "a TLS connection to the cache endpoint, with a verified certificate, answers PING",
    iam_actions: CONNECT,
    data_plane: true,
    reads_project: false,
    run: |a, _| Box::pin(reachable(a)),
};

pub(crate) const SESSIONS: CheckKind = CheckKind {
    id: "cache.sessions",
    passes: "keys written by Django's cache session backend are present (counted, never read)",
    iam_actions: CONNECT,
    data_plane: true,
    reads_project: false,
    run: |a, _| Box::pin(sessions(a)),
};

pub(crate) const NETWORK: CheckKind = CheckKind {
    id: "cache.network",
    passes: "an inbound rule of the cache's security group admits TCP 6379 from the Elastic Beanstalk or IDE security group",
    iam_actions: &[
        "elasticache:DescribeServerlessCaches",
        "elasticache:DescribeReplicationGroups",
        "elasticache:DescribeCacheClusters",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVpcs",
        "ec2:GetManagedPrefixListEntries",
        "elasticbeanstalk:DescribeConfigurationSettings",
    ],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(network_rule(a)),
};

/// Kinds of ElastiCache deployment the lab accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavour {
    Serverless,
    ReplicationGroup,
    Cluster,
}

impl Flavour {
    fn describe(self) -> &'static str {
        match self {
            Flavour::Serverless => "serverless cache",
            Flavour::ReplicationGroup => "replication group",
            Flavour::Cluster => "cache cluster",
        }
    }
}

/// The cache as found.
#[derive(Clone, Debug)]
struct Cache {
    name: String,
    flavour: Flavour,
    status: String,
    engine: String,
    version: String,
    /// Encryption in transit; serverless caches always have it.
    tls: bool,
    endpoint: Option<(String, u16)>,
    security_groups: Vec<String>,
    /// Cluster mode on (a replication group's `ClusterEnabled`): the
    /// endpoint is the configuration endpoint, and keys live on several
    /// shards.
    cluster_mode: bool,
}

type Found = Result<Option<Cache>, AwsError>;

/// The lab's cache, found once per run.
#[derive(PartialEq, Eq, Hash)]
struct TheCache;
impl MemoKey for TheCache {
    type Value = Found;
}

/// Finds the lab's cache once per run: serverless first, then a replication
/// group, then a cluster; when none has the expected name and exactly one
/// serverless cache exists, uses it and says so.
async fn find(acc: &Account) -> Found {
    acc.memo
        .once(TheCache, || async {
            let name = acc.param(Param::Cache);
            if let Some(c) = serverless(acc, Some(&name)).await?.into_iter().next() {
                return Ok(Some(c));
            }
            if let Some(c) = replication_group(acc, &name).await? {
                return Ok(Some(c));
            }
            if let Some(c) = cluster(acc, &name).await? {
                return Ok(Some(c));
            }
            if !acc.param_is_explicit(Param::Cache)
                && let [only] = serverless(acc, None).await?.as_slice()
            {
                acc.discovered(Param::Cache, &only.name);
                return Ok(Some(only.clone()));
            }
            Ok(None)
        })
        .await
}

/// The cache (its name, kind and status), for `labcheck cleanup`.
pub async fn cache_summary(acc: &Account) -> Result<Option<(String, &'static str, String)>, AwsError> {
    Ok(find(acc).await?.map(|c| (c.name, c.flavour.describe(), c.status)))
}

fn endpoint(e: Option<&aws_sdk_elasticache::types::Endpoint>) -> Option<(String, u16)> {
    let e = e?;
    Some((
        e.address()?.to_string(),
        u16::try_from(e.port().unwrap_or(6379)).unwrap_or(6379),
    ))
}

async fn serverless(acc: &Account, name: Option<&str>) -> Result<Vec<Cache>, AwsError> {
    let out = match acc
        .elasticache
        .describe_serverless_caches()
        .set_serverless_cache_name(name.map(str::to_string))
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e = AwsError::from_sdk("elasticache:DescribeServerlessCaches", e);
            return if e.kind == AwsErrorKind::NotFound {
                Ok(Vec::new())
            } else {
                Err(e)
            };
        }
    };
    Ok(out
        .serverless_caches()
        .iter()
        .map(|c| Cache {
            name: c.serverless_cache_name().unwrap_or_default().to_string(),
            flavour: Flavour::Serverless,
            status: c.status().unwrap_or_default().to_string(),
            engine: c.engine().unwrap_or_default().to_string(),
            version: c
                .full_engine_version()
                .or(c.major_engine_version())
                .unwrap_or_default()
                .to_string(),
            tls: true,
            endpoint: endpoint(c.endpoint()),
            security_groups: c.security_group_ids().to_vec(),
            cluster_mode: false,
        })
        .collect())
}

async fn replication_group(acc: &Account, name: &str) -> Result<Option<Cache>, AwsError> {
    let out = match acc
        .elasticache
        .describe_replication_groups()
        .replication_group_id(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e = AwsError::from_sdk("elasticache:DescribeReplicationGroups", e);
            return if e.kind == AwsErrorKind::NotFound {
                Ok(None)
            } else {
                Err(e)
            };
        }
    };
    let Some(g) = out.replication_groups().first() else {
        return Ok(None);
    };
    // Security groups belong to the member clusters.
    let member = match g.member_clusters().first() {
        Some(id) => cluster(acc, id).await?,
        None => None,
    };
    Ok(Some(Cache {
        name: g.replication_group_id().unwrap_or(name).to_string(),
        flavour: Flavour::ReplicationGroup,
        status: g.status().unwrap_or_default().to_string(),
        engine: g
            .engine()
            .map(str::to_string)
            .or_else(|| member.as_ref().map(|m| m.engine.clone()))
            .unwrap_or_else(|| "redis".into()),
        version: member.as_ref().map(|m| m.version.clone()).unwrap_or_default(),
        tls: g.transit_encryption_enabled().unwrap_or(false),
        endpoint: endpoint(g.configuration_endpoint())
            .or_else(|| endpoint(g.node_groups().first().and_then(|n| n.primary_endpoint()))),
        security_groups: member.map(|m| m.security_groups).unwrap_or_default(),
        cluster_mode: g.cluster_enabled().unwrap_or(false) && g.configuration_endpoint().is_some(),
    }))
}

async fn cluster(acc: &Account, name: &str) -> Result<Option<Cache>, AwsError> {
    let out = match acc
        .elasticache
        .describe_cache_clusters()
        .cache_cluster_id(name)
        .show_cache_node_info(true)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e = AwsError::from_sdk("elasticache:DescribeCacheClusters", e);
            return if e.kind == AwsErrorKind::NotFound {
                Ok(None)
            } else {
                Err(e)
            };
        }
    };
    Ok(out.cache_clusters().first().map(|c| Cache {
        name: c.cache_cluster_id().unwrap_or(name).to_string(),
        flavour: Flavour::Cluster,
        status: c.cache_cluster_status().unwrap_or_default().to_string(),
        engine: c.engine().unwrap_or_default().to_string(),
        version: c.engine_version().unwrap_or_default().to_string(),
        tls: c.transit_encryption_enabled().unwrap_or(false),
        endpoint: endpoint(c.cache_nodes().first().and_then(|n| n.endpoint())),
        security_groups: c
            .security_groups()
            .iter()
            .filter_map(|s| s.security_group_id().map(str::to_string))
            .collect(),
        cluster_mode: false,
    }))
}

async fn the_cache(acc: &Account) -> Result<Cache, CheckError> {
    find(acc)
        .await?
        .ok_or_else(|| CheckError::Other("the cache was not found".into()))
}

fn evidence(c: &Cache) -> serde_json::Value {
    json!({
        "name": c.name,
        "kind": c.flavour.describe(),
        "status": c.status,
        "engine": c.engine,
        "engine_version": c.version,
        "transit_encryption": c.tls,
        "endpoint": c.endpoint.as_ref().map(|(h, p)| format!("{h}:{p}")),
        "security_groups": c.security_groups,
        "cluster_mode": c.cluster_mode,
    })
}

async fn exists(acc: Arc<Account>) -> CheckResult {
    let Some(c) = find(&acc).await? else {
        return Ok(Outcome::fail(format!(
            "no serverless cache, replication group or cluster named {} in {}",
            acc.param(Param::Cache),
            acc.region
        )));
    };
    let what = format!("{} {} ({} {})", c.flavour.describe(), c.name, c.engine, c.version);
    Ok(if !matches!(c.engine.to_ascii_lowercase().as_str(), "redis" | "valkey") {
        Outcome::fail(format!("{what} runs {}, but Django's Redis cache backend needs Redis or Valkey", c.engine))
            .hint("Create a Valkey (or Redis OSS) cache: Memcached cannot hold Django's sessions through the Redis backend.")
    } else if !c.status.eq_ignore_ascii_case("available") {
        Outcome::fail(format!("{what} is {}, not available", c.status))
            .hint("Wait until the cache is available (a new serverless cache takes a few minutes), then check again.")
    } else {
        Outcome::pass(format!("{what} is available"))
    }
    .evidence(evidence(&c)))
}

async fn tls(acc: Arc<Account>) -> CheckResult {
    let c = the_cache(&acc).await?;
    Ok(match (c.tls, c.flavour) {
        (true, Flavour::Serverless) => Outcome::pass(format!(
            "serverless cache {} always encrypts in transit: connect with rediss://",
            c.name
        )),
        (true, _) => Outcome::pass(format!(
            "{} {} has encryption in transit on",
            c.flavour.describe(),
            c.name
        )),
        (false, _) => Outcome::fail(format!(
            "{} {} has encryption in transit off",
            c.flavour.describe(),
            c.name
        )),
    }
    .evidence(evidence(&c)))
}

/// A connection to one node, or to a cluster through its configuration
/// endpoint.
#[derive(Clone)]
enum Conn {
    Node(redis::aio::MultiplexedConnection),
    Cluster(redis::cluster_async::ClusterConnection),
}

impl Conn {
    /// Runs `cmd`: on a cluster, on the node at `node`, or where the
    /// cluster client routes it.
    async fn query(&mut self, cmd: redis::Cmd, node: Option<&(String, u16)>) -> redis::RedisResult<redis::Value> {
        use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
        match (self, node) {
            (Conn::Node(c), _) => cmd.query_async(c).await,
            (Conn::Cluster(c), Some((host, port))) => {
                let at = SingleNodeRoutingInfo::ByAddress {
                    host: host.clone(),
                    port: *port,
                };
                c.route_command(cmd, RoutingInfo::SingleNode(at)).await
            }
            (Conn::Cluster(c), None) => cmd.query_async(c).await,
        }
    }
}

/// A connection to the cache, opened once per run.
#[derive(Clone)]
enum Connected {
    Ok(Conn, String),
    /// Not reachable from where labcheck runs.
    Skip(String),
    /// A real failure, with a message and a hint.
    Failed(String, String),
}

/// The run's connection to the cache (or why there is none).
#[derive(PartialEq, Eq, Hash)]
struct TheConnection;
impl MemoKey for TheConnection {
    type Value = Connected;
}

async fn connect(acc: &Account) -> Result<Connected, CheckError> {
    let c = the_cache(acc).await?;
    Ok(acc
        .memo
        .once(TheConnection, || async {
            let Some((host, port)) = c.endpoint.clone() else {
                return Connected::Failed(
                    format!("{} {} has no endpoint yet", c.flavour.describe(), c.name),
                    "Wait until the cache is available.".into(),
                );
            };
            let vpc = match network::groups(acc, &c.security_groups).await {
                Ok(groups) => groups.into_iter().find_map(|g| g.vpc_id),
                Err(_) => None,
            };
            if let Err(skip) = require_inside(acc, "cache", &host, vpc.as_deref()).await {
                return Connected::Skip(skip.message);
            }
            open(acc, &host, port, c.cluster_mode).await
        })
        .await)
}

async fn open(acc: &Account, host: &str, port: u16, cluster_mode: bool) -> Connected {
    let insecure = acc.insecure;
    let url = match cache_url(
        host,
        port,
        &acc.param(Param::CacheUser),
        &acc.param(Param::CachePassword),
        insecure,
    ) {
        Ok(url) => url,
        Err(e) => {
            return Connected::Failed(
                format!("cannot make a cache address of {host}:{port}: {e}"),
                String::new(),
            );
        }
    };
    let ca_path = acc.param(Param::CacheCa);
    let root_cert = if ca_path.is_empty() || insecure {
        None
    } else {
        match std::fs::read(&ca_path) {
            Ok(pem) => Some(pem),
            Err(e) => {
                return Connected::Failed(
                    format!("cannot read the CA file {ca_path}: {e}"),
                    "Point `cache_ca` (or LABCHECK_CACHE_CA) at the PEM file of the CA that signed the cache's certificate.".into(),
                );
            }
        }
    };
    let where_ = format!("{host}:{port}");
    let timeout = Duration::from_secs(5);
    let connecting = async {
        if cluster_mode {
            let mut builder = redis::cluster::ClusterClient::builder(vec![url.as_str()])
                .connection_timeout(timeout)
                .response_timeout(timeout)
                .retries(1);
            if let Some(pem) = root_cert {
                builder = builder.certs(redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                });
            }
            let client = builder.build()?;
            Ok(Conn::Cluster(client.get_async_connection().await?))
        } else {
            let client = match root_cert {
                Some(pem) => redis::Client::build_with_tls(
                    url.as_str(),
                    redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(pem),
                    },
                )?,
                None => redis::Client::open(url.as_str())?,
            };
            let config = redis::AsyncConnectionConfig::new()
                .set_connection_timeout(Some(timeout))
                .set_response_timeout(Some(timeout));
            Ok::<_, redis::RedisError>(Conn::Node(
                client.get_multiplexed_async_connection_with_config(&config).await?,
            ))
        }
    };
    match tokio::time::timeout(Duration::from_secs(8), connecting).await {
        Ok(Ok(conn)) => Connected::Ok(conn, where_),
        Ok(Err(e)) => failure(&where_, &e.to_string(), &format!("{e:?}")),
        Err(_) => failure(&where_, "timed out", "timed out"),
    }
}

/// The `rediss://` address of the cache, signed in as `user` with
/// `password` when they are given (ElastiCache RBAC, the lab's optional
/// part: the app's `CACHE_LOCATION` carries them the same way), each
/// percent-encoded as a URL's user information must be.
fn cache_url(host: &str, port: u16, user: &str, password: &str, insecure: bool) -> Result<String, url::ParseError> {
    let mut url = url::Url::parse(&format!("rediss://{host}:{port}/"))?;
    if !password.is_empty() {
        // A password without a user signs in as `default`, as AUTH does.
        let user = if user.is_empty() { "default" } else { user };
        url.set_username(user).map_err(|()| url::ParseError::EmptyHost)?;
        url.set_password(Some(password))
            .map_err(|()| url::ParseError::EmptyHost)?;
    }
    if insecure {
        url.set_fragment(Some("insecure"));
    }
    Ok(url.to_string())
}

/// A cache that wants a user and password labcheck did not give, or that
/// refused those it gave (`all`: the error's text, lowercased), as a
/// message and a hint; the password itself is never part of either.
fn sign_in_trouble(where_: &str, all: &str) -> Option<(String, String)> {
    if all.contains("noauth") {
        Some((
            format!("{where_} requires signing in (NOAUTH Authentication required)"),
            "The cache has a user group attached (RBAC): give labcheck the app's user and password, as the app has them in CACHE_LOCATION, in CACHE_USER and CACHE_PASSWORD (or the parameters cache_user and cache_password), and check again.".to_string(),
        ))
    } else if [
        "wrongpass",
        "invalid username-password",
        "authentication failed",
        "authenticationfailed",
    ]
    .iter()
    .any(|m| all.contains(m))
    {
        Some((
            format!("{where_} refused the user or the password labcheck signed in with (WRONGPASS)"),
            "Check CACHE_USER and CACHE_PASSWORD against the app's user in the cache's user group (aws elasticache describe-users), and that its access string starts with `on`.".to_string(),
        ))
    } else {
        None
    }
}

/// Turns a connection error into a message and a hint the learner can act on.
fn failure(where_: &str, text: &str, debug: &str) -> Connected {
    let all = format!("{text} {debug}").to_ascii_lowercase();
    let (message, hint) = if all.contains("certificate")
        || all.contains("unknownissuer")
        || all.contains("invalidcertificate")
    {
        (
            format!("the TLS certificate of {where_} could not be verified ({text})"),
            "labcheck verifies the cache's certificate against the system's trusted roots. If the cache uses a CA of its own, set `cache_ca = \"/path/to/ca.pem\"` (or LABCHECK_CACHE_CA); `--insecure` skips the verification, and says so.".to_string(),
        )
    } else if all.contains("timed out") || all.contains("timeout") {
        (
            format!("no answer from {where_} (timed out)"),
            "A silent timeout inside the VPC usually means a security group drops the traffic: let the cache's security group admit TCP 6379 from the IDE's and the Elastic Beanstalk environment's security groups.".to_string(),
        )
    } else if let Some(trouble) = sign_in_trouble(where_, &all) {
        trouble
    } else if all.contains("refused") {
        (
            format!("{where_} refused the connection"),
            "The cache is not listening at that address: check that it is available and that the endpoint is right."
                .to_string(),
        )
    } else if all.contains("handshake")
        || all.contains("corrupt message")
        || all.contains("invalidcontenttype")
        || all.contains("unexpected eof")
    {
        (
            format!("{where_} does not speak TLS ({text})"),
            "The cache must have encryption in transit on, and the app must connect with rediss://.".to_string(),
        )
    } else {
        (format!("cannot connect to {where_}: {text}"), String::new())
    };
    Connected::Failed(message, hint)
}

async fn reachable(acc: Arc<Account>) -> CheckResult {
    let (mut conn, where_) = match connect(&acc).await? {
        Connected::Ok(conn, w) => (conn, w),
        Connected::Skip(why) => return Ok(Outcome::ungraded(why)),
        Connected::Failed(message, hint) => return Ok(with_hint(Outcome::fail(message), hint)),
    };
    let pong = conn
        .query(redis::cmd("PING"), None)
        .await
        .and_then(|v| redis::from_redis_value::<String>(v).map_err(Into::into));
    let insecure = if acc.insecure {
        " (certificate NOT verified: --insecure)"
    } else {
        ""
    };
    Ok(match pong {
        Ok(reply) if reply.eq_ignore_ascii_case("PONG") => {
            Outcome::pass(format!("{where_} answered PING over TLS{insecure}"))
        }
        Ok(reply) => Outcome::fail(format!("{where_} answered PING with {reply:?}")),
        Err(e) => match sign_in_trouble(&where_, &format!("{e} {e:?}").to_ascii_lowercase()) {
            Some((message, hint)) => Outcome::fail(message).hint(hint),
            None => Outcome::fail(format!("PING to {where_} failed: {e}")),
        },
    }
    .evidence(json!({"endpoint": where_, "tls": true, "certificate_verified": !acc.insecure})))
}

fn with_hint(outcome: Outcome, hint: String) -> Outcome {
    if hint.is_empty() { outcome } else { outcome.hint(hint) }
}

/// The part of a key that Django's cache session backends write.
const SESSION_KEY_MARK: &str = "django.contrib.sessions.cache";

/// Keys examined at most by SCAN.
const MAX_SCANNED: usize = 200_000;

async fn sessions(acc: Arc<Account>) -> CheckResult {
    let (mut conn, where_) = match connect(&acc).await? {
        Connected::Ok(conn, w) => (conn, w),
        Connected::Skip(why) => return Ok(Outcome::ungraded(why)),
        Connected::Failed(message, _) => return Err(CheckError::Other(message)),
    };
    let pattern = format!("*{SESSION_KEY_MARK}*");
    // One node, or every primary of a cluster: each holds its own keys.
    let nodes: Vec<Option<(String, u16)>> = match &conn {
        Conn::Node(_) => vec![None],
        Conn::Cluster(_) => {
            let slots = conn
                .query(redis::cmd("CLUSTER").arg("SLOTS").clone(), None)
                .await
                .map_err(|e| CheckError::Other(format!("CLUSTER SLOTS on {where_} failed: {e}")))?;
            let host = where_.rsplit_once(':').map_or(where_.as_str(), |(h, _)| h);
            primaries(&slots, host).into_iter().map(Some).collect()
        }
    };
    let mut found = 0usize;
    let mut scanned = 0usize;
    let mut complete = true;
    for node in &nodes {
        let mut cursor: u64 = 0;
        loop {
            let reply = conn
                .query(
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(1000)
                        .clone(),
                    node.as_ref(),
                )
                .await
                .and_then(|v| redis::from_redis_value::<(u64, Vec<String>)>(v).map_err(Into::into));
            let (next, keys) = reply.map_err(|e| CheckError::Other(format!("SCAN on {where_} failed: {e}")))?;
            found += keys.len();
            scanned += 1000;
            cursor = next;
            if cursor == 0 {
                break;
            }
            if scanned >= MAX_SCANNED {
                complete = false;
                break;
            }
        }
        if !complete {
            break;
        }
    }
    let shards = if nodes.len() > 1 {
        format!(" across {} shards", nodes.len())
    } else {
        String::new()
    };
    let evidence = json!({"endpoint": where_, "session_keys": found, "pattern": pattern, "complete": complete, "shards_scanned": nodes.len()});
    Ok(if found > 0 {
        Outcome::pass(format!("{found} Django session keys in the cache{shards}")).evidence(evidence)
    } else {
        Outcome::fail(format!("no Django session keys in the cache at {where_}{shards}")).evidence(evidence)
    })
}

/// The primaries of a cluster, from its CLUSTER SLOTS reply: each slot
/// range names its primary first (`[start, end, [host, port, id], replicas…]`,
/// Redis's CLUSTER SLOTS reference). An empty host means the node answering.
fn primaries(slots: &redis::Value, answering_host: &str) -> Vec<(String, u16)> {
    use redis::Value;
    let text = |v: &Value| match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    };
    let Value::Array(ranges) = slots else {
        return Vec::new();
    };
    let mut out: Vec<(String, u16)> = Vec::new();
    for range in ranges {
        let Value::Array(parts) = range else { continue };
        let Some(Value::Array(node)) = parts.get(2) else {
            continue;
        };
        let (Some(host), Some(Value::Int(port))) = (node.first().and_then(text), node.get(1)) else {
            continue;
        };
        let host = if host.is_empty() || host == "?" {
            answering_host.to_string()
        } else {
            host
        };
        let Ok(port) = u16::try_from(*port) else { continue };
        if !out.contains(&(host.clone(), port)) {
            out.push((host, port));
        }
    }
    out
}

async fn network_rule(acc: Arc<Account>) -> CheckResult {
    let c = the_cache(&acc).await?;
    let port = c.endpoint.as_ref().map_or(6379, |(_, p)| *p as i32);
    let what = format!("{} {}", c.flavour.describe(), c.name);
    Ok(network::security_group_outcome(&acc, &what, &c.security_groups, port).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message_and_hint(c: Connected) -> (String, String) {
        match c {
            Connected::Failed(m, h) => (m, h),
            _ => panic!("expected a failure"),
        }
    }

    #[test]
    fn a_timeout_inside_the_vpc_points_at_security_groups() {
        let (m, h) = message_and_hint(failure("10.0.0.5:6379", "timed out", "timed out"));
        assert_eq!(m, "no answer from 10.0.0.5:6379 (timed out)");
        assert!(h.contains("security group") && h.contains("6379"), "{h}");
    }

    #[test]
    fn the_address_carries_the_user_and_password_encoded_only_when_given() {
        assert_eq!(
            cache_url("pets.serverless.usw2.cache.amazonaws.com", 6379, "", "", false).unwrap(),
            "rediss://pets.serverless.usw2.cache.amazonaws.com:6379/"
        );
        assert_eq!(
            cache_url("127.0.0.1", 26380, "pets-app", "p@ss:w/rd#1", true).unwrap(),
            "rediss://pets-app:p%40ss%3Aw%2Frd%231@127.0.0.1:26380/#insecure"
        );
        assert_eq!(
            cache_url("h", 6379, "", "only-a-password", false).unwrap(),
            "rediss://default:only-a-password@h:6379/"
        );
    }

    #[test]
    fn a_cache_that_requires_signing_in_says_which_variables_to_set() {
        let (m, h) = message_and_hint(failure("h:6379", "NOAUTH: Authentication required.", ""));
        assert!(
            m.contains("requires signing in") && h.contains("CACHE_PASSWORD"),
            "{m} / {h}"
        );
        let (m, h) = message_and_hint(failure(
            "h:6379",
            "WRONGPASS: invalid username-password pair or user is disabled.",
            "",
        ));
        assert!(m.contains("WRONGPASS") && h.contains("describe-users"), "{m} / {h}");
        // What the client library says when its own AUTH on connecting fails.
        let (m, _) = message_and_hint(failure(
            "h:6379",
            "Password authentication failed - AuthenticationFailed",
            "",
        ));
        assert!(m.contains("WRONGPASS"), "{m}");
    }

    #[test]
    fn certificate_and_plaintext_errors_are_told_apart() {
        let (m, h) = message_and_hint(failure("h:6379", "invalid peer certificate: UnknownIssuer", ""));
        assert!(
            m.contains("could not be verified") && h.contains("cache_ca"),
            "{m} / {h}"
        );
        let (m, h) = message_and_hint(failure(
            "h:6379",
            "received corrupt message of type InvalidContentType",
            "",
        ));
        assert!(m.contains("does not speak TLS") && h.contains("rediss://"), "{m} / {h}");
    }

    #[test]
    fn a_clusters_primaries_from_cluster_slots() {
        use redis::Value;
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let node = |host: &str, port: i64, id: &str| Value::Array(vec![bulk(host), Value::Int(port), bulk(id)]);
        // The reply's shape in Redis's CLUSTER SLOTS reference: ranges,
        // each with its primary then its replicas.
        let reply = Value::Array(vec![
            Value::Array(vec![
                Value::Int(0),
                Value::Int(5460),
                node("clustercfg-0001-001.x.cache.amazonaws.com", 6379, "a1"),
                node("clustercfg-0001-002.x.cache.amazonaws.com", 6379, "a2"),
            ]),
            Value::Array(vec![Value::Int(5461), Value::Int(10922), node("", 6380, "b1")]),
            Value::Array(vec![Value::Int(10923), Value::Int(12000), node("", 6380, "b1")]),
            Value::Array(vec![Value::Int(12001), Value::Int(16383), node("10.0.1.9", 6379, "c1")]),
        ]);
        assert_eq!(
            primaries(&reply, "clustercfg.x.cache.amazonaws.com"),
            vec![
                ("clustercfg-0001-001.x.cache.amazonaws.com".to_string(), 6379),
                ("clustercfg.x.cache.amazonaws.com".to_string(), 6380),
                ("10.0.1.9".to_string(), 6379),
            ]
        );
        assert!(primaries(&bulk("not an array"), "h").is_empty());
    }
}
