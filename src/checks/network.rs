//! Where labcheck runs and who may connect: whether a data-plane check can
//! reach a resource inside its VPC (or must be skipped), which security
//! groups belong to the clients (the Elastic Beanstalk environment, the
//! course IDE), and whether a security group admits a port from them.
//!
//! The location rule (parameter `network`):
//! - `inside` / `outside`: the learner says so.
//! - `auto` (default): an endpoint on this machine (loopback) is reachable;
//!   otherwise labcheck asks the EC2 instance metadata service which VPC it
//!   runs in. On an instance in the resource's VPC (the course IDE) it
//!   connects; anywhere else (a laptop, another VPC) data-plane checks are
//!   skipped with the reason, never failed.

mod rules;

pub use rules::{Clients, Group, Ranges, Rule, Source, admits, cidr_contains, cidr_covers};

use crate::aws::AwsError;
use crate::params::Param;
use crate::run::account::Account;
use crate::run::memo::MemoKey;
use crate::run::outcome::Outcome;
use std::net::IpAddr;
use std::time::Duration;

/// Whether labcheck can open connections to a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// labcheck can connect: why it thinks so.
    Inside(String),
    /// labcheck cannot connect from where it runs: why.
    Outside(String),
}

/// What the instance metadata service says about the machine labcheck runs on.
#[derive(Clone, Debug, Default)]
pub struct Host {
    /// The VPC the machine is in.
    pub vpc_id: Option<String>,
    /// The ids of the machine's security groups.
    pub security_groups: Vec<String>,
    /// The machine's private IP address.
    pub private_ip: Option<IpAddr>,
}

/// What IMDS says about this machine, asked once per run.
#[derive(PartialEq, Eq, Hash)]
struct ThisHost;
impl MemoKey for ThisHost {
    type Value = Option<Host>;
}

/// Asks IMDS (once per run) about this machine; None when not on EC2 or
/// when `AWS_EC2_METADATA_DISABLED` is set.
pub async fn host(acc: &Account) -> Option<Host> {
    acc.memo
        .once(ThisHost, || async {
            if std::env::var("AWS_EC2_METADATA_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true")) {
                return None;
            }
            let client = aws_config::imds::Client::builder()
                .max_attempts(1)
                .connect_timeout(Duration::from_secs(1))
                .read_timeout(Duration::from_secs(1))
                .build();
            let get = |path: String| {
                let client = client.clone();
                async move { client.get(path).await.ok().map(String::from) }
            };
            let mac = get("/latest/meta-data/mac".into()).await?;
            let base = format!("/latest/meta-data/network/interfaces/macs/{mac}");
            Some(Host {
                vpc_id: get(format!("{base}/vpc-id")).await,
                security_groups: get(format!("{base}/security-group-ids"))
                    .await
                    .map(|s| s.split_whitespace().map(str::to_string).collect())
                    .unwrap_or_default(),
                private_ip: get("/latest/meta-data/local-ipv4".into())
                    .await
                    .and_then(|ip| ip.trim().parse().ok()),
            })
        })
        .await
}

/// With `network = outside`, why a check that connects inside the VPC is
/// left out before it runs (whatever the checks it needs gave), as cohort
/// grading leaves it out; `None` for any other check or setting.
pub fn told_outside(acc: &Account, kind: &super::CheckKind) -> Option<String> {
    (kind.data_plane && acc.param(Param::Network) == "outside").then(|| TOLD_OUTSIDE.to_string())
}

/// The reason a check is left out with `network = outside`.
const TOLD_OUTSIDE: &str =
    "network = outside: labcheck was told it runs outside the VPC, so it does not connect inside it";

/// Decides whether a resource at `address` in `vpc` can be reached from
/// here. With `network = outside` a data-plane check never gets this far:
/// the engine leaves it out before it runs ([`told_outside`]).
pub async fn reach(acc: &Account, what: &str, address: &str, vpc: Option<&str>) -> Reach {
    if acc.param(Param::Network) == "inside" {
        return Reach::Inside("network = inside".into());
    }
    if resolves_to_loopback(address).await {
        return Reach::Inside(format!("the {what} endpoint is on this machine"));
    }
    decide(what, host(acc).await.as_ref(), vpc)
}

/// The `auto` rule, once the endpoint is known not to be local.
pub fn decide(what: &str, host: Option<&Host>, resource_vpc: Option<&str>) -> Reach {
    let advice = "run labcheck from the course IDE (an EC2 instance in the lab's VPC), or set `network = \"inside\"` if you have another path into the VPC";
    match (host, resource_vpc) {
        (None, _) => Reach::Outside(format!(
            "labcheck is not running on an EC2 instance, and the {what} is only reachable inside its VPC; {advice}"
        )),
        (Some(Host { vpc_id: Some(mine), .. }), Some(theirs)) if mine != theirs => Reach::Outside(format!(
            "labcheck runs in VPC {mine}, but the {what} is in VPC {theirs}; {advice}"
        )),
        (Some(Host { vpc_id: Some(mine), .. }), _) => Reach::Inside(format!("labcheck runs in VPC {mine}")),
        (Some(_), _) => Reach::Inside("labcheck runs on an EC2 instance".into()),
    }
}

async fn resolves_to_loopback(address: &str) -> bool {
    if let Ok(ip) = address.parse::<IpAddr>() {
        return ip.is_loopback();
    }
    if address.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match tokio::time::timeout(Duration::from_secs(3), tokio::net::lookup_host((address, 0))).await {
        Ok(Ok(mut addrs)) => addrs.next().is_some_and(|a| a.ip().is_loopback()),
        _ => false,
    }
}

/// For a data-plane check: `Ok(())` to go on, or the skip outcome.
pub async fn require_inside(acc: &Account, what: &str, address: &str, vpc: Option<&str>) -> Result<(), Outcome> {
    match reach(acc, what, address, vpc).await {
        Reach::Inside(_) => Ok(()),
        Reach::Outside(why) => Err(Outcome::ungraded(why)),
    }
}

/// The security groups with these ids. All groups of the Region are
/// described once per run (a lab account holds a handful), so the cache and
/// the database checks share one call.
pub async fn groups(acc: &Account, ids: &[String]) -> Result<Vec<Group>, AwsError> {
    let all = all_groups(acc).await?;
    Ok(all.iter().filter(|g| ids.contains(&g.id)).cloned().collect())
}

/// Every security group of the Region, described once per run.
#[derive(PartialEq, Eq, Hash)]
struct AllGroups;
impl MemoKey for AllGroups {
    type Value = Result<std::sync::Arc<Vec<Group>>, AwsError>;
}

async fn all_groups(acc: &Account) -> Result<std::sync::Arc<Vec<Group>>, AwsError> {
    acc.memo
        .once(AllGroups, || async {
            let mut pages = acc.ec2.describe_security_groups().into_paginator().send();
            let mut found = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk("ec2:DescribeSecurityGroups", e))?;
                found.extend(page.security_groups().iter().map(group));
            }
            Ok(std::sync::Arc::new(found))
        })
        .await
}

fn group(g: &aws_sdk_ec2::types::SecurityGroup) -> Group {
    Group {
        id: g.group_id().unwrap_or_default().to_string(),
        name: g.group_name().unwrap_or_default().to_string(),
        vpc_id: g.vpc_id().map(str::to_string),
        rules: g.ip_permissions().iter().flat_map(rules::rules_of).collect(),
    }
}

/// The clients of the cache and the database, found once per run.
#[derive(PartialEq, Eq, Hash)]
struct TheClients;
impl MemoKey for TheClients {
    type Value = Clients;
}

/// The Elastic Beanstalk environment's security groups (from its
/// configuration) and, on EC2, this machine's: once per run.
pub async fn clients(acc: &Account) -> Clients {
    acc.memo
        .once(TheClients, || async {
            let mut clients = Clients::default();
            if let Ok(settings) = super::eb::option_settings(acc).await {
                let groups = settings
                    .iter()
                    .filter(|o| o.namespace == "aws:autoscaling:launchconfiguration" && o.name == "SecurityGroups")
                    .flat_map(|o| {
                        o.value
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect::<Vec<_>>()
                    });
                for sg in groups {
                    clients.groups.push((sg, "the Elastic Beanstalk environment".into()));
                }
            }
            if let Some(host) = host(acc).await {
                for sg in host.security_groups {
                    clients.groups.push((sg, "this machine (the IDE)".into()));
                }
                clients.addresses.extend(host.private_ip);
            }
            clients
        })
        .await
}

/// The outcome of `cache.network` and `rds.network`: whether the resource's
/// security groups admit `port` from the app's and the IDE's groups.
pub async fn security_group_outcome(
    acc: &Account,
    what: &str,
    security_groups: &[String],
    port: i32,
) -> Result<Outcome, AwsError> {
    if security_groups.is_empty() {
        return Ok(Outcome::fail(format!("{what} has no security group")));
    }
    // Neither answer needs the other: asked at once.
    let (groups, clients) = tokio::join!(groups(acc, security_groups), clients(acc));
    let groups = groups?;
    let evidence = serde_json::json!({
        "security_groups": security_groups,
        "port": port,
        "client_groups": clients.groups.iter().map(|(id, _)| id).collect::<Vec<_>>(),
    });
    let mut verdict = admits(&groups, port, &clients, &Ranges::default());
    let (lists, wanted) = rules::ranges_wanted(&groups, port);
    if verdict.is_err() && wanted {
        // A range or a prefix list may cover the clients: read what they hold.
        verdict = admits(&groups, port, &clients, &ranges(acc, &lists, &clients).await?);
    }
    Ok(match verdict {
        Ok(how) => Outcome::pass(how),
        Err(problem) => Outcome::fail(format!(
            "the security group of {what} ({}): {problem}",
            security_groups.join(", ")
        )),
    }
    .evidence(evidence))
}

/// The entries of the prefix lists `lists`, and the CIDR blocks of the VPCs
/// the client groups live in (ec2:GetManagedPrefixListEntries,
/// ec2:DescribeVpcs), asked at once.
async fn ranges(acc: &Account, lists: &[String], clients: &Clients) -> Result<Ranges, AwsError> {
    let all = all_groups(acc).await?;
    let mut vpcs: Vec<(String, String)> = Vec::new();
    for (id, whose) in &clients.groups {
        if let Some(vpc) = all.iter().find(|g| &g.id == id).and_then(|g| g.vpc_id.clone())
            && !vpcs.iter().any(|(v, _)| *v == vpc)
        {
            vpcs.push((vpc, whose.clone()));
        }
    }
    let entries = futures::future::join_all(lists.iter().map(|id| async move {
        let mut pages = acc
            .ec2
            .get_managed_prefix_list_entries()
            .prefix_list_id(id)
            .into_paginator()
            .send();
        let mut cidrs = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("ec2:GetManagedPrefixListEntries", e))?;
            cidrs.extend(page.entries().iter().filter_map(|e| e.cidr().map(str::to_string)));
        }
        Ok::<_, AwsError>((id.clone(), cidrs))
    }));
    let described = async {
        if vpcs.is_empty() {
            return Ok(Vec::new());
        }
        acc.ec2
            .describe_vpcs()
            .set_vpc_ids(Some(vpcs.iter().map(|(v, _)| v.clone()).collect()))
            .send()
            .await
            .map(|out| out.vpcs().to_vec())
            .map_err(|e| AwsError::from_sdk("ec2:DescribeVpcs", e))
    };
    let (entries, described) = tokio::join!(entries, described);
    let mut ranges = Ranges::default();
    for entry in entries {
        let (id, cidrs) = entry?;
        ranges.prefix_lists.insert(id, cidrs);
    }
    for vpc in described? {
        let Some((_, whose)) = vpcs.iter().find(|(v, _)| Some(v.as_str()) == vpc.vpc_id()) else {
            continue;
        };
        let blocks = vpc
            .cidr_block_association_set()
            .iter()
            .filter_map(|b| b.cidr_block())
            .chain(vpc.cidr_block())
            .chain(
                vpc.ipv6_cidr_block_association_set()
                    .iter()
                    .filter_map(|b| b.ipv6_cidr_block()),
            );
        for block in blocks {
            if !ranges.client_vpcs.iter().any(|(c, _)| c == block) {
                ranges.client_vpcs.push((block.to_string(), whose.clone()));
            }
        }
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_rule() {
        let outside = decide("cache", None, Some("vpc-1"));
        assert!(
            matches!(&outside, Reach::Outside(why) if why.contains("not running on an EC2 instance")),
            "{outside:?}"
        );
        let host = Host {
            vpc_id: Some("vpc-2".into()),
            ..Host::default()
        };
        assert!(
            matches!(decide("cache", Some(&host), Some("vpc-1")), Reach::Outside(why) if why.contains("runs in VPC vpc-2, but the cache is in VPC vpc-1"))
        );
        assert!(matches!(decide("cache", Some(&host), Some("vpc-2")), Reach::Inside(_)));
        assert!(matches!(decide("cache", Some(&host), None), Reach::Inside(_)));
    }
}
