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

use crate::aws::AwsError;
use crate::engine::account::Account;
use crate::engine::memo::MemoKey;
use crate::engine::outcome::Outcome;
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
    (kind.data_plane && acc.param("network") == "outside").then(|| TOLD_OUTSIDE.to_string())
}

/// The reason a check is left out with `network = outside`.
const TOLD_OUTSIDE: &str =
    "network = outside: labcheck was told it runs outside the VPC, so it does not connect inside it";

/// Decides whether a resource at `address` in `vpc` can be reached from
/// here. With `network = outside` a data-plane check never gets this far:
/// the engine leaves it out before it runs ([`told_outside`]).
pub async fn reach(acc: &Account, what: &str, address: &str, vpc: Option<&str>) -> Reach {
    if acc.param("network") == "inside" {
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

/// One inbound rule of a security group, flattened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// `tcp`, `udp`, `icmp`, ..., or `-1` for all traffic.
    pub protocol: String,
    /// First port of the range.
    pub from_port: i32,
    /// Last port of the range.
    pub to_port: i32,
    /// A CIDR or a security group id.
    pub source: String,
}

impl Rule {
    fn covers(&self, port: i32) -> bool {
        self.protocol == "-1"
            || (self.protocol.eq_ignore_ascii_case("tcp") && self.from_port <= port && port <= self.to_port)
    }

    /// The rule in words, like `TCP 6379 from sg-0123`.
    pub fn describe(&self) -> String {
        let ports = match (self.protocol.as_str(), self.from_port == self.to_port) {
            ("-1", _) => "all traffic".to_string(),
            (_, true) => format!("{} {}", self.protocol.to_uppercase(), self.from_port),
            _ => format!("{} {}-{}", self.protocol.to_uppercase(), self.from_port, self.to_port),
        };
        format!("{ports} from {}", self.source)
    }
}

/// Security groups with their VPC and inbound rules.
#[derive(Clone, Debug)]
pub struct Group {
    /// The group's id, like `sg-0123`.
    pub id: String,
    /// The group's name.
    pub name: String,
    /// The VPC the group belongs to.
    pub vpc_id: Option<String>,
    /// The group's inbound rules.
    pub rules: Vec<Rule>,
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
        rules: g
            .ip_permissions()
            .iter()
            .flat_map(|p| {
                let protocol = p.ip_protocol().unwrap_or("-1").to_string();
                let (from, to) = (p.from_port().unwrap_or(-1), p.to_port().unwrap_or(-1));
                let cidrs = p.ip_ranges().iter().filter_map(|r| r.cidr_ip().map(str::to_string));
                let v6 = p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6().map(str::to_string));
                let sgs = p
                    .user_id_group_pairs()
                    .iter()
                    .filter_map(|g| g.group_id().map(str::to_string));
                cidrs
                    .chain(v6)
                    .chain(sgs)
                    .map(move |source| Rule {
                        protocol: protocol.clone(),
                        from_port: from,
                        to_port: to,
                        source,
                    })
                    .collect::<Vec<_>>()
            })
            .collect(),
    }
}

/// The machines that must reach the lab's cache and database.
#[derive(Clone, Debug, Default)]
pub struct Clients {
    /// Security group ids, with who they belong to ("the EB environment").
    pub groups: Vec<(String, String)>,
    /// Private addresses (the IDE's), for CIDR rules.
    pub addresses: Vec<IpAddr>,
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
    Ok(match admits(&groups, port, &clients) {
        Ok(how) => Outcome::pass(how),
        Err(problem) => Outcome::fail(format!(
            "the security group of {what} ({}): {problem}",
            security_groups.join(", ")
        )),
    }
    .evidence(evidence))
}

/// Whether the groups admit `port` from the clients; Ok names the rule.
pub fn admits(groups: &[Group], port: i32, clients: &Clients) -> Result<String, String> {
    let rules: Vec<(&Group, &Rule)> = groups
        .iter()
        .flat_map(|g| g.rules.iter().map(move |r| (g, r)))
        .collect();
    let covering: Vec<&(&Group, &Rule)> = rules.iter().filter(|(_, r)| r.covers(port)).collect();
    if covering.is_empty() {
        let all: Vec<String> = rules.iter().map(|(_, r)| r.describe()).collect();
        let listed = if all.is_empty() {
            "it has no inbound rules".to_string()
        } else {
            format!("its inbound rules: {}", all.join("; "))
        };
        return Err(format!("no inbound rule admits TCP {port} ({listed})"));
    }
    for (group, rule) in &covering {
        if let Some((_, whose)) = clients.groups.iter().find(|(id, _)| *id == rule.source) {
            return Ok(format!(
                "{} admits {} (the group of {whose})",
                group.id,
                rule.describe()
            ));
        }
        if rule.source == "0.0.0.0/0" || rule.source == "::/0" {
            return Ok(format!(
                "{} admits {} — open to every address; the EB security group alone would be enough",
                group.id,
                rule.describe()
            ));
        }
        if clients.addresses.iter().any(|ip| cidr_contains(&rule.source, *ip)) {
            return Ok(format!(
                "{} admits {} (which contains this machine's address)",
                group.id,
                rule.describe()
            ));
        }
    }
    if clients.groups.is_empty() && clients.addresses.is_empty() {
        // Nothing known about the clients: a rule from a group or a private
        // range is the lab's setup.
        if let Some((group, rule)) = covering.first() {
            return Ok(format!("{} admits {}", group.id, rule.describe()));
        }
    }
    let sources: Vec<&str> = covering.iter().map(|(_, r)| r.source.as_str()).collect();
    let wanted: Vec<String> = clients
        .groups
        .iter()
        .map(|(id, whose)| format!("{id} ({whose})"))
        .collect();
    Err(format!(
        "TCP {port} is open only to {}, not to {}",
        sources.join(", "),
        wanted.join(" or ")
    ))
}

/// Whether an IPv4 or IPv6 CIDR contains an address.
pub fn cidr_contains(cidr: &str, ip: IpAddr) -> bool {
    let Some((net, bits)) = cidr.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(protocol: &str, from: i32, to: i32, source: &str) -> Rule {
        Rule {
            protocol: protocol.into(),
            from_port: from,
            to_port: to,
            source: source.into(),
        }
    }

    fn group(rules: Vec<Rule>) -> Vec<Group> {
        vec![Group {
            id: "sg-cache".into(),
            name: "cache".into(),
            vpc_id: Some("vpc-1".into()),
            rules,
        }]
    }

    fn eb_clients() -> Clients {
        Clients {
            groups: vec![("sg-eb".into(), "the Elastic Beanstalk environment".into())],
            addresses: vec![],
        }
    }

    #[test]
    fn a_rule_from_the_eb_group_admits() {
        let ok = admits(&group(vec![rule("tcp", 6379, 6379, "sg-eb")]), 6379, &eb_clients()).unwrap();
        assert_eq!(
            ok,
            "sg-cache admits TCP 6379 from sg-eb (the group of the Elastic Beanstalk environment)"
        );
    }

    #[test]
    fn the_wrong_port_or_group_is_refused_with_reasons() {
        let err = admits(&group(vec![rule("tcp", 22, 22, "0.0.0.0/0")]), 6379, &eb_clients()).unwrap_err();
        assert_eq!(
            err,
            "no inbound rule admits TCP 6379 (its inbound rules: TCP 22 from 0.0.0.0/0)"
        );
        let err = admits(&group(vec![rule("tcp", 6379, 6379, "sg-other")]), 6379, &eb_clients()).unwrap_err();
        assert_eq!(
            err,
            "TCP 6379 is open only to sg-other, not to sg-eb (the Elastic Beanstalk environment)"
        );
        let err = admits(&group(vec![]), 3306, &eb_clients()).unwrap_err();
        assert_eq!(err, "no inbound rule admits TCP 3306 (it has no inbound rules)");
    }

    #[test]
    fn ranges_all_traffic_and_cidrs() {
        assert!(admits(&group(vec![rule("tcp", 6000, 7000, "sg-eb")]), 6379, &eb_clients()).is_ok());
        assert!(admits(&group(vec![rule("-1", -1, -1, "sg-eb")]), 3306, &eb_clients()).is_ok());
        let ide = Clients {
            groups: vec![],
            addresses: vec!["10.0.3.7".parse().unwrap()],
        };
        assert!(admits(&group(vec![rule("tcp", 6379, 6379, "10.0.0.0/16")]), 6379, &ide).is_ok());
        assert!(admits(&group(vec![rule("tcp", 6379, 6379, "10.1.0.0/16")]), 6379, &ide).is_err());
        let open = admits(&group(vec![rule("tcp", 6379, 6379, "0.0.0.0/0")]), 6379, &eb_clients()).unwrap();
        assert!(open.contains("open to every address"), "{open}");
    }

    #[test]
    fn unknown_clients_accept_any_covering_rule() {
        assert!(admits(&group(vec![rule("tcp", 6379, 6379, "sg-x")]), 6379, &Clients::default()).is_ok());
    }

    #[test]
    fn cidrs() {
        assert!(cidr_contains("172.31.0.0/16", "172.31.200.1".parse().unwrap()));
        assert!(!cidr_contains("172.31.0.0/16", "172.32.0.1".parse().unwrap()));
        assert!(cidr_contains("0.0.0.0/0", "8.8.8.8".parse().unwrap()));
        assert!(!cidr_contains("garbage", "8.8.8.8".parse().unwrap()));
        assert!(cidr_contains("fd00::/8", "fd12::1".parse().unwrap()));
    }

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
