//! Cluster connections up to the node server: our accept loop, our dials, TLS on both (when
//! configured), and the stream we hand to ractor_cluster.
//!
//! We accept and dial ourselves instead of ractor_cluster's listener and `client_connect`:
//! its listener awaits each TLS handshake inline (one idle connection stalls every other
//! accept), and neither bounds the work before authentication. Each connection passes the
//! [`Gate`] first (caps), gets [`HANDSHAKE_TIMEOUT`] from its first byte to authenticate,
//! and reaches the node server as a [`Conn`] labelled with its peer address, which the
//! node-server events carry back to us as `peer_addr`.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ractor::ActorRef;
use ractor_cluster::{BoxRead, BoxWrite, ClusterBidiStream, NodeServerMessage};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_rustls::rustls::pki_types::ServerName;

use super::gate::{ConnWatch, FAILURE_LOG_EVERY, Gate, HANDSHAKE_TIMEOUT};
use super::peers::PeersMessage;
use super::tls::{ClusterTls, cert_names, explain, is_tls_error};

/// How long a dial may take to connect (TCP) before it counts as failed.
const DIAL_TIMEOUT: Duration = Duration::from_secs(2);
/// The TLS server name we send when dialling a peer we know no name of (a join address).
/// Certificates are checked against the cluster CA, not this name (see [`super::tls`]).
const UNKNOWN_PEER_NAME: &str = "ringwatch-peer";

/// What the accept loop and the dials share.
#[derive(Clone)]
pub struct Wiring {
    pub server: ActorRef<NodeServerMessage>,
    pub gate: Arc<Gate>,
    pub tls: Option<ClusterTls>,
}

/// Accepts peer connections on our cluster listener until `stop` fires (or is dropped), and
/// writes the held-back handshake failure counts on the way.
pub async fn accept_loop(listener: TcpListener, wiring: Wiring, mut stop: oneshot::Receiver<()>) {
    let mut flush = tokio::time::interval(FAILURE_LOG_EVERY / 6);
    loop {
        let (stream, peer_addr) = tokio::select! {
            _ = &mut stop => return,
            _ = flush.tick() => {
                wiring.gate.flush();
                continue;
            }
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "cluster accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let label = peer_addr.to_string();
        let source = peer_addr.ip().to_string();
        let Some(watch) = wiring.gate.admit(&label, &source, true) else {
            continue; // dropped: closed at once
        };
        tokio::spawn(incoming(stream, peer_addr, label, watch, wiring.clone()));
    }
}

/// One accepted connection: TLS (if configured) within the deadline, then the node server,
/// then the deadline for the cookie handshake.
async fn incoming(
    stream: TcpStream,
    peer_addr: SocketAddr,
    label: String,
    watch: Arc<ConnWatch>,
    wiring: Wiring,
) {
    let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
    let _ = stream.set_nodelay(true);
    let source = peer_addr.ip().to_string();
    let local = stream
        .local_addr()
        .map_or_else(|_| "?".into(), |a| a.to_string());
    let (read, write): (BoxRead, BoxWrite) = match &wiring.tls {
        Some(tls) => {
            let tls_stream =
                match tokio::time::timeout_at(deadline, tls.acceptor.accept(stream)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        wiring.gate.closed(&label);
                        wiring.gate.failure(&source, &explain(&e));
                        return;
                    }
                    Err(_) => {
                        wiring.gate.expire(&label);
                        return;
                    }
                };
            let names = peer_names(tls_stream.get_ref().1);
            wiring.gate.set_names(&label, names);
            let (r, w) = tokio::io::split(tls_stream);
            (Box::new(r), Box::new(w))
        }
        None => {
            let (r, w) = stream.into_split();
            (Box::new(r), Box::new(w))
        }
    };
    let conn = Conn::new(read, write, &label, local, watch, &wiring, &source);
    hand_over(conn, true, &label, deadline, &wiring).await;
}

/// Gives `conn` to the node server, then closes it if it has not authenticated by
/// `deadline`.
async fn hand_over(conn: Conn, is_server: bool, label: &str, deadline: Instant, wiring: &Wiring) {
    let opened = NodeServerMessage::ConnectionOpenedExternal {
        stream: Box::new(conn),
        is_server,
    };
    if wiring.server.cast(opened).is_err() {
        wiring.gate.closed(label);
        return;
    }
    tokio::time::sleep_until(deadline).await;
    wiring.gate.expire(label);
}

/// Connects to `addr` (TLS if configured) and hands the connection to the node server. A
/// dial that cannot connect, or whose TLS handshake fails, to a known `name` is reported to
/// `peers` as [`PeersMessage::DialFailed`].
pub fn dial(wiring: &Wiring, addr: String, name: Option<String>, peers: ActorRef<PeersMessage>) {
    let wiring = wiring.clone();
    tokio::spawn(async move {
        if !dial_once(&wiring, &addr, name.as_deref()).await
            && let Some(name) = name
        {
            let _ = peers.cast(PeersMessage::DialFailed { name });
        }
    });
}

/// True once the connection is with the node server.
async fn dial_once(wiring: &Wiring, addr: &str, name: Option<&str>) -> bool {
    let stream = match tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!(%addr, error = %e, "dial failed");
            return false;
        }
        Err(_) => return false,
    };
    let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
    let _ = stream.set_nodelay(true);
    let local = stream
        .local_addr()
        .map_or_else(|_| "?".into(), |a| a.to_string());
    // Unique among open connections: our own port.
    let label = format!("{addr} (from {local})");
    let Some(watch) = wiring.gate.admit(&label, addr, false) else {
        return false;
    };
    let (read, write): (BoxRead, BoxWrite) = match &wiring.tls {
        Some(tls) => {
            let server_name = name
                .and_then(|n| ServerName::try_from(n.to_owned()).ok())
                .unwrap_or_else(|| ServerName::try_from(UNKNOWN_PEER_NAME).expect("valid name"));
            let connect = tls.connector.connect(server_name, stream);
            let tls_stream = match tokio::time::timeout_at(deadline, connect).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    wiring.gate.closed(&label);
                    wiring.gate.failure(addr, &explain(&e));
                    return false;
                }
                Err(_) => {
                    wiring.gate.expire(&label);
                    return false;
                }
            };
            let names = peer_names(tls_stream.get_ref().1);
            wiring.gate.set_names(&label, names);
            let (r, w) = tokio::io::split(tls_stream);
            (Box::new(r), Box::new(w))
        }
        None => {
            let (r, w) = stream.into_split();
            (Box::new(r), Box::new(w))
        }
    };
    let conn = Conn::new(read, write, &label, local, watch, wiring, addr);
    let wiring = wiring.clone();
    tokio::spawn(async move { hand_over(conn, false, &label, deadline, &wiring).await });
    true
}

/// A cluster connection as ractor_cluster gets it, its reads watched: a killed
/// [`ConnWatch`] fails them, and before authentication TLS alerts and TLS records on a
/// plaintext connection are logged.
pub struct Conn {
    read: Watched,
    write: BoxWrite,
    label: String,
    local: String,
}

impl Conn {
    fn new(
        read: BoxRead,
        write: BoxWrite,
        label: &str,
        local: String,
        watch: Arc<ConnWatch>,
        wiring: &Wiring,
        source: &str,
    ) -> Conn {
        Conn {
            read: Watched {
                inner: read,
                watch,
                gate: wiring.gate.clone(),
                source: source.to_owned(),
                tls: wiring.tls.is_some(),
                sniffed: false,
            },
            write,
            label: label.to_owned(),
            local,
        }
    }
}

impl ClusterBidiStream for Conn {
    fn split(self: Box<Self>) -> (BoxRead, BoxWrite) {
        (Box::new(self.read), self.write)
    }

    fn peer_label(&self) -> Option<String> {
        Some(self.label.clone())
    }

    fn local_label(&self) -> Option<String> {
        Some(self.local.clone())
    }
}

/// The read half of a cluster connection: fails once its [`ConnWatch`] is killed (handshake
/// timeout, wrong certificate name), and until authentication it tells the log what the
/// peer's first bytes and errors say: a TLS alert (the peer refused our certificate), or
/// TLS records on a plaintext connection (the peer has cluster TLS and we have not).
struct Watched {
    inner: BoxRead,
    watch: Arc<ConnWatch>,
    gate: Arc<Gate>,
    source: String,
    tls: bool,
    sniffed: bool,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.watch.poll_killed(cx).is_ready() {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "closed by ringwatch before authentication",
            )));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if this.watch.is_authenticated() {
            return polled;
        }
        match &polled {
            // A TLS alert after the handshake: the peer refused our certificate. (Plain
            // closes are not reported: the loser of two simultaneous dials closes too.)
            Poll::Ready(Err(e)) if this.tls && is_tls_error(e) => {
                this.gate.failure(&this.source, &explain(e));
            }
            Poll::Ready(Ok(())) if !this.sniffed && buf.filled().len() > before => {
                this.sniffed = true;
                let first = &buf.filled()[before..];
                let tls_record = matches!(first, [0x15 | 0x16, 0x03, ..]);
                if !this.tls && tls_record {
                    this.gate.failure(
                        &this.source,
                        "the peer speaks TLS: it has cluster certificates and this node has \
                         none (set tls_ca_file, tls_cert_file and tls_key_file)",
                    );
                }
            }
            _ => {}
        }
        polled
    }
}

/// The names the peer's certificate carries (none without one).
fn peer_names(tls: &tokio_rustls::rustls::CommonState) -> Vec<String> {
    tls.peer_certificates()
        .and_then(|certs| certs.first())
        .map(cert_names)
        .unwrap_or_default()
}
