//! The HTTP target the node checks, and the place where checks are counted: nginx (its
//! `stub_status` request counter) when installed, else a built-in hyper server counting
//! requests with an atomic.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket};

use crate::proc::{Child, free_port, which};

/// Pending connections a listener queues (capped by net.core.somaxconn): checks arrive in
/// bursts, and a full queue costs a SYN retransmit (1 s), which would show up as node lag.
const LISTEN_BACKLOG: u32 = 4096;
/// How long nginx may take to answer its status page after start.
const NGINX_START_TIMEOUT: Duration = Duration::from_secs(10);

/// Which target `--target` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetKind {
    /// nginx when it is on PATH, else the built-in server.
    Auto,
    /// nginx (fails when it is not installed).
    Nginx,
    /// A hyper server inside this tool (shares its CPU).
    Builtin,
}

/// A running target.
pub enum Target {
    Nginx {
        addr: SocketAddr,
        version: String,
        client: reqwest::Client,
        /// Status requests nginx has answered.
        status_reads: AtomicU64,
        // Stopped when the target is dropped; the temp dir is removed after it.
        child: Child,
        _dir: tempfile::TempDir,
    },
    Builtin {
        addr: SocketAddr,
        count: Arc<AtomicU64>,
        server: tokio::task::JoinHandle<()>,
    },
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Target::Builtin { server, .. } = self {
            server.abort();
        }
    }
}

impl Target {
    pub async fn start(kind: TargetKind) -> Result<Target> {
        let nginx = which("nginx");
        match (kind, nginx) {
            (TargetKind::Nginx | TargetKind::Auto, Some(bin)) => start_nginx(&bin).await,
            (TargetKind::Nginx, None) => bail!(
                "--target nginx: nginx is not installed (apt-get install nginx-light); \
                 or use --target builtin"
            ),
            (TargetKind::Auto, None) => {
                eprintln!(
                    "ringwatch-bench: nginx not installed (apt-get install nginx-light); \
                     using the built-in target, which shares CPU with this tool"
                );
                start_builtin().await
            }
            (TargetKind::Builtin, _) => start_builtin().await,
        }
    }

    /// The URL monitors and wrk point at (without query).
    pub fn url(&self) -> String {
        let (Target::Nginx { addr, .. } | Target::Builtin { addr, .. }) = self;
        format!("http://{addr}/")
    }

    /// The process group of the target's processes; `None` for the built-in target, which
    /// runs inside this process.
    pub fn process_group(&self) -> Option<u32> {
        match self {
            Target::Nginx { child, .. } => Some(child.pid()),
            Target::Builtin { .. } => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Target::Nginx { version, .. } => {
                format!("{version}, worker_processes auto, `return 200 \"ok\"`, access_log off")
            }
            Target::Builtin { .. } => {
                "built-in hyper server in the bench process (nginx not used)".to_string()
            }
        }
    }

    /// Requests the target has answered so far, not counting its status requests.
    pub async fn requests(&self) -> Result<u64> {
        match self {
            Target::Builtin { count, .. } => Ok(count.load(Ordering::Relaxed)),
            Target::Nginx {
                addr,
                client,
                status_reads,
                ..
            } => {
                let counted = nginx_requests(client, *addr).await?;
                // stub_status counts every status request, this one included.
                let ours = status_reads.fetch_add(1, Ordering::Relaxed) + 1;
                Ok(counted.saturating_sub(ours))
            }
        }
    }
}

fn listener(addr: SocketAddr) -> Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    Ok(socket.listen(LISTEN_BACKLOG)?)
}

async fn start_builtin() -> Result<Target> {
    let listener = listener(SocketAddr::from(([127, 0, 0, 1], 0))).context("bind the target")?;
    let addr = listener.local_addr()?;
    let count = Arc::new(AtomicU64::new(0));
    let server = tokio::spawn(serve_builtin(listener, count.clone()));
    Ok(Target::Builtin {
        addr,
        count,
        server,
    })
}

async fn serve_builtin(listener: TcpListener, count: Arc<AtomicU64>) {
    let mut warned = false;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors, usually: back off instead of spinning.
                if !warned {
                    eprintln!("ringwatch-bench: built-in target: accept failed: {e}");
                    warned = true;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let count = count.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |_req| {
                count.fetch_add(1, Ordering::Relaxed);
                async { Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from("ok")))) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn nginx_conf(dir: &Path, port: u16) -> String {
    let d = dir.display();
    format!(
        r#"# Written by ringwatch-bench; nginx runs with -p {d}.
worker_processes auto;
worker_rlimit_nofile 16384;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{
    worker_connections 8192;
}}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    keepalive_timeout 65;
    server {{
        listen 127.0.0.1:{port} backlog={LISTEN_BACKLOG};
        location = /nginx_status {{
            stub_status;
        }}
        location / {{
            default_type text/plain;
            return 200 "ok";
        }}
    }}
}}
"#
    )
}

async fn start_nginx(bin: &Path) -> Result<Target> {
    let dir = tempfile::Builder::new()
        .prefix("ringwatch-bench-nginx")
        .tempdir()?;
    let port = free_port()?;
    let conf = dir.path().join("nginx.conf");
    std::fs::write(&conf, nginx_conf(dir.path(), port))?;
    let version = nginx_version(bin);
    let mut cmd = std::process::Command::new(bin);
    cmd.arg("-p")
        .arg(dir.path())
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .arg("-c")
        .arg(&conf)
        .args(["-g", "daemon off;"]);
    let log = dir.path().join("stderr.log");
    let mut child = Child::spawn("nginx", cmd, &log, libc::SIGTERM)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()?;
    let deadline = Instant::now() + NGINX_START_TIMEOUT;
    loop {
        if nginx_requests(&client, addr).await.is_ok() {
            break;
        }
        if let Some(status) = child.try_wait()? {
            let errors = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
            bail!(
                "nginx exited at start ({status}):\n{}{errors}",
                child.log_tail()
            );
        }
        if Instant::now() > deadline {
            bail!("nginx did not answer on {addr} within {NGINX_START_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(Target::Nginx {
        addr,
        version,
        client,
        // The one that answered above.
        status_reads: AtomicU64::new(1),
        child,
        _dir: dir,
    })
}

fn nginx_version(bin: &Path) -> String {
    // `nginx -v` prints "nginx version: nginx/1.22.1" on stderr.
    std::process::Command::new(bin)
        .arg("-v")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_string())
        .and_then(|s| s.rsplit(' ').next().map(str::to_string))
        .unwrap_or_else(|| "nginx".to_string())
}

/// The third number of stub_status' third line: "server accepts handled requests\n A H R".
async fn nginx_requests(client: &reqwest::Client, addr: SocketAddr) -> Result<u64> {
    let text = client
        .get(format!("http://{addr}/nginx_status"))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    parse_stub_status(&text).with_context(|| format!("unexpected nginx stub_status: {text:?}"))
}

fn parse_stub_status(text: &str) -> Option<u64> {
    text.lines().nth(2)?.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_request_counter_of_stub_status() {
        let text = "Active connections: 1 \nserver accepts handled requests\n 16630948 16630948 31070465 \nReading: 0 Writing: 1 Waiting: 0 \n";
        assert_eq!(parse_stub_status(text), Some(31_070_465));
        assert_eq!(parse_stub_status("garbage"), None);
    }
}
