//! The peer transport: our cluster listener, the ractor_cluster node server and its sessions,
//! dialling, the frame send path, and the fault layer's blocking.
//!
//! [`Transport`] is the part of the `Peers` actor's state that owns the sessions: which
//! ractor_cluster session carries which peer, which peers the fault layer blocks, and why
//! sessions close before authenticating (a deterministic core, `AuthWatch`). It promises that
//! no frame goes to a blocked peer, that a blocked peer's sessions are dropped, and that only
//! the last closing session of a peer is reported up (to membership). The actors it spawns
//! are in [`super::endpoint`], the accept loop and dials in [`super::listener`], the bounds
//! before authentication in [`super::gate`]. Nothing here decides membership.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use ractor_cluster::node::NodeConnectionMode;
use ractor_cluster::{IncomingEncryptionMode, NodeServer, NodeServerMessage};
use ringwatch_proto::{Envelope, MemberInfo, PeerMsg, encode};
use tokio::sync::oneshot;

use super::endpoint::{Endpoint, EndpointMessage, Forwarder, GROUP, session_name, user_name};
use super::gate::Gate;
use super::listener::{Wiring, accept_loop};
use super::peers::PeersMessage;
use super::tls::ClusterTls;
use crate::clock::now_ms;
use crate::context::Ctx;

/// Largest cluster frame we read, from the first frame on (before authentication too): a
/// larger one closes the session. Our own messages are sized far below it (definitions go
/// in chunks of at most 1 MiB); the library's default of 16 MiB let a half-open connection
/// hold that much memory each.
pub const MAX_FRAME_BYTES: u64 = 4 << 20;
/// Sessions with one peer closed before authentication, in a row, before we report a likely
/// cookie mismatch (duplicate connections when both sides dial at once account for a few).
const AUTH_FAILURES_TO_REPORT: u32 = 5;
/// A likely cookie mismatch is reported at most once per this many milliseconds.
const AUTH_REPORT_EVERY_MS: u64 = 60_000;

/// Our side of every peer session.
pub struct Transport {
    ctx: Ctx,
    /// This node as peers know it; the sender of every frame.
    me: MemberInfo,
    server: ActorRef<NodeServerMessage>,
    /// The `Peers` actor, told when a dial fails.
    peers: ActorRef<PeersMessage>,
    /// Sessions by ractor_cluster node id, with the peer's user-facing name.
    sessions: HashMap<u64, String>,
    blocked: HashSet<String>,
    auth: AuthWatch,
    /// The accept loop's and the dials' shared parts.
    wiring: Wiring,
    /// Dropping it stops the accept loop (also when the owning actor panics).
    _stop_listener: oneshot::Sender<()>,
}

impl Transport {
    /// Binds our cluster listener, spawns the node server and the [`Endpoint`] linked to
    /// `peers`, and starts accepting.
    pub async fn start(
        peers: &ActorRef<PeersMessage>,
        ctx: &Ctx,
    ) -> Result<Self, ActorProcessingErr> {
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
            zone: ctx.config.zone.clone(),
        };
        let _ = ctx.cluster_addr.set(local);
        ctx.clients.guard().add_own(local);
        let tls = match ctx.config.tls_files() {
            Some(files) => Some(ClusterTls::load(&files)?),
            None => None,
        };
        // ractor_cluster's own listener must exist; nothing may connect through it (every
        // session comes through our accept loop): loopback only, and a TLS handshake no one
        // can complete.
        let loopback = match local.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        };
        let node = NodeServer::new(
            0,
            ctx.config.cookie.clone(),
            session_name(&ctx.name, ctx.incarnation),
            local.ip().to_string(),
            Some(IncomingEncryptionMode::Tls(ClusterTls::refuse_all()?)),
            Some(NodeConnectionMode::Isolated),
        )
        .with_listen_addr(loopback)
        .with_max_inbound_frame_size(MAX_FRAME_BYTES);
        let (server, _) = Actor::spawn_linked(None, node, (), peers.get_cell()).await?;
        let gate = Arc::new(Gate::default());
        server.cast(NodeServerMessage::SubscribeToEvents {
            id: "ringwatch.peers".into(),
            subscription: Box::new(Forwarder {
                peers: peers.clone(),
                gate: gate.clone(),
            }),
        })?;
        Actor::spawn_linked(None, Endpoint, peers.clone(), peers.get_cell()).await?;
        let wiring = Wiring {
            server: server.clone(),
            gate,
            tls,
        };
        if wiring.tls.is_some() {
            tracing::info!("cluster sessions use mutual TLS");
        }
        let (stop_tx, stop_rx) = oneshot::channel();
        tokio::spawn(accept_loop(listener, wiring.clone(), stop_rx));
        Ok(Transport {
            ctx: ctx.clone(),
            me,
            server,
            peers: peers.clone(),
            sessions: HashMap::new(),
            blocked: HashSet::new(),
            auth: AuthWatch::default(),
            wiring,
            _stop_listener: stop_tx,
        })
    }

    pub fn me(&self) -> &MemberInfo {
        &self.me
    }

    /// Whether the fault layer drops all traffic with `name`.
    pub fn is_blocked(&self, name: &str) -> bool {
        self.blocked.contains(name)
    }

    pub fn session_of(&self, name: &str) -> Option<u64> {
        self.sessions
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(id, _)| *id)
    }

    pub fn name_of(&self, node_id: u64) -> Option<&str> {
        self.sessions.get(&node_id).map(String::as_str)
    }

    /// Names of the peers with a ready session.
    pub fn peer_names(&self) -> HashSet<String> {
        self.sessions.values().cloned().collect()
    }

    pub fn session_opened(&mut self, node_id: u64, addr: String) {
        self.auth.opened(node_id, addr);
    }

    pub fn session_authenticated(&mut self, node_id: u64) {
        self.auth.authenticated(node_id);
    }

    /// Registers a ready session. False if the peer is blocked (the session is dropped).
    pub fn session_ready(&mut self, node_id: u64, name: &str) -> bool {
        if self.is_blocked(name) {
            self.drop_sessions(name);
            return false;
        }
        tracing::info!(peer = %name, "peer session ready");
        self.auth.ready(name);
        self.sessions.insert(node_id, name.to_owned());
        true
    }

    /// Forgets a closed session. True if it was the last authenticated one with `name`, which
    /// membership must hear about.
    pub fn session_closed(&mut self, node_id: u64, name: &str) -> bool {
        self.sessions.remove(&node_id);
        match self.auth.closed(node_id, name, now_ms()) {
            AuthOutcome::Authenticated => {}
            AuthOutcome::Failed => return false,
            AuthOutcome::Report { addr, failures } => {
                tracing::error!(
                    peer = %name,
                    %addr,
                    failures,
                    "cluster connections with this peer keep closing before authentication: \
                     most likely the two nodes use different cluster cookies (check --cookie / \
                     RINGWATCH_COOKIE on both), or only one of them has cluster TLS"
                );
                return false;
            }
        }
        if self.sessions.values().any(|n| n == name) {
            return false; // another session with the same peer is still up
        }
        tracing::info!(peer = %name, "peer session closed");
        true
    }

    /// Encodes `body` as a frame from us.
    pub fn encode(&self, body: PeerMsg) -> Vec<u8> {
        encode(&Envelope {
            from: self.me.clone(),
            body,
        })
    }

    /// Sends to one session (`Some(node_id)`) or to every peer.
    pub fn send(&self, to: Option<u64>, body: PeerMsg) {
        self.send_frame(to, &self.encode(body), &HashSet::new());
    }

    /// Sends to one peer by name; dropped if no session with it is open.
    pub fn send_to_name(&self, name: &str, body: PeerMsg) {
        match self.session_of(name) {
            Some(node_id) => self.send(Some(node_id), body),
            None => tracing::debug!(peer = %name, "no session with the peer; message dropped"),
        }
    }

    /// Sends an encoded frame to one session or every peer, except blocked and `skip` names.
    /// Returns to how many peers.
    pub fn send_frame(&self, to: Option<u64>, frame: &[u8], skip: &HashSet<String>) -> usize {
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
                .cast(EndpointMessage::frame(frame.to_vec()));
            sent += 1;
        }
        self.ctx
            .metrics
            .peer_bytes_sent
            .inc_by((frame.len() * sent) as u64);
        sent
    }

    /// Connects to `addr` off the actor's thread; a failed dial to a known `name` is reported
    /// back as [`PeersMessage::DialFailed`].
    pub fn dial(&self, addr: String, name: Option<String>) {
        if name.as_ref().is_some_and(|n| self.blocked.contains(n)) {
            return;
        }
        super::listener::dial(&self.wiring, addr, name, self.peers.clone());
    }

    /// Stops our session actors with `name`, which closes the connection both ways.
    pub fn drop_sessions(&self, name: &str) {
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

    /// Fault layer: drops all traffic with `names` from now on (empty heals).
    pub fn block(&mut self, names: Vec<String>) {
        tracing::warn!(?names, "fault layer: blocking traffic with peers");
        for name in &names {
            self.drop_sessions(name);
        }
        self.blocked = names.into_iter().collect();
    }
}

/// What a closed session says about authentication with its peer.
#[derive(Debug, PartialEq, Eq)]
enum AuthOutcome {
    /// It had authenticated.
    Authenticated,
    /// It closed before authenticating (normal a few times when both sides dial at once).
    Failed,
    /// It closed before authenticating, one in a long row: worth telling the operator.
    Report { addr: String, failures: u32 },
}

/// Sessions that close before authenticating, per peer. A few are normal when both sides
/// dial at once (duplicate connections); many in a row with no good session between them
/// mean the cookies differ. A deterministic core.
#[derive(Debug, Default)]
struct AuthWatch {
    /// Sessions opened but not yet authenticated, with the peer's address.
    unauthenticated: HashMap<u64, String>,
    /// Per peer: sessions closed before authentication since its last ready session.
    failures: HashMap<String, u32>,
    /// Last time we reported a failed authentication, to report it once a minute at most.
    reported_ms: u64,
}

impl AuthWatch {
    fn opened(&mut self, node_id: u64, addr: String) {
        self.unauthenticated.insert(node_id, addr);
    }

    fn authenticated(&mut self, node_id: u64) {
        self.unauthenticated.remove(&node_id);
    }

    fn ready(&mut self, name: &str) {
        self.failures.remove(name);
    }

    fn closed(&mut self, node_id: u64, name: &str, now_ms: u64) -> AuthOutcome {
        let Some(addr) = self.unauthenticated.remove(&node_id) else {
            return AuthOutcome::Authenticated;
        };
        let failures = self.failures.entry(name.to_owned()).or_default();
        *failures += 1;
        let failures = *failures;
        if failures >= AUTH_FAILURES_TO_REPORT
            && now_ms.saturating_sub(self.reported_ms) > AUTH_REPORT_EVERY_MS
        {
            self.reported_ms = now_ms;
            return AuthOutcome::Report { addr, failures };
        }
        AuthOutcome::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(w: &mut AuthWatch, node_id: u64, now_ms: u64) -> AuthOutcome {
        w.opened(node_id, "10.0.0.2:7000".into());
        w.closed(node_id, "b", now_ms)
    }

    #[test]
    fn a_cookie_mismatch_is_reported_after_a_row_of_failures_once_a_minute() {
        let mut w = AuthWatch::default();
        let t = 1_000_000;
        for id in 1..AUTH_FAILURES_TO_REPORT as u64 {
            assert_eq!(fail(&mut w, id, t), AuthOutcome::Failed);
        }
        let report = fail(&mut w, 99, t);
        assert!(matches!(report, AuthOutcome::Report { failures: 5, .. }));
        assert_eq!(fail(&mut w, 100, t + 1_000), AuthOutcome::Failed);
        let later = fail(&mut w, 101, t + AUTH_REPORT_EVERY_MS + 1);
        assert!(matches!(later, AuthOutcome::Report { failures: 7, .. }));
    }

    #[test]
    fn a_ready_session_clears_the_row_and_authenticated_closes_count_nothing() {
        let mut w = AuthWatch::default();
        for id in 0..4 {
            fail(&mut w, id, 1_000_000);
        }
        w.ready("b");
        w.opened(10, "10.0.0.2:7000".into());
        w.authenticated(10);
        assert_eq!(w.closed(10, "b", 1_000_000), AuthOutcome::Authenticated);
        assert_eq!(fail(&mut w, 11, 1_000_000), AuthOutcome::Failed);
    }
}
