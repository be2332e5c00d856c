//! Monitor definitions and their revisions.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Server-made identifier of a monitor, e.g. `m-5f0c2a9e13d4b7a1`.
pub type MonitorId = String;

/// Seconds between probes when a request names none.
pub const DEFAULT_INTERVAL_SECS: u64 = 30;
/// Per-probe timeout when a request names none: connect, TLS, request and body together.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Consecutive failed probes before a monitor is declared down.
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 2;
/// Consecutive good probes before a down monitor is declared up again.
pub const DEFAULT_RECOVERY_THRESHOLD: u32 = 1;

/// HTTP method of a check when a request names none.
pub const DEFAULT_METHOD: &str = "GET";

/// An inclusive range of accepted HTTP status codes, e.g. 200-399.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRange {
    pub from: u16,
    pub to: u16,
}

/// The status codes an HTTP check accepts when the monitor names none.
pub const DEFAULT_EXPECT_STATUS: StatusRange = StatusRange { from: 200, to: 399 };

impl StatusRange {
    pub fn contains(&self, code: u16) -> bool {
        (self.from..=self.to).contains(&code)
    }
}

/// Revision of a definition: a hybrid logical clock reading plus the writing node.
///
/// Ordered by clock, then node name, so every node that sees the same two revisions picks
/// the same winner (last writer wins) without coordination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Rev {
    /// Hybrid logical clock: unix milliseconds in the high 48 bits, a counter in the low 16.
    pub hlc: u64,
    pub node: String,
}

impl Ord for Rev {
    fn cmp(&self, other: &Self) -> Ordering {
        self.hlc
            .cmp(&other.hlc)
            .then_with(|| self.node.cmp(&other.node))
    }
}

impl PartialOrd for Rev {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Where a zoned monitor is probed: from every zone the cluster knows, or from the zones
/// named (sorted, without repeats).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Zones {
    All,
    Only(Vec<String>),
}

impl Zones {
    /// Whether a node of `zone` probes a monitor with these zones.
    pub fn includes(&self, zone: &str) -> bool {
        match self {
            Zones::All => true,
            Zones::Only(names) => names.iter().any(|z| z == zone),
        }
    }
}

/// A monitor definition as stored and replicated. A deleted monitor stays as a tombstone
/// (`deleted == true`) so that an older copy of it cannot come back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Monitor {
    pub id: MonitorId,
    pub url: String,
    pub name: String,
    pub interval_secs: u64,
    pub timeout_ms: u64,
    pub active: bool,
    pub failure_threshold: u32,
    pub recovery_threshold: u32,
    /// Accepted status codes; empty means the default 200-399.
    pub expect_status: Vec<StatusRange>,
    /// Text the first 64 KiB of the body must contain, if set.
    pub expect_body_contains: Option<String>,
    /// Text the first 64 KiB of the body must not contain, if set.
    pub expect_body_not_contains: Option<String>,
    /// A response slower than this (milliseconds, whole check) fails the probe, if set.
    pub max_response_ms: Option<u64>,
    /// HTTP method of the check request (upper case); `GET` by default.
    pub method: String,
    /// Extra request headers, in order.
    pub headers: Vec<(String, String)>,
    /// Names of headers whose values are secret besides those every monitor treats as secret
    /// (`Authorization`, `Cookie`, names with `token`, `key`...), compared case-insensitively.
    /// Since record version 3.
    pub secret_headers: Vec<String>,
    /// Request body, if any.
    pub body: Option<String>,
    /// The body is a secret: shown redacted like a secret header. Since record version 3.
    pub secret_body: bool,
    /// For https monitors: fewer days than this before the certificate expires fails the
    /// probe, if set. The days left are reported in every https result either way.
    pub tls_min_days: Option<u32>,
    /// Accept certificates that do not verify (self-signed, wrong host). Off by default.
    pub tls_skip_verify: bool,
    /// Notifier ids to alert for this monitor; `None` means every notifier.
    pub notifiers: Option<Vec<String>>,
    /// Where it is probed: `None` once in the cluster (one owner among all live nodes), else
    /// once in each of these zones, and the status is decided by a quorum of them. Since
    /// record version 4.
    pub zones: Option<Zones>,
    /// How many of its zones must see a zoned monitor down for it to be down; `None` means a
    /// majority of its reachable zones. Since record version 4.
    pub quorum: Option<u32>,
    /// Its badges (`/badge/{id}/...`) are public even when no public status page shows it.
    /// Since record version 5.
    pub public_badges: bool,
    /// While it stays down, a reminder goes out at this period (seconds), cluster-wide once
    /// per period; `None` for none. Since record version 5.
    pub repeat_every_secs: Option<u64>,
    pub created_ms: u64,
    pub rev: Rev,
    pub deleted: bool,
}

impl Monitor {
    /// A monitor with every optional field at its default.
    pub fn new(id: MonitorId, url: String) -> Self {
        Monitor {
            name: url.clone(),
            id,
            url,
            interval_secs: DEFAULT_INTERVAL_SECS,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            active: true,
            failure_threshold: DEFAULT_FAILURE_THRESHOLD,
            recovery_threshold: DEFAULT_RECOVERY_THRESHOLD,
            expect_status: Vec::new(),
            expect_body_contains: None,
            expect_body_not_contains: None,
            max_response_ms: None,
            method: DEFAULT_METHOD.to_owned(),
            headers: Vec::new(),
            secret_headers: Vec::new(),
            body: None,
            secret_body: false,
            tls_min_days: None,
            tls_skip_verify: false,
            notifiers: None,
            zones: None,
            quorum: None,
            public_badges: false,
            repeat_every_secs: None,
            created_ms: 0,
            rev: Rev::default(),
            deleted: false,
        }
    }

    /// Whether `code` is an accepted status for this monitor.
    pub fn accepts_status(&self, code: u16) -> bool {
        self.effective_expect_status()
            .iter()
            .any(|r| r.contains(code))
    }

    /// The status codes a check of this monitor accepts: its own list, or
    /// [`DEFAULT_EXPECT_STATUS`] when that is empty. TCP checks have no status: none.
    pub fn effective_expect_status(&self) -> &[StatusRange] {
        if self.is_tcp() {
            &[]
        } else if self.expect_status.is_empty() {
            std::slice::from_ref(&DEFAULT_EXPECT_STATUS)
        } else {
            &self.expect_status
        }
    }

    /// Whether this monitor is a plain TCP connect check (`tcp://host:port`).
    pub fn is_tcp(&self) -> bool {
        self.url.starts_with("tcp://")
    }

    /// Whether the notifier `id` should hear about this monitor's status changes.
    pub fn alerts(&self, notifier: &str) -> bool {
        self.notifiers
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|n| n == notifier))
    }

    /// Whether a prober should be checking this monitor.
    pub fn is_probed(&self) -> bool {
        self.active && !self.deleted
    }
}

impl crate::codec::Record for Monitor {
    /// Since version 5: `public_badges` and `repeat_every_secs`.
    const LAYOUT_SINCE: u8 = 5;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rev_orders_by_clock_then_node() {
        let a = Rev {
            hlc: 5,
            node: "b".into(),
        };
        let b = Rev {
            hlc: 6,
            node: "a".into(),
        };
        let c = Rev {
            hlc: 6,
            node: "b".into(),
        };
        assert!(a < b && b < c);
    }

    #[test]
    fn default_status_acceptance() {
        let mut m = Monitor::new("m".into(), "http://x/".into());
        assert!(m.accepts_status(200) && m.accepts_status(399));
        assert!(!m.accepts_status(404) && !m.accepts_status(500));
        m.expect_status = vec![StatusRange { from: 404, to: 404 }];
        assert!(m.accepts_status(404) && !m.accepts_status(200));
    }
}
