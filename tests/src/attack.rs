//! The attacks of issue 12, part 7 ("bounded work before authentication"), for the tests that
//! measure what they cost a node: half-open connections at the cluster port
//! ([`open_half_open`]), slowloris connections at the HTTP port ([`Slowloris`]), the cluster
//! certificates a node with TLS needs ([`cluster_certificates`], [`tls_args`]), and how to
//! tell that the node closed a connection ([`closed_by_peer`]) and how much it logged since a
//! point ([`LogMark`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::{NodeProc, run_ringwatch, secs};

/// Issue 12: the half-open cluster connections of the attack.
pub const HALF_OPEN_CONNECTIONS: usize = 500;
/// Issue 12: the slowloris HTTP connections of the attack.
pub const SLOWLORIS_CONNECTIONS: usize = 300;
/// Issue 12: most the node's memory may grow over its idle figure under the attack.
pub const MAX_RSS_GROWTH_KIB: u64 = 64 * 1024;
/// Issue 12: the node's log grows by fewer lines than this under the attack.
pub const MAX_LOG_LINES: usize = 100;
/// How often a trickling slowloris connection sends one more header byte.
pub const TRICKLE_EVERY: Duration = Duration::from_millis(500);

/// Makes a cluster CA in `dir/certs` and a certificate for each of `names` (`ringwatch cert
/// init`, `ringwatch cert issue`); returns the directory.
pub async fn cluster_certificates(dir: &Path, names: &[&str]) -> PathBuf {
    let certs = dir.join("certs");
    let arg = certs.to_str().expect("utf-8 path");
    run_ringwatch(&["cert", "init", "--dir", arg], dir, secs(30))
        .await
        .assert_success("cert init");
    for name in names {
        run_ringwatch(&["cert", "issue", name, "--dir", arg], dir, secs(30))
            .await
            .assert_success("cert issue");
    }
    certs
}

/// The `--tls-*` flags of node `name` with the certificates in `certs` (none without).
pub fn tls_args(certs: Option<&Path>, name: &str) -> Vec<String> {
    let Some(certs) = certs else {
        return Vec::new();
    };
    let file = |f: String| certs.join(f).display().to_string();
    vec![
        "--tls-ca-file".into(),
        file("ca.crt".into()),
        "--tls-cert-file".into(),
        file(format!("{name}.crt")),
        "--tls-key-file".into(),
        file(format!("{name}.key")),
    ]
}

/// What the i-th half-open cluster connection sends before it stalls: nothing, half a TLS
/// record, or half of a large cluster frame, in turn.
pub fn half_handshake(i: usize) -> Vec<u8> {
    match i % 3 {
        0 => Vec::new(),
        // A TLS handshake record header promising 16 KiB, and 100 bytes of it.
        1 => [&[0x16, 0x03, 0x01, 0x40, 0x00][..], &[0u8; 100]].concat(),
        // A cluster frame header promising 4 MiB - 1 bytes, and 1000 of them.
        _ => [&((4u64 << 20) - 1).to_be_bytes()[..], &[0u8; 1000]].concat(),
    }
}

/// Opens `n` connections to the cluster port `addr`, each sending its [`half_handshake`]
/// and then nothing; returns those that connected (one refused at the TCP level costs the
/// node nothing either).
pub async fn open_half_open(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut streams = Vec::with_capacity(n);
    for i in 0..n {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            continue;
        };
        // The node may already have closed it (over its cap of pending connections).
        let _ = stream.write_all(&half_handshake(i)).await;
        streams.push(stream);
    }
    streams
}

/// True once the node has closed `stream` (EOF or reset; any bytes before are skipped).
pub fn closed_by_peer(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match stream.try_read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

/// Opens a connection and sends the start of a request, never its end.
pub async fn slow_client(addr: SocketAddr) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let head = format!("GET /api/monitors HTTP/1.1\r\nhost: {addr}\r\nx-slow: ");
    stream.write_all(head.as_bytes()).await.ok()?;
    Some(stream)
}

/// A slowloris attack on an HTTP port: of its connections, half stall after the start of a
/// request ([`Slowloris::stalled`], held by the test), half trickle a header byte every
/// [`TRICKLE_EVERY`] and reconnect when cut, until the attack's end.
pub struct Slowloris {
    /// The stalled connections; the node must close them.
    pub stalled: Vec<TcpStream>,
    trickling: JoinSet<u32>,
}

impl Slowloris {
    /// Opens `connections` slow connections to `addr`; the trickling ones go on until `end`.
    pub async fn start(addr: SocketAddr, connections: usize, end: Instant) -> Slowloris {
        let mut stalled = Vec::new();
        let mut trickling = JoinSet::new();
        for i in 0..connections {
            if i % 2 == 0 {
                stalled.push(slow_client(addr).await.expect("connect"));
                continue;
            }
            trickling.spawn(async move {
                let mut cuts = 0u32;
                while Instant::now() < end {
                    let Some(mut s) = slow_client(addr).await else {
                        continue;
                    };
                    while Instant::now() < end {
                        if s.write_all(b"a").await.is_err() {
                            cuts += 1; // the node closed it: reconnect
                            break;
                        }
                        tokio::time::sleep(TRICKLE_EVERY).await;
                    }
                }
                cuts
            });
        }
        Slowloris { stalled, trickling }
    }

    /// Waits for the trickling connections to reach the attack's end; returns how many
    /// times the node cut one of them (each then reconnected; the attack's own end is not
    /// counted).
    pub async fn cuts(&mut self) -> u32 {
        let mut cuts = 0;
        while let Some(n) = self.trickling.join_next().await {
            cuts += n.expect("a trickling connection's task");
        }
        cuts
    }
}

/// A point in a node's log (stderr and stdout), to count what it wrote since.
pub struct LogMark {
    stderr: usize,
    stdout: usize,
}

impl LogMark {
    /// The end of `node`'s log now.
    pub fn of(node: &NodeProc) -> LogMark {
        LogMark {
            stderr: node.stderr_log().lines().count(),
            stdout: node.stdout_log().lines().count(),
        }
    }

    /// The lines `node` wrote since the mark: stderr's, then stdout's.
    pub fn new_lines(&self, node: &NodeProc) -> Vec<String> {
        let since = |log: String, skip: usize| {
            log.lines()
                .skip(skip)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let mut lines = since(node.stderr_log(), self.stderr);
        lines.extend(since(node.stdout_log(), self.stdout));
        lines
    }
}

/// A man in the middle: a TCP proxy to `upstream` that keeps a copy of every byte it passes,
/// both ways, for a test to search.
pub struct RecordingProxy {
    addr: SocketAddr,
    seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RecordingProxy {
    /// Listens on a free loopback port and forwards each connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> RecordingProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(Self::pump(cr, sw, record.clone()));
                tokio::spawn(Self::pump(sr, cw, record.clone()));
            }
        });
        RecordingProxy { addr, seen, task }
    }

    async fn pump(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    ) {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = from.read(&mut buf).await {
            if n == 0 || to.write_all(&buf[..n]).await.is_err() {
                break;
            }
            seen.lock()
                .expect("not poisoned")
                .extend_from_slice(&buf[..n]);
        }
        let _ = to.shutdown().await;
    }

    /// The address to dial instead of the upstream's.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many bytes went through so far.
    pub fn bytes(&self) -> usize {
        self.seen.lock().expect("not poisoned").len()
    }

    /// Whether `text` went through in the clear.
    pub fn saw(&self, text: &str) -> bool {
        let seen = self.seen.lock().expect("not poisoned");
        seen.windows(text.len()).any(|w| w == text.as_bytes())
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
