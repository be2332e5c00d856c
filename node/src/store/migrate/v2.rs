//! Record version 2, frozen where version 3 changed it: the monitor layout written by builds
//! from the alerting work (9696bdd) up to user-marked secrets, and the step that brings it to
//! version 3 (the frozen [`MonitorV3`]; version 4 changed monitors again).
//!
//! Nothing here may change: these types decode bytes already on users' disks (postcard
//! encodes fields by position, so field order and types are the format). Every other record
//! type kept its version 2 layout in version 3 and is read as it is
//! ([`ringwatch_proto::Record::LAYOUT_SINCE`]): only the `monitors` tree is rewritten.

use ringwatch_proto::{DecodeError, Rev, StatusRange, decode_as, encode_as};

use super::v3::MonitorV3;
use serde::{Deserialize, Serialize};

/// The version these types are laid out in.
pub const VERSION: u8 = 2;

/// A monitor definition of version 2: no `secret_headers`, no `secret_body`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorV2 {
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
    pub body: Option<String>,
    pub tls_min_days: Option<u32>,
    pub tls_skip_verify: bool,
    pub notifiers: Option<Vec<String>>,
    pub created_ms: u64,
    pub rev: Rev,
    pub deleted: bool,
}

/// Rewrites a version-2 monitor as version 3: no header beyond the built-in secret names is
/// marked secret, and the body is not (what version 2 builds showed).
pub fn monitor(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let m: MonitorV2 = decode_as(VERSION, bytes)?;
    let current = MonitorV3 {
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
        secret_headers: Vec::new(),
        body: m.body,
        secret_body: false,
        tls_min_days: m.tls_min_days,
        tls_skip_verify: m.tls_skip_verify,
        notifiers: m.notifiers,
        created_ms: m.created_ms,
        rev: m.rev,
        deleted: m.deleted,
    };
    Ok(encode_as(VERSION + 1, &current))
}
