//! The HTTP server: our own accept loop around hyper's HTTP/1 connection, because warp's own
//! `serve` bounds nothing a client does before its request is complete. Here:
//! - a client must send a request's headers within `http_header_timeout` (slowloris), and an
//!   idle keep-alive connection is closed after as long (hyper starts the same timer while it
//!   waits for the next request); a body must arrive within the API's own body timeout;
//! - at most `http_max_connections` connections are open at once; one more is answered 503 and
//!   closed (at most [`MAX_REFUSING`] at a time are given that answer; others are just closed);
//! - a connection's read buffer is capped ([`MAX_BUF_BYTES`]): larger headers get 431;
//! - nothing is logged per connection: refusals and accept errors are counted and logged at
//!   most once per [`LOG_EVERY`].
//!
//! Stopping: the loop stops accepting, asks every connection to finish its request and close,
//! and waits; dropping the task (the actor aborts it after its stop timeout) aborts every
//! connection task with it.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use crate::context::Ctx;

/// Largest read buffer of one connection; a request head larger than this gets 431.
pub const MAX_BUF_BYTES: usize = 64 * 1024;
/// How often at most the server logs refusals and accept errors (with their count).
pub const LOG_EVERY: Duration = Duration::from_secs(10);
/// Pause after a failed accept (out of file descriptors), so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);
/// Connections over the cap being told so at once; more are closed without a word.
pub const MAX_REFUSING: usize = 64;
/// How long a refused connection's request is read (and dropped), so that closing it does
/// not reset it before the client has read the 503.
const REFUSE_LINGER: Duration = Duration::from_secs(1);
/// What a connection over the cap is told before it is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
connection: close\r\ncontent-length: 60\r\nretry-after: 1\r\n\r\n\
{\"error\": \"too many open connections; try again in a moment\"}";

/// Serves the API of `ctx` on `listener` until `shutdown` completes.
pub async fn serve(ctx: Ctx, listener: TcpListener, shutdown: impl Future<Output = ()>) {
    let header_timeout = ctx.config.http_header_timeout;
    let cap = ctx.config.http_max_connections;
    let service = warp::service(super::routes(ctx));
    let permits = Arc::new(Semaphore::new(cap));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSING));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut refused = Throttled::new(
        "HTTP connections refused: the cap of open connections (http_max_connections) was reached",
    );
    let mut failed = Throttled::new("HTTP accept failed");
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                failed.note(&e.to_string());
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refused.note(&format!("{cap} open"));
            if let Ok(slot) = refusals.clone().try_acquire_owned() {
                connections.spawn(refuse(stream, slot));
            }
            continue;
        };
        let service = TowerToHyperService::new(service.clone());
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let _permit = permit;
            let _ = stream.set_nodelay(true);
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(MAX_BUF_BYTES)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                // Errors are the client's doing (timeouts, resets, bad requests): no log line.
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::trace!(error = %e, "HTTP connection ended");
                    }
                    return;
                }
                _ = stop.wait_for(|stop| *stop) => {}
            }
            // Stopping: finish the request in progress, then close.
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        });
    }
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
}

/// Answers 503 to a connection over the cap, reads what it sent for a moment, and closes it.
async fn refuse(mut stream: TcpStream, _slot: OwnedSemaphorePermit) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = tokio::time::timeout(REFUSE_LINGER, async {
        stream.write_all(BUSY).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}

/// A log line for a repeated event, at most once per [`LOG_EVERY`], with the count since.
struct Throttled {
    what: &'static str,
    count: u64,
    last: Option<Instant>,
}

impl Throttled {
    fn new(what: &'static str) -> Self {
        Throttled {
            what,
            count: 0,
            last: None,
        }
    }

    fn note(&mut self, detail: &str) {
        self.count += 1;
        if self.last.is_none_or(|at| at.elapsed() >= LOG_EVERY) {
            tracing::warn!(count = self.count, detail, "{}", self.what);
            self.count = 0;
            self.last = Some(Instant::now());
        }
    }
}
