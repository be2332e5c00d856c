//! Record version 1, frozen: the layouts written by builds before the alerting work
//! (commit 9696bdd), and the step that brings each of them to version 2.
//!
//! Nothing here may change: these types decode bytes already on users' disks. postcard
//! encodes fields by position and enum variants by index, so field order, field types and
//! variant order are the format. Version 1 stores had four trees: `monitors`, `results`,
//! `states` and `meta` (watermarks, raw big-endian u64 values without a version byte, the
//! same in version 2: nothing to rewrite).
//!
//! The steps build version 2 layouts: the current `proto` types where later versions left
//! them alone (states), the frozen [`MonitorV2`] for monitors, which version 3 changed, and
//! the frozen `ResultBodyV3` for result rows, which version 4 changed. A
//! version 1 monitor goes to 2 here, then to 3 in [`super::v2`].

use ringwatch_proto::{
    DEFAULT_METHOD, DecodeError, ErrorKind, MonitorState, Rev, Status, StatusRange, decode_as,
    encode_as,
};
use serde::{Deserialize, Serialize};

use super::super::records::ResultBodyV3;
use super::v2::MonitorV2;

/// The version these types are laid out in.
pub const VERSION: u8 = 1;

/// `StatusRange` of version 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRangeV1 {
    pub from: u16,
    pub to: u16,
}

/// `Rev` of version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevV1 {
    pub hlc: u64,
    pub node: String,
}

/// A monitor definition of version 1: no request options, assertions beyond one body text,
/// TLS settings or notifier list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorV1 {
    pub id: String,
    pub url: String,
    pub name: String,
    pub interval_secs: u64,
    pub timeout_ms: u64,
    pub active: bool,
    pub failure_threshold: u32,
    pub recovery_threshold: u32,
    pub expect_status: Vec<StatusRangeV1>,
    pub expect_body_contains: Option<String>,
    pub created_ms: u64,
    pub rev: RevV1,
    pub deleted: bool,
}

/// `ErrorKind` of version 1 (same variants, in the same order, as version 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKindV1 {
    Dns,
    Refused,
    Timeout,
    Tls,
    Redirects,
    BadStatus,
    Assertion,
    Protocol,
    Other,
}

/// A stored result body of version 1 (the monitor id is in the key): no TLS days left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultBodyV1 {
    pub at_ms: u64,
    pub ok: bool,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    pub error_kind: Option<ErrorKindV1>,
    pub node: String,
}

/// `Status` of version 1 (same variants, in the same order, as version 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusV1 {
    Pending,
    Up,
    Down,
    Paused,
}

/// A monitor's status state of version 1: no transition number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorStateV1 {
    pub status: StatusV1,
    pub failures: u32,
    pub successes: u32,
    pub since_ms: u64,
}

/// Rewrites a version-1 monitor as version 2; the new fields take their defaults (GET, no
/// headers or body, no extra assertions, TLS verified, every notifier).
pub fn monitor(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let m: MonitorV1 = decode_as(VERSION, bytes)?;
    let current = MonitorV2 {
        id: m.id,
        url: m.url,
        name: m.name,
        interval_secs: m.interval_secs,
        timeout_ms: m.timeout_ms,
        active: m.active,
        failure_threshold: m.failure_threshold,
        recovery_threshold: m.recovery_threshold,
        expect_status: m
            .expect_status
            .into_iter()
            .map(|r| StatusRange {
                from: r.from,
                to: r.to,
            })
            .collect(),
        expect_body_contains: m.expect_body_contains,
        expect_body_not_contains: None,
        max_response_ms: None,
        method: DEFAULT_METHOD.to_owned(),
        headers: Vec::new(),
        body: None,
        tls_min_days: None,
        tls_skip_verify: false,
        notifiers: None,
        created_ms: m.created_ms,
        rev: Rev {
            hlc: m.rev.hlc,
            node: m.rev.node,
        },
        deleted: m.deleted,
    };
    Ok(encode_as(VERSION + 1, &current))
}

/// Rewrites a version-1 result body as version 2, without TLS days left.
pub fn result(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let r: ResultBodyV1 = decode_as(VERSION, bytes)?;
    let current = ResultBodyV3 {
        at_ms: r.at_ms,
        ok: r.ok,
        status_code: r.status_code,
        latency_ms: r.latency_ms,
        error: r.error,
        error_kind: r.error_kind.map(error_kind),
        node: r.node,
        tls_days_left: None,
    };
    Ok(encode_as(VERSION + 1, &current))
}

/// Rewrites a version-1 status state as version 2. Version-1 builds made no transitions, so
/// the last transition number is 0: the next change is number 1.
pub fn state(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let s: MonitorStateV1 = decode_as(VERSION, bytes)?;
    let current = MonitorState {
        status: status(s.status),
        failures: s.failures,
        successes: s.successes,
        since_ms: s.since_ms,
        seq: 0,
    };
    Ok(encode_as(VERSION + 1, &current))
}

fn error_kind(k: ErrorKindV1) -> ErrorKind {
    match k {
        ErrorKindV1::Dns => ErrorKind::Dns,
        ErrorKindV1::Refused => ErrorKind::Refused,
        ErrorKindV1::Timeout => ErrorKind::Timeout,
        ErrorKindV1::Tls => ErrorKind::Tls,
        ErrorKindV1::Redirects => ErrorKind::Redirects,
        ErrorKindV1::BadStatus => ErrorKind::BadStatus,
        ErrorKindV1::Assertion => ErrorKind::Assertion,
        ErrorKindV1::Protocol => ErrorKind::Protocol,
        ErrorKindV1::Other => ErrorKind::Other,
    }
}

fn status(s: StatusV1) -> Status {
    match s {
        StatusV1::Pending => Status::Pending,
        StatusV1::Up => Status::Up,
        StatusV1::Down => Status::Down,
        StatusV1::Paused => Status::Paused,
    }
}
