//! The `Peers` actor: the one local actor between this node and its peers. It is a thin shell
//! over four parts of its state, each in its own module:
//!
//! - [`Transport`] ([`super::transport`]): our cluster listener, the ractor_cluster node
//!   server and its sessions, dialling, authentication diagnosis, sending frames, and the
//!   fault layer's blocking;
//! - [`Members`] ([`super::members`]): drives the membership core, heartbeats, settling, and
//!   the alive list and members view in the context;
//! - [`PeerSync`] ([`super::sync`]): the full sync a new session gets, catch-up, and results
//!   gossip under flow control;
//! - the inbox ([`super::inbox`]): decodes each frame fallibly (a bad frame is counted and
//!   logged), checks it speaks for the session it came by and holds nothing a peer may not
//!   say ([`super::guard`]), and routes each kind of peer message to its part.
//!
//! Supervision: `Peers` spawns the node server and the remotable [`Endpoint`] linked to
//! itself; it fails if either stops, and the root restarts the whole transport. ractor_cluster
//! provides sessions and process groups only; the full mesh, redials, failure detection for
//! hung peers and restarts under the same name are ours (see [`super::membership`]).
//!
//! [`Endpoint`]: super::endpoint::Endpoint

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use ringwatch_proto::PeerMsg;

use super::guard::LogLimiter;
use super::members::{Members, TICK_EVERY};
use super::sync::PeerSync;
use super::transport::Transport;
use crate::context::Ctx;
pub use crate::links::PeersMessage;

pub struct PeersState {
    pub(super) ctx: Ctx,
    pub(super) transport: Transport,
    pub(super) members: Members,
    pub(super) sync: PeerSync,
    /// Rate limit of the inbox's log lines about refused frames and records.
    pub(super) log: LogLimiter,
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
        let transport = Transport::start(&myself, &ctx).await?;
        myself.send_interval(TICK_EVERY, || PeersMessage::Tick);
        let members = Members::new(ctx.clone(), transport.me().clone());
        let local = &transport.me().cluster;
        tracing::info!(%local, join = ?ctx.config.join, "cluster listener up");
        Ok(PeersState {
            sync: PeerSync::new(ctx.clone(), myself),
            ctx,
            transport,
            members,
            log: LogLimiter::default(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        use PeersMessage as M;
        let s = state;
        match msg {
            M::Frame { bytes, session } => s.on_frame(&myself, &bytes, session.as_deref()),
            M::Broadcast(body) => s.transport.send(None, body),
            M::SendTo { node_id, body } => s.transport.send(Some(node_id), body),
            M::SendToName { name, body } => s.transport.send_to_name(&name, body),
            M::SendResults(results) => s.sync.send_results(&s.transport, results),
            M::Tick => s.members.tick(&s.transport, || s.sync.acks()),
            M::SessionOpened { node_id, addr } => s.transport.session_opened(node_id, addr),
            M::SessionAuthenticated { node_id } => s.transport.session_authenticated(node_id),
            M::SessionReady { node_id, name } => s.on_session_ready(node_id, &name),
            M::SessionClosed { node_id, name } => s.on_session_closed(node_id, &name),
            M::DialFailed { name } => s.members.dial_failed(&s.transport, &name),
            M::Block(names) => s.transport.block(names),
            M::Leave(reply) => s.leave(reply),
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        myself: ActorRef<Self::Msg>,
        _state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        myself
            .stop_children_and_wait(None, Some(crate::links::STOP_TIMEOUT))
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

impl PeersState {
    /// A new session: introduce ourselves at once, then bring the peer's data in step.
    fn on_session_ready(&mut self, node_id: u64, name: &str) {
        if !self.transport.session_ready(node_id, name) {
            return;
        }
        let hello = self.members.heartbeat(self.sync.acks());
        self.transport.send(Some(node_id), hello);
        self.sync.session_ready(&self.transport, node_id, name);
    }

    fn on_session_closed(&mut self, node_id: u64, name: &str) {
        if self.transport.session_closed(node_id, name) {
            self.members.session_closed(&self.transport, name);
        }
    }

    fn leave(&self, reply: RpcReplyPort<()>) {
        self.transport.send(None, PeerMsg::Leaving);
        let _ = reply.send(());
    }
}
