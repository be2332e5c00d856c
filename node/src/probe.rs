//! One HTTP check of one monitor: request, bounded body read, assertions, classified error.
//!
//! Checks open a fresh connection each time (so latency includes connect and TLS) and send
//! `Connection: close` so the target closes first and our side does not pile up TIME_WAIT
//! sockets against one host. Redirects are followed up to [`MAX_REDIRECTS`], loops stop at
//! once. At most [`MAX_BODY_BYTES`] of a body are read: an endless or huge body cannot grow
//! memory, and the whole check is bounded by the monitor's timeout.

use std::error::Error as StdError;
use std::time::{Duration, Instant};

use reqwest::header::{CONNECTION, HeaderValue};
use ringwatch_proto::{ErrorKind, Monitor, ProbeResult};

use crate::clock::now_ms;

/// Redirect hops followed before a check fails with `redirects`.
pub const MAX_REDIRECTS: usize = 10;
/// Bytes of a response body read per check; the rest is not read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The User-Agent of every check.
pub const USER_AGENT: &str = concat!("ringwatch/", env!("CARGO_PKG_VERSION"));

/// Builds the HTTP client probes share. Fails only if the TLS backend cannot initialise.
pub fn client() -> reqwest::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .default_headers(headers)
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::custom(redirect_policy))
        .retry(reqwest::retry::never())
        .no_proxy()
        .tcp_nodelay(true)
        // One request per connection: keepalive probes and user timeouts would only cost
        // four setsockopt calls per check.
        .tcp_keepalive(None)
        .tcp_keepalive_interval(None)
        .tcp_keepalive_retries(None)
        .tcp_user_timeout(None)
        .build()
}

fn redirect_policy(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    if attempt.previous().contains(attempt.url()) {
        let msg = format!("redirect loop at {}", attempt.url());
        attempt.error(msg)
    } else if attempt.previous().len() > MAX_REDIRECTS {
        attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
    } else {
        attempt.follow()
    }
}

/// Probes `monitor` once and describes the outcome. Never panics, never exceeds the
/// monitor's timeout by more than scheduling noise.
pub async fn check(client: &reqwest::Client, monitor: &Monitor, node: &str) -> ProbeResult {
    let at_ms = now_ms();
    let started = Instant::now();
    let timeout = Duration::from_millis(monitor.timeout_ms.max(1));
    let outcome = match tokio::time::timeout(timeout, run(client, monitor, timeout)).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::failed(None, ErrorKind::Timeout, timed_out(timeout)),
    };
    ProbeResult {
        monitor_id: monitor.id.clone(),
        at_ms,
        ok: outcome.error.is_none(),
        status_code: outcome.status_code,
        latency_ms: started.elapsed().as_millis() as u64,
        error_kind: outcome.error.as_ref().map(|(k, _)| *k),
        error: outcome.error.map(|(_, e)| e),
        node: node.to_owned(),
    }
}

struct Outcome {
    status_code: Option<u16>,
    error: Option<(ErrorKind, String)>,
}

impl Outcome {
    fn failed(status_code: Option<u16>, kind: ErrorKind, text: String) -> Self {
        Outcome {
            status_code,
            error: Some((kind, text)),
        }
    }
}

fn timed_out(timeout: Duration) -> String {
    format!("no complete answer within {} ms", timeout.as_millis())
}

async fn run(client: &reqwest::Client, monitor: &Monitor, timeout: Duration) -> Outcome {
    let mut response = match client.get(&monitor.url).timeout(timeout).send().await {
        Ok(r) => r,
        Err(e) => {
            let (kind, text) = classify(&e, timeout);
            return Outcome::failed(None, kind, text);
        }
    };
    let status = response.status();
    let code = Some(status.as_u16());
    let want_body = monitor.expect_body_contains.is_some();
    let mut body = Vec::new();
    let mut read = 0usize;
    while read < MAX_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                read += chunk.len();
                if want_body {
                    let room = MAX_BODY_BYTES.saturating_sub(body.len());
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
            }
            Ok(None) => break,
            Err(e) => {
                let (kind, text) = classify(&e, timeout);
                return Outcome::failed(code, kind, format!("reading body: {text}"));
            }
        }
    }
    if !monitor.accepts_status(status.as_u16()) {
        let text = format!("unexpected status {status}");
        return Outcome::failed(code, ErrorKind::BadStatus, text);
    }
    if let Some(needle) = &monitor.expect_body_contains
        && !contains(&body, needle.as_bytes())
    {
        let text = format!("body does not contain {needle:?} (first {MAX_BODY_BYTES} bytes)");
        return Outcome::failed(code, ErrorKind::Assertion, text);
    }
    Outcome {
        status_code: code,
        error: None,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Sorts a reqwest error into an [`ErrorKind`] and a short text for people.
fn classify(e: &reqwest::Error, timeout: Duration) -> (ErrorKind, String) {
    let chain = error_chain(e);
    let lower = chain.to_ascii_lowercase();
    let kind = if e.is_timeout() || lower.contains("timed out") {
        return (ErrorKind::Timeout, timed_out(timeout));
    } else if e.is_redirect() {
        ErrorKind::Redirects
    } else if lower.contains("dns error") || lower.contains("failed to lookup") {
        ErrorKind::Dns
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        ErrorKind::Tls
    } else if e.is_connect() {
        ErrorKind::Refused
    } else if e.is_builder() {
        ErrorKind::Other
    } else {
        ErrorKind::Protocol
    };
    (kind, chain)
}

/// The error and its sources joined by ": ", skipping repeats and reqwest's URL-bearing
/// wrapper text.
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source: Option<&(dyn StdError + 'static)> = e.source();
    if source.is_none() {
        parts.push(e.to_string());
    }
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        parts.push(e.to_string());
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_search() {
        assert!(contains(b"hello world", b"o w"));
        assert!(!contains(b"hello", b"world"));
        assert!(contains(b"", b""));
    }

    #[tokio::test]
    async fn refused_and_bad_url_are_classified() {
        // Bind then drop a listener: the port is (almost certainly) closed now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = client().unwrap();
        let mut m = Monitor::new("m".into(), format!("http://127.0.0.1:{port}/"));
        m.timeout_ms = 2_000;
        let r = check(&client, &m, "n1").await;
        assert!(!r.ok);
        assert_eq!(r.error_kind, Some(ErrorKind::Refused), "{r:?}");
        assert_eq!(r.node, "n1");
    }
}
