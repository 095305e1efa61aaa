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
        let forwarded: Vec<IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        // Walk back from the proxy nearest to us; the first address no proxy of ours vouches
        // for is the client.
        Some(
            forwarded
                .iter()
                .rev()
                .copied()
                .find(|ip| !self.is_trusted(*ip))
                .or_else(|| forwarded.first().copied())
                .unwrap_or(peer),
        )
    }
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
