//! Which IP addresses are not the public internet: loopback, link-local
//! (where cloud instance metadata answers), private, shared (CGNAT),
//! unspecified, broadcast, multicast and the other special-use blocks. An
//! IPv4 address carried inside an IPv6 one (IPv4-mapped, IPv4-compatible,
//! NAT64, 6to4) is judged as the IPv4 address it reaches.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

/// What kind of non-public address an address is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Loopback,
    LinkLocal,
    InstanceMetadata,
    Private,
    Shared,
    Unspecified,
    Broadcast,
    Multicast,
    Reserved,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Loopback => "a loopback address",
            Kind::LinkLocal => "a link-local address",
            Kind::InstanceMetadata => "the link-local address of the cloud instance metadata service",
            Kind::Private => "a private address",
            Kind::Shared => "a private address of carrier-grade NAT",
            Kind::Unspecified => "the unspecified address",
            Kind::Broadcast => "the broadcast address",
            Kind::Multicast => "a multicast address",
            Kind::Reserved => "a reserved special-use address",
        }
    }
}

/// The blocks that are not the public internet, most specific first (the
/// first block holding an address names it).
const BLOCKS: &[(&str, Kind)] = &[
    ("169.254.169.254/32", Kind::InstanceMetadata),
    ("0.0.0.0/32", Kind::Unspecified),
    ("0.0.0.0/8", Kind::Reserved),
    ("10.0.0.0/8", Kind::Private),
    ("100.64.0.0/10", Kind::Shared),
    ("127.0.0.0/8", Kind::Loopback),
    ("169.254.0.0/16", Kind::LinkLocal),
    ("172.16.0.0/12", Kind::Private),
    ("192.0.0.0/24", Kind::Reserved),
    ("192.0.2.0/24", Kind::Reserved),
    ("192.168.0.0/16", Kind::Private),
    ("198.18.0.0/15", Kind::Reserved),
    ("198.51.100.0/24", Kind::Reserved),
    ("203.0.113.0/24", Kind::Reserved),
    ("224.0.0.0/4", Kind::Multicast),
    ("255.255.255.255/32", Kind::Broadcast),
    ("240.0.0.0/4", Kind::Reserved),
    ("fd00:ec2::254/128", Kind::InstanceMetadata),
    ("::/128", Kind::Unspecified),
    ("::1/128", Kind::Loopback),
    ("fe80::/10", Kind::LinkLocal),
    ("fc00::/7", Kind::Private),
    ("fec0::/10", Kind::Private),
    ("64:ff9b:1::/48", Kind::Private),
    ("ff00::/8", Kind::Multicast),
    ("2001:db8::/32", Kind::Reserved),
    // Outside 2000::/3, the global unicast space, nothing is public.
    ("::/3", Kind::Reserved),
    ("4000::/2", Kind::Reserved),
    ("8000::/1", Kind::Reserved),
];

/// A parsed block: its first address as bits, the prefix length, its text.
struct Block {
    net: u128,
    len: u32,
    v4: bool,
    text: &'static str,
    kind: Kind,
}

static PARSED: LazyLock<Vec<Block>> = LazyLock::new(|| BLOCKS.iter().filter_map(|&(t, k)| parse(t, k)).collect());

fn parse(text: &'static str, kind: Kind) -> Option<Block> {
    let (addr, len) = text.split_once('/')?;
    let len: u32 = len.parse().ok()?;
    Some(match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) if len <= 32 => Block {
            net: u128::from(a.to_bits()),
            len,
            v4: true,
            text,
            kind,
        },
        IpAddr::V6(a) if len <= 128 => Block {
            net: a.to_bits(),
            len,
            v4: false,
            text,
            kind,
        },
        _ => return None,
    })
}

impl Block {
    fn holds(&self, ip: IpAddr) -> bool {
        let (bits, width) = match ip {
            IpAddr::V4(a) if self.v4 => (u128::from(a.to_bits()), 32),
            IpAddr::V6(a) if !self.v4 => (a.to_bits(), 128),
            _ => return false,
        };
        let shift = width - self.len;
        shift >= width || (bits >> shift) == (self.net >> shift)
    }
}

/// Why an address is not on the public internet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Special {
    /// The kind of address.
    pub kind: Kind,
    /// The block it is in, like `169.254.0.0/16`.
    pub block: &'static str,
    /// The IPv4 address an IPv6 address carries, when that is what was judged.
    pub carried: Option<Ipv4Addr>,
}

impl fmt::Display for Special {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(v4) = self.carried {
            write!(f, "carries the IPv4 address {v4}, ")?;
        }
        write!(f, "{} ({})", self.kind.describe(), self.block)
    }
}

/// Why `ip` is not a public internet address, or `None` when it is one.
pub(crate) fn special(ip: IpAddr) -> Option<Special> {
    if let IpAddr::V6(v6) = ip
        && let Some(v4) = carried_v4(v6)
    {
        return special(IpAddr::V4(v4)).map(|s| Special { carried: Some(v4), ..s });
    }
    PARSED.iter().find(|b| b.holds(ip)).map(|b| Special {
        kind: b.kind,
        block: b.text,
        carried: None,
    })
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`, but not `::` or `::1`), NAT64
/// (`64:ff9b::a.b.c.d`) and 6to4 (`2002:AABB:CCDD::/48`).
fn carried_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let low = Ipv4Addr::from_bits(v6.to_bits() as u32);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0xffff, 0, _, _] => Some(low),
        [0, 0, 0, 0, 0, 0, _, _] if v6 != Ipv6Addr::UNSPECIFIED && v6 != Ipv6Addr::LOCALHOST => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        [0x2002, a, b, ..] => Some(Ipv4Addr::from_bits((u32::from(a) << 16) | u32::from(b))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<Kind> {
        special(text.parse().unwrap()).map(|s| s.kind)
    }

    #[test]
    fn every_block_parses() {
        assert_eq!(PARSED.len(), BLOCKS.len());
    }

    #[test]
    fn each_range_is_named() {
        let cases = [
            ("169.254.169.254", Kind::InstanceMetadata),
            ("169.254.0.1", Kind::LinkLocal),
            ("169.254.255.255", Kind::LinkLocal),
            ("fe80::1", Kind::LinkLocal),
            ("febf:ffff::1", Kind::LinkLocal),
            ("fd00:ec2::254", Kind::InstanceMetadata),
            ("127.0.0.1", Kind::Loopback),
            ("127.255.255.254", Kind::Loopback),
            ("::1", Kind::Loopback),
            ("10.0.0.1", Kind::Private),
            ("10.255.255.255", Kind::Private),
            ("172.16.0.1", Kind::Private),
            ("172.31.255.255", Kind::Private),
            ("192.168.1.1", Kind::Private),
            ("fc00::1", Kind::Private),
            ("fdff:ffff::1", Kind::Private),
            ("100.64.0.1", Kind::Shared),
            ("100.127.255.255", Kind::Shared),
            ("0.0.0.0", Kind::Unspecified),
            ("::", Kind::Unspecified),
            ("255.255.255.255", Kind::Broadcast),
            ("224.0.0.1", Kind::Multicast),
            ("239.255.255.250", Kind::Multicast),
            ("ff02::1", Kind::Multicast),
            ("0.1.2.3", Kind::Reserved),
            ("240.0.0.1", Kind::Reserved),
            ("2001:db8::1", Kind::Reserved),
            ("100::1", Kind::Reserved),
            ("::1:0:0:1", Kind::Reserved),
            ("4000::1", Kind::Reserved),
        ];
        for (ip, want) in cases {
            assert_eq!(kind(ip), Some(want), "{ip}");
        }
    }

    #[test]
    fn the_edges_of_a_range_are_exact() {
        for public in [
            "172.15.255.255",
            "172.32.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "11.0.0.0",
            "9.255.255.255",
            "126.255.255.255",
            "128.0.0.0",
            "223.255.255.255",
        ] {
            assert_eq!(kind(public), None, "{public}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "8.8.8.8",
            "52.95.110.1",
            "1.1.1.1",
            "2600:1f14::1",
            "2a05:d018::1",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "::ffff:52.95.110.1",
        ] {
            assert_eq!(special(ip.parse().unwrap()), None, "{ip}");
        }
    }

    #[test]
    fn ipv4_inside_ipv6_is_judged_as_ipv4() {
        for (ip, want) in [
            ("::ffff:169.254.169.254", Kind::InstanceMetadata),
            ("::ffff:a9fe:a9fe", Kind::InstanceMetadata),
            ("::ffff:127.0.0.1", Kind::Loopback),
            ("::ffff:10.1.2.3", Kind::Private),
            ("::ffff:0:192.168.0.1", Kind::Private),
            ("::169.254.169.254", Kind::InstanceMetadata),
            ("::127.0.0.1", Kind::Loopback),
            ("::0.0.1.1", Kind::Reserved),
            ("64:ff9b::a9fe:a9fe", Kind::InstanceMetadata),
            ("64:ff9b::7f00:1", Kind::Loopback),
            ("2002:a9fe:a9fe::1", Kind::InstanceMetadata),
            ("2002:c0a8:101::", Kind::Private),
            ("::ffff:0.0.0.0", Kind::Unspecified),
        ] {
            let found = special(ip.parse().unwrap()).unwrap_or_else(|| panic!("{ip} is public?"));
            assert_eq!(found.kind, want, "{ip}");
            assert!(found.carried.is_some(), "{ip}");
        }
        let text = special("::ffff:169.254.169.254".parse().unwrap()).unwrap().to_string();
        assert!(
            text.contains("169.254.169.254")
                && text.contains("instance metadata")
                && text.contains("169.254.169.254/32"),
            "{text}"
        );
    }
}
