//! Keeping peers' data in step: the full sync a new session gets, catch-up of missed results
//! (requests and pages, see [`super::catchup`]), and live results gossip under flow control
//! (see [`super::flow`]).
//!
//! [`PeerSync`] owns the results frame numbers we sent and received, and the catch-ups under
//! way. It promises that a new session receives every definition, notifier, status change and
//! delivery we hold and is asked for the results we missed; that a peer more than the flow
//! window behind gets no live results (and repairs the gap by catch-up); and that a skipped
//! frame number from a peer triggers a catch-up before its newer results are taken.

use std::collections::{HashMap, HashSet};

use ractor::ActorRef;
use ringwatch_proto::{MemberInfo, PeerMsg, ProbeResult, chunks_by_size};

use super::catchup::Cursor;
use super::flow::ResultsFlow;
use super::peers::PeersMessage;
use super::transport::Transport;
use crate::context::Ctx;

/// What one frame of a full sync carries at most (definitions, status changes, deliveries),
/// encoded: far below the 16 MiB transport limit, whatever the records weigh.
pub const FULL_SYNC_FRAME_BYTES: usize = crate::state::table::MAX_MESSAGE_BYTES;

/// Newest result time held per origin node.
type Watermarks = Vec<(String, u64)>;

pub struct PeerSync {
    ctx: Ctx,
    /// The `Peers` actor, handed catch-up pages built off its thread.
    peers: ActorRef<PeersMessage>,
    /// Flow control of our results gossip.
    flow: ResultsFlow,
    /// Per peer name: (its incarnation, the last results frame received from it).
    received: HashMap<String, (u64, u64)>,
    /// Watermarks of the catch-up under way with each peer (kept for its follow-up pages).
    catch_ups: HashMap<String, Watermarks>,
    /// Catch-up requests that arrived before we registered the sender's session.
    pending_catch_ups: HashMap<String, (Watermarks, Option<Cursor>)>,
    /// Rollup pulls (since, cursor) that arrived before we registered the sender's session.
    pending_rollup_pulls: HashMap<String, (u64, Option<String>)>,
    /// Where the rollup pull under way with each peer started.
    rollup_pulls: HashMap<String, u64>,
}

impl PeerSync {
    pub fn new(ctx: Ctx, peers: ActorRef<PeersMessage>) -> Self {
        PeerSync {
            ctx,
            peers,
            flow: ResultsFlow::default(),
            received: HashMap::new(),
            catch_ups: HashMap::new(),
            pending_catch_ups: HashMap::new(),
            pending_rollup_pulls: HashMap::new(),
            rollup_pulls: HashMap::new(),
        }
    }

    /// The last results frame received from each peer, for our heartbeats.
    pub fn acks(&self) -> Vec<(String, u64)> {
        self.received
            .iter()
            .map(|(name, (_, seq))| (name.clone(), *seq))
            .collect()
    }

    /// A peer's heartbeat acknowledges our results frames up to the number it lists for us.
    pub fn on_acks(&mut self, from: &str, acks: &[(String, u64)]) {
        if let Some((_, seq)) = acks.iter().find(|(n, _)| *n == self.ctx.name) {
            self.flow.ack(from, *seq);
        }
    }

    /// A session with `name` is ready: hand over every definition and the alerting state we
    /// hold, start its results window afresh, and catch up both ways.
    pub fn session_ready(&mut self, transport: &Transport, node_id: u64, name: &str) {
        self.send_all_definitions(transport, node_id);
        self.send_alerting_state(transport, node_id);
        // A new session starts its results window afresh: what came before is catch-up's.
        self.flow.session_ready(name);
        if let Some((watermarks, cursor)) = self.pending_catch_ups.remove(name) {
            self.serve_catch_up(transport, name, watermarks, cursor);
        }
        if let Some((since_ms, cursor)) = self.pending_rollup_pulls.remove(name) {
            self.serve_rollup_pull(transport, name, since_ms, cursor);
        }
        self.request_catch_up(transport, node_id);
        let since_ms = crate::history::sync::pull_since(&self.ctx);
        transport.send(
            Some(node_id),
            PeerMsg::RollupPull {
                since_ms,
                cursor: None,
            },
        );
        self.rollup_pulls.insert(name.to_owned(), since_ms);
    }

    /// Answers a rollup pull with one page, built off the actor's thread.
    pub fn serve_rollup_pull(
        &mut self,
        transport: &Transport,
        from: &str,
        since_ms: u64,
        cursor: Option<String>,
    ) {
        let Some(node_id) = transport.session_of(from) else {
            // Its session is not registered here yet: answer once it is. The peer asks once,
            // from its own `session_ready`, which can run before ours.
            self.pending_rollup_pulls
                .insert(from.to_owned(), (since_ms, cursor));
            return;
        };
        let (ctx, peers) = (self.ctx.clone(), self.peers.clone());
        tokio::task::spawn_blocking(move || {
            match crate::history::sync::page(&ctx, since_ms, cursor) {
                Ok((rollups, next)) => {
                    let body = PeerMsg::RollupPage { rollups, next };
                    let _ = peers.cast(PeersMessage::SendTo { node_id, body });
                }
                Err(e) => tracing::error!(error = %e, "cannot build a rollup page"),
            }
        });
    }

    /// One page of the rollups we pulled from `from`: merge it, ask for the next.
    pub fn on_rollup_page(
        &mut self,
        transport: &Transport,
        from: &str,
        rollups: Vec<ringwatch_proto::RollupFrame>,
        next: Option<String>,
    ) {
        if !rollups.is_empty() {
            self.ctx.record_rollups(rollups);
        }
        match (
            next,
            transport.session_of(from),
            self.rollup_pulls.get(from),
        ) {
            (Some(cursor), Some(node_id), Some(&since_ms)) => transport.send(
                Some(node_id),
                PeerMsg::RollupPull {
                    since_ms,
                    cursor: Some(cursor),
                },
            ),
            _ => {
                self.rollup_pulls.remove(from);
            }
        }
    }

    /// Live results from a peer. A skipped sequence number means we missed frames (the peer
    /// held them back while we lagged): ask for a catch-up before taking these, so our
    /// watermarks still mark where the gap starts.
    pub fn on_results(
        &mut self,
        transport: &Transport,
        from: &MemberInfo,
        seq: u64,
        results: Vec<ProbeResult>,
    ) {
        let previous = self
            .received
            .insert(from.name.clone(), (from.incarnation, seq));
        let gap = previous.is_some_and(|(inc, last)| inc == from.incarnation && seq > last + 1);
        if gap && let Some(node_id) = transport.session_of(&from.name) {
            tracing::info!(peer = %from.name, "missed result frames; catching up");
            self.request_catch_up(transport, node_id);
        }
        self.ctx.record_remote(results, true);
    }

    /// Sends our results to every peer whose unacknowledged frames are within the window.
    pub fn send_results(&mut self, transport: &Transport, results: Vec<ProbeResult>) {
        let seq = self.flow.next_seq();
        let lagging: HashSet<String> = transport
            .peer_names()
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
        let frame = transport.encode(PeerMsg::Results { seq, results });
        let receivers = transport.send_frame(None, &frame, &lagging);
        self.ctx
            .metrics
            .peer_results_sent
            .inc_by(count * receivers as u64);
    }

    /// Answers a catch-up request with one page, built off the actor's thread.
    pub fn serve_catch_up(
        &mut self,
        transport: &Transport,
        from: &str,
        watermarks: Watermarks,
        cursor: Option<Cursor>,
    ) {
        let Some(node_id) = transport.session_of(from) else {
            // Its session is not registered here yet: answer once it is.
            self.pending_catch_ups
                .insert(from.to_owned(), (watermarks, cursor));
            return;
        };
        let (ctx, peers) = (self.ctx.clone(), self.peers.clone());
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

    /// One page of the catch-up we asked `from` for: store it, and ask for the next page if
    /// there is one.
    pub fn on_catch_up_page(
        &mut self,
        transport: &Transport,
        from: &str,
        results: Vec<ProbeResult>,
        next: Option<Cursor>,
    ) {
        if !results.is_empty() {
            self.ctx.record_remote(results, false);
        }
        if let (Some(cursor), Some(node_id)) = (next, transport.session_of(from)) {
            let watermarks = self.catch_ups.get(from).cloned().unwrap_or_default();
            let body = PeerMsg::CatchUp {
                watermarks,
                cursor: Some(cursor),
            };
            transport.send(Some(node_id), body);
        } else {
            self.catch_ups.remove(from);
        }
    }

    fn request_catch_up(&mut self, transport: &Transport, node_id: u64) {
        let watermarks = super::catchup::request_watermarks(&self.ctx);
        if let Some(name) = transport.name_of(node_id) {
            self.catch_ups.insert(name.to_owned(), watermarks.clone());
        }
        let body = PeerMsg::CatchUp {
            watermarks,
            cursor: None,
        };
        transport.send(Some(node_id), body);
    }

    /// Sends a new peer every status change and delivery we hold: with the notifiers (sent
    /// with the definitions), the alerting state a node needs to never repeat a notification.
    fn send_alerting_state(&self, transport: &Transport, node_id: u64) {
        let store = &self.ctx.store;
        let read = store
            .all_transitions()
            .and_then(|t| Ok((t, store.deliveries()?)));
        let (transitions, deliveries) = match read {
            Ok(all) => all,
            Err(e) => {
                tracing::error!(error = %e, "cannot read alerting state for a peer");
                return;
            }
        };
        for chunk in chunks_by_size(&transitions, FULL_SYNC_FRAME_BYTES) {
            transport.send(Some(node_id), PeerMsg::Transitions(chunk.to_vec()));
        }
        for chunk in chunks_by_size(&deliveries, FULL_SYNC_FRAME_BYTES) {
            transport.send(Some(node_id), PeerMsg::Deliveries(chunk.to_vec()));
        }
    }

    /// Sends a new peer every definition of every replicated kind, tombstones included.
    fn send_all_definitions(&self, transport: &Transport, node_id: u64) {
        let monitors = self.ctx.monitors.sync_messages(FULL_SYNC_FRAME_BYTES);
        let notifiers = self.ctx.notifiers.sync_messages(FULL_SYNC_FRAME_BYTES);
        let tokens = self.ctx.tokens.sync_messages(FULL_SYNC_FRAME_BYTES);
        let maintenance = self.ctx.maintenance.sync_messages(FULL_SYNC_FRAME_BYTES);
        let pages = self.ctx.status_pages.sync_messages(FULL_SYNC_FRAME_BYTES);
        for msg in monitors
            .into_iter()
            .chain(notifiers)
            .chain(tokens)
            .chain(maintenance)
            .chain(pages)
        {
            transport.send(Some(node_id), msg);
        }
    }
}
