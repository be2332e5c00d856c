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

use super::guard::{BLOCKED, GuardedResolver};
use super::{Clients, Guard, MAX_BODY_BYTES, MAX_REDIRECTS, Outcome, timed_out, tls};
use crate::clock::now_ms;

/// Builds an HTTP client for checks; `accept_invalid_certs` turns certificate verification
/// off; `replays` says whether its requests are ones a 307/308 would resend with a body or
/// an unsafe method (see [`redirect_policy`]). Names resolve through `guard`. Fails only if
/// the TLS backend cannot initialise.
pub(super) fn client(
    accept_invalid_certs: bool,
    replays: bool,
    guard: Guard,
    user_agent: &str,
) -> reqwest::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    reqwest::Client::builder()
        .user_agent(user_agent)
        .default_headers(headers)
        .pool_max_idle_per_host(0)
        .dns_resolver(GuardedResolver(guard.clone()))
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            redirect_policy(&guard, replays, attempt)
        }))
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

/// Follows a redirect unless it loops, goes on too long, points at an address the guard
/// refuses, or is a 307/308 to another host of a request that carries a body or an unsafe
/// method (`replays`). reqwest itself drops `Authorization`, `Cookie` and
/// `Proxy-Authorization` when a hop changes host, port or scheme. Names are resolved (and
/// checked for private addresses) by [`GuardedResolver`]; their port alone is checked against
/// the node's own ports here, for the plain-http hops that could reach its API.
fn redirect_policy(
    guard: &Guard,
    replays: bool,
    attempt: reqwest::redirect::Attempt<'_>,
) -> reqwest::redirect::Action {
    let url = attempt.url();
    let from = attempt.previous().last();
    // Error texts are shown: a URL's credentials and secret query values never are.
    let shown = crate::domain::secret::redact_url(url.as_str()).into_owned();
    let refusal = if attempt.previous().contains(url) {
        Some(format!("redirect loop at {shown}"))
    } else if attempt.previous().len() > MAX_REDIRECTS {
        Some(format!("more than {MAX_REDIRECTS} redirects"))
    } else if let Some(why) = guard.url_refusal(url, true) {
        Some(format!("redirect to {shown} refused: {why}"))
    } else if url.scheme() == "http"
        && url
            .port_or_known_default()
            .is_some_and(|p| guard.is_own_port(p))
    {
        Some(format!(
            "redirect to {shown} refused: {BLOCKED}its port is one this node listens on"
        ))
    } else if replays && resends(attempt.status()) && from.is_some_and(|f| !same_host(f, url)) {
        Some(resend_refusal(attempt.status(), url))
    } else {
        None
    };
    match refusal {
        Some(text) => attempt.error(text),
        None => attempt.follow(),
    }
}

/// Whether a redirect with this status repeats the request as it was (method and body).
pub(super) fn resends(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
    )
}

/// Whether two URLs name the same host (scheme and port may differ: http to https).
pub(super) fn same_host(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.host_str() == b.host_str()
}

/// The refusal of a 307/308 that would resend a request's body or method to another host.
pub(super) fn resend_refusal(status: StatusCode, to: &reqwest::Url) -> String {
    format!(
        "{} to another host refused: it would resend the request's method and body to {}",
        status.as_u16(),
        crate::domain::secret::redact_url(to.as_str())
    )
}

/// Where a request goes and what it carries: the monitor's own, or a later hop of a redirect
/// chain that the lean path hands over (see [`super::lean`]).
pub(super) struct Hop {
    pub url: String,
    pub method: reqwest::Method,
    pub body: Option<bytes::Bytes>,
    /// Drop credentials (`Authorization`, `Cookie`): the chain left the first host.
    pub strip_credentials: bool,
    /// A later hop of a redirect chain, not the monitor's own URL.
    pub redirected: bool,
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
            redirected: false,
        })
    }

    /// Whether a 307/308 would resend something a plain GET does not: a body, or a method
    /// other than GET and HEAD.
    pub fn replays_request(&self) -> bool {
        self.body.is_some() || !matches!(self.method, reqwest::Method::GET | reqwest::Method::HEAD)
    }

    /// The error kind of a refusal of this hop's address: `redirects` for a later hop.
    pub fn refused_kind(&self) -> ErrorKind {
        if self.redirected {
            ErrorKind::Redirects
        } else {
            ErrorKind::Refused
        }
    }
}

/// Sends the monitor's request and checks the answer against its assertions.
pub(super) async fn run(clients: &Clients, monitor: &Monitor, timeout: Duration) -> Outcome {
    match Hop::first(monitor) {
        Ok(hop) => run_hop(clients, monitor, hop, timeout).await,
        Err(text) => Outcome::failed(None, ErrorKind::Other, text),
    }
}

/// Sends `hop` (reqwest follows any further redirects) and checks the answer.
pub(super) async fn run_hop(
    clients: &Clients,
    monitor: &Monitor,
    hop: Hop,
    timeout: Duration,
) -> Outcome {
    // Later hops are checked by the redirect policy; the first one by its text here (a
    // literal address never meets the resolver) and its resolved name by the resolver.
    if let Some(why) = reqwest::Url::parse(&hop.url)
        .ok()
        .and_then(|url| clients.guard().url_refusal(&url, hop.redirected))
    {
        let text = match hop.redirected {
            true => format!("redirect to {} refused: {why}", hop.url),
            false => why,
        };
        return Outcome::failed(None, hop.refused_kind(), text);
    }
    let client = clients.for_hop(monitor, &hop);
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
    } else if chain.contains(BLOCKED) {
        ErrorKind::Refused
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
