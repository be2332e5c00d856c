//! Bounded work before authentication: what a cluster connection may cost before its peer
//! has proved who it is, and how much log it may write.
//!
//! Every cluster connection, incoming or outgoing, is *pending* from the moment it is
//! accepted or dialled until its cookie handshake authenticates it. [`Gate`] promises:
//! - at most [`MAX_UNAUTHENTICATED`] incoming connections are pending at once, and at most
//!   [`MAX_UNAUTHENTICATED_PER_SOURCE`] from one address; more are closed at once;
//! - a connection still pending [`HANDSHAKE_TIMEOUT`] after it opened is closed (its
//!   [`ConnWatch`] kill switch fails its next read, whatever ractor_cluster is doing);
//! - with TLS, a peer is accepted only under a node name its certificate names (a SAN);
//!   otherwise the session is stopped;
//! - handshake failures are logged at most once per source and reason per
//!   [`FAILURE_LOG_EVERY`], with the count of the others ([`FailureLog`], a deterministic
//!   core).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::task::AtomicWaker;

use crate::clock::now_ms;

/// A connection must authenticate within this time after it opened, TLS included.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Incoming connections pending authentication at once; more are closed as they arrive.
pub const MAX_UNAUTHENTICATED: usize = 128;
/// Incoming connections pending authentication at once from one IP address.
pub const MAX_UNAUTHENTICATED_PER_SOURCE: usize = 16;
/// One log line per source of handshake failures per this interval; the others are counted.
pub const FAILURE_LOG_EVERY: Duration = Duration::from_secs(30);
/// Sources whose failures are counted one by one; failures of further sources are counted
/// together, so a flood from many addresses cannot grow the table or the log.
const MAX_TRACKED_SOURCES: usize = 1024;
/// The source all untracked sources are counted under.
const OTHER_SOURCES: &str = "other addresses";

/// Why an incoming connection was closed before its handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// [`MAX_UNAUTHENTICATED`] connections are pending.
    Total,
    /// [`MAX_UNAUTHENTICATED_PER_SOURCE`] connections from this address are pending.
    PerSource,
}

impl Refusal {
    fn explain(self) -> String {
        match self {
            Refusal::Total => format!(
                "refused: {MAX_UNAUTHENTICATED} cluster connections are already waiting to \
                 authenticate"
            ),
            Refusal::PerSource => format!(
                "refused: {MAX_UNAUTHENTICATED_PER_SOURCE} cluster connections from this \
                 address are already waiting to authenticate"
            ),
        }
    }
}

/// One connection's state shared with its stream: a kill switch, and whether it has
/// authenticated (after which its reads are no longer watched).
#[derive(Debug, Default)]
pub struct ConnWatch {
    killed: AtomicBool,
    authenticated: AtomicBool,
    waker: AtomicWaker,
}

impl ConnWatch {
    /// Fails the connection's pending and next reads, which closes the session.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Ready once [`ConnWatch::kill`] was called; registers the reader to be woken by it.
    pub fn poll_killed(&self, cx: &Context<'_>) -> Poll<()> {
        self.waker.register(cx.waker());
        if self.killed.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    pub fn is_authenticated(&self) -> bool {
        self.authenticated.load(Ordering::Acquire)
    }
}

/// A connection waiting for its handshake.
#[derive(Debug)]
struct Pending<W> {
    source: String,
    inbound: bool,
    watch: W,
    /// With TLS, the node names the peer's certificate vouches for; `None` without TLS (or
    /// before the TLS handshake finished).
    names: Option<Vec<String>>,
}

/// The pending connections and the caps on them: a deterministic core. `W` is whatever a
/// connection's watch is (an `Arc<ConnWatch>` in the node).
#[derive(Debug)]
pub struct PreAuth<W> {
    pending: HashMap<String, Pending<W>>,
    per_source: HashMap<String, usize>,
    inbound: usize,
}

impl<W> Default for PreAuth<W> {
    fn default() -> Self {
        PreAuth {
            pending: HashMap::new(),
            per_source: HashMap::new(),
            inbound: 0,
        }
    }
}

impl<W> PreAuth<W> {
    /// Admits the connection `label` (unique among open connections) from `source`; only
    /// incoming ones count against the caps.
    pub fn admit(
        &mut self,
        label: &str,
        source: &str,
        inbound: bool,
        watch: W,
    ) -> Result<(), Refusal> {
        if inbound {
            if self.inbound >= MAX_UNAUTHENTICATED {
                return Err(Refusal::Total);
            }
            let from_source = self.per_source.entry(source.to_owned()).or_default();
            if *from_source >= MAX_UNAUTHENTICATED_PER_SOURCE {
                return Err(Refusal::PerSource);
            }
            *from_source += 1;
            self.inbound += 1;
        }
        let pending = Pending {
            source: source.to_owned(),
            inbound,
            watch,
            names: None,
        };
        if let Some(old) = self.pending.insert(label.to_owned(), pending) {
            self.release(&old);
        }
        Ok(())
    }

    /// Records the names the peer's certificate vouches for.
    pub fn set_names(&mut self, label: &str, names: Vec<String>) {
        if let Some(p) = self.pending.get_mut(label) {
            p.names = Some(names);
        }
    }

    /// Ends the wait of `label` (authenticated, closed or timed out): its watch, source and
    /// the names its certificate vouches for, if it was still pending.
    pub fn take(&mut self, label: &str) -> Option<(W, String, Option<Vec<String>>)> {
        let p = self.pending.remove(label)?;
        self.release(&p);
        Some((p.watch, p.source, p.names))
    }

    /// Pending incoming connections, and those from `source`.
    pub fn counts(&self, source: &str) -> (usize, usize) {
        (
            self.inbound,
            self.per_source.get(source).copied().unwrap_or(0),
        )
    }

    fn release(&mut self, p: &Pending<W>) {
        if !p.inbound {
            return;
        }
        self.inbound = self.inbound.saturating_sub(1);
        if let Some(n) = self.per_source.get_mut(&p.source) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_source.remove(&p.source);
            }
        }
    }
}

/// A log line about handshake failures from one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureLine {
    pub source: String,
    pub reason: String,
    /// Failures this line stands for.
    pub count: u32,
}

#[derive(Debug)]
struct SourceLog {
    window_start_ms: u64,
    suppressed: u32,
}

/// Rate-limited handshake failure lines: the first failure of a source for a reason is a
/// line at once; the next ones within [`FAILURE_LOG_EVERY`] are counted, and
/// [`FailureLog::flush`] writes one line with their count once the interval is over. (Our
/// reasons are a handful of fixed texts, so a source makes at most a handful of lines per
/// interval.) A deterministic core.
#[derive(Debug, Default)]
pub struct FailureLog {
    sources: HashMap<(String, String), SourceLog>,
}

impl FailureLog {
    /// A failure from `source`: a line to write now, or `None` if it is counted for later.
    pub fn record(&mut self, source: &str, reason: &str, now_ms: u64) -> Option<FailureLine> {
        let every = FAILURE_LOG_EVERY.as_millis() as u64;
        let mut key = (source.to_owned(), reason.to_owned());
        if !self.sources.contains_key(&key) && self.sources.len() >= MAX_TRACKED_SOURCES {
            key = (OTHER_SOURCES.to_owned(), "various".to_owned());
        }
        match self.sources.get_mut(&key) {
            Some(s) if now_ms.saturating_sub(s.window_start_ms) < every => {
                s.suppressed += 1;
                None
            }
            _ => {
                let earlier = self.sources.insert(
                    key.clone(),
                    SourceLog {
                        window_start_ms: now_ms,
                        suppressed: 0,
                    },
                );
                Some(FailureLine {
                    source: key.0,
                    reason: key.1,
                    count: 1 + earlier.map_or(0, |e| e.suppressed),
                })
            }
        }
    }

    /// Lines for the sources whose interval is over with failures counted in it; sources
    /// quiet for a whole interval are forgotten.
    pub fn flush(&mut self, now_ms: u64) -> Vec<FailureLine> {
        let every = FAILURE_LOG_EVERY.as_millis() as u64;
        let mut lines = Vec::new();
        self.sources.retain(|(source, reason), s| {
            if now_ms.saturating_sub(s.window_start_ms) < every {
                return true;
            }
            if s.suppressed == 0 {
                return false;
            }
            lines.push(FailureLine {
                source: source.clone(),
                reason: reason.clone(),
                count: s.suppressed,
            });
            s.window_start_ms = now_ms;
            s.suppressed = 0;
            true
        });
        lines.sort_by(|a, b| (&a.source, &a.reason).cmp(&(&b.source, &b.reason)));
        lines
    }
}

/// The shared gate of one node's cluster transport: the accept loop, dials, the streams'
/// watches and the node-server event hook all go through it.
#[derive(Debug, Default)]
pub struct Gate {
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    pre_auth: PreAuth<Arc<ConnWatch>>,
    log: FailureLog,
}

impl Gate {
    fn state(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits a new connection (see [`PreAuth::admit`]); a refusal is logged.
    pub fn admit(&self, label: &str, source: &str, inbound: bool) -> Option<Arc<ConnWatch>> {
        let watch = Arc::new(ConnWatch::default());
        let admitted = self
            .state()
            .pre_auth
            .admit(label, source, inbound, watch.clone());
        match admitted {
            Ok(()) => Some(watch),
            Err(refusal) => {
                self.failure(source, &refusal.explain());
                None
            }
        }
    }

    pub fn set_names(&self, label: &str, names: Vec<String>) {
        self.state().pre_auth.set_names(label, names);
    }

    /// The session `label` authenticated as node `claimed`. `Err` says why it must be
    /// stopped: its certificate names another node, or its handshake had timed out.
    pub fn authenticated(&self, label: &str, claimed: &str) -> Result<(), String> {
        let taken = self.state().pre_auth.take(label);
        let Some((watch, source, names)) = taken else {
            return Err("authenticated after its handshake deadline".to_owned());
        };
        if let Some(names) = names
            && !names.iter().any(|n| n == claimed)
        {
            let why = format!(
                "the peer calls itself {claimed:?} but its certificate is for {names:?}: \
                 session stopped"
            );
            watch.kill();
            self.failure(&source, &why);
            return Err(why);
        }
        watch.authenticated.store(true, Ordering::Release);
        Ok(())
    }

    /// The connection `label` closed.
    pub fn closed(&self, label: &str) {
        self.state().pre_auth.take(label);
    }

    /// The handshake deadline of `label` passed: if it is still pending, it is closed,
    /// logged, and true is returned.
    pub fn expire(&self, label: &str) -> bool {
        let taken = self.state().pre_auth.take(label);
        let Some((watch, source, _)) = taken else {
            return false;
        };
        watch.kill();
        self.failure(
            &source,
            &format!(
                "closed: no authentication within {}s",
                HANDSHAKE_TIMEOUT.as_secs()
            ),
        );
        true
    }

    /// A handshake with `source` failed for `reason`: logged, at most once per source per
    /// [`FAILURE_LOG_EVERY`].
    pub fn failure(&self, source: &str, reason: &str) {
        let line = self.state().log.record(source, reason, now_ms());
        if let Some(line) = line {
            write_line(&line);
        }
    }

    /// Writes the counts of the failures held back in intervals that are over.
    pub fn flush(&self) {
        let lines = self.state().log.flush(now_ms());
        for line in lines {
            write_line(&line);
        }
    }

    /// Pending incoming connections in all, and from `source`.
    pub fn pending(&self, source: &str) -> (usize, usize) {
        self.state().pre_auth.counts(source)
    }
}

fn write_line(line: &FailureLine) {
    tracing::warn!(
        source = %line.source,
        count = line.count,
        "cluster handshake failed: {} (one line per source and reason every {}s at most; \
         count: failures since the last such line)",
        line.reason,
        FAILURE_LOG_EVERY.as_secs()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_incoming_connections_in_all_and_per_source() {
        let mut p = PreAuth::default();
        for i in 0..MAX_UNAUTHENTICATED_PER_SOURCE {
            assert_eq!(p.admit(&format!("a{i}"), "10.0.0.1", true, ()), Ok(()));
        }
        assert_eq!(
            p.admit("a-more", "10.0.0.1", true, ()),
            Err(Refusal::PerSource)
        );
        // Outgoing connections are ours: never refused, never counted.
        assert_eq!(p.admit("out", "10.0.0.1", false, ()), Ok(()));
        assert_eq!(p.counts("10.0.0.1"), (MAX_UNAUTHENTICATED_PER_SOURCE, 16));
        // One authenticates: its source may open another.
        assert!(p.take("a0").is_some());
        assert!(p.take("a0").is_none(), "taken once");
        assert_eq!(p.admit("a-more", "10.0.0.1", true, ()), Ok(()));
        let mut n = MAX_UNAUTHENTICATED_PER_SOURCE;
        let mut source = 2;
        while n < MAX_UNAUTHENTICATED {
            let from = format!("10.0.0.{source}");
            if p.admit(&format!("b{n}"), &from, true, ()).is_err() {
                source += 1;
                continue;
            }
            n += 1;
        }
        assert_eq!(p.admit("last", "10.9.9.9", true, ()), Err(Refusal::Total));
        assert!(p.take("out").is_some());
        assert_eq!(p.admit("last", "10.9.9.9", true, ()), Err(Refusal::Total));
        assert!(p.take("b20").is_some());
        assert_eq!(p.admit("last", "10.9.9.9", true, ()), Ok(()));
    }

    #[test]
    fn failures_make_one_line_per_source_per_interval_with_a_count() {
        let mut log = FailureLog::default();
        let every = FAILURE_LOG_EVERY.as_millis() as u64;
        let t = 1_000_000;
        let first = log.record("10.0.0.1", "bad cert", t).unwrap();
        assert_eq!(first.count, 1);
        assert!(log.record("10.0.0.1", "timeout", t).is_some(), "per reason");
        for i in 0..499 {
            assert_eq!(log.record("10.0.0.1", "timeout", t + i), None);
        }
        assert!(
            log.record("10.0.0.2", "bad cert", t).is_some(),
            "per source"
        );
        assert!(log.flush(t + every - 1).is_empty());
        let lines = log.flush(t + every);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!((lines[0].count, lines[0].reason.as_str()), (499, "timeout"));
        // Still failing: counted into the next interval's line.
        assert_eq!(log.record("10.0.0.1", "timeout", t + every + 1), None);
        assert_eq!(log.flush(t + 2 * every)[0].count, 1);
        // A source quiet for a whole interval is forgotten; its next failure is a line.
        assert!(log.flush(t + 3 * every).is_empty());
        assert!(
            log.record("10.0.0.1", "timeout", t + 3 * every + 1)
                .is_some()
        );
    }

    #[test]
    fn a_flood_from_many_sources_stays_bounded() {
        let mut log = FailureLog::default();
        let lines = (0..100_000)
            .filter_map(|i| log.record(&format!("src{i}"), "x", 5))
            .count();
        assert_eq!(lines, MAX_TRACKED_SOURCES + 1);
        assert_eq!(log.sources.len(), MAX_TRACKED_SOURCES + 1);
    }

    #[test]
    fn the_certificate_must_name_the_node_the_peer_claims_to_be() {
        let gate = Gate::default();
        let watch = gate.admit("c1", "10.0.0.1", true).unwrap();
        gate.set_names("c1", vec!["n1".into()]);
        assert!(gate.authenticated("c1", "n2").is_err());
        let cx = Context::from_waker(futures::task::noop_waker_ref());
        assert!(watch.poll_killed(&cx).is_ready(), "mismatch kills");
        let watch = gate.admit("c2", "10.0.0.1", true).unwrap();
        gate.set_names("c2", vec!["n1".into()]);
        assert_eq!(gate.authenticated("c2", "n1"), Ok(()));
        assert!(watch.is_authenticated());
        assert!(!gate.expire("c2"), "authenticated: nothing to expire");
        let watch = gate.admit("c3", "10.0.0.1", true).unwrap();
        assert!(gate.expire("c3"));
        assert!(watch.poll_killed(&cx).is_ready());
        assert_eq!(gate.pending("10.0.0.1"), (0, 0));
    }
}
