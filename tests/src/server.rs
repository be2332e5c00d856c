//! The listening half of the alert sinks: a server on `127.0.0.1:0` that serves each
//! connection in a task it owns. Dropping it closes the listener and every open connection,
//! kept-alive ones included, so a dropped sink is really gone, as a crashed receiver would be.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// How long the accept loop waits after a failed `accept` (out of file descriptors, usually)
/// before trying again, instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// A running server; stops listening and closes its connections when dropped.
pub(crate) struct LocalServer {
    addr: SocketAddr,
    accept_task: JoinHandle<()>,
}

impl LocalServer {
    /// Binds `127.0.0.1:0` and serves every connection with `serve`; panics, naming `what`,
    /// when it cannot bind.
    pub(crate) async fn start<F, Fut>(what: &str, serve: F) -> LocalServer
    where
        F: Fn(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|err| panic!("bind {what} on 127.0.0.1:0: {err}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|err| panic!("local address of {what}: {err}"));
        let accept_task = tokio::spawn(accept_loop(listener, serve));
        LocalServer { addr, accept_task }
    }

    /// The address the server listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        // The connection tasks belong to the accept loop's `JoinSet`: they go with it.
        self.accept_task.abort();
    }
}

async fn accept_loop<F, Fut>(listener: TcpListener, serve: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                connections.spawn(serve(stream));
            }
            Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
        }
        // Reap finished connections so that a long test does not accumulate them.
        while connections.try_join_next().is_some() {}
    }
}
