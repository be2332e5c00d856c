//! Record version 4, frozen where version 5 changed it: the monitor layout written by builds
//! from zoned monitors up to status pages and repeat alerts, and the step that brings it to
//! version 5.
//!
//! Nothing here may change: these types decode bytes already on users' disks (postcard
//! encodes fields by position, so field order and types are the format). Every other record
//! type kept its layout in version 5 and is read as it is
//! ([`ringwatch_proto::Record::LAYOUT_SINCE`]): only the `monitors` tree is rewritten.

use ringwatch_proto::{DecodeError, Monitor, Rev, StatusRange, Zones, decode_as, encode_as};
use serde::{Deserialize, Serialize};

/// The version these types are laid out in.
pub const VERSION: u8 = 4;

/// A monitor definition of version 4: no `public_badges`, no `repeat_every_secs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorV4 {
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
    pub zones: Option<Zones>,
    pub quorum: Option<u32>,
    pub created_ms: u64,
    pub rev: Rev,
    pub deleted: bool,
}

/// Rewrites a version-4 monitor as version 5: its badges are not public by themselves, and no
/// reminders while it is down, as before.
pub fn monitor(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let m: MonitorV4 = decode_as(VERSION, bytes)?;
    let current = Monitor {
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
        zones: m.zones,
        quorum: m.quorum,
        public_badges: false,
        repeat_every_secs: None,
        created_ms: m.created_ms,
        rev: m.rev,
        deleted: m.deleted,
    };
    Ok(encode_as(VERSION + 1, &current))
}
