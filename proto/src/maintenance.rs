//! Maintenance windows as they are stored and replicated: which monitors, and when (once, or
//! on a cron recurrence in a time zone). What a window means (status `maintenance`, no
//! notifications, time left out of uptime) is the node's business.

use serde::{Deserialize, Serialize};

use crate::Rev;

/// The monitors a window covers. Variants are only ever appended (postcard encodes them by
/// position).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MaintenanceScope {
    /// Every monitor, also ones made later.
    All,
    /// These monitor ids (sorted, without repeats); ids of deleted monitors are kept.
    Only(Vec<String>),
}

/// When a window is in force. Variants are only ever appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MaintenanceSchedule {
    /// From `start_ms` (included) to `end_ms` (excluded), unix ms.
    Once { start_ms: u64, end_ms: u64 },
    /// At each time a 5-field cron expression matches in `timezone` (an IANA name), for
    /// `duration_secs` of elapsed time.
    Recurring {
        cron: String,
        duration_secs: u64,
        timezone: String,
    },
}

/// One maintenance window, cluster-wide. Deleted ones stay as tombstones, as monitors do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maintenance {
    /// `w-` and 16 hex digits, made by the server (or a config file's own id).
    pub id: String,
    pub title: String,
    pub monitors: MaintenanceScope,
    pub schedule: MaintenanceSchedule,
    /// An inactive window is kept but covers nothing.
    pub active: bool,
    /// Unix ms of the creation.
    pub created_ms: u64,
    pub rev: Rev,
    pub deleted: bool,
}

impl crate::codec::Record for Maintenance {
    /// New in version 5: no older layout exists.
    const LAYOUT_SINCE: u8 = 5;
}
