//! Plain TCP checks (`tcp://host:port`): the probe is good when a connection is accepted.
//! Nothing is sent; the connection is closed at once. Latency is resolve plus connect.

use std::io;
use std::net::SocketAddr;

use ringwatch_proto::{ErrorKind, Monitor};
use tokio::net::TcpStream;

use super::Outcome;

/// Resolves the monitor's host and connects to its port.
pub(super) async fn run(monitor: &Monitor) -> Outcome {
    let (host, port) = match target(&monitor.url) {
        Ok(target) => target,
        Err(text) => return Outcome::failed(None, ErrorKind::Other, text),
    };
    let addrs: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), port)).await {
        Ok(addrs) => addrs.collect(),
        Err(e) => return Outcome::failed(None, ErrorKind::Dns, format!("dns error: {e}")),
    };
    if addrs.is_empty() {
        let text = format!("dns error: {host} has no addresses");
        return Outcome::failed(None, ErrorKind::Dns, text);
    }
    match TcpStream::connect(addrs.as_slice()).await {
        Ok(_connected) => Outcome::default(),
        Err(e) => {
            let text = format!("connecting to {host} port {port}: {e}");
            Outcome::failed(None, classify(&e), text)
        }
    }
}

/// Host (IPv6 without brackets) and port of a `tcp://host:port` URL.
fn target(url: &str) -> Result<(String, u16), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("invalid url {url:?}: {e}"))?;
    let host = parsed
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("url {url:?} has no host"))?;
    let port = parsed
        .port()
        .ok_or_else(|| format!("url {url:?} has no port"))?;
    Ok((host.to_owned(), port))
}

/// Like HTTP checks: a connect that times out is `timeout`, every other connect failure
/// (refused, reset, unreachable) is `refused`.
fn classify(e: &io::Error) -> ErrorKind {
    match e.kind() {
        io::ErrorKind::TimedOut => ErrorKind::Timeout,
        _ => ErrorKind::Refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_of_tcp_urls() {
        assert_eq!(target("tcp://db.local:5432"), Ok(("db.local".into(), 5432)));
        assert_eq!(target("tcp://127.0.0.1:80"), Ok(("127.0.0.1".into(), 80)));
        assert_eq!(target("tcp://[::1]:22"), Ok(("::1".into(), 22)));
        assert!(target("tcp://db.local").is_err());
        assert!(target("tcp://:80").is_err());
    }
}
