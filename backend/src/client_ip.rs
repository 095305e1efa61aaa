//! The client's IP address: the socket peer, unless the peer is a configured trusted proxy, in
//! which case the nearest untrusted address in `X-Forwarded-For`. A client can therefore never
//! choose its own IP (and so its own rate-limit bucket) by sending the header directly.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

#[derive(Debug, Clone, Default)]
pub struct ClientIpResolver {
    trusted_proxies: Vec<IpNet>,
}

impl ClientIpResolver {
    pub fn new(trusted_proxies: Vec<IpNet>) -> Self {
        Self { trusted_proxies }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }

    pub fn resolve(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        if !self.is_trusted(peer) {
            return Some(peer);
        }
        let entries: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        // Walk back from the proxy nearest to us; the first address no proxy of ours vouches
        // for is the client. An entry that does not parse ends the walk: the client is then
        // the last hop a proxy of ours named, since nothing further left can be believed.
        let mut last_trusted = peer;
        for entry in entries.iter().rev() {
            let Some(ip) = parse_entry(entry) else {
                return Some(last_trusted);
            };
            if !self.is_trusted(ip) {
                return Some(ip);
            }
            last_trusted = ip;
        }
        Some(last_trusted)
    }
}

/// One `X-Forwarded-For` entry: an address, with or without a port (`203.0.113.9:4711`,
/// `[2001:db8::1]:4711`), as proxies append them.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    entry
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|addr| addr.ip())
        .or_else(|| {
            // `[v6]` without a port.
            entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .and_then(|e| e.parse().ok())
        })
}

/// The rate-limit identity of an address: IPv4 as is, IPv6 by its /64 (one subscriber's
/// whole prefix), as Better Auth groups them.
pub fn bucket_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn resolver() -> ClientIpResolver {
        ClientIpResolver::new(vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ])
    }

    #[test]
    fn an_untrusted_peer_cannot_pick_its_ip() {
        let req = TestRequest::default()
            .peer_addr("198.51.100.4:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "203.0.113.9"))
            .to_http_request();
        assert_eq!(
            resolver().resolve(&req),
            Some("198.51.100.4".parse().unwrap())
        );
    }

    #[test]
    fn a_trusted_proxy_chain_yields_the_first_untrusted_hop() {
        let req = TestRequest::default()
            .peer_addr("127.0.0.1:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.1.2.3"))
            .to_http_request();
        assert_eq!(
            resolver().resolve(&req),
            Some("203.0.113.9".parse().unwrap())
        );
    }

    fn resolved(forwarded: &str) -> Option<IpAddr> {
        let req = TestRequest::default()
            .peer_addr("127.0.0.1:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", forwarded))
            .to_http_request();
        resolver().resolve(&req)
    }

    #[test]
    fn entries_with_ports_are_read_as_their_address() {
        let client = Some("203.0.113.9".parse().unwrap());
        assert_eq!(resolved("203.0.113.9:4711"), client);
        assert_eq!(resolved("6.6.6.6, 203.0.113.9:4711, 10.1.2.3:80"), client);
        assert_eq!(
            resolved("[2001:db8::1]:4711, 10.1.2.3"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            resolved("[2001:db8::2]"),
            Some("2001:db8::2".parse().unwrap())
        );
    }

    #[test]
    fn an_entry_that_does_not_parse_ends_the_walk_at_the_last_trusted_hop() {
        // The client's own entry is garbage: it cannot become the address to its left.
        assert_eq!(
            resolved("6.6.6.6, not-an-ip, 10.1.2.3"),
            Some("10.1.2.3".parse().unwrap())
        );
        assert_eq!(
            resolved("6.6.6.6, unknown"),
            Some("127.0.0.1".parse().unwrap())
        );
        // Every hop trusted: the first one is as far as the chain goes.
        assert_eq!(
            resolved("10.9.9.9, 10.1.2.3"),
            Some("10.9.9.9".parse().unwrap())
        );
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        assert_eq!(
            bucket_key("2001:db8:1:2:aaaa::1".parse().unwrap()),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            bucket_key("2001:db8:1:2:bbbb::9".parse().unwrap()),
            "2001:db8:1:2::/64"
        );
        assert_eq!(bucket_key("203.0.113.9".parse().unwrap()), "203.0.113.9");
    }
}
