//! The client address behind trusted reverse proxies.
//!
//! Only when the TCP peer is inside a trusted CIDR block are the proxy headers read: RFC 7239
//! `Forwarded` (`for=`), or else `X-Forwarded-For`. The list is walked from the right (the hop
//! nearest to us) and the first address that is not itself a trusted proxy is the client. A
//! client can prepend anything it likes to these headers, so entries to the left of the first
//! untrusted hop are never believed. Without a trusted peer, the peer address is the client.
//! This address is what audit rows record and what the throttles and rate limits key on.

use axum::http::HeaderMap;
use axum::http::header::FORWARDED;
pub use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// Parses `--trusted-proxy` values: a CIDR block (`10.0.0.0/8`, `fd00::/8`) or one address.
pub fn parse_trusted(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    if let Ok(net) = IpNet::from_str(s) {
        return Ok(net.trunc());
    }
    IpAddr::from_str(s).map(IpNet::from).map_err(|_| {
        "a trusted proxy must be an IP address or a CIDR block such as 10.0.0.0/8".to_string()
    })
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    let ip = canonical(ip);
    proxies.iter().any(|n| n.contains(&ip))
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, from dual-stack sockets) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// One node of a `for=` or `X-Forwarded-For` list: `192.0.2.1`, `192.0.2.1:4711`,
/// `[2001:db8::1]:4711`, `2001:db8::1`, quoted or not. `unknown` and obfuscated
/// identifiers (`_hidden`) are `None`.
fn parse_node(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"').trim();
    if let Ok(ip) = IpAddr::from_str(s) {
        return Some(canonical(ip));
    }
    if let Ok(sa) = SocketAddr::from_str(s) {
        return Some(canonical(sa.ip()));
    }
    let inner = s.strip_prefix('[')?;
    let end = inner.find(']')?;
    IpAddr::from_str(&inner[..end]).ok().map(canonical)
}

/// The `for=` nodes of every `Forwarded` header line, in order (`None` where a node is not an
/// address). `None` overall when there is no `Forwarded` header.
fn forwarded_for(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let mut lines = headers.get_all(FORWARDED).iter().peekable();
    lines.peek()?;
    let mut out = Vec::new();
    for line in lines {
        let Ok(line) = line.to_str() else {
            out.push(None);
            continue;
        };
        for element in line.split(',') {
            for pair in element.split(';') {
                if let Some((k, v)) = pair.split_once('=')
                    && k.trim().eq_ignore_ascii_case("for")
                {
                    out.push(parse_node(v));
                }
            }
        }
    }
    Some(out)
}

fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|line| match line.to_str() {
            Ok(l) => l.split(',').map(parse_node).collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect()
}

/// The client address of a request whose TCP peer is `peer`.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    if !trusted(peer, proxies) {
        return peer;
    }
    let hops = forwarded_for(headers).unwrap_or_else(|| x_forwarded_for(headers));
    // Walk from the nearest hop outwards; every hop we pass was added by a trusted proxy.
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) if trusted(*ip, proxies) => client = *ip,
            Some(ip) => return *ip,
            // A hop that is not an address: the proxy that wrote it is the best we know.
            None => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidrs_and_single_addresses_parse() {
        assert_eq!(
            parse_trusted("10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_trusted("10.1.2.3/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_trusted("127.0.0.1").unwrap().to_string(),
            "127.0.0.1/32"
        );
        assert_eq!(parse_trusted("fd00::/8").unwrap().to_string(), "fd00::/8");
        for bad in ["", "10.0.0.0/33", "proxy.example", "10.0.0", "*"] {
            assert!(parse_trusted(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let proxies = [parse_trusted("10.0.0.0/8").unwrap()];
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(client_addr(ip("192.0.2.9"), &h, &proxies), ip("192.0.2.9"));
        assert_eq!(client_addr(ip("192.0.2.9"), &h, &[]), ip("192.0.2.9"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let proxies = [
            parse_trusted("10.0.0.0/8").unwrap(),
            parse_trusted("2001:db8::/32").unwrap(),
        ];
        let peer = ip("10.0.0.1");
        // The client prepends a forged address; the proxy appends the real one.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7")]);
        assert_eq!(client_addr(peer, &h, &proxies), ip("198.51.100.7"));
        // Two trusted proxies in a row.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.2.2.2")]);
        assert_eq!(client_addr(peer, &h, &proxies), ip("198.51.100.7"));
        // Several header lines are one list.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.8"),
        ]);
        assert_eq!(client_addr(peer, &h, &proxies), ip("198.51.100.8"));
        // Forwarded wins over X-Forwarded-For; quoted, with ports, IPv6.
        let h = headers(&[
            (
                "forwarded",
                "for=6.6.6.6, for=\"[2001:db9::17]:4711\";proto=https",
            ),
            ("x-forwarded-for", "198.51.100.9"),
        ]);
        assert_eq!(client_addr(peer, &h, &proxies), ip("2001:db9::17"));
        let h = headers(&[("forwarded", "For=\"198.51.100.10:5000\", for=10.9.9.9")]);
        assert_eq!(client_addr(peer, &h, &proxies), ip("198.51.100.10"));
        // An unusable hop: the trusted proxy that wrote it is the client address.
        let h = headers(&[("forwarded", "for=6.6.6.6, for=unknown, for=10.3.3.3")]);
        assert_eq!(client_addr(peer, &h, &proxies), ip("10.3.3.3"));
        let h = headers(&[("x-forwarded-for", "garbage")]);
        assert_eq!(client_addr(peer, &h, &proxies), peer);
        // No header: the proxy itself.
        assert_eq!(client_addr(peer, &HeaderMap::new(), &proxies), peer);
        // A dual-stack socket's mapped address is matched as IPv4.
        let h = headers(&[("x-forwarded-for", "::ffff:198.51.100.11")]);
        assert_eq!(
            client_addr(ip("::ffff:10.0.0.1"), &h, &proxies),
            ip("198.51.100.11")
        );
    }
}
