//! Plain TCP checks (`tcp://host:port`): the probe is good when a connection is accepted.
//! Nothing is sent; the connection is closed at once. Latency is resolve plus connect. The
//! guard's refusals apply (a refused address is never connected to, so `tcp://` checks
//! cannot scan the node's own host or, with `block_private_targets`, private networks).

use std::io;

use ringwatch_proto::{ErrorKind, Monitor};
use tokio::net::TcpStream;

use super::guard::BLOCKED;
use super::{Guard, Outcome};

/// Resolves the monitor's host and connects to its port, unless the guard refuses it.
pub(super) async fn run(guard: &Guard, monitor: &Monitor) -> Outcome {
    let (host, port) = match target(&monitor.url) {
        Ok(target) => target,
        Err(text) => return Outcome::failed(None, ErrorKind::Other, text),
    };
    let addrs = match guard.resolve(&host, port, false).await {
        Ok(addrs) => addrs,
        Err(why) if why.starts_with(BLOCKED) => {
            return Outcome::failed(None, ErrorKind::Refused, why);
        }
        Err(why) => return Outcome::failed(None, ErrorKind::Dns, why),
    };
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
