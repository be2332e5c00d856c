//! A running node: the root of its supervision tree.
//!
//! ```text
//! NodeSupervisor (root)
//! ├── Recorder      store writer: batches results, counts them, publishes events
//! ├── Alerter       decides status changes (second opinion), sends notifications
//! ├── ProberPool    supervisor of the probers, keeps each prober's assignment
//! │   └── Prober × N   schedule + check tasks for the monitors assigned to it
//! ├── Coordinator   decides what this node probes, feeds the pool
//! ├── HttpServer    warp: API, SSE and dashboard
//! └── Peers         cluster membership and gossip (see [`crate::cluster`])
//!     ├── NodeServer   ractor_cluster sessions with every peer
//!     └── Endpoint     the remotable actor peers send frames to
//! ```
//!
//! Restart rules (all in `handle_supervisor_evt`; ractor's default would stop the root):
//! - A **prober** that fails is restarted by the pool with the same monitors. Cost: the
//!   checks of that prober's current tick; phases are stable so cadence continues.
//! - The **pool** failing: its orphaned probers are stopped, a new pool starts and the
//!   coordinator resends the full assignment. Cost: at most one interval of probes.
//! - The **coordinator** failing: restarted; it rebuilds its view from the live view and
//!   resyncs the pool, which kept probing meanwhile. Cost: none beyond edits in flight.
//! - The **recorder** failing: restarted. Cost: results buffered but not yet written
//!   (at most [`crate::actors::recorder::FLUSH_EVERY`]).
//! - The **alerter** failing: restarted; it rebuilds its outbox from the store. Cost:
//!   second-opinion requests in flight (the next failed probe asks again) and sends in
//!   flight (retried, the receiver may see that one twice).
//! - The **HTTP server** failing: restarted on the same address. Cost: open requests.
//! - **Peers** (or its node server or endpoint) failing: the whole transport is restarted on
//!   the same cluster address. Cost: peers see our sessions close and redial; ownership
//!   moves only if we stay unreachable past the heartbeat timeout.
//!
//! Shutdown tells peers we leave (they take over our monitors at once), stops probing,
//! drains the recorder, stops HTTP and the transport, and flushes the store.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use tokio::sync::broadcast;

use crate::actors::STOP_TIMEOUT;
use crate::actors::coordinator::Coordinator;
use crate::actors::http::HttpServer;
use crate::actors::pool::ProberPool;
use crate::actors::recorder::Recorder;
use crate::alert::Alerter;
use crate::clock::{Hlc, now_ms};
use crate::cluster::peers::Peers;
use crate::config::Config;
use crate::context::{Ctx, EVENT_BUFFER, NodeContext};
use crate::links::CoordinatorMessage;
use crate::links::PeersMessage;
use crate::live::LiveView;
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};

/// Why a node could not start. The binary exits with status 1 and this text.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot create the HTTP client for probes: {0}")]
    Client(String),
    #[error("{0}")]
    Spawn(String),
}

/// The children of the root, in start order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Child {
    Recorder,
    Alerter,
    Pool,
    Coordinator,
    Http,
    Peers,
}

impl Child {
    const ALL: [Child; 6] = [
        Child::Recorder,
        Child::Alerter,
        Child::Pool,
        Child::Coordinator,
        Child::Http,
        Child::Peers,
    ];

    fn role(self) -> &'static str {
        match self {
            Child::Recorder => "recorder",
            Child::Alerter => "alerter",
            Child::Pool => "pool",
            Child::Coordinator => "coordinator",
            Child::Http => "http",
            Child::Peers => "peers",
        }
    }
}

pub enum NodeMessage {
    /// Stop probing, drain, stop HTTP, flush the store; then answer.
    Shutdown(RpcReplyPort<()>),
}

impl ractor::Message for NodeMessage {}

pub struct NodeState {
    ctx: Ctx,
    children: Vec<(Child, ActorCell)>,
    stopping: bool,
}

pub struct NodeSupervisor;

impl Actor for NodeSupervisor {
    type Msg = NodeMessage;
    type State = NodeState;
    type Arguments = Ctx;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        ctx: Ctx,
    ) -> Result<Self::State, ActorProcessingErr> {
        let mut state = NodeState {
            ctx,
            children: Vec::new(),
            stopping: false,
        };
        for child in Child::ALL {
            let cell = state.spawn(&myself, child).await?;
            state.children.push((child, cell));
        }
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            NodeMessage::Shutdown(reply) => {
                state.shutdown().await;
                let _ = reply.send(());
                myself.stop(None);
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        evt: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let (cell, why) = match evt {
            SupervisionEvent::ActorFailed(cell, err) => (cell, err.to_string()),
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                (cell, reason.unwrap_or_else(|| "stopped".into()))
            }
            _ => return Ok(()),
        };
        if state.stopping {
            return Ok(());
        }
        state.restart(&myself, &cell, &why).await
    }
}

impl NodeState {
    async fn spawn(
        &self,
        myself: &ActorRef<NodeMessage>,
        child: Child,
    ) -> Result<ActorCell, ActorProcessingErr> {
        let name = Some(self.ctx.actor_name(child.role()));
        let sup = myself.get_cell();
        let ctx = self.ctx.clone();
        let links = &self.ctx.links;
        // Each child's slot in the links points at it as soon as it runs: the one lookup
        // policy every other part of the node relies on.
        let cell = match child {
            Child::Recorder => {
                let (actor, _) = Actor::spawn_linked(name, Recorder, ctx, sup).await?;
                links.recorder.set(actor.clone());
                actor.get_cell()
            }
            Child::Alerter => {
                let (actor, _) = Actor::spawn_linked(name, Alerter, ctx, sup).await?;
                links.alerter.set(actor.clone());
                actor.get_cell()
            }
            Child::Pool => {
                let (actor, _) = Actor::spawn_linked(name, ProberPool, ctx, sup).await?;
                links.pool.set(actor.clone());
                actor.get_cell()
            }
            Child::Coordinator => {
                let (actor, _) = Actor::spawn_linked(name, Coordinator, ctx, sup).await?;
                links.coordinator.set(actor.clone());
                actor.get_cell()
            }
            Child::Http => Actor::spawn_linked(name, HttpServer, ctx, sup)
                .await?
                .0
                .get_cell(),
            Child::Peers => {
                let (actor, _) = Actor::spawn_linked(name, Peers, ctx, sup).await?;
                links.peers.set(actor.clone());
                actor.get_cell()
            }
        };
        Ok(cell)
    }

    async fn restart(
        &mut self,
        myself: &ActorRef<NodeMessage>,
        dead: &ActorCell,
        why: &str,
    ) -> Result<(), ActorProcessingErr> {
        let Some(i) = self
            .children
            .iter()
            .position(|(_, c)| c.get_id() == dead.get_id())
        else {
            return Ok(());
        };
        let child = self.children[i].0;
        tracing::error!(
            actor = child.role(),
            reason = why,
            "actor failed; restarting it"
        );
        // A failed supervisor leaves its children running: stop them before replacing it.
        dead.stop_children_and_wait(None, Some(STOP_TIMEOUT)).await;
        let cell = self.spawn(myself, child).await?;
        self.children[i].1 = cell;
        if child == Child::Pool
            && let Some(c) = self.ctx.coordinator()
        {
            let _ = c.cast(CoordinatorMessage::Resync);
        }
        Ok(())
    }

    fn cell(&self, child: Child) -> Option<&ActorCell> {
        self.children
            .iter()
            .find(|(c, _)| *c == child)
            .map(|(_, cell)| cell)
    }

    async fn shutdown(&mut self) {
        self.stopping = true;
        if let Some(peers) = self.ctx.links.peers.get() {
            let _ = peers.call(PeersMessage::Leave, Some(STOP_TIMEOUT)).await;
        }
        for child in [Child::Coordinator, Child::Pool] {
            if let Some(cell) = self.cell(child) {
                let _ = cell.stop_and_wait(None, Some(STOP_TIMEOUT)).await;
            }
        }
        self.ctx.flush_results(STOP_TIMEOUT).await;
        for child in [Child::Recorder, Child::Alerter, Child::Http, Child::Peers] {
            if let Some(cell) = self.cell(child) {
                let _ = cell.stop_and_wait(None, Some(STOP_TIMEOUT)).await;
            }
        }
        if let Err(e) = self.ctx.store.flush() {
            tracing::error!(error = %e, "could not flush the store");
        }
    }
}

/// A started node.
pub struct Node {
    pub ctx: Ctx,
    pub http_addr: SocketAddr,
    root: ActorRef<NodeMessage>,
    handle: tokio::task::JoinHandle<()>,
}

impl Node {
    /// Opens the store under the configured data directory and starts the tree.
    pub async fn start(config: Config) -> Result<Node, StartError> {
        let store = Store::open(&config.data_dir(), config.store_cache_mb << 20)?;
        Self::start_with_store(config, store).await
    }

    /// Starts the tree on an already opened store (tests use the in-memory one).
    pub async fn start_with_store(config: Config, store: Store) -> Result<Node, StartError> {
        let monitors = crate::state::Table::load(store.clone(), config.name.clone())?;
        let live = tokio::task::block_in_place(|| LiveView::load(&store, monitors.live()))?;
        let seeded =
            crate::catalog::seed(&monitors, &live, &config.monitors).map_err(StartError::Spawn)?;
        let notifiers = crate::state::Table::load(store.clone(), config.name.clone())?;
        crate::alert::notifiers::seed(&notifiers, &config.notifiers).map_err(StartError::Spawn)?;
        let tokens = crate::state::Table::load(store.clone(), config.name.clone())?;
        let maintenance = crate::state::Table::load(store.clone(), config.name.clone())?;
        let windows = crate::maintenance::seed(&maintenance, &config.maintenance)
            .map_err(StartError::Spawn)?;
        if windows > 0 {
            tracing::info!(windows, "added the config file's maintenance windows");
        }
        let status_pages = crate::state::Table::load(store.clone(), config.name.clone())?;
        crate::pages::seed(&status_pages, &config.status_pages).map_err(StartError::Spawn)?;
        if seeded > 0 {
            tracing::info!(monitors = seeded, "added the config file's monitors");
        }
        // A state written just before a crash may predate the last status change stored.
        for t in store.all_transitions()? {
            live.commit(&t.monitor_id, t.to, t.seq, t.at_ms);
        }
        let watermarks = store.watermarks()?.into_iter().collect();
        let mut node_zones = store.node_zones()?;
        if node_zones.get(&config.name) != Some(&config.zone) {
            let own = (config.name.clone(), config.zone.clone());
            store.put_node_zones(std::slice::from_ref(&own))?;
            node_zones.insert(own.0, own.1);
        }
        let guard = crate::probe::Guard::new(config.block_private_targets);
        let clients = crate::probe::Clients::new(guard, &config.zone)
            .map_err(|e| StartError::Client(e.to_string()))?;
        let name = config.name.clone();
        let zone = config.zone.clone();
        let config_join_empty = config.join.is_empty();
        let max_checks = config.max_concurrent_checks;
        let ctx = Arc::new(NodeContext {
            name: name.clone(),
            store,
            live,
            hlc: Hlc::default(),
            events: broadcast::channel(EVENT_BUFFER).0,
            metrics: Metrics::new(),
            clients,
            config,
            http_addr: OnceLock::new(),
            links: Default::default(),
            result_sink: Default::default(),
            check_permits: Arc::new(tokio::sync::Semaphore::new(max_checks)),
            incarnation: now_ms(),
            alive: std::sync::RwLock::new((
                Arc::new(vec![name.clone()]),
                crate::domain::ownership::ZoneView::new(
                    &zone,
                    [(name.clone(), zone.clone())].into(),
                    Default::default(),
                ),
            )),
            settled: std::sync::atomic::AtomicBool::new(config_join_empty),
            members: Default::default(),
            cluster_addr: OnceLock::new(),
            watermarks: std::sync::Mutex::new(watermarks),
            node_zones: std::sync::RwLock::new(node_zones),
            monitors,
            notifiers,
            tokens,
            maintenance,
            status_pages,
            attempts: Default::default(),
        });
        let root_name = Some(ctx.actor_name("root"));
        let (root, handle) = Actor::spawn(root_name, NodeSupervisor, ctx.clone())
            .await
            .map_err(|e| StartError::Spawn(root_cause(&e)))?;
        let http_addr = *ctx
            .http_addr
            .get()
            .ok_or_else(|| StartError::Spawn("HTTP server did not start".into()))?;
        Ok(Node {
            ctx,
            http_addr,
            root,
            handle,
        })
    }

    /// Stops probing, writes everything buffered, stops serving and flushes the store.
    pub async fn shutdown(self) {
        let _ = self
            .root
            .call(NodeMessage::Shutdown, Some(STOP_TIMEOUT * 3))
            .await;
        let _ = self.handle.await;
    }

    /// The root actor, for tests that inject faults.
    pub fn root(&self) -> &ActorRef<NodeMessage> {
        &self.root
    }
}

/// The innermost message of a spawn error: "cannot listen on ...: address in use".
fn root_cause(e: &ractor::SpawnErr) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    text
}
