//! Record version 3, frozen where version 4 changed it: the monitor layout written by builds
//! from user-marked secrets up to zoned monitors, the transition layout written since the
//! alerting work (record versions 2 and 3 share it), and the steps that bring them to
//! version 4.
//!
//! Nothing here may change: these types decode bytes already on users' disks (postcard
//! encodes fields by position, so field order and types are the format). Every other record
//! type kept its layout in version 4 and is read as it is
//! ([`ringwatch_proto::Record::LAYOUT_SINCE`]): only the `monitors` and `transitions` trees
//! are rewritten. Result blocks and rows gained no field on disk (a result's zone is an
//! optional part of the block layout, absent in older blocks).

use ringwatch_proto::{
    DecodeError, ErrorKind, ProbeResult, Rev, Status, StatusRange, Transition, decode_as,
    encode_as, version_of,
};

use super::v4::MonitorV4;
use serde::{Deserialize, Serialize};

/// The version these types are laid out in.
pub const VERSION: u8 = 3;

/// A monitor definition of version 3: no `zones`, no `quorum`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorV3 {
    pub id: String,
    pub url: String,
    pub name: String,
    pub interval_secs: u64,
    pub timeout_ms: u64,
    pub active: bool,
    pub failure_threshold: u32,
    pub recovery_threshold: u32,
    pub expect_status: Vec<StatusRange>,
    pub expect_body_contains: Option<String>,
    pub expect_body_not_contains: Option<String>,
    pub max_response_ms: Option<u64>,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub secret_headers: Vec<String>,
    pub body: Option<String>,
    pub secret_body: bool,
    pub tls_min_days: Option<u32>,
    pub tls_skip_verify: bool,
    pub notifiers: Option<Vec<String>>,
    pub created_ms: u64,
    pub rev: Rev,
    pub deleted: bool,
}

/// A probe result as versions 2 and 3 carried it inside a transition: no `zone`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResultV3 {
    pub monitor_id: String,
    pub at_ms: u64,
    pub ok: bool,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub node: String,
    pub tls_days_left: Option<i64>,
}

/// A status change of versions 2 and 3: no zones down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionV3 {
    pub monitor_id: String,
    pub name: String,
    pub url: String,
    pub seq: u64,
    pub from: Status,
    pub to: Status,
    pub at_ms: u64,
    pub reason: String,
    pub node: String,
    pub confirmed_by: Option<String>,
    pub last_result: Option<ProbeResultV3>,
    pub channels: Vec<String>,
}

/// Rewrites a version-3 monitor as version 4: probed once in the cluster, as before.
pub fn monitor(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let m: MonitorV3 = decode_as(VERSION, bytes)?;
    let current = MonitorV4 {
        id: m.id,
        url: m.url,
        name: m.name,
        interval_secs: m.interval_secs,
        timeout_ms: m.timeout_ms,
        active: m.active,
        failure_threshold: m.failure_threshold,
        recovery_threshold: m.recovery_threshold,
        expect_status: m.expect_status,
        expect_body_contains: m.expect_body_contains,
        expect_body_not_contains: m.expect_body_not_contains,
        max_response_ms: m.max_response_ms,
        method: m.method,
        headers: m.headers,
        secret_headers: m.secret_headers,
        body: m.body,
        secret_body: m.secret_body,
        tls_min_days: m.tls_min_days,
        tls_skip_verify: m.tls_skip_verify,
        notifiers: m.notifiers,
        zones: None,
        quorum: None,
        created_ms: m.created_ms,
        rev: m.rev,
        deleted: m.deleted,
    };
    Ok(encode_as(VERSION + 1, &current))
}

/// Rewrites a transition of version 2 or 3 (one layout) as version 4: no zones down, and a
/// result whose zone is not known (empty).
pub fn transition(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let version = version_of(bytes).ok_or(DecodeError::Empty)?;
    let t: TransitionV3 = decode_as(version, bytes)?;
    let current = Transition {
        monitor_id: t.monitor_id,
        name: t.name,
        url: t.url,
        seq: t.seq,
        from: t.from,
        to: t.to,
        at_ms: t.at_ms,
        reason: t.reason,
        node: t.node,
        confirmed_by: t.confirmed_by,
        last_result: t.last_result.map(|r| ProbeResult {
            monitor_id: r.monitor_id,
            at_ms: r.at_ms,
            ok: r.ok,
            status_code: r.status_code,
            latency_ms: r.latency_ms,
            error: r.error,
            error_kind: r.error_kind,
            node: r.node,
            zone: String::new(),
            tls_days_left: r.tls_days_left,
        }),
        channels: t.channels,
        zones_down: Vec::new(),
        zones_reachable: 0,
    };
    Ok(encode_as(VERSION + 1, &current))
}
