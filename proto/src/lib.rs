//! Wire and storage types shared by Ringwatch nodes.
//!
//! This crate owns the *shape* of everything a node persists or sends: monitor definitions,
//! probe results, per-monitor status state, and the versioned binary codec around them.
//! It depends on nothing of the node. Every decoder returns [`DecodeError`] instead of
//! panicking, so bad bytes from a peer or a damaged disk cost one record, not a process.

mod alert;
mod codec;
mod maintenance;
mod monitor;
mod peer;
mod result;
mod status_page;
mod token;

pub use alert::{
    Delivery, DeliveryAttempt, EmailChannel, Notifier, NotifierId, NotifierKind, SmtpSecurity,
    Transition,
};
pub use codec::{
    DecodeError, OLDEST_CURRENT_LAYOUT, RECORD_VERSION, Record, WIRE_VERSION, chunks_by_size,
    decode, decode_as, decode_record, encode, encode_as, encode_record, encoded_len, version_of,
};
pub use maintenance::{Maintenance, MaintenanceSchedule, MaintenanceScope};
pub use monitor::{
    DEFAULT_EXPECT_STATUS, DEFAULT_FAILURE_THRESHOLD, DEFAULT_INTERVAL_SECS, DEFAULT_METHOD,
    DEFAULT_RECOVERY_THRESHOLD, DEFAULT_TIMEOUT_MS, Monitor, MonitorId, Rev, StatusRange, Zones,
};
pub use peer::{Envelope, MemberInfo, PeerMsg, RollupFrame};
pub use result::{ErrorKind, MonitorState, ProbeResult, Status};
pub use status_page::{Announcement, PageGroup, Severity, StatusPage};
pub use token::{ApiToken, Scope};
