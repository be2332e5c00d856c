//! Where probes may not go: the node's own HTTP and cluster listeners (always), and
//! loopback/private/link-local/unique-local/unspecified addresses when
//! `block_private_targets` is on. Checked on resolved addresses, for every hop of a redirect
//! chain and for `tcp://` checks, so a name that points at 127.0.0.1 is caught like the
//! literal address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};

use reqwest::Url;

use crate::domain::address::{is_own, is_private, literal_ip};

/// The start of every refusal text: error classification looks for it.
pub(super) const BLOCKED: &str = "blocked: ";

/// Why an address is refused: it is one the node listens on.
const OWN: &str = "this node's own address";
/// Why an address is refused: it is not public and the option says so.
const PRIVATE: &str = "a private or loopback address (block_private_targets is on)";

/// The probe guard: cheap to clone, shared by every check of a node.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// Addresses this node listens on, added as its listeners bind.
    own: Arc<RwLock<Vec<SocketAddr>>>,
    block_private: bool,
}

impl Guard {
    /// A guard that refuses the node's own addresses (once added) and, if `block_private`,
    /// every non-public address.
    pub fn new(block_private: bool) -> Self {
        Guard {
            own: Arc::default(),
            block_private,
        }
    }

    /// Records an address this node listens on; no probe reaches it from now on.
    pub fn add_own(&self, addr: SocketAddr) {
        let mut own = self.own.write().unwrap_or_else(|e| e.into_inner());
        if !own.contains(&addr) {
            own.push(addr);
        }
    }

    /// Whether non-public addresses are refused.
    pub fn blocks_private(&self) -> bool {
        self.block_private
    }

    fn own_ports(&self) -> Vec<u16> {
        let own = self.own.read().unwrap_or_else(|e| e.into_inner());
        own.iter().map(SocketAddr::port).collect()
    }

    /// What makes `addr` one a probe may not reach, if anything. The node's own addresses
    /// are refused to `redirected` hops: a monitor may name them itself (its writer could
    /// send that request directly), but a target must not send a probe there.
    fn reason(&self, addr: SocketAddr, redirected: bool) -> Option<&'static str> {
        let own = self.own.read().unwrap_or_else(|e| e.into_inner());
        if redirected && own.iter().any(|o| is_own(*o, addr)) {
            return Some(OWN);
        }
        drop(own);
        (self.block_private && is_private(addr.ip())).then_some(PRIVATE)
    }

    /// Why a probe may not connect to `addr`, if it may not: own addresses only for
    /// `redirected` hops (a monitor may name the node itself), private ones when blocked.
    pub fn refusal(&self, addr: SocketAddr, redirected: bool) -> Option<String> {
        let why = self.reason(addr, redirected)?;
        Some(format!("{BLOCKED}{addr} is {why}"))
    }

    /// Why a probe may not connect to `ip` on any port (`block_private_targets`), if it may not.
    pub fn ip_refusal(&self, ip: IpAddr) -> Option<String> {
        (self.block_private && is_private(ip)).then(|| format!("{BLOCKED}{ip} is {PRIVATE}"))
    }

    /// Why a probe may not go to `url`, as far as its text tells: a literal IP address (or
    /// `localhost`) checked as [`Guard::refusal`] does; other names pass (check what they
    /// resolve to with [`Guard::resolve`]).
    pub fn url_refusal(&self, url: &Url, redirected: bool) -> Option<String> {
        let port = url.port_or_known_default()?;
        let ips = match literal_ip(url) {
            Some(ip) => vec![ip],
            None if url.host_str().is_some_and(is_localhost) => {
                vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()]
            }
            None => return None,
        };
        ips.into_iter()
            .find_map(|ip| self.refusal(SocketAddr::new(ip, port), redirected))
    }

    /// Whether a host name at `port` might be one of this node's listeners; used where the
    /// resolved address cannot be seen (reqwest's redirect policy).
    pub fn is_own_port(&self, port: u16) -> bool {
        self.own_ports().contains(&port)
    }

    /// Resolves `host` (a name or an address) at `port` and answers its addresses, refused
    /// as a whole if any of them is refused (a name cannot smuggle one in among good ones).
    /// The error is for people; refusals start with `blocked: `.
    pub async fn resolve(
        &self,
        host: &str,
        port: u16,
        redirected: bool,
    ) -> Result<Vec<SocketAddr>, String> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| format!("dns error: {e}"))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(format!("dns error: {host} has no addresses"));
        }
        let refused = addrs
            .iter()
            .find_map(|a| Some((*a, self.reason(*a, redirected)?)));
        match refused {
            Some((addr, why)) if host.parse::<IpAddr>().is_err() => {
                Err(format!("{BLOCKED}{host} resolves to {addr}, {why}"))
            }
            Some((addr, why)) => Err(format!("{BLOCKED}{addr} is {why}")),
            None => Ok(addrs),
        }
    }
}

fn is_localhost(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// The DNS resolver of the reqwest clients: refuses names that resolve to a non-public
/// address when the guard blocks them (the port is not known here; own addresses are checked
/// per hop instead).
#[derive(Debug, Clone)]
pub(super) struct GuardedResolver(pub Guard);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(ip) = addrs
                .iter()
                .map(SocketAddr::ip)
                .find(|ip| guard.ip_refusal(*ip).is_some())
            {
                return Err(format!("{BLOCKED}{host} resolves to {ip}, {PRIVATE}").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[tokio::test]
    async fn own_addresses_are_refused_by_any_name() {
        let guard = Guard::new(false);
        guard.add_own("127.0.0.1:18080".parse().unwrap());
        assert!(
            guard
                .url_refusal(&url("http://127.0.0.1:18080/api"), true)
                .is_some()
        );
        assert!(
            guard
                .url_refusal(&url("http://localhost:18080/api"), true)
                .is_some()
        );
        assert!(
            guard
                .url_refusal(&url("http://127.0.0.1:18081/"), true)
                .is_none()
        );
        assert!(
            guard
                .url_refusal(&url("http://example.com:18080/"), true)
                .is_none()
        );
        // A monitor may name the node itself; only a target's redirect may not send it there.
        assert!(
            guard
                .url_refusal(&url("http://127.0.0.1:18080/healthz"), false)
                .is_none()
        );
        let why = guard.resolve("localhost", 18080, true).await.unwrap_err();
        assert!(
            why.starts_with(BLOCKED) && why.contains("own address"),
            "{why}"
        );
        assert!(guard.resolve("localhost", 18080, false).await.is_ok());
        assert!(guard.resolve("127.0.0.1", 18081, true).await.is_ok());
        assert!(guard.is_own_port(18080) && !guard.is_own_port(80));
    }

    #[tokio::test]
    async fn private_addresses_only_when_blocked() {
        let open = Guard::new(false);
        assert!(open.resolve("localhost", 80, false).await.is_ok());
        assert!(open.url_refusal(&url("http://10.0.0.1/"), false).is_none());
        let blocking = Guard::new(true);
        assert!(blocking.blocks_private());
        let why = blocking.resolve("localhost", 80, false).await.unwrap_err();
        assert!(why.contains("localhost resolves to") && why.contains("block_private_targets"));
        assert!(blocking.resolve("[::1]", 22, false).await.is_err());
        assert!(
            blocking
                .url_refusal(&url("http://10.0.0.1/"), false)
                .is_some()
        );
        assert!(
            blocking
                .url_refusal(&url("tcp://169.254.169.254:80"), false)
                .is_some()
        );
        assert!(
            blocking
                .url_refusal(&url("http://2130706433:8080/"), false)
                .is_some()
        );
        assert!(
            blocking
                .url_refusal(&url("https://93.184.215.14/"), false)
                .is_none()
        );
    }
}
