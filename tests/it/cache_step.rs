//! The `cache` step against the sandbox's real TLS Redis: each check passes
//! on the solved state and fails on the fault that concerns it.

use crate::common::{check, learner, repo, run_sandbox, sandbox_env, statuses, text};

fn pair(id: &str, status: &str) -> (String, String) {
    (id.to_string(), status.to_string())
}

#[test]
fn solved_account_passes_every_cache_check() {
    let l = learner("solved_account_passes_every_cache_check");
    let (code, report) = l.check_json(&["cache"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        check(&report, "cache.exists")["message"],
        "serverless cache pets-project (valkey 8.0) is available"
    );
    assert_eq!(check(&report, "cache.exists")["evidence"]["kind"], "serverless cache");
    assert!(
        check(&report, "cache.tls")["message"]
            .as_str()
            .unwrap()
            .contains("always encrypts in transit")
    );
    assert_eq!(
        check(&report, "cache.reachable")["message"],
        "127.0.0.1:26380 answered PING over TLS"
    );
    assert_eq!(
        check(&report, "cache.reachable")["evidence"]["certificate_verified"],
        true
    );
    let sessions = check(&report, "cache.sessions");
    assert!(
        sessions["evidence"]["session_keys"].as_u64().unwrap() >= 1,
        "{sessions}"
    );
    let network = check(&report, "cache.network")["message"].as_str().unwrap().to_string();
    assert!(
        network.contains("(the group of the Elastic Beanstalk environment)"),
        "{network}"
    );
}

#[tokio::test]
async fn missing_cache_fails_exists_and_skips_the_rest() {
    let l = learner("missing_cache_fails_exists_and_skips_the_rest");
    l.elasticache()
        .delete_serverless_cache()
        .serverless_cache_name("pets-project")
        .send()
        .await
        .unwrap();
    let (code, report) = l.check_json(&["cache"]);
    assert_eq!(code, 1, "{report:#}");
    let exists = check(&report, "cache.exists");
    assert_eq!(exists["status"], "fail");
    assert_eq!(
        exists["message"],
        "no serverless cache, replication group or cluster named pets-project in us-west-2"
    );
    assert!(exists["hint"].as_str().unwrap().contains("Create a Valkey"), "{exists}");
    assert!(
        exists["fix"]
            .as_str()
            .unwrap()
            .contains("create-serverless-cache --serverless-cache-name pets-project")
    );
    for id in ["cache.tls", "cache.network", "cache.reachable", "cache.sessions"] {
        assert_eq!(check(&report, id)["status"], "skip", "{id}");
    }
}

#[test]
fn cache_without_tls_fails_tls() {
    let l = learner("cache_without_tls_fails_tls");
    l.break_("cache-no-tls");
    let (code, report) = l.check_json(&["cache"]);
    assert_eq!(code, 1, "{report:#}");
    let tls = check(&report, "cache.tls");
    assert_eq!(tls["status"], "fail");
    assert!(
        tls["message"]
            .as_str()
            .unwrap()
            .ends_with("pets-project has encryption in transit off"),
        "{tls}"
    );
    assert!(tls["hint"].as_str().unwrap().contains("rediss://"), "{tls}");
    assert_eq!(check(&report, "cache.exists")["status"], "pass");
    assert_eq!(check(&report, "cache.reachable")["status"], "skip");
}

#[test]
fn closed_security_group_fails_network_only() {
    let l = learner("closed_cache_security_group_fails_network_only");
    l.break_("cache-sg-closed");
    let (code, report) = l.check_json(&["cache"]);
    assert_eq!(code, 1, "{report:#}");
    let net = check(&report, "cache.network");
    assert_eq!(net["status"], "fail");
    let message = net["message"].as_str().unwrap();
    assert!(message.contains("no inbound rule admits TCP"), "{message}");
    assert!(net["hint"].as_str().unwrap().contains("TCP 6379"), "{net}");
    let others: Vec<_> = statuses(&report)
        .into_iter()
        .filter(|(id, _)| id != "cache.network")
        .collect();
    assert!(others.iter().all(|(_, s)| s == "pass"), "{others:?}");
}

#[test]
fn untrusted_certificate_fails_and_insecure_says_so() {
    let l = learner("untrusted_certificate_fails_and_insecure_says_so");
    // Without the sandbox's CA, the system roots do not trust the cache.
    let out = l
        .labcheck()
        .args(["check", "cache.reachable", "--format", "json"])
        .env_remove("LABCHECK_CACHE_CA")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reach = check(&report, "cache.reachable");
    assert_eq!(reach["status"], "fail");
    assert!(
        reach["message"].as_str().unwrap().contains("could not be verified"),
        "{reach}"
    );
    assert!(reach["hint"].as_str().unwrap().contains("cache_ca"), "{reach}");

    let out = l
        .labcheck()
        .args(["check", "cache.reachable", "--insecure", "--format", "json"])
        .env_remove("LABCHECK_CACHE_CA")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        check(&report, "cache.reachable")["message"]
            .as_str()
            .unwrap()
            .contains("NOT verified")
    );
    assert!(report["notes"].to_string().contains("--insecure"), "{report:#}");
}

#[test]
fn outside_the_vpc_data_plane_checks_skip_not_fail() {
    let l = learner("outside_the_vpc_cache_checks_skip");
    let (code, report) = l.check_json(&["cache", "--set", "network=outside"]);
    assert_eq!(
        code, 0,
        "a skip because of where labcheck runs is no failure: {report:#}"
    );
    assert_eq!(
        statuses(&report),
        vec![
            pair("cache.exists", "pass"),
            pair("cache.tls", "pass"),
            pair("cache.network", "pass"),
            pair("cache.reachable", "skip"),
            pair("cache.sessions", "skip")
        ]
    );
    assert!(
        check(&report, "cache.reachable")["message"]
            .as_str()
            .unwrap()
            .contains("network = outside")
    );
}

/// The sandbox's Redis cluster (three TLS primaries), for as long as a test
/// holds it.
struct RedisCluster;

impl RedisCluster {
    fn start() -> RedisCluster {
        run_sandbox(&["redis_cluster.py", "start"]);
        RedisCluster
    }

    /// Runs redis-cli in cluster mode (it follows MOVED to the right shard).
    fn cli(&self, args: &[&str]) -> String {
        let env = sandbox_env();
        let out = std::process::Command::new("redis-cli")
            .args([
                "-c",
                "--tls",
                "--cacert",
                &env["LABCHECK_CACHE_CA"],
                "-h",
                "127.0.0.1",
                "-p",
                "26390",
            ])
            .args(args)
            .output()
            .expect("run redis-cli");
        assert!(out.status.success(), "redis-cli {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(repo().join("sandbox/redis_cluster.py"))
            .arg("stop")
            .output();
    }
}

/// A node-based cache with cluster mode on is read through its
/// configuration endpoint with a cluster client: the session keys of every
/// shard are counted, not only those of the node the endpoint lands on.
#[tokio::test]
async fn a_cluster_mode_cache_is_read_shard_by_shard() {
    let cluster = RedisCluster::start();
    let l = learner("a_cluster_mode_cache_is_read_shard_by_shard");
    let ec = l.elasticache();
    let serverless = ec
        .describe_serverless_caches()
        .serverless_cache_name("pets-project")
        .send()
        .await
        .unwrap();
    let groups = serverless.serverless_caches()[0].security_group_ids().to_vec();
    ec.delete_serverless_cache()
        .serverless_cache_name("pets-project")
        .send()
        .await
        .unwrap();
    ec.create_replication_group()
        .replication_group_id("pets-project")
        .replication_group_description("pets project sessions")
        .engine("redis")
        .cache_node_type("cache.t4g.micro")
        .cluster_mode(aws_sdk_elasticache::types::ClusterMode::Enabled)
        .num_node_groups(3)
        .replicas_per_node_group(0)
        .transit_encryption_enabled(true)
        .set_security_group_ids(Some(groups))
        .port(6379)
        .send()
        .await
        .unwrap();
    for i in 0..30 {
        let key = format!(":1:django.contrib.sessions.cachelabcheck{i}");
        cluster.cli(&["SET", &key, "x", "EX", "600"]);
    }
    // The keys are spread over the shards: any one node holds a part only.
    let one_node: usize = cluster.cli(&["DBSIZE"]).trim().parse().unwrap();
    assert!(one_node < 30, "one node holds {one_node} of 30 keys");
    // (cache.network is left out: the sandbox's groups admit its other ports.)
    let (code, report) = l.check_json(&["cache.exists", "cache.tls", "cache.reachable", "cache.sessions"]);
    assert_eq!(code, 0, "{report:#}");
    assert!(
        check(&report, "cache.exists")["message"]
            .as_str()
            .unwrap()
            .starts_with("replication group pets-project"),
        "{report:#}"
    );
    assert_eq!(check(&report, "cache.exists")["evidence"]["cluster_mode"], true);
    assert_eq!(
        check(&report, "cache.reachable")["message"],
        "127.0.0.1:26390 answered PING over TLS"
    );
    let sessions = check(&report, "cache.sessions");
    assert_eq!(
        sessions["message"], "30 Django session keys in the cache across 3 shards",
        "{sessions}"
    );
    assert_eq!(sessions["evidence"]["shards_scanned"], 3);
}

/// Undoes the `cache-requires-auth` fault when the test ends, passed or not.
struct RepairedAfter;

impl Drop for RepairedAfter {
    fn drop(&mut self) {
        crate::common::repair_sandbox();
    }
}

#[test]
fn a_cache_that_requires_signing_in_passes_with_the_apps_user_and_says_so_without() {
    let l = crate::common::learner_alone("a_cache_that_requires_signing_in");
    run_sandbox(&["break", "cache-requires-auth"]);
    let _repair = RepairedAfter;
    let auth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("sandbox/.state/redis-auth.json")).expect("the fault keeps its passwords"),
    )
    .unwrap();
    let (user, password) = (auth["user"].as_str().unwrap(), auth["password"].as_str().unwrap());

    // Without a user: NOAUTH, and the variables to set.
    let (code, report) = l.check_json(&["cache"]);
    assert_eq!(code, 1, "{report:#}");
    let reachable = check(&report, "cache.reachable");
    assert_eq!(reachable["status"], "fail");
    assert_eq!(
        reachable["message"],
        "127.0.0.1:26380 requires signing in (NOAUTH Authentication required)"
    );
    assert!(
        reachable["hint"].as_str().unwrap().contains("CACHE_PASSWORD"),
        "{reachable}"
    );
    assert_eq!(check(&report, "cache.sessions")["status"], "skip");

    // As the app signs in: both connection checks pass.
    let out = l
        .labcheck()
        .args(["check", "cache", "--format", "json"])
        .env("CACHE_USER", user)
        .env("CACHE_PASSWORD", password)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(
        statuses(&report),
        ["exists", "tls", "network", "reachable", "sessions"]
            .iter()
            .map(|c| pair(&format!("cache.{c}"), "pass"))
            .collect::<Vec<_>>()
    );

    // A wrong password: refused, and no password in any output.
    let wrong = "not-the-password-0d5e";
    for format in ["human", "json"] {
        let out = l
            .labcheck()
            .args(["check", "cache", "--format", format, "-v"])
            .env("CACHE_USER", user)
            .env("CACHE_PASSWORD", wrong)
            .output()
            .unwrap();
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(
            all.contains("refused the user or the password labcheck signed in with (WRONGPASS)"),
            "{all}"
        );
        assert!(
            !all.contains(wrong) && !all.contains(password),
            "a password was printed:\n{all}"
        );
    }
}
