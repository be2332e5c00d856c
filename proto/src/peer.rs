//! Messages between nodes. Each travels as one opaque frame (`encode`d: version byte, then
//! postcard) inside the cluster transport, so a frame that fails to decode costs that frame.

use serde::{Deserialize, Serialize};

use crate::{Delivery, DeliveryAttempt, Monitor, MonitorId, Notifier, ProbeResult, Transition};

/// How a node is reached and which process start it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    /// The user-facing node name, stable across restarts.
    pub name: String,
    /// Unique per process start (start time in ms); a higher one replaces a lower one.
    pub incarnation: u64,
    /// `host:port` of the node's cluster listener.
    pub cluster: String,
    /// `host:port` of the node's HTTP API.
    pub http: String,
    /// The zone the node probes from (since wire version 3).
    pub zone: String,
}

/// One frame between two nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub from: MemberInfo,
    pub body: PeerMsg,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PeerMsg {
    /// "I am alive"; carries every member the sender currently sees alive, so the mesh fills
    /// itself in, and per peer name the last [`PeerMsg::Results`] sequence number received
    /// from that peer (flow control).
    Heartbeat {
        members: Vec<MemberInfo>,
        acks: Vec<(String, u64)>,
    },
    /// Monitor definitions (tombstones included), merged last-writer-wins by revision.
    Definitions(Vec<Monitor>),
    /// Probe results made by the sender, numbered 1, 2, 3... per process start. A receiver
    /// that sees a number skipped asks for a catch-up.
    Results { seq: u64, results: Vec<ProbeResult> },
    /// The sender is leaving the cluster on purpose (clean shutdown).
    Leaving,
    /// Anti-entropy request: "send me the results you hold that are newer than these
    /// per-origin times (unix ms; origins not listed: everything), starting at the cursor
    /// `(monitor id, at_ms)` in (id, time) order". Answered with one [`PeerMsg::CatchUpPage`].
    CatchUp {
        watermarks: Vec<(String, u64)>,
        cursor: Option<(String, u64)>,
    },
    /// One page of a catch-up; `next` is the cursor of the following request, if any.
    CatchUpPage {
        results: Vec<ProbeResult>,
        next: Option<(String, u64)>,
    },
    /// Notifier definitions (tombstones included), merged last-writer-wins by revision.
    Notifiers(Vec<Notifier>),
    /// Status changes decided by the sender (or relayed in a full sync).
    Transitions(Vec<Transition>),
    /// Notifications sent (or given up), so no other node sends them again.
    Deliveries(Vec<Delivery>),
    /// "Probe this monitor now and tell me": the second opinion before a down.
    Confirm { monitor_id: MonitorId, token: u64 },
    /// The answer to [`PeerMsg::Confirm`] with the same token.
    Confirmed {
        token: u64,
        result: Box<ProbeResult>,
    },
    /// Failed attempts of notifications still being retried (new variants go last: postcard
    /// numbers them by position).
    Attempts(Vec<DeliveryAttempt>),
    /// Replicated definitions of the kind named `kind` (tombstones included), each record as
    /// it is stored (`encode_record`: version byte, then postcard), merged last-writer-wins by
    /// revision. Kinds added after monitors and notifiers travel only this way; those two keep
    /// [`PeerMsg::Definitions`] and [`PeerMsg::Notifiers`], which older nodes understand.
    Records { kind: String, records: Vec<Vec<u8>> },
    /// Rollup buckets of results the sender probed (or relays in a pull), each its full state.
    Rollups(Vec<RollupFrame>),
    /// "Send me the rollups you hold whose blocks start at or after `since_ms`, monitor by
    /// monitor from `cursor` (inclusive) in id order". Answered with one
    /// [`PeerMsg::RollupPage`].
    RollupPull {
        since_ms: u64,
        cursor: Option<MonitorId>,
    },
    /// One page of a rollup pull; `next` is the cursor of the following request, if any.
    RollupPage {
        rollups: Vec<RollupFrame>,
        next: Option<MonitorId>,
    },
}

/// One rollup bucket: what node `node` counted of monitor `monitor_id` in one step of
/// `resolution` (`b'm'`, `b'h'` or `b'd'`). `bucket` is the bucket's own postcard encoding
/// (the node's rollup module defines and checks it); a receiver keeps, per bucket, the state
/// with more checks, so repeats and reorders are harmless.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollupFrame {
    pub monitor_id: MonitorId,
    pub node: String,
    pub resolution: u8,
    pub bucket: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// postcard numbers enum variants by position: the definition messages older nodes know
    /// must keep their numbers, and new variants go last.
    #[test]
    fn definition_messages_keep_their_wire_numbers() {
        let tag = |m: &PeerMsg| postcard::to_allocvec(m).unwrap()[0];
        assert_eq!(tag(&PeerMsg::Definitions(Vec::new())), 1);
        assert_eq!(tag(&PeerMsg::Notifiers(Vec::new())), 6);
        let records = PeerMsg::Records {
            kind: "k".into(),
            records: Vec::new(),
        };
        assert_eq!(tag(&records), 12);
    }
}
