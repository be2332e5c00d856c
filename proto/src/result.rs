//! Probe results and the per-monitor status state derived from them.

use serde::{Deserialize, Serialize};

/// Why a probe failed, for people and for alert routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The host name did not resolve.
    Dns,
    /// Nothing listens: the connection was refused or reset during connect.
    Refused,
    /// No complete answer within the monitor's timeout.
    Timeout,
    /// TLS handshake or certificate failure.
    Tls,
    /// More redirects than allowed, or a redirect loop.
    Redirects,
    /// The status code is not one the monitor accepts.
    BadStatus,
    /// A response assertion failed: body text, response time or certificate lifetime.
    Assertion,
    /// The connection broke or the response was not valid HTTP.
    Protocol,
    /// Anything else; the error text says what.
    Other,
}

impl ErrorKind {
    /// The snake_case name used in JSON and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Dns => "dns",
            ErrorKind::Refused => "refused",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Tls => "tls",
            ErrorKind::Redirects => "redirects",
            ErrorKind::BadStatus => "bad_status",
            ErrorKind::Assertion => "assertion",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Other => "other",
        }
    }
}

/// One probe of one monitor by one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProbeResult {
    pub monitor_id: String,
    /// Unix milliseconds when the probe started.
    pub at_ms: u64,
    pub ok: bool,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    pub error_kind: Option<ErrorKind>,
    /// Name of the node that probed.
    pub node: String,
    /// The zone of the node that probed; empty in results recorded by builds before record
    /// version 4.
    #[serde(default)]
    pub zone: String,
    /// For https checks: whole days until the server certificate expires (negative once
    /// expired), when the handshake got that far.
    pub tls_days_left: Option<i64>,
}

/// A monitor's status as users see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not yet decided: too few probes since it was created or changed.
    #[default]
    Pending,
    Up,
    Down,
    /// Not probed: `active` is false.
    Paused,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Up => "up",
            Status::Down => "down",
            Status::Paused => "paused",
        }
    }
}

/// The up/down decision state of one monitor, persisted so it survives restarts and
/// (later) owner changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MonitorState {
    pub status: Status,
    /// Consecutive failed probes so far.
    pub failures: u32,
    /// Consecutive good probes so far.
    pub successes: u32,
    /// Unix milliseconds of the last status change.
    pub since_ms: u64,
    /// Sequence number of the last status change (see `Transition`); never goes back, also
    /// when the state starts over as pending.
    pub seq: u64,
}

impl crate::codec::Record for ProbeResult {
    /// Since version 4: `zone`.
    const LAYOUT_SINCE: u8 = 4;
}
impl crate::codec::Record for MonitorState {}
