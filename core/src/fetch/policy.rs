//! Where the page fetcher may connect: the SSRF policy.
//!
//! An import URL comes from a user, so everything the server can reach and the user cannot is
//! at stake: the Lambda runtime API on loopback (`AWS_LAMBDA_RUNTIME_API`, see
//! <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>), an instance metadata
//! service at the link-local 169.254.169.254 or `fd00:ec2::254` when the binary runs on EC2
//! or in a container (<https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html>),
//! the standalone server's own port, and anything on a private network. The policy admits a
//! destination only by what it *is* (scheme, port, address), never by its name: names are
//! resolved once by the fetcher and every answer is checked here.
//!
//! The ranges come from the IANA special-purpose address registries (RFC 6890 and its
//! updates). For IPv6 the policy is an allow-list: only global unicast (2000::/3) outside its
//! special blocks, plus the forms that embed an IPv4 address (mapped, NAT64, 6to4), which are
//! judged by the address they embed.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The ports a production fetch may use: the schemes' defaults.
const PORTS: [u16; 2] = [80, 443];

/// The IPv4 ranges never connected to, with the reason a refusal gives.
const V4_REFUSED: [(Ipv4Addr, u8, &str); 15] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8, "\"this network\" (0.0.0.0/8)"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private (10.0.0.0/8)"),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        "shared/CGNAT (100.64.0.0/10)",
    ),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback (127.0.0.0/8)"),
    (
        Ipv4Addr::new(169, 254, 0, 0),
        16,
        "link-local, incl. the metadata service (169.254.0.0/16)",
    ),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private (172.16.0.0/12)"),
    (
        Ipv4Addr::new(192, 0, 0, 0),
        24,
        "IETF protocol assignments (192.0.0.0/24)",
    ),
    (
        Ipv4Addr::new(192, 0, 2, 0),
        24,
        "documentation (192.0.2.0/24)",
    ),
    (
        Ipv4Addr::new(192, 88, 99, 0),
        24,
        "6to4 relay anycast (192.88.99.0/24)",
    ),
    (
        Ipv4Addr::new(192, 168, 0, 0),
        16,
        "private (192.168.0.0/16)",
    ),
    (
        Ipv4Addr::new(198, 18, 0, 0),
        15,
        "benchmarking (198.18.0.0/15)",
    ),
    (
        Ipv4Addr::new(198, 51, 100, 0),
        24,
        "documentation (198.51.100.0/24)",
    ),
    (
        Ipv4Addr::new(203, 0, 113, 0),
        24,
        "documentation (203.0.113.0/24)",
    ),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast (224.0.0.0/4)"),
    // Includes the limited broadcast address 255.255.255.255.
    (
        Ipv4Addr::new(240, 0, 0, 0),
        4,
        "reserved, incl. broadcast (240.0.0.0/4)",
    ),
];

/// The IPv6 blocks inside global unicast (2000::/3) that are not the public internet.
const V6_REFUSED: [(Ipv6Addr, u8, &str); 3] = [
    // Teredo, ORCHID, benchmarking (2001:2::/48), AMT…: nothing a recipe page is served from.
    // 2001:db8::/32 (documentation) lies outside it and is listed on its own.
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "IETF protocol assignments (2001::/23)",
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        "documentation (2001:db8::/32)",
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        "documentation (3fff::/20)",
    ),
];

fn v4_in(ip: Ipv4Addr, base: Ipv4Addr, prefix: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(base) & mask
}

fn v6_in(ip: Ipv6Addr, base: Ipv6Addr, prefix: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(base) & mask
}

/// The IPv4 address in the low 32 bits.
fn low_v4(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from((u128::from(ip) & 0xffff_ffff) as u32)
}

fn v4_refusal(ip: Ipv4Addr) -> Option<&'static str> {
    V4_REFUSED
        .iter()
        .find(|(base, prefix, _)| v4_in(ip, *base, *prefix))
        .map(|(_, _, why)| *why)
}

fn v6_refusal(ip: Ipv6Addr) -> Option<&'static str> {
    let embedded = |v4: Ipv4Addr, form: &'static str| v4_refusal(v4).map(|_| form);
    if ip.is_unspecified() {
        return Some("unspecified (::)");
    }
    if ip.is_loopback() {
        return Some("loopback (::1)");
    }
    // ::ffff:a.b.c.d reaches a.b.c.d on a dual-stack socket: judge the IPv4 address.
    if v6_in(ip, Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96) {
        return embedded(low_v4(ip), "an IPv4-mapped form of a refused IPv4 address");
    }
    // ::a.b.c.d (IPv4-compatible) is deprecated (RFC 4291 §2.5.5.1): no public site uses it.
    if v6_in(ip, Ipv6Addr::UNSPECIFIED, 96) {
        return Some("IPv4-compatible (::/96, deprecated)");
    }
    // NAT64 (RFC 6052): a translator forwards to the embedded IPv4 address.
    if v6_in(ip, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96) {
        return embedded(low_v4(ip), "a NAT64 form of a refused IPv4 address");
    }
    // 6to4 (RFC 3056): 2002:AABB:CCDD::/48 tunnels to AA.BB.CC.DD.
    if v6_in(ip, Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16) {
        let v4 = Ipv4Addr::from(((u128::from(ip) >> 80) & 0xffff_ffff) as u32);
        return embedded(v4, "a 6to4 form of a refused IPv4 address");
    }
    if !v6_in(ip, Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3) {
        // Unique-local fc00::/7, link-local fe80::/10, multicast ff00::/8, site-local,
        // discard-only 100::/64, local-use NAT64 64:ff9b:1::/48 and everything unassigned.
        return Some(match ip.segments()[0] {
            0xfc00..=0xfdff => "unique-local (fc00::/7)",
            0xfe80..=0xfebf => "link-local (fe80::/10)",
            0xff00..=0xffff => "multicast (ff00::/8)",
            _ => "not global unicast (outside 2000::/3)",
        });
    }
    V6_REFUSED
        .iter()
        .find(|(base, prefix, _)| v6_in(ip, *base, *prefix))
        .map(|(_, _, why)| *why)
}

/// Why the production policy never connects to `ip`, or `None` when it may.
pub fn address_refusal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_refusal(v4),
        IpAddr::V6(v6) => v6_refusal(v6),
    }
}

/// Why a destination was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not `http` or `https`.
    Scheme(String),
    /// `user:password@` in the URL (reqwest would send it as Basic credentials).
    Credentials,
    /// A port other than 80 and 443.
    Port(u16),
    /// An address in a refused range (for logs: the address; for clients: the reason).
    Address { ip: IpAddr, why: &'static str },
}

impl fmt::Display for Refusal {
    /// Safe to show the caller: it names the rule, never the address a name resolved to.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Scheme(scheme) => {
                write!(
                    f,
                    "the scheme {scheme:?} is not allowed (only http and https)"
                )
            }
            Refusal::Credentials => f.write_str("URLs with credentials are not allowed"),
            Refusal::Port(port) => {
                write!(f, "port {port} is not allowed (only 80 and 443)")
            }
            Refusal::Address { why, .. } => write!(f, "the host is a {why} address"),
        }
    }
}

/// The destinations a fetch may connect to.
///
/// [`Policy::production`] is the only policy the binary builds. Tests that stand a local server
/// in for the web use [`Policy::admitting`] to let exactly that server's socket through: the
/// exception lives in code, never in configuration, so no deployment can widen it.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    admitted: Vec<SocketAddr>,
}

impl Policy {
    /// Only http/https, only ports 80 and 443, only public addresses.
    pub fn production() -> Self {
        Self::default()
    }

    /// This policy plus exactly `socket` (address and port), whatever range it is in.
    pub fn admitting(mut self, socket: SocketAddr) -> Self {
        self.admitted.push(socket);
        self
    }

    /// The scheme and port of a URL, before any name is resolved.
    pub fn check_scheme_and_port(&self, scheme: &str, port: u16) -> Result<(), Refusal> {
        if !matches!(scheme, "http" | "https") {
            return Err(Refusal::Scheme(scheme.to_owned()));
        }
        if PORTS.contains(&port) || self.admitted.iter().any(|s| s.port() == port) {
            Ok(())
        } else {
            Err(Refusal::Port(port))
        }
    }

    /// One destination, as it would be connected to.
    pub fn check(&self, socket: SocketAddr) -> Result<(), Refusal> {
        if self.admitted.contains(&socket) {
            return Ok(());
        }
        // The address first: it is the more telling reason when both are wrong.
        if let Some(why) = address_refusal(socket.ip()) {
            return Err(Refusal::Address {
                ip: socket.ip(),
                why,
            });
        }
        if PORTS.contains(&socket.port()) {
            Ok(())
        } else {
            Err(Refusal::Port(socket.port()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Addresses the production policy refuses, one or more per refused range, and the
    /// reason it must give.
    const REFUSED: &[(&str, &str)] = &[
        ("0.0.0.0", "this network"),
        ("0.255.255.255", "this network"),
        ("10.0.0.1", "private"),
        ("10.255.255.255", "private"),
        ("100.64.0.1", "CGNAT"),
        ("100.127.255.254", "CGNAT"),
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("169.254.169.254", "metadata"),
        ("169.254.0.1", "link-local"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.0.0.8", "IETF"),
        ("192.0.2.1", "documentation"),
        ("192.88.99.1", "6to4 relay"),
        ("192.168.1.1", "private"),
        ("198.18.0.1", "benchmarking"),
        ("198.19.255.255", "benchmarking"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.9", "documentation"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "broadcast"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "IPv4-mapped"),
        ("::ffff:7f00:1", "IPv4-mapped"),
        ("::ffff:10.1.2.3", "IPv4-mapped"),
        ("::ffff:169.254.169.254", "IPv4-mapped"),
        ("::ffff:0.0.0.0", "IPv4-mapped"),
        ("::127.0.0.1", "IPv4-compatible"),
        ("::7f00:1", "IPv4-compatible"),
        ("::8.8.8.8", "IPv4-compatible"),
        ("64:ff9b::127.0.0.1", "NAT64"),
        ("64:ff9b::a9fe:a9fe", "NAT64"),
        ("64:ff9b::192.168.0.1", "NAT64"),
        ("64:ff9b:1::1", "not global unicast"),
        ("2002:7f00:1::", "6to4"),
        ("2002:a9fe:a9fe::1", "6to4"),
        ("2002:c0a8:101:ffff::1", "6to4"),
        ("fc00::1", "unique-local"),
        ("fd00:ec2::254", "unique-local"),
        ("fdff:ffff::1", "unique-local"),
        ("fe80::1", "link-local"),
        ("febf::1", "link-local"),
        ("fec0::1", "not global unicast"),
        ("ff02::1", "multicast"),
        ("ff05::1:3", "multicast"),
        ("100::1", "not global unicast"),
        ("2001::1", "IETF"),
        ("2001:2::1", "IETF"),
        ("2001:db8::1", "documentation"),
        ("2001:db8:ffff::1", "documentation"),
        ("3fff::1", "documentation"),
        ("4000::1", "not global unicast"),
    ];

    /// Public addresses next to the refused ranges: the edges are not over-refused.
    const ADMITTED: &[&str] = &[
        "1.1.1.1",
        "8.8.8.8",
        "9.255.255.255",
        "11.0.0.0",
        "100.63.255.255",
        "100.128.0.0",
        "126.255.255.255",
        "128.0.0.0",
        "169.253.255.255",
        "169.255.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.0.1.0",
        "192.167.255.255",
        "192.169.0.0",
        "198.17.255.255",
        "198.20.0.0",
        "223.255.255.255",
        "::ffff:8.8.8.8",
        "64:ff9b::8.8.8.8",
        "2002:808:808::1",
        "2001:200::1",
        "2001:4860:4860::8888",
        "2a00:1450:4001::200e",
        "2606:4700::1111",
        "3ffe::1",
    ];

    #[test]
    fn every_refused_range_is_refused_with_its_reason() {
        for (text, reason) in REFUSED {
            let ip: IpAddr = text.parse().unwrap();
            let why = address_refusal(ip).unwrap_or_else(|| panic!("{text} was admitted"));
            assert!(
                why.contains(reason),
                "{text} refused as {why:?}, expected {reason:?}"
            );
            let refused = Policy::production().check(SocketAddr::new(ip, 443));
            assert!(
                matches!(refused, Err(Refusal::Address { .. })),
                "{text}: {refused:?}"
            );
        }
    }

    #[test]
    fn public_addresses_next_to_the_refused_ranges_are_admitted() {
        for text in ADMITTED {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(address_refusal(ip), None, "{text} was refused");
            for port in [80, 443] {
                assert_eq!(
                    Policy::production().check(SocketAddr::new(ip, port)),
                    Ok(())
                );
            }
        }
    }

    #[test]
    fn only_ports_80_and_443_are_allowed() {
        let policy = Policy::production();
        for port in [80, 443] {
            assert_eq!(policy.check_scheme_and_port("https", port), Ok(()));
        }
        for port in [0, 1, 22, 79, 81, 442, 444, 3000, 8080, 8443, 9001, 65535] {
            assert_eq!(
                policy.check_scheme_and_port("http", port),
                Err(Refusal::Port(port))
            );
            let public = SocketAddr::new(IpAddr::from([8, 8, 8, 8]), port);
            assert_eq!(policy.check(public), Err(Refusal::Port(port)));
        }
    }

    #[test]
    fn only_http_and_https_are_allowed() {
        let policy = Policy::production();
        for scheme in ["file", "ftp", "gopher", "data", "ws", "javascript", "HTTP "] {
            assert_eq!(
                policy.check_scheme_and_port(scheme, 80),
                Err(Refusal::Scheme(scheme.to_owned()))
            );
        }
    }

    #[test]
    fn an_admitted_socket_admits_that_socket_and_nothing_next_to_it() {
        let server: SocketAddr = "127.0.0.1:41234".parse().unwrap();
        let policy = Policy::production().admitting(server);
        assert_eq!(policy.check(server), Ok(()));
        assert_eq!(policy.check_scheme_and_port("http", 41234), Ok(()));
        for other in [
            "127.0.0.1:80",
            "127.0.0.1:41235",
            "127.0.0.2:41234",
            "[::1]:41234",
            "[::ffff:127.0.0.1]:41234",
        ] {
            let other: SocketAddr = other.parse().unwrap();
            assert!(policy.check(other).is_err(), "{other} was admitted");
        }
        // The production policy itself refuses the test server.
        assert!(Policy::production().check(server).is_err());
    }

    #[test]
    fn a_refusal_tells_the_caller_the_rule_but_not_the_address() {
        let refusal = Policy::production()
            .check("10.1.2.3:443".parse().unwrap())
            .unwrap_err();
        let shown = refusal.to_string();
        assert!(shown.contains("private"), "{shown}");
        assert!(!shown.contains("10.1.2.3"), "{shown}");
    }
}
