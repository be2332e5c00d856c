//! Alerting records: notifier definitions, status transitions and their deliveries.
//!
//! A [`Transition`] is one status change of one monitor, decided by the node that owned the
//! monitor at the time and numbered per monitor (`seq` 1, 2, 3...). It is stored and
//! replicated like a result, and it is the unit of notification: each channel it names gets
//! it once, and a [`Delivery`] record (also replicated) says it did, so whichever node owns
//! the monitor later knows not to send it again.

use serde::{Deserialize, Serialize};

use crate::{MonitorId, ProbeResult, Rev, Status};

/// Server-made identifier of a notifier, e.g. `n-5f0c2a9e13d4b7a1` (or the id given in the
/// config file).
pub type NotifierId = String;

/// An alert channel, cluster-wide. Deleted ones stay as tombstones, as monitors do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notifier {
    pub id: NotifierId,
    pub name: String,
    pub kind: NotifierKind,
    pub rev: Rev,
    pub deleted: bool,
}

/// Where and in which format a notifier sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotifierKind {
    /// A JSON POST of the generic notification body.
    Webhook { url: String },
    /// A Slack incoming webhook (`{"text": ...}`).
    Slack { url: String },
    /// A Discord webhook (`{"content": ...}`).
    Discord { url: String },
    /// An email over SMTP.
    Email(EmailChannel),
}

impl NotifierKind {
    /// The name used in JSON (`type`) and logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            NotifierKind::Webhook { .. } => "webhook",
            NotifierKind::Slack { .. } => "slack",
            NotifierKind::Discord { .. } => "discord",
            NotifierKind::Email(_) => "email",
        }
    }
}

/// SMTP settings of an email notifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChannel {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
    pub to: Vec<String>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SmtpSecurity {
    /// Plain text (local relays, tests).
    None,
    /// Plain connect, then a required STARTTLS upgrade (usually port 587).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

/// One status change of one monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub monitor_id: MonitorId,
    /// The monitor's name and URL when it changed (notifications outlive edits and deletes).
    pub name: String,
    pub url: String,
    /// 1 for the monitor's first change, then +1 per change.
    pub seq: u64,
    pub from: Status,
    pub to: Status,
    /// Unix ms of the decision (the start of the new status).
    pub at_ms: u64,
    /// Why, for people: the failing probe's error, and the second opinion's.
    pub reason: String,
    /// The node that decided.
    pub node: String,
    /// The node whose probe confirmed a down, when a second opinion was asked.
    pub confirmed_by: Option<String>,
    /// The probe result that made the decision.
    pub last_result: Option<ProbeResult>,
    /// Notifiers that must hear of it (resolved when it was decided).
    pub channels: Vec<NotifierId>,
    /// For a monitor probed from several zones: the zones that saw it down when it was
    /// decided (sorted), and how many reachable zones it was probed from. Empty and 0
    /// otherwise. Since record version 4.
    pub zones_down: Vec<String>,
    pub zones_reachable: u32,
}

impl Transition {
    /// A stable id for receivers that deduplicate: `<monitor id>/<seq>`.
    pub fn event_id(&self) -> String {
        format!("{}/{}", self.monitor_id, self.seq)
    }
}

/// "Transition `seq` of `monitor_id` reached `channel`" (or was given up on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub monitor_id: MonitorId,
    pub seq: u64,
    pub channel: NotifierId,
    /// Unix ms of the final attempt.
    pub at_ms: u64,
    /// The node that sent it.
    pub node: String,
    /// Attempts it took, the successful one included.
    pub attempts: u32,
    /// Set when the channel kept failing until the delivery was given up; the last error.
    pub failed: Option<String>,
}

/// Where a notification that has not reached its channel yet stands: the attempts made so far
/// and the last error. Only the sending node knows; it shares this with its peers after each
/// failed attempt, so every node can show it. Forgotten once a [`Delivery`] is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub monitor_id: MonitorId,
    pub seq: u64,
    pub channel: NotifierId,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The error of the last attempt, for people.
    pub last_error: String,
    /// Unix ms of the last attempt.
    pub at_ms: u64,
    /// Unix ms of the next attempt.
    pub next_attempt_ms: u64,
    /// The node that sends it.
    pub node: String,
}

impl crate::codec::Record for Notifier {}
impl crate::codec::Record for Transition {
    /// Since version 4: `zones_down`, `zones_reachable` and the result's `zone`.
    const LAYOUT_SINCE: u8 = 4;
}
impl crate::codec::Record for Delivery {}
impl crate::codec::Record for DeliveryAttempt {}
