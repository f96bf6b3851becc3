//! Security group inbound rules as DescribeSecurityGroups returns them
//! (EC2 API reference, `IpPermission`), and whether they admit a port from
//! the lab's clients.
//!
//! - `IpProtocol` is a name or a number: `tcp` or `6`, `-1` for all traffic
//!   (whose ports are then absent).
//! - A rule's sources are IPv4 ranges (`IpRanges`), IPv6 ranges
//!   (`Ipv6Ranges`), managed prefix lists (`PrefixListIds`, whose entries
//!   are CIDRs) and security groups (`UserIdGroupPairs`, possibly of
//!   another account or across a VPC peering connection).
//! - A range admits a client group when it covers the whole CIDR of the
//!   VPC that group lives in: every instance of the group has an address
//!   in it.

use std::collections::HashMap;
use std::net::IpAddr;

/// Where a rule admits traffic from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// An IPv4 or IPv6 range.
    Cidr(String),
    /// A security group; `via` names its account and peering connection
    /// when the rule reaches across them, `stale` when that peering is gone.
    Group {
        /// The group's id.
        id: String,
        /// How the rule reaches it, in words ("account 1111…, peering pcx-…").
        via: Option<String>,
        /// The peering connection is deleted, failed or rejected.
        stale: bool,
    },
    /// A managed prefix list, by id.
    PrefixList(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Cidr(c) => write!(f, "{c}"),
            Source::Group { id, via: None, .. } => write!(f, "{id}"),
            Source::Group { id, via: Some(via), .. } => write!(f, "{id} ({via})"),
            Source::PrefixList(id) => write!(f, "prefix list {id}"),
        }
    }
}

/// One inbound rule of a security group, for one source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// `tcp`, `udp`, `icmp`, ..., or `all` (AWS's `-1`); numbers named.
    pub protocol: String,
    /// First port of the range.
    pub from_port: i32,
    /// Last port of the range.
    pub to_port: i32,
    /// Where it admits traffic from.
    pub source: Source,
}

/// AWS's `IpProtocol` as a name: the protocol numbers AWS accepts in its
/// place (IANA: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6), `-1` as `all`.
pub(super) fn protocol_name(ip_protocol: &str) -> String {
    match ip_protocol.to_ascii_lowercase().as_str() {
        "-1" | "all" => "all".into(),
        "6" | "tcp" => "tcp".into(),
        "17" | "udp" => "udp".into(),
        "1" | "icmp" => "icmp".into(),
        "58" | "icmpv6" => "icmpv6".into(),
        other => other.into(),
    }
}

impl Rule {
    /// Whether the rule lets TCP traffic to `port` in.
    pub fn covers(&self, port: i32) -> bool {
        self.protocol == "all" || (self.protocol == "tcp" && self.from_port <= port && port <= self.to_port)
    }

    /// The rule in words, like `TCP 6379 from sg-0123`.
    pub fn describe(&self) -> String {
        let ports = match (self.protocol.as_str(), self.from_port == self.to_port) {
            ("all", _) => "all traffic".to_string(),
            (_, true) => format!("{} {}", self.protocol.to_uppercase(), self.from_port),
            _ => format!("{} {}-{}", self.protocol.to_uppercase(), self.from_port, self.to_port),
        };
        format!("{ports} from {}", self.source)
    }
}

/// The rules of one `IpPermission`, a rule per source.
pub(super) fn rules_of(p: &aws_sdk_ec2::types::IpPermission) -> Vec<Rule> {
    let protocol = protocol_name(p.ip_protocol().unwrap_or("-1"));
    let (from, to) = (p.from_port().unwrap_or(-1), p.to_port().unwrap_or(-1));
    let cidrs = p
        .ip_ranges()
        .iter()
        .filter_map(|r| r.cidr_ip().map(|c| Source::Cidr(c.to_string())));
    let v6 = p
        .ipv6_ranges()
        .iter()
        .filter_map(|r| r.cidr_ipv6().map(|c| Source::Cidr(c.to_string())));
    let lists = p
        .prefix_list_ids()
        .iter()
        .filter_map(|l| l.prefix_list_id().map(|id| Source::PrefixList(id.to_string())));
    let groups = p.user_id_group_pairs().iter().filter_map(|g| {
        let id = g.group_id().or(g.group_name())?.to_string();
        let mut via = Vec::new();
        if let Some(peering) = g.vpc_peering_connection_id() {
            via.push(format!("peering {peering}"));
            if let Some(vpc) = g.vpc_id() {
                via.push(format!("VPC {vpc}"));
            }
        }
        if let Some(owner) = g.user_id().filter(|_| !via.is_empty()) {
            via.insert(0, format!("account {owner}"));
        }
        let stale = g
            .peering_status()
            .is_some_and(|s| matches!(s, "deleted" | "deleting" | "failed" | "rejected" | "expired"));
        Some(Source::Group {
            id,
            via: (!via.is_empty()).then(|| via.join(", ")),
            stale,
        })
    });
    cidrs
        .chain(v6)
        .chain(lists)
        .chain(groups)
        .map(|source| Rule {
            protocol: protocol.clone(),
            from_port: from,
            to_port: to,
            source,
        })
        .collect()
}

/// A security group with its VPC and inbound rules.
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

/// The machines that must reach the lab's cache and database.
#[derive(Clone, Debug, Default)]
pub struct Clients {
    /// Security group ids, with who they belong to ("the EB environment").
    pub groups: Vec<(String, String)>,
    /// Private addresses (the IDE's), for CIDR rules.
    pub addresses: Vec<IpAddr>,
}

/// What ranges mean, read from AWS when a rule names one: the CIDRs of
/// each prefix list the rules use, and the CIDR blocks of the VPC each
/// client group lives in (with whose group it is).
#[derive(Clone, Debug, Default)]
pub struct Ranges {
    /// Prefix list id → its entries' CIDRs.
    pub prefix_lists: HashMap<String, Vec<String>>,
    /// (a CIDR block of a client group's VPC, whose group it is).
    pub client_vpcs: Vec<(String, String)>,
}

/// The prefix lists the rules covering `port` name, and whether any of
/// them (or a range) needs the clients' VPC ranges to be judged.
pub(super) fn ranges_wanted(groups: &[Group], port: i32) -> (Vec<String>, bool) {
    let covering = groups.iter().flat_map(|g| &g.rules).filter(|r| r.covers(port));
    let mut lists = Vec::new();
    let mut cidrs = false;
    for rule in covering {
        match &rule.source {
            Source::PrefixList(id) if !lists.contains(id) => lists.push(id.clone()),
            Source::PrefixList(_) => {}
            Source::Cidr(c) => cidrs |= !c.ends_with("/0"),
            Source::Group { .. } => {}
        }
    }
    let wanted = cidrs || !lists.is_empty();
    (lists, wanted)
}

/// How a range admits a client, in words; `None` when it does not.
fn range_admits(cidr: &str, clients: &Clients, ranges: &Ranges) -> Option<String> {
    if cidr == "0.0.0.0/0" || cidr == "::/0" {
        return Some("open to every address; the EB security group alone would be enough".into());
    }
    if clients.addresses.iter().any(|ip| cidr_contains(cidr, *ip)) {
        return Some(format!("{cidr} contains this machine's address"));
    }
    ranges
        .client_vpcs
        .iter()
        .find(|(vpc_cidr, _)| cidr_covers(cidr, vpc_cidr))
        .map(|(vpc_cidr, whose)| format!("{cidr} covers {vpc_cidr}, the VPC of {whose}"))
}

/// Whether the groups admit `port` from the clients; Ok names the rule.
pub fn admits(groups: &[Group], port: i32, clients: &Clients, ranges: &Ranges) -> Result<String, String> {
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
    let mut stale = Vec::new();
    for (group, rule) in &covering {
        let how = match &rule.source {
            Source::Group { id, stale: true, .. } if clients.groups.iter().any(|(g, _)| g == id) => {
                stale.push(rule.describe());
                None
            }
            Source::Group { id, .. } => clients
                .groups
                .iter()
                .find(|(g, _)| g == id)
                .map(|(_, whose)| format!("the group of {whose}")),
            Source::Cidr(cidr) => range_admits(cidr, clients, ranges),
            Source::PrefixList(id) => ranges
                .prefix_lists
                .get(id)
                .into_iter()
                .flatten()
                .find_map(|cidr| range_admits(cidr, clients, ranges))
                .map(|how| format!("{id} holds {how}")),
        };
        if let Some(how) = how {
            return Ok(format!("{} admits {} ({how})", group.id, rule.describe()));
        }
    }
    if clients.groups.is_empty() && clients.addresses.is_empty() {
        // Nothing known about the clients: a rule from a group or a private
        // range is the lab's setup.
        if let Some((group, rule)) = covering.first() {
            return Ok(format!("{} admits {}", group.id, rule.describe()));
        }
    }
    let sources: Vec<String> = covering.iter().map(|(_, r)| r.source.to_string()).collect();
    let wanted: Vec<String> = clients
        .groups
        .iter()
        .map(|(id, whose)| format!("{id} ({whose})"))
        .collect();
    let mut problem = format!(
        "TCP {port} is open only to {}, not to {}",
        sources.join(", "),
        wanted.join(" or ")
    );
    if !stale.is_empty() {
        problem.push_str(&format!(
            "; {} goes through a peering connection that no longer works",
            stale.join("; ")
        ));
    }
    Err(problem)
}

fn parse_cidr(cidr: &str) -> Option<(IpAddr, u32)> {
    let (net, bits) = cidr.split_once('/')?;
    Some((net.trim().parse().ok()?, bits.trim().parse().ok()?))
}

fn masked(ip: IpAddr, bits: u32) -> Option<u128> {
    match ip {
        IpAddr::V4(a) if bits <= 32 => Some(u128::from(
            u32::from(a) & if bits == 0 { 0 } else { u32::MAX << (32 - bits) },
        )),
        IpAddr::V6(a) if bits <= 128 => Some(u128::from(a) & if bits == 0 { 0 } else { u128::MAX << (128 - bits) }),
        _ => None,
    }
}

/// Whether an IPv4 or IPv6 CIDR contains an address.
pub fn cidr_contains(cidr: &str, ip: IpAddr) -> bool {
    let Some((net, bits)) = parse_cidr(cidr) else {
        return false;
    };
    net.is_ipv4() == ip.is_ipv4() && masked(net, bits).is_some() && masked(net, bits) == masked(ip, bits)
}

/// Whether the range `outer` covers every address of the range `inner`.
pub fn cidr_covers(outer: &str, inner: &str) -> bool {
    match (parse_cidr(outer), parse_cidr(inner)) {
        (Some((_, outer_bits)), Some((inner_net, inner_bits))) => {
            outer_bits <= inner_bits && cidr_contains(outer, inner_net)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, PrefixListId, UserIdGroupPair};

    fn rule(protocol: &str, from: i32, to: i32, source: &str) -> Rule {
        let source = if source.starts_with("sg-") {
            Source::Group {
                id: source.into(),
                via: None,
                stale: false,
            }
        } else if source.starts_with("pl-") {
            Source::PrefixList(source.into())
        } else {
            Source::Cidr(source.into())
        };
        Rule {
            protocol: protocol.into(),
            from_port: from,
            to_port: to,
            source,
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

    fn no_ranges() -> Ranges {
        Ranges::default()
    }

    /// Whether a cache group with these rules admits `port` from the EB group.
    fn from_eb(rules: Vec<Rule>, port: i32) -> Result<String, String> {
        from_eb_knowing(rules, port, &no_ranges())
    }

    /// The same, knowing what `ranges` say about prefix lists and VPCs.
    fn from_eb_knowing(rules: Vec<Rule>, port: i32, ranges: &Ranges) -> Result<String, String> {
        admits(&group(rules), port, &eb_clients(), ranges)
    }

    #[test]
    fn a_rule_from_the_eb_group_admits() {
        let ok = from_eb(vec![rule("tcp", 6379, 6379, "sg-eb")], 6379).unwrap();
        assert_eq!(
            ok,
            "sg-cache admits TCP 6379 from sg-eb (the group of the Elastic Beanstalk environment)"
        );
    }

    #[test]
    fn the_wrong_port_or_group_is_refused_with_reasons() {
        let err = from_eb(vec![rule("tcp", 22, 22, "0.0.0.0/0")], 6379).unwrap_err();
        assert_eq!(
            err,
            "no inbound rule admits TCP 6379 (its inbound rules: TCP 22 from 0.0.0.0/0)"
        );
        let err = from_eb(vec![rule("tcp", 6379, 6379, "sg-other")], 6379).unwrap_err();
        assert_eq!(
            err,
            "TCP 6379 is open only to sg-other, not to sg-eb (the Elastic Beanstalk environment)"
        );
        let err = from_eb(vec![], 3306).unwrap_err();
        assert_eq!(err, "no inbound rule admits TCP 3306 (it has no inbound rules)");
    }

    #[test]
    fn ranges_all_traffic_and_cidrs() {
        let r = no_ranges();
        assert!(from_eb(vec![rule("tcp", 6000, 7000, "sg-eb")], 6379).is_ok());
        assert!(from_eb(vec![rule("all", -1, -1, "sg-eb")], 3306).is_ok());
        let ide = Clients {
            groups: vec![],
            addresses: vec!["10.0.3.7".parse().unwrap()],
        };
        assert!(admits(&group(vec![rule("tcp", 6379, 6379, "10.0.0.0/16")]), 6379, &ide, &r).is_ok());
        assert!(admits(&group(vec![rule("tcp", 6379, 6379, "10.1.0.0/16")]), 6379, &ide, &r).is_err());
        let open = from_eb(vec![rule("tcp", 6379, 6379, "0.0.0.0/0")], 6379).unwrap();
        assert!(open.contains("open to every address"), "{open}");
    }

    #[test]
    fn a_range_covering_the_client_groups_vpc_admits_it() {
        let ranges = Ranges {
            prefix_lists: HashMap::from([("pl-0abc".to_string(), vec!["172.31.0.0/16".to_string()])]),
            client_vpcs: vec![("172.31.0.0/16".into(), "the Elastic Beanstalk environment".into())],
        };
        let ok = from_eb_knowing(vec![rule("tcp", 3306, 3306, "pl-0abc")], 3306, &ranges).unwrap();
        assert_eq!(
            ok,
            "sg-cache admits TCP 3306 from prefix list pl-0abc (pl-0abc holds 172.31.0.0/16 covers 172.31.0.0/16, the VPC of the Elastic Beanstalk environment)"
        );
        assert!(from_eb_knowing(vec![rule("tcp", 3306, 3306, "172.16.0.0/12")], 3306, &ranges).is_ok());
        // A narrower range leaves instances out.
        let err = from_eb_knowing(vec![rule("tcp", 3306, 3306, "172.31.16.0/20")], 3306, &ranges).unwrap_err();
        assert!(err.starts_with("TCP 3306 is open only to 172.31.16.0/20"), "{err}");
        // A prefix list whose entries are unknown admits nothing.
        assert!(from_eb_knowing(vec![rule("tcp", 3306, 3306, "pl-other")], 3306, &ranges).is_err());
        assert_eq!(
            ranges_wanted(
                &group(vec![rule("tcp", 3306, 3306, "pl-0abc"), rule("tcp", 22, 22, "pl-ssh")]),
                3306
            ),
            (vec!["pl-0abc".to_string()], true)
        );
        assert_eq!(
            ranges_wanted(&group(vec![rule("tcp", 3306, 3306, "sg-eb")]), 3306),
            (vec![], false)
        );
    }

    #[test]
    fn unknown_clients_accept_any_covering_rule() {
        assert!(
            admits(
                &group(vec![rule("tcp", 6379, 6379, "sg-x")]),
                6379,
                &Clients::default(),
                &no_ranges()
            )
            .is_ok()
        );
    }

    /// IpPermissions shaped as DescribeSecurityGroups returns them (EC2 API
    /// reference): a numeric protocol, IPv6 ranges, a prefix list, and a
    /// group reached across a VPC peering connection.
    #[test]
    fn permissions_as_aws_returns_them() {
        let numeric = IpPermission::builder()
            .ip_protocol("6")
            .from_port(3306)
            .to_port(3306)
            .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("2001:db8:1234:1a00::/56").build())
            .prefix_list_ids(PrefixListId::builder().prefix_list_id("pl-0abc").build())
            .build();
        let rules = rules_of(&numeric);
        assert_eq!(rules.len(), 2);
        assert!(
            rules
                .iter()
                .all(|r| r.protocol == "tcp" && r.covers(3306) && !r.covers(3307))
        );
        assert_eq!(rules[0].describe(), "TCP 3306 from 2001:db8:1234:1a00::/56");
        assert_eq!(rules[1].describe(), "TCP 3306 from prefix list pl-0abc");

        let all = IpPermission::builder()
            .ip_protocol("-1")
            .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/16").build())
            .build();
        let rules = rules_of(&all);
        assert!(rules[0].covers(6379));
        assert_eq!(rules[0].describe(), "all traffic from 10.0.0.0/16");

        let peered = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(6379)
            .to_port(6379)
            .user_id_group_pairs(
                UserIdGroupPair::builder()
                    .group_id("sg-eb")
                    .user_id("123456789012")
                    .vpc_id("vpc-0peer")
                    .vpc_peering_connection_id("pcx-1a2b3c4d")
                    .peering_status("active")
                    .build(),
            )
            .build();
        let rules = rules_of(&peered);
        let ok = admits(&group(rules.clone()), 6379, &eb_clients(), &no_ranges()).unwrap();
        assert_eq!(
            ok,
            "sg-cache admits TCP 6379 from sg-eb (account 123456789012, peering pcx-1a2b3c4d, VPC vpc-0peer) (the group of the Elastic Beanstalk environment)"
        );
        let gone = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(6379)
            .to_port(6379)
            .user_id_group_pairs(
                UserIdGroupPair::builder()
                    .group_id("sg-eb")
                    .vpc_peering_connection_id("pcx-1a2b3c4d")
                    .peering_status("deleted")
                    .build(),
            )
            .build();
        let err = admits(&group(rules_of(&gone)), 6379, &eb_clients(), &no_ranges()).unwrap_err();
        assert!(err.contains("peering connection that no longer works"), "{err}");
        assert_eq!(protocol_name("17"), "udp");
    }

    #[test]
    fn cidrs() {
        assert!(cidr_contains("172.31.0.0/16", "172.31.200.1".parse().unwrap()));
        assert!(!cidr_contains("172.31.0.0/16", "172.32.0.1".parse().unwrap()));
        assert!(cidr_contains("0.0.0.0/0", "8.8.8.8".parse().unwrap()));
        assert!(!cidr_contains("garbage", "8.8.8.8".parse().unwrap()));
        assert!(cidr_contains("fd00::/8", "fd12::1".parse().unwrap()));
        assert!(!cidr_contains("10.0.0.0/40", "10.0.0.1".parse().unwrap()));
        assert!(cidr_covers("172.16.0.0/12", "172.31.0.0/16"));
        assert!(!cidr_covers("172.31.0.0/20", "172.31.0.0/16"));
        assert!(!cidr_covers("::/0", "10.0.0.0/8"));
    }
}
