//! The inbox of the `Peers` actor: every frame a peer sends is decoded here and each kind of
//! [`PeerMsg`] is handed to the part that owns it: membership ([`super::members`]), data sync
//! ([`super::sync`]), the catalog, alerting, or second opinions ([`super::second_opinion`]).
//!
//! Promises: a frame that does not decode costs that frame only (it is counted and logged);
//! frames from a blocked peer or claiming to be from us are dropped; any other frame counts as
//! hearing from its sender before it is routed.

use ractor::ActorRef;
use ringwatch_proto::{Envelope, MemberInfo, PeerMsg, decode};

use super::peers::{PeersMessage, PeersState};
use super::second_opinion;
use crate::catalog;
use crate::context::Ctx;
use crate::links::AlerterMessage;
use crate::metrics::KindLabel;

impl PeersState {
    pub(super) fn on_frame(&mut self, myself: &ActorRef<PeersMessage>, bytes: &[u8]) {
        let envelope: Envelope = match decode(bytes) {
            Ok(e) => e,
            Err(e) => {
                self.ctx.metrics.peer_frames_rejected.inc();
                tracing::warn!(error = %e, len = bytes.len(), "dropping an undecodable peer frame");
                return;
            }
        };
        let from = &envelope.from;
        if self.transport.is_blocked(&from.name) || from.name == self.ctx.name {
            return;
        }
        self.members.heard(&self.transport, &envelope);
        self.route(myself, envelope.from, envelope.body);
    }

    fn route(&mut self, myself: &ActorRef<PeersMessage>, from: MemberInfo, body: PeerMsg) {
        let (ctx, transport) = (&self.ctx, &self.transport);
        match body {
            PeerMsg::Heartbeat { acks, .. } => self.sync.on_acks(&from.name, &acks),
            defs @ (PeerMsg::Definitions(_) | PeerMsg::Notifiers(_) | PeerMsg::Records { .. }) => {
                on_definitions(ctx, defs)
            }
            PeerMsg::Results { seq, results } => {
                self.sync.on_results(transport, &from, seq, results)
            }
            PeerMsg::Leaving => self.members.left(transport, &from.name),
            PeerMsg::CatchUp { watermarks, cursor } => self
                .sync
                .serve_catch_up(transport, &from.name, watermarks, cursor),
            PeerMsg::CatchUpPage { results, next } => self
                .sync
                .on_catch_up_page(transport, &from.name, results, next),
            PeerMsg::Transitions(ts) => ctx.alert(AlerterMessage::Transitions(ts)),
            PeerMsg::Deliveries(ds) => ctx.alert(AlerterMessage::Deliveries(ds)),
            PeerMsg::Confirm { monitor_id, token } => {
                second_opinion::give(ctx, myself, from.name, monitor_id, token)
            }
            PeerMsg::Confirmed { token, result } => {
                second_opinion::received(ctx, &from.name, token, result)
            }
            PeerMsg::Attempts(attempts) => attempts.into_iter().for_each(|a| ctx.attempts.note(a)),
            PeerMsg::Rollups(frames) => ctx.record_rollups(frames),
            PeerMsg::RollupPull { since_ms, cursor } => self
                .sync
                .serve_rollup_pull(transport, &from.name, since_ms, cursor),
            PeerMsg::RollupPage { rollups, next } => self
                .sync
                .on_rollup_page(transport, &from.name, rollups, next),
        }
    }
}

/// Definitions of any replicated kind: offered to each kind's table in turn, merged by the one
/// that takes them; monitors then go through their change hook. Refused records are counted.
fn on_definitions(ctx: &Ctx, body: PeerMsg) {
    let refused = |kind, n: usize| {
        if n > 0 {
            let label = KindLabel { kind };
            ctx.metrics
                .definitions_refused
                .get_or_create(&label)
                .inc_by(n as u64);
        }
    };
    let body = match ctx.monitors.receive(body, &ctx.hlc) {
        Ok(merged) => {
            refused("monitor", merged.refused);
            return catalog::merged(ctx, merged.changed);
        }
        Err(body) => body,
    };
    let body = match ctx.notifiers.receive(body, &ctx.hlc) {
        Ok(merged) => return refused("notifier", merged.refused),
        Err(body) => body,
    };
    match ctx.tokens.receive(body, &ctx.hlc) {
        Ok(merged) => refused("token", merged.refused),
        Err(body) => {
            if let PeerMsg::Records { kind, .. } = &body {
                tracing::debug!(
                    kind,
                    "dropping definitions of a kind this build does not know"
                );
            }
            refused("unknown", 1);
        }
    }
}
