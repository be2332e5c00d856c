//! Driving the membership core ([`super::membership`]) from the `Peers` actor: what it hears
//! and when it ticks go in, its actions (dial, drop a session, membership changed) come out
//! and are carried out through the [`Transport`]; heartbeats go out on a fixed beat.
//!
//! [`Members`] owns the [`Membership`] core and the tick count. It promises that the alive
//! list in the context (the input of ownership) and the members view (`GET /api/cluster`)
//! follow the core, that the coordinator resyncs on every change, and that a node settles
//! (starts probing) once: when it hears a peer, or after [`SETTLE_TIMEOUT`] of silence.

use std::time::Duration;

use ringwatch_proto::{Envelope, MemberInfo, PeerMsg};

use super::guard::LogLimiter;
use super::membership::{Action, Membership, Timing};
use super::transport::Transport;
use crate::clock::now_ms;
use crate::context::{Ctx, MemberView};
use crate::domain::ownership::ZoneView;
use crate::links::CoordinatorMessage;

/// How often membership is ticked (failure detection, redials).
pub const TICK_EVERY: Duration = Duration::from_millis(250);
/// How often a node announces itself to every peer.
pub const HEARTBEAT_EVERY: Duration = Duration::from_millis(500);
/// How long a node started with join addresses waits to hear a peer before it probes on its
/// own (a restarted node would otherwise probe every monitor until it hears the cluster).
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);

pub struct Members {
    ctx: Ctx,
    membership: Membership,
    ticks: u64,
    /// Rate limit of the line about members named but never heard.
    log: LogLimiter,
}

impl Members {
    pub fn new(ctx: Ctx, me: MemberInfo) -> Self {
        let membership = Membership::new(me, ctx.config.join.clone(), timing(&ctx));
        Members {
            ctx,
            membership,
            ticks: 0,
            log: LogLimiter::default(),
        }
    }

    /// A frame arrived from a peer: it is alive, and a heartbeat lists the members it knows.
    pub fn heard(&mut self, transport: &Transport, envelope: &Envelope) {
        let known = match &envelope.body {
            PeerMsg::Heartbeat { members, .. } => members.as_slice(),
            _ => &[],
        };
        let actions = self.membership.heard(&envelope.from, known, now_ms());
        self.act(transport, actions);
    }

    /// A peer said it is leaving.
    pub fn left(&mut self, transport: &Transport, name: &str) {
        let actions = self.membership.left(name, now_ms());
        self.act(transport, actions);
    }

    pub fn dial_failed(&mut self, transport: &Transport, name: &str) {
        let actions = self.membership.dial_failed(name, now_ms());
        self.act(transport, actions);
    }

    /// Our last session with `name` closed.
    pub fn session_closed(&mut self, transport: &Transport, name: &str) {
        let actions = self.membership.session_closed(name, now_ms());
        self.act(transport, actions);
    }

    /// Settles after the timeout, ticks the core, heartbeats every [`HEARTBEAT_EVERY`] (with
    /// `acks`, asked for only then) and refreshes the members view.
    pub fn tick(&mut self, transport: &Transport, acks: impl FnOnce() -> Vec<(String, u64)>) {
        self.ticks += 1;
        if u128::from(self.ticks) * TICK_EVERY.as_millis() >= SETTLE_TIMEOUT.as_millis() {
            self.settle("no peer answered in time");
        }
        let actions = self.membership.tick(now_ms());
        self.act(transport, actions);
        let dropped = self.membership.take_dropped_hints();
        if dropped > 0 {
            self.ctx.metrics.peer_member_hints_dropped.inc_by(dropped);
            if let Some(count) = self.log.note("member_hints", dropped, now_ms()) {
                tracing::warn!(
                    count,
                    "peers named members that were never heard from; not adopted"
                );
            }
        }
        let every = (HEARTBEAT_EVERY.as_millis() / TICK_EVERY.as_millis()).max(1) as u64;
        if self.ticks.is_multiple_of(every) {
            transport.send(None, self.heartbeat(acks()));
        }
        self.publish_view();
    }

    /// Our heartbeat: the members we see alive, and the results frames we have received
    /// (`acks`, per peer, for its flow control).
    pub fn heartbeat(&self, acks: Vec<(String, u64)>) -> PeerMsg {
        PeerMsg::Heartbeat {
            members: self.membership.alive_infos(),
            acks,
        }
    }

    fn act(&self, transport: &Transport, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Dial { addr, name } => transport.dial(addr, name),
                Action::Drop { name } => transport.drop_sessions(&name),
                Action::Changed => self.changed(),
            }
        }
    }

    /// Lets the coordinator probe (once): membership is known, or we stop waiting for it.
    fn settle(&self, why: &str) {
        use std::sync::atomic::Ordering;
        if !self.ctx.settled.swap(true, Ordering::AcqRel) {
            tracing::info!(reason = why, "membership settled; probing starts");
            self.resync_coordinator();
        }
    }

    fn changed(&self) {
        // The alive members (us included) with their zones; their names, sorted, are the map's.
        let zones: std::collections::BTreeMap<String, String> = self
            .membership
            .alive_infos()
            .into_iter()
            .map(|m| (m.name, m.zone))
            .collect();
        let alive: Vec<String> = zones.keys().cloned().collect();
        // The zones of every member, dead ones included (ours the view adds).
        let known = self
            .membership
            .members()
            .map(|m| m.info.zone.clone())
            .collect();
        self.ctx.learn_zones(
            self.membership
                .members()
                .map(|m| (m.info.name.as_str(), m.info.zone.as_str())),
        );
        if alive.len() > 1 {
            self.settle("heard a peer");
        }
        tracing::info!(?alive, "membership changed");
        let zones = ZoneView::new(&self.membership.me().zone, zones, known);
        self.ctx.set_alive(alive, zones);
        self.publish_view();
        self.resync_coordinator();
    }

    fn resync_coordinator(&self) {
        if let Some(c) = self.ctx.coordinator() {
            let _ = c.cast(CoordinatorMessage::Resync);
        }
    }

    fn publish_view(&self) {
        let me = self.membership.me();
        let mut view = vec![MemberView {
            name: me.name.clone(),
            zone: me.zone.clone(),
            http: me.http.clone(),
            cluster: me.cluster.clone(),
            alive: true,
            last_heard_ms: now_ms(),
        }];
        view.extend(self.membership.members().map(|m| MemberView {
            name: m.info.name.clone(),
            zone: m.info.zone.clone(),
            http: m.info.http.clone(),
            cluster: m.info.cluster.clone(),
            alive: m.is_alive(),
            last_heard_ms: m.last_heard_ms,
        }));
        *self.ctx.members.write().unwrap_or_else(|p| p.into_inner()) = view;
    }
}

fn timing(ctx: &Ctx) -> Timing {
    Timing {
        heartbeat_timeout_ms: ctx.config.heartbeat_timeout.as_millis() as u64,
        forget_after_ms: ctx.config.forget_after.as_millis() as u64,
        ..Timing::default()
    }
}
