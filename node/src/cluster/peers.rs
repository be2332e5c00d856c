//! The peer transport: a ractor_cluster `NodeServer`, our own cluster listener, heartbeats,
//! dialling, and the frames that carry definitions and results between nodes.
//!
//! Two actors: [`Endpoint`] (in [`super::transport`]) is the only remotable one (a member of the process group
//! [`GROUP`] on every node) and accepts exactly one message, an opaque frame, which cannot
//! fail to deserialize at the transport level; it forwards frames to [`Peers`], a local actor
//! that decodes them fallibly (a bad frame is counted and logged) and drives the membership
//! core. ractor_cluster provides sessions and process groups only; the full mesh, redials,
//! failure detection for hung peers and restarts under the same name are ours (see
//! [`super::membership`]).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use ractor_cluster::node::NodeConnectionMode;
use ractor_cluster::{NodeServer, NodeServerMessage};
use ringwatch_proto::{Envelope, MemberInfo, PeerMsg, ProbeResult, decode, encode};
use tokio::sync::oneshot;

use super::catchup::Cursor;
use super::membership::{Action, Membership, Timing};
use super::transport::{
    Endpoint, EndpointMessage, Forwarder, accept_loop, session_name, user_name,
};

use crate::alert::AlerterMessage;
use crate::catalog;
use crate::clock::now_ms;
use crate::context::Ctx;

/// Newest result time held per origin node.
type Watermarks = Vec<(String, u64)>;

/// The process group every node's endpoint joins.
pub const GROUP: &str = "ringwatch.peers";
/// How often membership is ticked (failure detection, redials).
pub const TICK_EVERY: Duration = Duration::from_millis(250);
/// How often a node announces itself to every peer.
pub const HEARTBEAT_EVERY: Duration = Duration::from_millis(500);
/// Definitions per frame in a full sync; keeps frames far below the 16 MiB transport limit.
pub const DEFINITIONS_PER_FRAME: usize = 2_000;
/// Sessions with one peer closed before authentication, in a row, before we report a likely
/// cookie mismatch (duplicate connections when both sides dial at once account for a few).
const AUTH_FAILURES_TO_REPORT: u32 = 5;
/// How long a node started with join addresses waits to hear a peer before it probes on its
/// own (a restarted node would otherwise probe every monitor until it hears the cluster).
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);

pub enum PeersMessage {
    /// A frame from a peer.
    Frame(Vec<u8>),
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
    Leave(ractor::RpcReplyPort<()>),
}

impl ractor::Message for PeersMessage {}

pub struct PeersState {
    ctx: Ctx,
    server: ActorRef<NodeServerMessage>,
    membership: Membership,
    /// Sessions by ractor_cluster node id, with the peer's user-facing name.
    sessions: HashMap<u64, String>,
    blocked: HashSet<String>,
    /// Watermarks of the catch-up under way with each peer (kept for its follow-up pages).
    catch_ups: HashMap<String, Vec<(String, u64)>>,
    /// Sessions opened but not yet authenticated, with the peer's address.
    unauthenticated: HashMap<u64, String>,
    /// Per peer: sessions closed before authentication since its last ready session.
    auth_failures: HashMap<String, u32>,
    /// Last time we reported a failed authentication, to report it once a minute at most.
    auth_warned_ms: u64,
    /// Flow control of our results gossip.
    flow: super::flow::ResultsFlow,
    /// Catch-up requests that arrived before we registered the sender's session.
    pending_catch_ups: HashMap<String, (Watermarks, Option<Cursor>)>,
    /// Per peer name: (its incarnation, the last results frame received from it).
    received: HashMap<String, (u64, u64)>,
    ticks: u64,
    /// Dropping it stops the accept loop (also when this actor panics).
    _stop_listener: oneshot::Sender<()>,
}

pub struct Peers;

impl Actor for Peers {
    type Msg = PeersMessage;
    type State = PeersState;
    type Arguments = Ctx;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        ctx: Ctx,
    ) -> Result<Self::State, ActorProcessingErr> {
        let listener = tokio::net::TcpListener::bind(ctx.config.cluster)
            .await
            .map_err(|e| format!("cannot listen for peers on {}: {e}", ctx.config.cluster))?;
        let local = listener.local_addr()?;
        let me = MemberInfo {
            name: ctx.name.clone(),
            incarnation: ctx.incarnation,
            cluster: local.to_string(),
            http: ctx
                .http_addr
                .get()
                .copied()
                .unwrap_or(ctx.config.http)
                .to_string(),
        };
        let _ = ctx.cluster_addr.set(local);
        let node = NodeServer::new(
            0,
            ctx.config.cookie.clone(),
            session_name(&ctx.name, ctx.incarnation),
            local.ip().to_string(),
            None,
            Some(NodeConnectionMode::Isolated),
        )
        .with_listen_addr(local.ip());
        let (server, _) = Actor::spawn_linked(None, node, (), myself.get_cell()).await?;
        server.cast(NodeServerMessage::SubscribeToEvents {
            id: "ringwatch.peers".into(),
            subscription: Box::new(Forwarder(myself.clone())),
        })?;
        Actor::spawn_linked(None, Endpoint, myself.clone(), myself.get_cell()).await?;
        let (stop_tx, stop_rx) = oneshot::channel();
        tokio::spawn(accept_loop(listener, server.clone(), stop_rx));
        myself.send_interval(TICK_EVERY, || PeersMessage::Tick);
        let membership = Membership::new(me, ctx.config.join.clone(), timing(&ctx));
        tracing::info!(%local, join = ?ctx.config.join, "cluster listener up");
        Ok(PeersState {
            ctx,
            server,
            membership,
            sessions: HashMap::new(),
            blocked: HashSet::new(),
            catch_ups: HashMap::new(),
            unauthenticated: HashMap::new(),
            auth_failures: HashMap::new(),
            auth_warned_ms: 0,
            flow: Default::default(),
            pending_catch_ups: HashMap::new(),
            received: HashMap::new(),
            ticks: 0,
            _stop_listener: stop_tx,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            PeersMessage::Frame(bytes) => state.on_frame(&myself, &bytes),
            PeersMessage::Broadcast(body) => state.send(None, body),
            PeersMessage::SendTo { node_id, body } => state.send(Some(node_id), body),
            PeersMessage::SendToName { name, body } => state.send_to_name(&name, body),
            PeersMessage::SendResults(results) => state.send_results(results),
            PeersMessage::Tick => state.on_tick(&myself),
            PeersMessage::SessionOpened { node_id, addr } => {
                state.unauthenticated.insert(node_id, addr);
            }
            PeersMessage::SessionAuthenticated { node_id } => {
                state.unauthenticated.remove(&node_id);
            }
            PeersMessage::SessionReady { node_id, name } => {
                state.on_session_ready(&myself, node_id, name)
            }
            PeersMessage::SessionClosed { node_id, name } => {
                state.on_session_closed(&myself, node_id, &name)
            }
            PeersMessage::DialFailed { name } => {
                let actions = state.membership.dial_failed(&name, now_ms());
                state.act(&myself, actions);
            }
            PeersMessage::Block(names) => state.block(names),
            PeersMessage::Leave(reply) => {
                state.send(None, PeerMsg::Leaving);
                let _ = reply.send(());
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        myself: ActorRef<Self::Msg>,
        _state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        myself
            .stop_children_and_wait(None, Some(crate::actors::STOP_TIMEOUT))
            .await;
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<Self::Msg>,
        evt: SupervisionEvent,
        _state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match evt {
            // Without its node server or endpoint this actor is useless: fail, and let the
            // root restart the whole transport.
            SupervisionEvent::ActorFailed(_, err) => Err(err),
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                Err(format!("cluster child {:?} stopped: {reason:?}", cell.get_name()).into())
            }
            _ => Ok(()),
        }
    }
}

fn timing(ctx: &Ctx) -> Timing {
    Timing {
        heartbeat_timeout_ms: ctx.config.heartbeat_timeout.as_millis() as u64,
        forget_after_ms: ctx.config.forget_after.as_millis() as u64,
        ..Timing::default()
    }
}

impl PeersState {
    fn on_frame(&mut self, myself: &ActorRef<PeersMessage>, bytes: &[u8]) {
        let envelope: Envelope = match decode(bytes) {
            Ok(e) => e,
            Err(e) => {
                self.ctx.metrics.peer_frames_rejected.inc();
                tracing::warn!(error = %e, len = bytes.len(), "dropping an undecodable peer frame");
                return;
            }
        };
        let from = envelope.from;
        if self.blocked.contains(&from.name) || from.name == self.ctx.name {
            return;
        }
        let known = match &envelope.body {
            PeerMsg::Heartbeat { members, .. } => members.as_slice(),
            _ => &[],
        };
        let actions = self.membership.heard(&from, known, now_ms());
        self.act(myself, actions);
        match envelope.body {
            PeerMsg::Heartbeat { acks, .. } => {
                if let Some((_, seq)) = acks.iter().find(|(n, _)| *n == self.ctx.name) {
                    self.flow.ack(&from.name, *seq);
                }
            }
            PeerMsg::Definitions(defs) => catalog::merge(&self.ctx, defs),
            PeerMsg::Results { seq, results } => self.on_results(&from, seq, results),
            PeerMsg::Leaving => {
                let actions = self.membership.left(&from.name, now_ms());
                self.act(myself, actions);
            }
            PeerMsg::CatchUp { watermarks, cursor } => {
                self.serve_catch_up(myself, &from.name, watermarks, cursor)
            }
            PeerMsg::CatchUpPage { results, next } => {
                if !results.is_empty() {
                    self.ctx.record_remote(results, false);
                }
                if let (Some(cursor), Some(node_id)) = (next, self.session_of(&from.name)) {
                    let watermarks = self.catch_ups.get(&from.name).cloned().unwrap_or_default();
                    let body = PeerMsg::CatchUp {
                        watermarks,
                        cursor: Some(cursor),
                    };
                    self.send(Some(node_id), body);
                } else {
                    self.catch_ups.remove(&from.name);
                }
            }
            PeerMsg::Notifiers(ns) => crate::alert::notifiers::merge(&self.ctx, ns),
            PeerMsg::Transitions(ts) => self.ctx.alert(AlerterMessage::Transitions(ts)),
            PeerMsg::Deliveries(ds) => self.ctx.alert(AlerterMessage::Deliveries(ds)),
            PeerMsg::Confirm { monitor_id, token } => {
                self.second_opinion(myself, from.name, monitor_id, token)
            }
            PeerMsg::Confirmed { token, result } => {
                tracing::debug!(peer = %from.name, token, ok = result.ok, "second opinion received");
                self.ctx.alert(AlerterMessage::Confirmed { token, result })
            }
            PeerMsg::Attempts(attempts) => {
                attempts.into_iter().for_each(|a| self.ctx.attempts.note(a))
            }
        }
    }

    fn on_tick(&mut self, myself: &ActorRef<PeersMessage>) {
        self.ticks += 1;
        if u128::from(self.ticks) * TICK_EVERY.as_millis() >= SETTLE_TIMEOUT.as_millis() {
            self.settle("no peer answered in time");
        }
        let actions = self.membership.tick(now_ms());
        self.act(myself, actions);
        let every = (HEARTBEAT_EVERY.as_millis() / TICK_EVERY.as_millis()).max(1) as u64;
        if self.ticks.is_multiple_of(every) {
            let body = self.heartbeat();
            self.send(None, body);
        }
        self.publish_view();
    }

    fn on_session_ready(&mut self, myself: &ActorRef<PeersMessage>, node_id: u64, name: String) {
        if self.blocked.contains(&name) {
            self.drop_sessions(&name);
            return;
        }
        tracing::info!(peer = %name, "peer session ready");
        self.auth_failures.remove(&name);
        self.sessions.insert(node_id, name.clone());
        // Introduce ourselves at once, hand over every definition we hold, and ask for the
        // results we missed.
        let body = self.heartbeat();
        self.send(Some(node_id), body);
        self.send_all_definitions(node_id);
        self.send_alerting_state(node_id);
        // A new session starts its results window afresh: what came before is catch-up's.
        self.flow.session_ready(&name);
        if let Some((watermarks, cursor)) = self.pending_catch_ups.remove(&name) {
            self.serve_catch_up(myself, &name, watermarks, cursor);
        }
        self.request_catch_up(node_id);
    }

    fn on_session_closed(&mut self, myself: &ActorRef<PeersMessage>, node_id: u64, name: &str) {
        self.sessions.remove(&node_id);
        if let Some(addr) = self.unauthenticated.remove(&node_id) {
            let failures = self.auth_failures.entry(name.to_owned()).or_default();
            *failures += 1;
            let now = now_ms();
            // A few are normal when both sides dial at once (duplicate connections); many in
            // a row with no good session between them mean the cookies differ.
            let failures = *failures;
            if failures >= AUTH_FAILURES_TO_REPORT
                && now.saturating_sub(self.auth_warned_ms) > 60_000
            {
                self.auth_warned_ms = now;
                tracing::error!(
                    peer = %name,
                    %addr,
                    failures,
                    "cluster connections with this peer keep closing before authentication: \
                     most likely the two nodes use different cluster cookies (check --cookie / \
                     RINGWATCH_COOKIE on both)"
                );
            }
            return;
        }
        if self.sessions.values().any(|n| n == name) {
            return; // another session with the same peer is still up
        }
        tracing::info!(peer = %name, "peer session closed");
        let actions = self.membership.session_closed(name, now_ms());
        self.act(myself, actions);
    }

    fn heartbeat(&self) -> PeerMsg {
        PeerMsg::Heartbeat {
            members: self.membership.alive_infos(),
            acks: self
                .received
                .iter()
                .map(|(name, (_, seq))| (name.clone(), *seq))
                .collect(),
        }
    }

    fn request_catch_up(&mut self, node_id: u64) {
        let watermarks = super::catchup::request_watermarks(&self.ctx);
        if let Some(name) = self.sessions.get(&node_id).cloned() {
            self.catch_ups.insert(name, watermarks.clone());
        }
        let body = PeerMsg::CatchUp {
            watermarks,
            cursor: None,
        };
        self.send(Some(node_id), body);
    }

    /// Live results from a peer. A skipped sequence number means we missed frames (the peer
    /// held them back while we lagged): ask for a catch-up before taking these, so our
    /// watermarks still mark where the gap starts.
    fn on_results(&mut self, from: &MemberInfo, seq: u64, results: Vec<ProbeResult>) {
        let previous = self
            .received
            .insert(from.name.clone(), (from.incarnation, seq));
        let gap = previous.is_some_and(|(inc, last)| inc == from.incarnation && seq > last + 1);
        if gap && let Some(node_id) = self.session_of(&from.name) {
            tracing::info!(peer = %from.name, "missed result frames; catching up");
            self.request_catch_up(node_id);
        }
        self.ctx.record_remote(results, true);
    }

    /// Sends our results to every peer whose unacknowledged frames are within the window.
    fn send_results(&mut self, results: Vec<ProbeResult>) {
        let seq = self.flow.next_seq();
        let names: HashSet<String> = self.sessions.values().cloned().collect();
        let lagging: HashSet<String> = names
            .into_iter()
            .filter(|n| !self.flow.send(n, seq))
            .collect();
        if !lagging.is_empty() {
            self.ctx
                .metrics
                .peer_batches_dropped
                .inc_by(lagging.len() as u64);
            tracing::debug!(?lagging, "peers behind; holding back results for catch-up");
        }
        let count = results.len() as u64;
        let frame = encode(&Envelope {
            from: self.membership.me().clone(),
            body: PeerMsg::Results { seq, results },
        });
        let receivers = self.send_frame(None, &frame, &lagging);
        self.ctx
            .metrics
            .peer_results_sent
            .inc_by(count * receivers as u64);
    }

    fn session_of(&self, name: &str) -> Option<u64> {
        self.sessions
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(id, _)| *id)
    }

    /// Answers a catch-up request with one page, built off the actor's thread.
    fn serve_catch_up(
        &mut self,
        myself: &ActorRef<PeersMessage>,
        from: &str,
        watermarks: Vec<(String, u64)>,
        cursor: Option<(String, u64)>,
    ) {
        let Some(node_id) = self.session_of(from) else {
            // Its session is not registered here yet: answer once it is.
            self.pending_catch_ups
                .insert(from.to_owned(), (watermarks, cursor));
            return;
        };
        let (ctx, peers) = (self.ctx.clone(), myself.clone());
        tokio::task::spawn_blocking(move || {
            match super::catchup::page(&ctx, &watermarks, cursor) {
                Ok((results, next)) => {
                    let body = PeerMsg::CatchUpPage { results, next };
                    let _ = peers.cast(PeersMessage::SendTo { node_id, body });
                }
                Err(e) => tracing::error!(error = %e, "cannot build a catch-up page"),
            }
        });
    }

    fn send_to_name(&self, name: &str, body: PeerMsg) {
        match self.session_of(name) {
            Some(node_id) => self.send(Some(node_id), body),
            None => tracing::debug!(peer = %name, "no session with the peer; message dropped"),
        }
    }

    /// Probes a monitor for a peer that is about to declare it down, and answers. The result
    /// is also recorded (and so replicated) like any other.
    fn second_opinion(
        &self,
        myself: &ActorRef<PeersMessage>,
        peer: String,
        monitor_id: String,
        token: u64,
    ) {
        tracing::debug!(peer = %peer, monitor = %monitor_id, "second opinion asked");
        let Some(entry) = self.ctx.live.get(&monitor_id) else {
            return; // unknown here (not replicated yet): the asker decides alone in time
        };
        let ctx = self.ctx.clone();
        let peers = myself.clone();
        tokio::spawn(async move {
            let result = crate::probe::check(&ctx.clients, &entry.monitor, &ctx.name).await;
            ctx.record(result.clone());
            tracing::debug!(peer = %peer, token, ok = result.ok, "second opinion given");
            let body = PeerMsg::Confirmed { token, result };
            let _ = peers.cast(PeersMessage::SendToName { name: peer, body });
        });
    }

    /// Sends a new peer every notifier, status change and delivery we hold: the alerting
    /// state a node needs to never repeat a notification.
    fn send_alerting_state(&self, node_id: u64) {
        let store = &self.ctx.store;
        let read = store
            .notifiers()
            .and_then(|n| Ok((n, store.all_transitions()?, store.deliveries()?)));
        let (notifiers, transitions, deliveries) = match read {
            Ok(all) => all,
            Err(e) => {
                tracing::error!(error = %e, "cannot read alerting state for a peer");
                return;
            }
        };
        if !notifiers.is_empty() {
            self.send(Some(node_id), PeerMsg::Notifiers(notifiers));
        }
        for chunk in transitions.chunks(DEFINITIONS_PER_FRAME) {
            self.send(Some(node_id), PeerMsg::Transitions(chunk.to_vec()));
        }
        for chunk in deliveries.chunks(DEFINITIONS_PER_FRAME) {
            self.send(Some(node_id), PeerMsg::Deliveries(chunk.to_vec()));
        }
    }

    fn send_all_definitions(&self, node_id: u64) {
        let store = self.ctx.store.clone();
        match store.monitors() {
            Ok(all) => {
                for chunk in all.chunks(DEFINITIONS_PER_FRAME) {
                    self.send(Some(node_id), PeerMsg::Definitions(chunk.to_vec()));
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read definitions for a peer"),
        }
    }

    /// Sends to one session (`Some(node_id)`) or to every peer.
    fn send(&self, to: Option<u64>, body: PeerMsg) {
        let frame = encode(&Envelope {
            from: self.membership.me().clone(),
            body,
        });
        self.send_frame(to, &frame, &HashSet::new());
    }

    /// Sends an encoded frame to one session or every peer, except blocked and `skip` names.
    /// Returns to how many peers.
    fn send_frame(&self, to: Option<u64>, frame: &[u8], skip: &HashSet<String>) -> usize {
        let mut sent = 0;
        for cell in ractor::pg::get_members(&GROUP.to_owned()) {
            let id = cell.get_id();
            if id.is_local() || to.is_some_and(|n| n != id.node()) {
                continue;
            }
            if self
                .sessions
                .get(&id.node())
                .is_some_and(|n| self.blocked.contains(n) || skip.contains(n))
            {
                continue;
            }
            let _ = ActorRef::<EndpointMessage>::from(cell)
                .cast(EndpointMessage::Frame(frame.to_vec()));
            sent += 1;
        }
        self.ctx
            .metrics
            .peer_bytes_sent
            .inc_by((frame.len() * sent) as u64);
        sent
    }

    fn act(&mut self, myself: &ActorRef<PeersMessage>, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Dial { addr, name } => self.dial(myself, addr, name),
                Action::Drop { name } => self.drop_sessions(&name),
                Action::Changed => self.membership_changed(),
            }
        }
    }

    fn dial(&self, myself: &ActorRef<PeersMessage>, addr: String, name: Option<String>) {
        if name.as_ref().is_some_and(|n| self.blocked.contains(n)) {
            return;
        }
        let server = self.server.clone();
        let peers = myself.clone();
        tokio::spawn(async move {
            let connect = ractor_cluster::client_connect(&server, addr.as_str());
            let failed = match tokio::time::timeout(Duration::from_secs(2), connect).await {
                Ok(Ok(())) => false,
                Ok(Err(e)) => {
                    tracing::debug!(%addr, error = %e, "dial failed");
                    true
                }
                Err(_) => true,
            };
            if failed && let Some(name) = name {
                let _ = peers.cast(PeersMessage::DialFailed { name });
            }
        });
    }

    /// Stops our session actors with `name`, which closes the connection both ways.
    fn drop_sessions(&self, name: &str) {
        let server = self.server.clone();
        let name = name.to_owned();
        tokio::spawn(async move {
            let Ok(ractor::rpc::CallResult::Success(sessions)) = server
                .call(NodeServerMessage::GetSessions, Some(Duration::from_secs(2)))
                .await
            else {
                return;
            };
            for info in sessions.values() {
                if info
                    .peer_name
                    .as_ref()
                    .is_some_and(|n| user_name(&n.name) == name)
                {
                    info.actor.stop(Some("dropped by membership".into()));
                }
            }
        });
    }

    fn block(&mut self, names: Vec<String>) {
        tracing::warn!(?names, "fault layer: blocking traffic with peers");
        for name in &names {
            self.drop_sessions(name);
        }
        self.blocked = names.into_iter().collect();
    }

    /// Lets the coordinator probe (once): membership is known, or we stop waiting for it.
    fn settle(&self, why: &str) {
        use std::sync::atomic::Ordering;
        if !self.ctx.settled.swap(true, Ordering::AcqRel) {
            tracing::info!(reason = why, "membership settled; probing starts");
            if let Some(c) = self.ctx.coordinator() {
                let _ = c.cast(crate::actors::coordinator::CoordinatorMessage::Resync);
            }
        }
    }

    fn membership_changed(&self) {
        let alive = self.membership.alive();
        if alive.len() > 1 {
            self.settle("heard a peer");
        }
        tracing::info!(?alive, "membership changed");
        self.ctx.set_alive(alive);
        self.publish_view();
        if let Some(c) = self.ctx.coordinator() {
            let _ = c.cast(crate::actors::coordinator::CoordinatorMessage::Resync);
        }
    }

    fn publish_view(&self) {
        let me = self.membership.me();
        let mut view = vec![crate::context::MemberView {
            name: me.name.clone(),
            http: me.http.clone(),
            cluster: me.cluster.clone(),
            alive: true,
            last_heard_ms: now_ms(),
        }];
        view.extend(
            self.membership
                .members()
                .map(|m| crate::context::MemberView {
                    name: m.info.name.clone(),
                    http: m.info.http.clone(),
                    cluster: m.info.cluster.clone(),
                    alive: m.is_alive(),
                    last_heard_ms: m.last_heard_ms,
                }),
        );
        *self.ctx.members.write().unwrap_or_else(|p| p.into_inner()) = view;
    }
}
