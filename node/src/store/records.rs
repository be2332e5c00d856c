//! How results are laid out on disk: the monitor id lives in the key, the rest in the body.
//!
//! [`ResultBody`] is the current (version [`ringwatch_proto::RECORD_VERSION`]) layout of a
//! stored result row; [`ResultBodyRef`] writes the same layout without copying strings. Rows
//! of versions 2 and 3 (no `zone`) are read as they are by [`decode_row`], not rewritten: a
//! row is packed into a block soon anyway, and an upgrade does not walk the results. Older
//! layouts live, frozen, in [`super::migrate`].

use ringwatch_proto::{DecodeError, ErrorKind, ProbeResult, decode_as, version_of};
use serde::{Deserialize, Serialize};

/// A stored result without the monitor id, which the key already holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct ResultBody {
    pub at_ms: u64,
    pub ok: bool,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub node: String,
    pub tls_days_left: Option<i64>,
    /// Since record version 4; empty in older rows and blocks.
    pub zone: String,
}

/// A result row of record versions 2 and 3, frozen: no zone. Version 1 rows migrate to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct ResultBodyV3 {
    pub at_ms: u64,
    pub ok: bool,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub node: String,
    pub tls_days_left: Option<i64>,
}

/// Decodes a stored result row of any version since 2 (a version 1 row was migrated when the
/// store opened).
pub(super) fn decode_row(bytes: &[u8]) -> Result<ResultBody, DecodeError> {
    match version_of(bytes) {
        Some(v @ 2..=3) => {
            let r: ResultBodyV3 = decode_as(v, bytes)?;
            Ok(ResultBody {
                at_ms: r.at_ms,
                ok: r.ok,
                status_code: r.status_code,
                latency_ms: r.latency_ms,
                error: r.error,
                error_kind: r.error_kind,
                node: r.node,
                tls_days_left: r.tls_days_left,
                zone: String::new(),
            })
        }
        _ => decode_as(ringwatch_proto::RECORD_VERSION, bytes),
    }
}

impl ResultBody {
    /// The result of monitor `id` this body holds.
    pub fn into_result(self, id: &str) -> ProbeResult {
        ProbeResult {
            monitor_id: id.to_owned(),
            at_ms: self.at_ms,
            ok: self.ok,
            status_code: self.status_code,
            latency_ms: self.latency_ms,
            error: self.error,
            error_kind: self.error_kind,
            node: self.node,
            zone: self.zone,
            tls_days_left: self.tls_days_left,
        }
    }
}

/// [`ResultBody`]'s layout, borrowed from a [`ProbeResult`].
#[derive(Serialize)]
pub(super) struct ResultBodyRef<'a> {
    at_ms: u64,
    ok: bool,
    status_code: Option<u16>,
    latency_ms: u64,
    error: Option<&'a str>,
    error_kind: Option<ErrorKind>,
    node: &'a str,
    tls_days_left: Option<i64>,
    zone: &'a str,
}

impl<'a> From<&'a ProbeResult> for ResultBodyRef<'a> {
    fn from(r: &'a ProbeResult) -> Self {
        ResultBodyRef {
            at_ms: r.at_ms,
            ok: r.ok,
            status_code: r.status_code,
            latency_ms: r.latency_ms,
            error: r.error.as_deref(),
            error_kind: r.error_kind,
            node: &r.node,
            tls_days_left: r.tls_days_left,
            zone: &r.zone,
        }
    }
}
