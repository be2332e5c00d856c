//! Response bodies: how monitors look on the wire.

use ringwatch_proto::{ProbeResult, Status, StatusRange};
use serde::Serialize;

use crate::live::LiveEntry;

/// A monitor with its current status, as every monitor endpoint answers it.
#[derive(Debug, Serialize)]
pub struct MonitorView<'a> {
    pub id: &'a str,
    pub url: &'a str,
    pub name: &'a str,
    pub interval_secs: u64,
    pub timeout_ms: u64,
    pub active: bool,
    pub failure_threshold: u32,
    pub recovery_threshold: u32,
    pub expect_status: Vec<serde_json::Value>,
    pub expect_body_contains: Option<&'a str>,
    pub status: Status,
    pub status_since_ms: Option<u64>,
    pub owner: Option<&'a str>,
    pub last_result: Option<&'a ProbeResult>,
    pub created_ms: u64,
}

fn status_spec(r: &StatusRange) -> serde_json::Value {
    if r.from == r.to {
        r.from.into()
    } else {
        format!("{}-{}", r.from, r.to).into()
    }
}

impl<'a> MonitorView<'a> {
    /// `owner` is the node probing the monitor now, if it is probed at all.
    pub fn new(e: &'a LiveEntry, owner: Option<&'a str>) -> Self {
        let m = &e.monitor;
        MonitorView {
            id: &m.id,
            url: &m.url,
            name: &m.name,
            interval_secs: m.interval_secs,
            timeout_ms: m.timeout_ms,
            active: m.active,
            failure_threshold: m.failure_threshold,
            recovery_threshold: m.recovery_threshold,
            expect_status: m.expect_status.iter().map(status_spec).collect(),
            expect_body_contains: m.expect_body_contains.as_deref(),
            status: e.status(),
            status_since_ms: (e.state.since_ms > 0).then_some(e.state.since_ms),
            owner: owner.filter(|_| m.is_probed()),
            last_result: e.last.as_ref(),
            created_ms: m.created_ms,
        }
    }
}
