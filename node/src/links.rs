//! Typed links between the node's actors: the message types each actor takes, and the
//! [`Links`] every part of the node reaches an actor through.
//!
//! The message types live here, below every actor, so that the shared node state can hold
//! typed references without depending on the actors' code. One lookup policy: the root
//! supervisor ([`crate::node`]) puts each child's `ActorRef` into its slot when it spawns
//! it, and again when it restarts it; everyone else asks the slot. A slot is empty only
//! before the first start and after shutdown, and a message for an empty slot is dropped
//! (the callers say what that costs).

use std::sync::{Arc, RwLock};

use ractor::{ActorRef, RpcReplyPort};
use ringwatch_proto::{Delivery, Monitor, MonitorId, PeerMsg, ProbeResult, Transition};

use crate::domain::outbox::Key;
use crate::live::Due;

/// How long a stopping actor waits for its children before moving on.
pub const STOP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

pub enum CoordinatorMessage {
    /// A definition was created or changed; `fresh` asks for a probe at once.
    Upsert { monitor: Arc<Monitor>, fresh: bool },
    /// A monitor was deleted.
    Remove(MonitorId),
    /// Send the pool the complete set again (after the pool restarted, or the members changed).
    Resync,
    /// Test-only fault: make the coordinator panic.
    #[cfg(any(test, feature = "fault-injection"))]
    Panic,
}

impl ractor::Message for CoordinatorMessage {}

pub enum PoolMessage {
    Assign {
        monitor: Arc<Monitor>,
        fresh: bool,
    },
    Unassign(MonitorId),
    /// The complete set this node should probe; anything else is unassigned.
    Sync(Vec<Arc<Monitor>>),
    /// Test-only fault: make prober `n` panic.
    #[cfg(any(test, feature = "fault-injection"))]
    PanicProber(usize),
}

impl ractor::Message for PoolMessage {}

pub enum RecorderMessage {
    /// Results probed by peers: stored and applied, not sent on.
    RecordRemote {
        results: Vec<ProbeResult>,
        live: bool,
    },
    Flush,
    Prune,
    /// Write everything buffered, then answer (used at shutdown and by tests).
    Drain(RpcReplyPort<()>),
    /// Rollup buckets shipped by peers.
    Rollups(Vec<ringwatch_proto::RollupFrame>),
    /// Write everything buffered and bring this node's rollups up to date (hours and days
    /// too), then answer (tests, and `stats` right after a check).
    FlushHistory(RpcReplyPort<()>),
    /// Recompute the list figures of every monitor.
    Figures,
    /// Recompute the list figures of one monitor (it changed status, a pause included), so
    /// the list does not wait for the next pass.
    FiguresOf(MonitorId),
}

impl ractor::Message for RecorderMessage {}

pub enum AlerterMessage {
    /// Status changes the counters call for, after results this node probed.
    Due(Vec<Due>),
    /// A definition change put an owned monitor in `to` (`Paused`, or `Pending` after a
    /// resume or a new URL): record it as a transition.
    Timeline {
        monitor_id: MonitorId,
        to: ringwatch_proto::Status,
    },
    /// A peer's answer to our second-opinion request.
    Confirmed {
        token: u64,
        result: ProbeResult,
    },
    /// Transitions decided by peers.
    Transitions(Vec<Transition>),
    /// Deliveries made (or given up) by peers.
    Deliveries(Vec<Delivery>),
    /// A send task finished.
    Sent {
        key: Key,
        outcome: Result<(), String>,
    },
    Tick,
    /// Test-only fault: make the alerter panic.
    #[cfg(any(test, feature = "fault-injection"))]
    Panic,
}

impl ractor::Message for AlerterMessage {}

pub enum PeersMessage {
    /// A frame from a peer, with the name its session's peer authenticated with (`None`: it
    /// came by no session).
    Frame {
        bytes: Vec<u8>,
        session: Option<String>,
    },
    /// Send to every peer.
    Broadcast(PeerMsg),
    Tick,
    SessionOpened {
        node_id: u64,
        addr: String,
    },
    SessionAuthenticated {
        node_id: u64,
    },
    SessionReady {
        node_id: u64,
        name: String,
    },
    SessionClosed {
        node_id: u64,
        name: String,
    },
    DialFailed {
        name: String,
    },
    /// Fault layer: drop all traffic with these node names (empty heals).
    Block(Vec<String>),
    /// Send our newly stored results to every peer within its window.
    SendResults(Vec<ProbeResult>),
    /// Send to one peer (by session).
    SendTo {
        node_id: u64,
        body: PeerMsg,
    },
    /// Send to one peer (by name); dropped if no session with it is open.
    SendToName {
        name: String,
        body: PeerMsg,
    },
    /// Tell every peer we are leaving, then answer.
    Leave(RpcReplyPort<()>),
}

impl ractor::Message for PeersMessage {}

/// One actor's current reference, replaced when it restarts.
pub struct Slot<M: ractor::Message>(RwLock<Option<ActorRef<M>>>);

impl<M: ractor::Message> std::fmt::Debug for Slot<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.get() {
            Some(actor) => write!(f, "Slot({:?})", actor.get_id()),
            None => f.write_str("Slot(empty)"),
        }
    }
}

impl<M: ractor::Message> Default for Slot<M> {
    fn default() -> Self {
        Slot(RwLock::new(None))
    }
}

impl<M: ractor::Message> Slot<M> {
    /// The running actor, if it runs.
    pub fn get(&self) -> Option<ActorRef<M>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sends `msg` if the actor runs; `false` if it was dropped.
    pub fn cast(&self, msg: M) -> bool {
        self.get().is_some_and(|a| a.cast(msg).is_ok())
    }

    /// Points the slot at a newly spawned actor (the root supervisor's job).
    pub(crate) fn set(&self, actor: ActorRef<M>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Some(actor);
    }
}

/// The node's long-lived actors, by role.
#[derive(Debug, Default)]
pub struct Links {
    pub coordinator: Slot<CoordinatorMessage>,
    pub pool: Slot<PoolMessage>,
    pub recorder: Slot<RecorderMessage>,
    pub alerter: Slot<AlerterMessage>,
    pub peers: Slot<PeersMessage>,
}
