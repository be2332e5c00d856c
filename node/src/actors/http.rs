//! The HTTP server actor: binds the API address in `pre_start` (so a port in use fails the
//! node's start with a clear error) and serves warp until stopped, then shuts down gracefully.

use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api;
use crate::context::Ctx;

pub enum HttpMessage {}

impl ractor::Message for HttpMessage {}

pub struct HttpState {
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

pub struct HttpServer;

impl Actor for HttpServer {
    type Msg = HttpMessage;
    type State = HttpState;
    type Arguments = Ctx;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        ctx: Ctx,
    ) -> Result<Self::State, ActorProcessingErr> {
        // After the first start the bound address is reused, so a restarted server keeps the
        // port that was announced.
        let addr = ctx.http_addr.get().copied().unwrap_or(ctx.config.http);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen for HTTP on {addr}: {e}"))?;
        let local = listener.local_addr()?;
        let _ = ctx.http_addr.set(local);
        // Probes are not a proxy into this node's API.
        ctx.clients.guard().add_own(local);
        let (tx, rx) = oneshot::channel::<()>();
        let server = api::server::serve(ctx.clone(), listener, async {
            let _ = rx.await;
        });
        tracing::info!(%local, "HTTP API and dashboard listening");
        Ok(HttpState {
            shutdown: Some(tx),
            server: Some(tokio::spawn(server)),
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(tx) = state.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = state.server.take() {
            // Open event streams would hold a graceful shutdown forever: give them a moment.
            let abort = server.abort_handle();
            if tokio::time::timeout(super::STOP_TIMEOUT, server)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        Ok(())
    }
}
