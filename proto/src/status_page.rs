//! Status pages as they are stored and replicated: what a page shows (groups of monitors,
//! an announcement), not what it renders. New in record version 4; travels as
//! [`crate::PeerMsg::Records`] of kind `status_page`.

use serde::{Deserialize, Serialize};

use crate::Rev;

/// How loud an announcement is. Variants are only ever appended (postcard encodes them by
/// position).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// A short notice shown at the top of a page, optionally only between two instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Announcement {
    pub title: String,
    pub text: String,
    #[serde(default)]
    pub severity: Severity,
    /// Unix ms from which it shows; `null`: already.
    #[serde(default)]
    pub start_ms: Option<u64>,
    /// Unix ms from which it no longer shows; `null`: until removed.
    #[serde(default)]
    pub end_ms: Option<u64>,
}

impl Announcement {
    /// Whether it shows at `now_ms`.
    pub fn shows_at(&self, now_ms: u64) -> bool {
        self.start_ms.is_none_or(|s| s <= now_ms) && self.end_ms.is_none_or(|e| now_ms < e)
    }
}

/// A named group of monitors on a page, shown in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageGroup {
    pub name: String,
    /// Monitor ids.
    pub monitors: Vec<String>,
}

/// One status page, cluster-wide. Deleted ones stay as tombstones, as monitors do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusPage {
    pub id: String,
    /// The page's address: `/status/{slug}`. Unique among live pages.
    pub slug: String,
    pub title: String,
    pub description: String,
    pub groups: Vec<PageGroup>,
    /// Served without a token when auth is on; else it needs read scope.
    pub public: bool,
    /// Shows each monitor's URL and last error too.
    pub show_details: bool,
    pub announcement: Option<Announcement>,
    /// Unix ms of the creation.
    pub created_ms: u64,
    pub rev: Rev,
    pub deleted: bool,
}

impl StatusPage {
    /// Whether monitor `id` is on the page.
    pub fn shows(&self, id: &str) -> bool {
        self.groups
            .iter()
            .any(|g| g.monitors.iter().any(|m| m == id))
    }
}

impl crate::codec::Record for StatusPage {
    /// New in version 5: no older layout exists.
    const LAYOUT_SINCE: u8 = 5;
}
