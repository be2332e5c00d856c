//! The ractor_cluster side of the peer transport: the one remotable actor ([`Endpoint`]),
//! the bridge from node-server events to [`PeersMessage`]s ([`Forwarder`]) and session
//! naming. Everything here forwards; decisions are made by the `Peers` actor (see
//! [`super::peers`]), except one made at once, in the event hook: a session whose
//! certificate names another node than the one it authenticated as is stopped there.

use std::sync::Arc;

use ractor::message::{BoxedDowncastErr, SerializedMessage};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use ractor_cluster::node::NodeServerSessionInformation;
use ractor_cluster::{NodeEventSubscription, RactorClusterMessage};

use super::gate::Gate;
use super::peers::PeersMessage;

/// The process group every node's endpoint joins.
pub const GROUP: &str = "ringwatch.peers";

/// The one remotable message: an encoded [`ringwatch_proto::Envelope`], and on the receiving
/// side the session it came by.
#[derive(Debug)]
pub enum EndpointMessage {
    Frame {
        bytes: Vec<u8>,
        /// The ractor_cluster name (`name~incarnation@host`) the peer of the session that
        /// carried the frame authenticated with, set by the receiving node's session (our patch of
        /// ractor_cluster, `vendor/ractor_cluster/RINGWATCH.md`), never by the sender. `None`
        /// for a frame that came by no session.
        session: Option<String>,
    },
}

impl EndpointMessage {
    /// A frame to send.
    pub fn frame(bytes: Vec<u8>) -> Self {
        EndpointMessage::Frame {
            bytes,
            session: None,
        }
    }
}

/// How a frame is laid out on the wire: what `#[derive(RactorClusterMessage)]` makes of one
/// cast variant `Frame(Vec<u8>)`, as every earlier build sent it.
#[derive(RactorClusterMessage)]
enum Wire {
    Frame(Vec<u8>),
}

impl ractor::Message for EndpointMessage {
    fn serializable() -> bool {
        true
    }

    fn serialize(self) -> Result<SerializedMessage, BoxedDowncastErr> {
        let EndpointMessage::Frame { bytes, .. } = self;
        Wire::Frame(bytes).serialize()
    }

    /// Takes the session name the receiving session put in the metadata; the frame itself is
    /// read as `Wire` reads it.
    fn deserialize(message: SerializedMessage) -> Result<Self, BoxedDowncastErr> {
        let SerializedMessage::Cast {
            variant,
            args,
            metadata,
        } = message
        else {
            return Err(BoxedDowncastErr);
        };
        let session = metadata.and_then(|m| String::from_utf8(m).ok());
        let wire = SerializedMessage::Cast {
            variant,
            args,
            metadata: None,
        };
        let Wire::Frame(bytes) = Wire::deserialize(wire)?;
        Ok(EndpointMessage::Frame { bytes, session })
    }
}

/// The one remotable actor: a member of [`GROUP`] on every node. It accepts exactly one
/// message, an opaque frame, which cannot fail to deserialize at the transport level, and
/// forwards it to `Peers` with the session it came by; `Peers` decodes it fallibly and checks
/// that it speaks for that session's peer.
pub struct Endpoint;

impl Actor for Endpoint {
    type Msg = EndpointMessage;
    type State = ActorRef<PeersMessage>;
    type Arguments = ActorRef<PeersMessage>;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        peers: ActorRef<PeersMessage>,
    ) -> Result<Self::State, ActorProcessingErr> {
        ractor::pg::join(GROUP.to_owned(), vec![myself.get_cell()]);
        Ok(peers)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        peers: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let EndpointMessage::Frame { bytes, session } = msg;
        let _ = peers.cast(PeersMessage::Frame { bytes, session });
        Ok(())
    }
}

/// The ractor_cluster node name of one process start: `name~incarnation`.
pub fn session_name(name: &str, incarnation: u64) -> String {
    format!("{name}~{incarnation}")
}

/// The user-facing node name inside a ractor_cluster session name.
pub fn user_name(session: &str) -> &str {
    session.split('~').next().unwrap_or(session)
}

/// Forwards node-server session events (whose callbacks are synchronous) to `Peers`, and
/// tells the [`Gate`] which connections authenticated or closed (a session's `peer_addr` is
/// the label our listener gave its connection).
pub struct Forwarder {
    pub peers: ActorRef<PeersMessage>,
    pub gate: Arc<Gate>,
}

impl Forwarder {
    fn forward(&self, ses: &NodeServerSessionInformation, ready: bool) {
        let Some(name) = ses
            .peer_name
            .as_ref()
            .map(|n| user_name(&n.name).to_owned())
        else {
            return;
        };
        let node_id = ses.node_id;
        let msg = if ready {
            PeersMessage::SessionReady { node_id, name }
        } else {
            PeersMessage::SessionClosed { node_id, name }
        };
        let _ = self.peers.cast(msg);
    }
}

impl NodeEventSubscription for Forwarder {
    fn node_session_opened(&self, ses: NodeServerSessionInformation) {
        let _ = self.peers.cast(PeersMessage::SessionOpened {
            node_id: ses.node_id,
            addr: ses.peer_addr,
        });
    }
    fn node_session_disconnected(&self, ses: NodeServerSessionInformation) {
        self.gate.closed(&ses.peer_addr);
        self.forward(&ses, false);
    }
    fn node_session_authenticated(&self, ses: NodeServerSessionInformation) {
        let claimed = ses.peer_name.as_ref().map_or("", |n| user_name(&n.name));
        if let Err(why) = self.gate.authenticated(&ses.peer_addr, claimed) {
            ses.actor.stop(Some(why));
            return;
        }
        let _ = self.peers.cast(PeersMessage::SessionAuthenticated {
            node_id: ses.node_id,
        });
    }
    fn node_session_ready(&self, ses: NodeServerSessionInformation) {
        self.forward(&ses, true);
    }
}
