//! Which network addresses a probe may reach, and which texts may be shown as they are.
//!
//! Probes are not a proxy into the node or its network: [`is_private`] says whether an
//! address belongs to a loopback, private, link-local, unique-local, shared (CGNAT) or
//! unspecified range, which `block_private_targets` keeps probes out of; [`is_own`] says
//! whether an address is one the node itself listens on, which no probe may reach.
//! [`is_unprintable`] is the set of characters that names and URLs may not contain and that
//! the CLI escapes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether `ip` is not a public unicast address: loopback, private (RFC 1918), link-local,
/// shared (100.64/10), unique-local (fc00::/7), unspecified, broadcast, multicast or
/// documentation. IPv4-mapped and IPv4-compatible IPv6 addresses count as their IPv4 address.
pub fn is_private(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        // 0.0.0.0/8 ("this network"; Linux connects 0.x to the local host) and 100.64/10.
        || a == 0
        || (a == 100 && (64..128).contains(&b))
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    // ::a.b.c.d (deprecated IPv4-compatible) still reaches a.b.c.d on some stacks.
    let compatible = ip.segments()[..6].iter().all(|s| *s == 0) && !ip.is_unspecified();
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site local fec0::/10 (deprecated)
        || (compatible && is_private_v4(Ipv4Addr::from(ip.to_bits() as u32)))
}

/// Whether a connection to `addr` would reach the listener bound to `own`: the same port and
/// the same address, or any local address when `own` listens on all of them (0.0.0.0, ::).
/// A public address of this host behind an unspecified `own` is not recognised; keep such a
/// node's ports behind `block_private_targets` or a firewall.
pub fn is_own(own: SocketAddr, addr: SocketAddr) -> bool {
    let (own_ip, ip) = (own.ip().to_canonical(), addr.ip().to_canonical());
    own.port() == addr.port() && (own_ip == ip || (own_ip.is_unspecified() && is_private(ip)))
}

/// The IP address of a URL whose host is written as one (`http://10.0.0.1/`, `tcp://[::1]:22`).
/// In URLs of non-special schemes (`tcp://`) the parser leaves an IPv4 address as a name:
/// it is read here.
pub fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(name) => name.parse().ok(),
    }
}

/// Characters a name or URL may not hold and that the CLI never prints raw: control
/// characters (C0, DEL, C1, so every terminal escape sequence) and the invisible format
/// characters that reorder or hide text (bidi overrides and isolates, zero-width marks, BOM).
pub fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}'
            | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
}

/// `text` with every [`is_unprintable`] character written as a `\u{..}` escape (and `\` as
/// `\\` when anything is escaped, so an escape in the original cannot pass for one of ours).
pub fn escape_unprintable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unprintable) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if is_unprintable(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_ranges() {
        for s in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "ff02::1",
        ] {
            assert!(is_private(ip(s)), "{s} is private");
        }
    }

    #[test]
    fn public_addresses() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "192.169.0.1",
            "100.128.0.1",
            "11.0.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_private(ip(s)), "{s} is public");
        }
    }

    #[test]
    fn own_listen_addresses() {
        let own: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(is_own(own, own));
        assert!(is_own(own, "[::ffff:127.0.0.1]:8080".parse().unwrap()));
        assert!(!is_own(own, "127.0.0.1:8081".parse().unwrap()));
        assert!(!is_own(own, "127.0.0.2:8080".parse().unwrap()));
        let all: SocketAddr = "0.0.0.0:7800".parse().unwrap();
        assert!(is_own(all, "127.0.0.1:7800".parse().unwrap()));
        assert!(is_own(all, "10.0.0.5:7800".parse().unwrap()));
        assert!(is_own(all, "[::1]:7800".parse().unwrap()));
        assert!(!is_own(all, "127.0.0.1:7801".parse().unwrap()));
    }

    #[test]
    fn literal_ips_of_urls() {
        let parse = |s: &str| url::Url::parse(s).unwrap();
        assert_eq!(
            literal_ip(&parse("http://10.0.0.1:80/x")),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(literal_ip(&parse("tcp://[::1]:22")), Some(ip("::1")));
        assert_eq!(
            literal_ip(&parse("tcp://10.0.0.1:22")),
            Some(ip("10.0.0.1"))
        );
        // The URL parser reads decimal and hex IPv4 forms as the address they mean.
        assert_eq!(
            literal_ip(&parse("http://2130706433/")),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(literal_ip(&parse("http://0x7f.1/")), Some(ip("127.0.0.1")));
        assert_eq!(literal_ip(&parse("http://localhost/")), None);
    }

    #[test]
    fn unprintable_text_is_escaped() {
        assert_eq!(escape_unprintable("plain name é"), "plain name é");
        assert_eq!(escape_unprintable("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(escape_unprintable("x\u{202e}y\\"), "x\\u{202e}y\\\\");
        assert_eq!(escape_unprintable("bell\u{7}\u{9b}"), "bell\\u{7}\\u{9b}");
        for c in ['\n', '\t', '\u{7f}', '\u{200b}', '\u{feff}'] {
            assert!(is_unprintable(c), "{c:?}");
        }
        assert!(!is_unprintable(' ') && !is_unprintable('é'));
    }
}
