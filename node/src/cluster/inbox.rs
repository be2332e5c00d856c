//! The inbox of the `Peers` actor: every frame a peer sends is decoded here, checked
//! ([`super::guard`]) and each kind of [`PeerMsg`] is handed to the part that owns it:
//! membership ([`super::members`]), data sync ([`super::sync`]), the catalog, alerting, or
//! second opinions ([`super::second_opinion`]).
//!
//! Promises: a frame that does not decode costs that frame only; a frame that did not come by
//! the authenticated session of the node it claims to be from (or claims to be from us) is
//! dropped whole, before membership hears of it; results, status changes and rollups that
//! fail the guard's checks are taken out of their frame. Each is counted by reason and logged
//! at most once per [`super::guard::LOG_EVERY_MS`] per reason. Frames from a peer the fault
//! layer blocks are dropped silently. Any other frame counts as hearing from its sender
//! before it is routed.

use ractor::ActorRef;
use ringwatch_proto::{Envelope, MemberInfo, PeerMsg, decode};

use super::guard::{self, FrameDrop, RecordRefusal};
use super::peers::{PeersMessage, PeersState};
use super::second_opinion;
use crate::catalog;
use crate::clock::now_ms;
use crate::context::Ctx;
use crate::links::AlerterMessage;
use crate::metrics::{KindLabel, ReasonLabel, RefusalLabel};

impl PeersState {
    /// A frame that came by the session whose peer authenticated as `session`.
    pub(super) fn on_frame(
        &mut self,
        myself: &ActorRef<PeersMessage>,
        bytes: &[u8],
        session: Option<&str>,
    ) {
        let envelope: Envelope = match decode(bytes) {
            Ok(e) => e,
            Err(e) => {
                self.ctx.metrics.peer_frames_rejected.inc();
                let detail = format!("{e} ({} bytes)", bytes.len());
                return self.dropped(FrameDrop::Undecodable, session, &detail);
            }
        };
        let from = &envelope.from;
        if let Err(why) = guard::check_sender(session, from, &self.ctx.name) {
            let detail = format!("it claims to be from {}~{}", from.name, from.incarnation);
            return self.dropped(why, session, &detail);
        }
        if self.transport.is_blocked(&from.name) {
            return;
        }
        self.members.heard(&self.transport, &envelope);
        let Envelope { from, mut body } = envelope;
        if self.admit(&from, &mut body) {
            self.route(myself, from, body);
        }
    }

    /// Counts and (rate-limited) logs a dropped frame.
    fn dropped(&mut self, why: FrameDrop, session: Option<&str>, detail: &str) {
        let reason = why.label();
        self.ctx
            .metrics
            .peer_frames_dropped
            .get_or_create(&ReasonLabel { reason })
            .inc();
        if let Some(count) = self.log.note(reason, 1, now_ms()) {
            tracing::warn!(
                reason,
                count,
                session = session.unwrap_or("none"),
                "dropping frames from a peer; the last: {detail}"
            );
        }
    }

    /// Takes out of `body` the records the guard refuses, counting them; false if nothing of
    /// the message is left to take.
    fn admit(&mut self, from: &MemberInfo, body: &mut PeerMsg) -> bool {
        let now = now_ms();
        let (kind, refused) = match body {
            PeerMsg::Results { results, .. } => (
                "result",
                guard::admit_results(results, Some((&from.name, &from.zone)), now),
            ),
            PeerMsg::CatchUpPage { results, .. } => {
                ("result", guard::admit_results(results, None, now))
            }
            PeerMsg::Confirmed { result, .. } => {
                let why = guard::result_refusal(result, Some((&from.name, &from.zone)), now);
                ("result", why.map(|w| vec![(w, 1)]).unwrap_or_default())
            }
            PeerMsg::Transitions(ts) => ("transition", guard::admit_transitions(ts, now)),
            PeerMsg::Rollups(frames) => ("rollup", guard::admit_own_rollups(frames, &from.name)),
            _ => return true,
        };
        let whole = matches!(body, PeerMsg::Confirmed { .. }) && !refused.is_empty();
        for (why, n) in refused {
            self.refused(from, kind, why, n as u64, now);
        }
        !whole
    }

    fn refused(
        &mut self,
        from: &MemberInfo,
        kind: &'static str,
        why: RecordRefusal,
        n: u64,
        now: u64,
    ) {
        let reason = why.label();
        self.ctx
            .metrics
            .peer_records_refused
            .get_or_create(&RefusalLabel { kind, reason })
            .inc_by(n);
        if let Some(count) = self.log.note(reason, n, now) {
            tracing::warn!(
                peer = %from.name,
                kind,
                reason,
                count,
                skew_secs = guard::skew_secs(),
                "refusing records from a peer"
            );
        }
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
                second_opinion::received(ctx, &from.name, token, *result)
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
    let body = match ctx.tokens.receive(body, &ctx.hlc) {
        Ok(merged) => return refused("token", merged.refused),
        Err(body) => body,
    };
    let body = match ctx.maintenance.receive(body, &ctx.hlc) {
        Ok(merged) => return refused("maintenance", merged.refused),
        Err(body) => body,
    };

    match ctx.status_pages.receive(body, &ctx.hlc) {
        Ok(merged) => refused("status_page", merged.refused),
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
