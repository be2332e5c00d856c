//! API tokens as they are stored and replicated: a name, a scope and the SHA-256 hash of the
//! secret. The secret itself is never stored or sent; it is shown once, to whoever made it.

use serde::{Deserialize, Serialize};

use crate::Rev;

/// What a token may do. Ordered: each scope includes the ones before it. Variants are only
/// ever appended (postcard encodes them by position).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Every GET: monitors, results, history, the cluster view, events, metrics.
    Read,
    /// Read, plus every change to monitors, notifiers and other definitions, and checks now.
    Write,
    /// Write, plus API tokens.
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

/// One API token, cluster-wide. Deleted (revoked) ones stay as tombstones, as monitors do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// `t-` and the 16 hex digits the secret carries after its `rw_` prefix.
    pub id: String,
    pub name: String,
    pub scope: Scope,
    /// SHA-256 of the whole secret.
    pub hash: [u8; 32],
    /// Unix ms of the creation.
    pub created_ms: u64,
    pub rev: Rev,
    pub deleted: bool,
}

impl crate::codec::Record for ApiToken {}
