//! One check of one monitor: an HTTP(S) request (`http`) or a plain TCP connect (`tcp`),
//! the monitor's assertions, and a classified error.
//!
//! Every check is bounded by the monitor's timeout and never panics. A failed assertion
//! (status, body text, response time, certificate lifetime) is a failed probe whose error
//! text says which assertion failed and by how much. Https checks report the days left on
//! the server certificate (`tls`) whether or not the monitor asserts on them.
//!
//! Probes are not a proxy into the node: the [`Guard`] refuses every hop (and `tcp://`
//! connect) that resolves to the node's own HTTP or cluster address, or, with
//! `block_private_targets`, to any non-public address; a 307/308 to another host that would
//! resend a body or a method other than GET/HEAD is refused, and credentials are dropped
//! whenever a redirect leaves the first host.

mod guard;
mod http;
mod lean;
mod tcp;
#[cfg(test)]
mod test_server;
#[cfg(test)]
mod tests;
mod tls;

use std::time::{Duration, Instant};

use ringwatch_proto::{ErrorKind, Monitor, ProbeResult};

use crate::clock::now_ms;

pub use guard::Guard;

/// Redirect hops followed before a check fails with `redirects`.
pub const MAX_REDIRECTS: usize = 10;
/// Bytes of a response body read per check; the rest is not read, and body assertions see
/// only these.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The product part of every check's User-Agent, and the whole of the alerter's.
pub const USER_AGENT: &str = concat!("ringwatch/", env!("CARGO_PKG_VERSION"));

/// The User-Agent of every check from a node of `zone`, unless the monitor sets its own:
/// `ringwatch/<version> (zone <name>)`, so a target's logs tell the locations apart.
pub fn user_agent(zone: &str) -> String {
    format!("{USER_AGENT} (zone {zone})")
}

/// The HTTP clients checks share and the [`Guard`] every check passes: clients that verify
/// certificates or not (`tls_skip_verify`), each in two redirect policies (requests that a
/// 307/308 would resend with a method other than GET/HEAD or a body, and the rest). Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct Clients {
    guard: Guard,
    /// [`user_agent`] of the node's zone.
    user_agent: hyper::header::HeaderValue,
    /// The node's zone, recorded in every result.
    zone: String,
    /// Indexed by `[accept_invalid_certs][replays_request]`.
    clients: [[reqwest::Client; 2]; 2],
}

impl Clients {
    /// Builds the clients of a node of `zone` (a plain name) around `guard`. Fails only if the
    /// TLS backend cannot initialise.
    pub fn new(guard: Guard, zone: &str) -> reqwest::Result<Self> {
        let agent = user_agent(zone);
        let build = |insecure, replays| http::client(insecure, replays, guard.clone(), &agent);
        Ok(Clients {
            // A plain name makes a valid header value; anything else falls back to no zone.
            user_agent: hyper::header::HeaderValue::from_str(&agent)
                .unwrap_or(hyper::header::HeaderValue::from_static(USER_AGENT)),
            clients: [
                [build(false, false)?, build(false, true)?],
                [build(true, false)?, build(true, true)?],
            ],
            zone: zone.to_owned(),
            guard,
        })
    }

    /// The guard of every check: add the node's listen addresses to it as they bind.
    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// The User-Agent checks send unless the monitor sets its own.
    pub fn user_agent(&self) -> &hyper::header::HeaderValue {
        &self.user_agent
    }

    fn for_hop(&self, monitor: &Monitor, hop: &http::Hop) -> &reqwest::Client {
        &self.clients[usize::from(monitor.tls_skip_verify)][usize::from(hop.replays_request())]
    }
}

/// Probes `monitor` once and describes the outcome. Never panics, never exceeds the
/// monitor's timeout by more than scheduling noise.
pub async fn check(clients: &Clients, monitor: &Monitor, node: &str) -> ProbeResult {
    let at_ms = now_ms();
    let started = Instant::now();
    let timeout = Duration::from_millis(monitor.timeout_ms.max(1));
    let run = async {
        if monitor.is_tcp() {
            tcp::run(&clients.guard, monitor).await
        } else if lean::takes(monitor) {
            lean::run(clients, monitor, timeout).await
        } else {
            http::run(clients, monitor, timeout).await
        }
    };
    let outcome = match tokio::time::timeout(timeout, run).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::failed(None, ErrorKind::Timeout, timed_out(timeout)),
    };
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let outcome = outcome.within(monitor.max_response_ms, latency_ms);
    ProbeResult {
        monitor_id: monitor.id.clone(),
        at_ms,
        ok: outcome.error.is_none(),
        status_code: outcome.status_code,
        latency_ms,
        error_kind: outcome.error.as_ref().map(|(k, _)| *k),
        error: outcome.error.map(|(_, e)| e),
        node: node.to_owned(),
        zone: clients.zone.clone(),
        tls_days_left: outcome.tls_days_left,
    }
}

/// What one check found, before it becomes a [`ProbeResult`].
#[derive(Debug, Default)]
struct Outcome {
    status_code: Option<u16>,
    tls_days_left: Option<i64>,
    /// The first failure; `None` when every assertion held.
    error: Option<(ErrorKind, String)>,
}

impl Outcome {
    fn failed(status_code: Option<u16>, kind: ErrorKind, text: String) -> Self {
        Outcome {
            status_code,
            tls_days_left: None,
            error: Some((kind, text)),
        }
    }

    /// This outcome failed for `kind`, keeping what was learnt so far.
    fn fail(self, kind: ErrorKind, text: String) -> Self {
        Outcome {
            error: Some((kind, text)),
            ..self
        }
    }

    /// Fails an otherwise good outcome that took longer than `max_ms`, if set.
    fn within(self, max_ms: Option<u64>, latency_ms: u64) -> Self {
        match max_ms {
            Some(max) if self.error.is_none() && latency_ms > max => self.fail(
                ErrorKind::Assertion,
                format!("response took {latency_ms} ms, more than the {max} ms allowed"),
            ),
            _ => self,
        }
    }
}

/// Reads a body's chunks until [`MAX_BODY_BYTES`] have come (the rest is not read); returns
/// them if `keep`, else nothing (a body no assertion looks at is not held in memory).
async fn read_capped<E>(
    chunks: impl futures::Stream<Item = Result<bytes::Bytes, E>>,
    keep: bool,
) -> Result<Vec<u8>, E> {
    use futures::StreamExt;
    let mut chunks = std::pin::pin!(chunks);
    let mut body = Vec::new();
    let mut read = 0usize;
    while read < MAX_BODY_BYTES {
        let Some(chunk) = chunks.next().await.transpose()? else {
            break;
        };
        read += chunk.len();
        if keep {
            let room = MAX_BODY_BYTES.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
    }
    Ok(body)
}

/// An error and its sources joined by ": ", each text once. `skip_top` leaves out the
/// outermost text when there are sources (reqwest's, which repeats the whole URL).
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static), skip_top: bool) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !skip_top || e.source().is_none() {
        parts.push(e.to_string());
    }
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

fn timed_out(timeout: Duration) -> String {
    format!("no complete answer within {} ms", timeout.as_millis())
}
