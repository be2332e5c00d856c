//! What the actors and HTTP handlers of one node share: identity, store, live view, clock,
//! event bus, metrics and the probe HTTP client.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use ractor::ActorRef;
use ringwatch_proto::{Monitor, MonitorId, ProbeResult, Status};
use tokio::sync::broadcast;

use crate::clock::Hlc;
use crate::config::Config;
use crate::links::{AlerterMessage, CoordinatorMessage, Links, RecorderMessage};
use crate::live::LiveView;
use crate::metrics::Metrics;
use crate::store::Store;

/// Events pushed to `/api/events` subscribers. Slow subscribers miss events (they lag), they
/// never slow the node.
#[derive(Debug, Clone)]
pub enum Event {
    Result(Arc<ProbeResult>),
    Status {
        monitor_id: MonitorId,
        status: Status,
        previous_status: Status,
        since_ms: u64,
    },
    Monitor(Arc<Monitor>),
    Deleted(MonitorId),
}

/// The alive members (us included), sorted, and the zones as this node sees them.
pub type AliveView = (Arc<Vec<String>>, crate::domain::ownership::ZoneView);

/// One member as `GET /api/cluster` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MemberView {
    pub name: String,
    pub zone: String,
    pub http: String,
    pub cluster: String,
    pub alive: bool,
    pub last_heard_ms: u64,
}

/// Results waiting for the recorder; past this, new results are dropped and counted (the
/// recorder drains the sink every [`crate::actors::recorder::FLUSH_EVERY`], so this is
/// seconds of checks even at 20,000 checks/s).
pub const RESULT_SINK_CAPACITY: usize = 200_000;

/// Events buffered per subscriber before it starts missing some.
pub const EVENT_BUFFER: usize = 4096;

/// Shared state of one node. Actors find each other through the registry names below, so a
/// restarted actor is found again without anyone holding a stale reference.
#[derive(Debug)]
pub struct NodeContext {
    pub name: String,
    pub config: Config,
    pub store: Store,
    pub live: LiveView,
    pub hlc: Hlc,
    pub events: broadcast::Sender<Event>,
    pub metrics: Metrics,
    pub clients: crate::probe::Clients,
    /// The node's actors, by role: the one way to reach them.
    pub links: Links,
    /// Results of finished checks, drained by the recorder on its timer. A bounded buffer,
    /// not a message per result: one result no longer wakes another thread.
    pub result_sink: std::sync::Mutex<Vec<ProbeResult>>,
    /// Checks allowed to run at once. A check waits for a permit before its timeout starts,
    /// so an overloaded node falls behind schedule instead of reporting false timeouts.
    pub check_permits: Arc<tokio::sync::Semaphore>,
    /// Unique per process start; tells a restarted node from its previous run.
    pub incarnation: u64,
    /// Names of the alive members (us included), sorted, and the zone of each: the input of
    /// ownership.
    pub alive: std::sync::RwLock<AliveView>,
    /// False while a node started with join addresses has not yet heard a peer (and its
    /// settle time has not passed): it probes nothing, rather than everything, meanwhile.
    pub settled: std::sync::atomic::AtomicBool,
    /// Every known member, for `GET /api/cluster`.
    pub members: std::sync::RwLock<Vec<MemberView>>,
    /// Newest result time held per origin node (anti-entropy watermarks).
    pub watermarks: std::sync::Mutex<std::collections::HashMap<String, u64>>,
    /// The zone of every node this node has heard of (members, and the nodes of results),
    /// kept in the store: history groups checks by zone with it.
    pub node_zones: std::sync::RwLock<std::collections::BTreeMap<String, String>>,
    /// The cluster address actually bound.
    pub cluster_addr: OnceLock<SocketAddr>,
    /// The HTTP address actually bound (the configured one may have port 0).
    pub http_addr: OnceLock<SocketAddr>,
    /// Every monitor definition (tombstones too): the replicated table every edit goes
    /// through ([`crate::catalog`]); the live view holds the live ones with their status.
    pub monitors: crate::state::Table<Monitor>,
    /// Every notifier definition (tombstones too), by id.
    pub notifiers: crate::state::Table<ringwatch_proto::Notifier>,
    /// Every API token (hashes only; revoked ones as tombstones), by id.
    pub tokens: crate::state::Table<ringwatch_proto::ApiToken>,
    /// Every maintenance window (tombstones too), by id.
    pub maintenance: crate::state::Table<ringwatch_proto::Maintenance>,
    /// Every status page definition (tombstones too), by id.
    pub status_pages: crate::state::Table<ringwatch_proto::StatusPage>,
    /// Failed attempts of notifications still being retried, cluster-wide.
    pub attempts: crate::state::attempts::Attempts,
}

pub type Ctx = Arc<NodeContext>;

impl NodeContext {
    /// Registry name of one of this node's actors (names are process-global in ractor).
    pub fn actor_name(&self, role: &str) -> String {
        format!("ringwatch.{}.{role}", self.name)
    }

    pub fn recorder(&self) -> Option<ActorRef<RecorderMessage>> {
        self.links.recorder.get()
    }

    /// Hands a message to the alerter, if it runs (it is restarted if it failed).
    pub fn alert(&self, msg: AlerterMessage) {
        self.links.alerter.cast(msg);
    }

    pub fn coordinator(&self) -> Option<ActorRef<CoordinatorMessage>> {
        self.links.coordinator.get()
    }

    /// Publishes an event if anyone listens (building events for no one costs at 20k/s).
    pub fn publish(&self, event: impl FnOnce() -> Event) {
        if self.events.receiver_count() > 0 {
            let _ = self.events.send(event());
        }
    }

    /// The active maintenance windows, compiled for questions about instants (which
    /// monitors are in maintenance now). Cheap: asked once per request or batch.
    pub fn maintenance_windows(&self) -> crate::domain::maintenance::Windows {
        let records = self.maintenance.live();
        let (windows, bad) = crate::domain::maintenance::Windows::new(records.iter().map(|m| &**m));
        if let Some(first) = bad.first() {
            tracing::debug!(
                count = bad.len(),
                "maintenance windows without effect: {first}"
            );
        }
        windows
    }

    /// Whether monitor `id` is in maintenance at `now_ms`.
    pub fn in_maintenance(&self, id: &str, now_ms: u64) -> bool {
        !self.maintenance.is_empty() && self.maintenance_windows().covers(id, now_ms)
    }

    /// The alive members, us included.
    pub fn alive(&self) -> Arc<Vec<String>> {
        self.alive
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .clone()
    }

    /// Sets the alive members and the zones at once.
    pub fn set_alive(&self, alive: Vec<String>, zones: crate::domain::ownership::ZoneView) {
        *self.alive.write().unwrap_or_else(|p| p.into_inner()) = (Arc::new(alive), zones);
    }

    /// Who owns what, as this node sees the cluster now: the one place ownership is asked.
    pub fn ownership(&self) -> crate::domain::ownership::Ownership {
        let settled = self.settled.load(std::sync::atomic::Ordering::Acquire);
        let (alive, zones) = self.alive.read().unwrap_or_else(|p| p.into_inner()).clone();
        crate::domain::ownership::Ownership::new(alive, self.name.clone(), settled)
            .with_zones(zones)
    }

    /// The zones of the cluster as this node sees them now.
    pub fn zone_sight(&self) -> crate::live::ZoneSight {
        crate::live::ZoneSight::of(&self.ownership())
    }

    /// Records the zones of these nodes (stored when new or changed).
    pub fn learn_zones<'a>(&self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let fresh: Vec<(String, String)> = {
            let known = self.node_zones.read().unwrap_or_else(|p| p.into_inner());
            let mut fresh: Vec<(String, String)> = pairs
                .into_iter()
                .filter(|(n, z)| !z.is_empty() && known.get(*n).map(String::as_str) != Some(*z))
                .map(|(n, z)| (n.to_owned(), z.to_owned()))
                .collect();
            fresh.sort();
            fresh.dedup();
            fresh
        };
        if fresh.is_empty() {
            return;
        }
        if let Err(e) = self.store.put_node_zones(&fresh) {
            tracing::warn!(error = %e, "could not store the zones of nodes");
        }
        let mut known = self.node_zones.write().unwrap_or_else(|p| p.into_inner());
        known.extend(fresh);
    }

    /// The zone of node `name`, if this node has heard it.
    pub fn zone_of(&self, name: &str) -> Option<String> {
        let known = self.node_zones.read().unwrap_or_else(|p| p.into_inner());
        known.get(name).cloned()
    }

    pub fn watermarks(&self) -> Vec<(String, u64)> {
        let wm = self.watermarks.lock().unwrap_or_else(|p| p.into_inner());
        wm.iter().map(|(n, t)| (n.clone(), *t)).collect()
    }

    /// Whether any peer is alive (else gossip has no one to go to; a peer that appears later
    /// gets everything through the full sync of a new session).
    pub fn has_peers(&self) -> bool {
        self.alive().len() > 1
    }

    /// Hands a message to the peer transport, if any peer is alive to receive it. The
    /// message is built only then (a node alone never copies what it would send).
    fn to_peers(&self, msg: impl FnOnce() -> crate::links::PeersMessage) {
        if !self.has_peers() {
            return;
        }
        self.links.peers.cast(msg());
    }

    /// Sends a message to every peer (no-op on a single node).
    pub fn broadcast(&self, body: impl FnOnce() -> ringwatch_proto::PeerMsg) {
        self.to_peers(|| crate::links::PeersMessage::Broadcast(body()));
    }

    /// Sends messages to every peer, in order (no-op on a single node): what
    /// [`crate::state::Table::messages`] splits to keep each frame small.
    pub fn broadcast_all(&self, bodies: impl FnOnce() -> Vec<ringwatch_proto::PeerMsg>) {
        if !self.has_peers() {
            return;
        }
        for body in bodies() {
            self.links
                .peers
                .cast(crate::links::PeersMessage::Broadcast(body));
        }
    }

    /// Sends a message to one peer by name, if a session with it is open.
    pub fn send_to(&self, peer: &str, body: ringwatch_proto::PeerMsg) {
        let name = peer.to_owned();
        self.to_peers(|| crate::links::PeersMessage::SendToName { name, body });
    }

    /// Sends this node's newly stored results to every peer that keeps up.
    pub fn broadcast_results(&self, results: Vec<ProbeResult>) {
        self.to_peers(|| crate::links::PeersMessage::SendResults(results));
    }

    /// Results probed by a peer: stored and applied, not re-sent. `live` for gossip, false
    /// for catch-up.
    pub fn record_remote(&self, results: Vec<ProbeResult>, live: bool) {
        if let Some(r) = self.recorder() {
            let _ = r.cast(RecorderMessage::RecordRemote { results, live });
        }
    }

    /// Has the recorder recompute a monitor's list figures now.
    pub fn refresh_figures(&self, id: &str) {
        if let Some(r) = self.recorder() {
            let _ = r.cast(RecorderMessage::FiguresOf(id.to_owned()));
        }
    }

    /// Rollups shipped by a peer, for the recorder to merge.
    pub fn record_rollups(&self, frames: Vec<ringwatch_proto::RollupFrame>) {
        if let Some(r) = self.recorder() {
            let _ = r.cast(RecorderMessage::Rollups(frames));
        }
    }

    /// Has the recorder store everything handed to it and bring this node's rollups up to
    /// date; gives up after `timeout`.
    pub async fn flush_history(&self, timeout: std::time::Duration) {
        let Some(recorder) = self.recorder() else {
            return;
        };
        if let Err(e) = recorder
            .call(RecorderMessage::FlushHistory, Some(timeout))
            .await
        {
            tracing::warn!(error = %e, "the recorder is restarting");
        }
    }

    /// Hands a result to the recorder; counted as dropped if the recorder is restarting.
    pub fn record(&self, result: ProbeResult) {
        let mut sink = self.result_sink.lock().unwrap_or_else(|p| p.into_inner());
        if sink.len() < RESULT_SINK_CAPACITY {
            sink.push(result);
        } else {
            drop(sink);
            self.metrics.results_dropped.inc();
        }
    }

    /// Has the recorder store everything handed to it so far; gives up after `timeout` (the
    /// results then stay queued and are stored on the recorder's next flush).
    pub async fn flush_results(&self, timeout: std::time::Duration) {
        let Some(recorder) = self.recorder() else {
            return;
        };
        match recorder.call(RecorderMessage::Drain, Some(timeout)).await {
            Ok(ractor::rpc::CallResult::Success(())) => {}
            Ok(_) => tracing::warn!(?timeout, "the recorder did not store results in time"),
            Err(e) => tracing::warn!(error = %e, "the recorder is restarting"),
        }
    }

    /// Everything in the result sink, leaving it empty.
    pub fn take_results(&self) -> Vec<ProbeResult> {
        std::mem::take(&mut *self.result_sink.lock().unwrap_or_else(|p| p.into_inner()))
    }
}
