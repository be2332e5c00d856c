//! HTTP(S) checks: request, bounded body read, response assertions, classified error.
//!
//! Checks open a fresh connection each time (so latency includes connect and TLS) and send
//! `Connection: close` so the target closes first and our side does not pile up TIME_WAIT
//! sockets against one host. Redirects are followed up to [`MAX_REDIRECTS`], loops stop at
//! once. At most [`MAX_BODY_BYTES`] of a body are read, and kept only when a body assertion
//! needs them: an endless or huge body cannot grow memory.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONNECTION, HeaderValue};
use ringwatch_proto::{ErrorKind, Monitor};

use super::{MAX_BODY_BYTES, MAX_REDIRECTS, Outcome, USER_AGENT, timed_out, tls};
use crate::clock::now_ms;

/// Builds an HTTP client for checks; `accept_invalid_certs` turns certificate verification
/// off. Fails only if the TLS backend cannot initialise.
pub(super) fn client(accept_invalid_certs: bool) -> reqwest::Result<reqwest::Client> {
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
        // The server certificate rides along on each response, for its expiry date.
        .tls_info(true)
        .tls_danger_accept_invalid_certs(accept_invalid_certs)
        .build()
}

fn redirect_policy(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    if attempt.previous().contains(attempt.url()) {
        let at = crate::domain::secret::redact_url(attempt.url().as_str()).into_owned();
        let msg = format!("redirect loop at {at}");
        attempt.error(msg)
    } else if attempt.previous().len() > MAX_REDIRECTS {
        attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
    } else {
        attempt.follow()
    }
}

/// Where a request goes and what it carries: the monitor's own, or a later hop of a redirect
/// chain that the lean path hands over (see [`super::lean`]).
pub(super) struct Hop {
    pub url: String,
    pub method: reqwest::Method,
    pub body: Option<bytes::Bytes>,
    /// Drop credentials (`Authorization`, `Cookie`): the chain left the first host.
    pub strip_credentials: bool,
}

impl Hop {
    /// The monitor's own request. Fails on a method that is not a valid token.
    pub fn first(monitor: &Monitor) -> Result<Hop, String> {
        let method = reqwest::Method::from_bytes(monitor.method.as_bytes())
            .map_err(|_| format!("invalid method {:?}", monitor.method))?;
        Ok(Hop {
            url: monitor.url.clone(),
            method,
            body: monitor.body.clone().map(bytes::Bytes::from),
            strip_credentials: false,
        })
    }
}

/// Sends the monitor's request and checks the answer against its assertions.
pub(super) async fn run(client: &reqwest::Client, monitor: &Monitor, timeout: Duration) -> Outcome {
    match Hop::first(monitor) {
        Ok(hop) => run_hop(client, monitor, hop, timeout).await,
        Err(text) => Outcome::failed(None, ErrorKind::Other, text),
    }
}

/// Sends `hop` (reqwest follows any further redirects) and checks the answer.
pub(super) async fn run_hop(
    client: &reqwest::Client,
    monitor: &Monitor,
    hop: Hop,
    timeout: Duration,
) -> Outcome {
    let response = match request(client, monitor, hop, timeout).send().await {
        Ok(r) => r,
        Err(e) => {
            let (kind, text) = classify(&e, timeout);
            return Outcome::failed(None, kind, text);
        }
    };
    let status = response.status();
    let outcome = Outcome {
        status_code: Some(status.as_u16()),
        tls_days_left: tls::days_left(&response, now_ms()),
        error: None,
    };
    let body = match super::read_capped(response.bytes_stream(), keeps_body(monitor)).await {
        Ok(body) => body,
        Err(e) => {
            let (kind, text) = classify(&e, timeout);
            return outcome.fail(kind, format!("reading body: {text}"));
        }
    };
    match assert_response(monitor, status, &body, outcome.tls_days_left) {
        Ok(()) => outcome,
        Err((kind, text)) => outcome.fail(kind, text),
    }
}

/// Whether a body assertion needs the body kept (else it is read and dropped).
pub(super) fn keeps_body(monitor: &Monitor) -> bool {
    monitor.expect_body_contains.is_some() || monitor.expect_body_not_contains.is_some()
}

/// Request headers that carry credentials, dropped when a redirect leaves the first host.
pub(super) fn is_credential(name: &str) -> bool {
    ["authorization", "cookie", "proxy-authorization"]
        .iter()
        .any(|c| name.eq_ignore_ascii_case(c))
}

/// The request of `hop` with the monitor's headers. Builds no header map and copies no body
/// when the monitor sets none.
fn request(
    client: &reqwest::Client,
    monitor: &Monitor,
    hop: Hop,
    timeout: Duration,
) -> reqwest::RequestBuilder {
    let mut request = client.request(hop.method, &hop.url).timeout(timeout);
    // An invalid name or value surfaces as a builder error when the request is sent.
    for (name, value) in &monitor.headers {
        if !(hop.strip_credentials && is_credential(name)) {
            request = request.header(name, value);
        }
    }
    if let Some(body) = hop.body {
        request = request.body(body);
    }
    request
}

/// The first assertion of `monitor` that the answer breaks, with a reason for people.
pub(super) fn assert_response(
    monitor: &Monitor,
    status: StatusCode,
    body: &[u8],
    tls_days_left: Option<i64>,
) -> Result<(), (ErrorKind, String)> {
    if !monitor.accepts_status(status.as_u16()) {
        return Err((ErrorKind::BadStatus, format!("unexpected status {status}")));
    }
    let assertion = |text: String| (ErrorKind::Assertion, text);
    if let Some(needle) = &monitor.expect_body_contains
        && !contains(body, needle.as_bytes())
    {
        let text = format!("body does not contain {needle:?} (first {MAX_BODY_BYTES} bytes)");
        return Err(assertion(text));
    }
    if let Some(needle) = &monitor.expect_body_not_contains
        && !needle.is_empty()
        && contains(body, needle.as_bytes())
    {
        let text = format!("body contains {needle:?} (first {MAX_BODY_BYTES} bytes)");
        return Err(assertion(text));
    }
    tls::assert_lifetime(monitor.tls_min_days, tls_days_left).map_err(assertion)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Sorts a reqwest error into an [`ErrorKind`] and a short text for people.
fn classify(e: &reqwest::Error, timeout: Duration) -> (ErrorKind, String) {
    let chain = super::error_chain(e, true);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_search() {
        assert!(contains(b"hello world", b"o w"));
        assert!(!contains(b"hello", b"world"));
        assert!(contains(b"", b""));
    }
}
