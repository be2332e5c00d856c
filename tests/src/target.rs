//! An in-test probe target: an HTTP server on `127.0.0.1:0` that records every request it
//! receives (path and arrival time) and answers each path with a [`Behavior`] that the test
//! can switch at run time.
//!
//! It is written on a bare `TcpListener` rather than hyper because half of its behaviours are
//! deliberately not HTTP (garbage bytes, a hang, an endless body, an oversized head) and one
//! server serves well-formed and broken paths side by side. Requests are read leniently: a
//! request line, headers up to [`MAX_REQUEST_HEAD_BYTES`], and a `Content-Length` body that is
//! skipped; connections are kept alive between well-formed answers.

use crate::lock;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Longest request head the target reads; a connection sending a longer one is closed.
const MAX_REQUEST_HEAD_BYTES: usize = 64 * 1024;
/// Size of each write of an endless body; the stream ends only when the client goes away.
const ENDLESS_CHUNK_BYTES: usize = 16 * 1024;

/// How the target answers requests for one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behavior {
    /// This status with a short text body (`ok` for 2xx, `status N` otherwise).
    Status(u16),
    /// This status and body.
    Body { status: u16, body: String },
    /// Waits `delay` before answering with `status`.
    Slow { delay: Duration, status: u16 },
    /// Reads the request and never answers; the connection stays open until the client closes.
    Hang,
    /// A 200 status line and headers, then body bytes forever (no length, no end).
    EndlessBody,
    /// `hops` redirects (302) through `PATH?hop=1` .. `PATH?hop=hops`, then 200.
    RedirectChain { hops: u32 },
    /// One 302 redirect to `location`: a path on this target (made absolute) or a full URL.
    Redirect { location: String },
    /// A redirect with this status (301, 307, 308...) to `location`, as [`Behavior::Redirect`].
    RedirectStatus { status: u16, location: String },
    /// Bytes that are not HTTP, then the connection is closed.
    Garbage,
    /// A 200 answer with one header whose value is `bytes` long.
    HugeHeaders { bytes: usize },
    /// The next `times` requests get `status`, then the path answers 200 again.
    FailTimes { times: u32, status: u16 },
    /// Each request the next of these delays (ms) before a 200, round and round: a known
    /// mix of latencies.
    Delays { ms: Vec<u64>, next: usize },
    /// `status` to checks whose User-Agent names one of these zones (`(zone NAME)`), 200 to
    /// the others: a target that is down from some locations only.
    FailForZones { zones: Vec<String>, status: u16 },
}

/// The zone a Ringwatch check's User-Agent names (`ringwatch/V (zone NAME)`), if any.
pub fn zone_of_agent(agent: &str) -> Option<&str> {
    agent.split_once("(zone ")?.1.strip_suffix(')')
}

/// A running target; stops accepting when dropped.
pub struct Target {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_task: JoinHandle<()>,
}

struct Shared {
    addr: SocketAddr,
    /// Paths with a behaviour other than `Status(200)`.
    behaviors: Mutex<HashMap<String, Behavior>>,
    hits: Mutex<Vec<Hit>>,
}

struct Hit {
    path: String,
    at: Instant,
    seen: SeenRequest,
}

/// What a request carried, as the target received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub method: String,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body's `Content-Length` (0 without one).
    pub body_len: usize,
}

impl SeenRequest {
    /// The value of header `name`, if the request had it.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Target {
    /// Binds `127.0.0.1:0` and serves every path with `Status(200)` until told otherwise.
    pub async fn start() -> Target {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind target on 127.0.0.1:0");
        let addr = listener.local_addr().expect("target local addr");
        let shared = Arc::new(Shared {
            addr,
            behaviors: Mutex::new(HashMap::new()),
            hits: Mutex::new(Vec::new()),
        });
        let accept_task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Target {
            addr,
            shared,
            accept_task,
        }
    }

    /// Starts a target with `path` answering with `behavior`.
    pub async fn with(path: &str, behavior: Behavior) -> Target {
        let target = Target::start().await;
        target.set(path, behavior);
        target
    }

    /// The address the target listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Makes requests for `path` (query ignored) answer with `behavior` from now on.
    pub fn set(&self, path: &str, behavior: Behavior) {
        lock(&self.shared.behaviors).insert(path.to_owned(), behavior);
    }

    /// Makes `a` redirect to `b` and `b` back to `a`.
    pub fn set_redirect_loop(&self, a: &str, b: &str) {
        self.set(
            a,
            Behavior::Redirect {
                location: b.to_owned(),
            },
        );
        self.set(
            b,
            Behavior::Redirect {
                location: a.to_owned(),
            },
        );
    }

    /// The requests received for `path` so far, oldest first.
    pub fn requests(&self, path: &str) -> Vec<SeenRequest> {
        lock(&self.shared.hits)
            .iter()
            .filter(|h| h.path == path)
            .map(|h| h.seen.clone())
            .collect()
    }

    /// Requests received for `path` so far (every hop of a redirect chain counts).
    pub fn hits(&self, path: &str) -> usize {
        self.hit_times(path).len()
    }

    /// Arrival times of the requests for `path`, oldest first.
    pub fn hit_times(&self, path: &str) -> Vec<Instant> {
        lock(&self.shared.hits)
            .iter()
            .filter(|hit| hit.path == path)
            .map(|hit| hit.at)
            .collect()
    }

    /// Requests for `path` that arrived in `[from, to)`.
    pub fn hits_between(&self, path: &str, from: Instant, to: Instant) -> usize {
        self.hit_times(path)
            .into_iter()
            .filter(|at| (from..to).contains(at))
            .count()
    }

    /// Requests for `path` that arrived at or after `from`.
    pub fn hits_since(&self, path: &str, from: Instant) -> usize {
        self.hit_times(path)
            .into_iter()
            .filter(|at| *at >= from)
            .count()
    }

    /// Arrival time of the first request for `path` at or after `from`.
    pub fn first_hit_since(&self, path: &str, from: Instant) -> Option<Instant> {
        self.hit_times(path).into_iter().find(|at| *at >= from)
    }

    /// Arrival time of the newest request for `path`.
    pub fn last_hit(&self, path: &str) -> Option<Instant> {
        self.hit_times(path).last().copied()
    }

    /// Arrival time and zone (from the User-Agent, empty when it names none) of each request
    /// for `path` at or after `from`, in arrival order.
    pub fn zones_since(&self, path: &str, from: Instant) -> Vec<(Instant, String)> {
        lock(&self.shared.hits)
            .iter()
            .filter(|h| h.path == path && h.at >= from)
            .map(|h| {
                let agent = h.seen.header("user-agent").unwrap_or("");
                (h.at, zone_of_agent(agent).unwrap_or("").to_owned())
            })
            .collect()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or similar: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        tokio::spawn(serve_connection(stream, Arc::clone(&shared)));
    }
}

/// The parts of a request the target looks at.
struct Request {
    method: String,
    path: String,
    query: Option<String>,
    seen: SeenRequest,
}

async fn serve_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buf = Vec::with_capacity(4096);
    while let Some(request) = read_request(&mut stream, &mut buf).await {
        lock(&shared.hits).push(Hit {
            path: request.path.clone(),
            at: Instant::now(),
            seen: request.seen.clone(),
        });
        let behavior = match next_behavior(&shared, &request.path) {
            Behavior::FailForZones { zones, status } => {
                let agent = request.seen.header("user-agent").unwrap_or("");
                let failing = zone_of_agent(agent).is_some_and(|z| zones.iter().any(|f| f == z));
                Behavior::Status(if failing { status } else { 200 })
            }
            other => other,
        };
        match answer(&mut stream, &request, behavior, shared.addr).await {
            Ok(true) => continue,
            Ok(false) | Err(_) => return,
        }
    }
}

/// Reads one request head (and skips its body); `None` at end of stream or on nonsense.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > MAX_REQUEST_HEAD_BYTES {
            return None;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end);

    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split_whitespace();
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let content_length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    skip_body(stream, buf, content_length).await?;

    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (target.to_owned(), None),
    };
    Some(Request {
        seen: SeenRequest {
            method: method.clone(),
            headers,
            body_len: content_length,
        },
        method,
        path,
        query,
    })
}

async fn skip_body(stream: &mut TcpStream, buf: &mut Vec<u8>, len: usize) -> Option<()> {
    let buffered = len.min(buf.len());
    buf.drain(..buffered);
    let mut remaining = len - buffered;
    let mut chunk = [0u8; 4096];
    while remaining > 0 {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        remaining = remaining.saturating_sub(n);
    }
    Some(())
}

/// Answers one request; `Ok(true)` when the connection may serve another.
/// The behaviour for one request of `path`, counting down a [`Behavior::FailTimes`].
fn next_behavior(shared: &Shared, path: &str) -> Behavior {
    let mut behaviors = lock(&shared.behaviors);
    match behaviors.get_mut(path) {
        Some(Behavior::FailTimes { times, status }) => {
            let status = *status;
            *times = times.saturating_sub(1);
            if *times == 0 {
                behaviors.remove(path);
            }
            Behavior::Status(status)
        }
        Some(Behavior::Delays { ms, next }) if !ms.is_empty() => {
            let delay = Duration::from_millis(ms[*next % ms.len()]);
            *next = (*next + 1) % ms.len();
            Behavior::Slow { delay, status: 200 }
        }
        Some(b) => b.clone(),
        None => Behavior::Status(200),
    }
}

/// A redirect to `location`, made absolute on this target when it is a path.
async fn redirect(
    stream: &mut TcpStream,
    status: u16,
    location: &str,
    addr: SocketAddr,
    head_only: bool,
) -> std::io::Result<bool> {
    let location = if location.starts_with('/') {
        format!("http://{addr}{location}")
    } else {
        location.to_owned()
    };
    respond(stream, status, &[("location", &location)], b"", head_only).await
}

async fn answer(
    stream: &mut TcpStream,
    request: &Request,
    behavior: Behavior,
    addr: SocketAddr,
) -> std::io::Result<bool> {
    let head_only = request.method.eq_ignore_ascii_case("HEAD");
    match behavior {
        Behavior::Status(status) | Behavior::FailTimes { status, .. } => {
            let body = default_body(status);
            respond(stream, status, &[], body.as_bytes(), head_only).await
        }
        Behavior::Body { status, body } => {
            respond(stream, status, &[], body.as_bytes(), head_only).await
        }
        // Turned into `Slow` per request by `next_behavior`; an empty list answers at once.
        Behavior::Delays { .. } | Behavior::FailForZones { .. } => {
            respond(stream, 200, &[], b"ok", head_only).await
        }
        Behavior::Slow { delay, status } => {
            // Emulates a slow server; this sleep is the target's behaviour, not synchronisation.
            tokio::time::sleep(delay).await;
            let body = default_body(status);
            respond(stream, status, &[], body.as_bytes(), head_only).await
        }
        Behavior::Hang => {
            hold_until_client_closes(stream).await;
            Ok(false)
        }
        Behavior::EndlessBody => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n";
            stream.write_all(head.as_bytes()).await?;
            let chunk = vec![b'x'; ENDLESS_CHUNK_BYTES];
            loop {
                stream.write_all(&chunk).await?;
            }
        }
        Behavior::RedirectChain { hops } => {
            let hop = hop_number(request.query.as_deref());
            if hop >= hops {
                return respond(stream, 200, &[], b"end of chain", head_only).await;
            }
            let location = format!("http://{addr}{}?hop={}", request.path, hop + 1);
            respond(stream, 302, &[("location", &location)], b"", head_only).await
        }
        Behavior::Redirect { location } => redirect(stream, 302, &location, addr, head_only).await,
        Behavior::RedirectStatus { status, location } => {
            redirect(stream, status, &location, addr, head_only).await
        }
        Behavior::Garbage => {
            stream
                .write_all(b"\x00\x01\x02 this is not HTTP \xff\xfe\xfd\r\n\r\n\x7f garbage")
                .await?;
            stream.shutdown().await?;
            Ok(false)
        }
        Behavior::HugeHeaders { bytes } => {
            let value = "h".repeat(bytes);
            respond(stream, 200, &[("x-huge", &value)], b"ok", head_only).await?;
            Ok(false)
        }
    }
}

fn default_body(status: u16) -> String {
    if (200..300).contains(&status) {
        "ok".to_owned()
    } else {
        format!("status {status}")
    }
}

fn hop_number(query: Option<&str>) -> u32 {
    query
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("hop="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    head_only: bool,
) -> std::io::Result<bool> {
    let reason = if status == 200 { "OK" } else { "Status" };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    if !head_only {
        stream.write_all(body).await?;
    }
    stream.flush().await?;
    Ok(true)
}

async fn hold_until_client_closes(stream: &mut TcpStream) {
    let mut scratch = [0u8; 1024];
    while let Ok(n) = stream.read(&mut scratch).await {
        if n == 0 {
            return;
        }
    }
}
