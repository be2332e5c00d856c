//! An in-test webhook receiver: an HTTP server on `127.0.0.1:0` that records every request it
//! receives ([`Received`]) and answers each POST, on any path, with 200, so that alerting tests
//! can count the notifications a node delivers.
//!
//! It can be told to fail the next N deliveries with 500 ([`WebhookSink::fail_next`]): those
//! count as *attempts* but not as *accepted* deliveries, which is how a test sees a node retry.
//! Requests that are not deliveries (not a POST, or a body over [`MAX_WEBHOOK_BODY_BYTES`]) are refused
//! and likewise count as attempts only.
//!
//! Unlike [`Target`](crate::Target), which must also speak broken HTTP, the sink only ever
//! answers well-formed HTTP/1.1, so it is a plain hyper server. Dropping the sink closes its
//! listener and every open connection.

use crate::server::LocalServer;
use crate::{lock, wait_for};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Largest request body the sink reads; a larger request gets 413 and counts as an attempt
/// only, recorded with an empty body.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 1 << 20;

/// One request the sink received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request method; only `POST` is accepted.
    pub method: String,
    /// The request path, without the query.
    pub path: String,
    /// The query string, without the `?`.
    pub query: Option<String>,
    /// Headers by lowercase name; a repeated header's values are joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The body as received; empty when it could not be read.
    pub body: Bytes,
    /// The body parsed as JSON, when it parses.
    pub json: Option<Value>,
    /// The status the sink answered with: 200 for an accepted delivery.
    pub status: u16,
    /// When the sink had read the whole request.
    pub at: Instant,
}

impl Received {
    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The body as text, invalid UTF-8 replaced.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the sink accepted this request as a delivery (answered 200).
    pub fn is_accepted(&self) -> bool {
        self.status == 200
    }
}

/// A running webhook sink; stops listening and closes its connections when dropped.
pub struct WebhookSink {
    server: LocalServer,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// Deliveries still to be failed with 500.
    fail_remaining: usize,
    /// Every request received, oldest first.
    requests: Vec<Received>,
}

impl WebhookSink {
    /// Binds `127.0.0.1:0` and accepts every POST until told otherwise.
    pub async fn start() -> WebhookSink {
        let state = Arc::new(Mutex::new(State::default()));
        let serving = Arc::clone(&state);
        let server = LocalServer::start("webhook sink", move |stream| {
            serve(stream, Arc::clone(&serving))
        })
        .await;
        WebhookSink { server, state }
    }

    /// The address the sink listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `http://127.0.0.1:PORT/path`, for a webhook definition.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.server.addr(), path)
    }

    /// Answers the next `n` deliveries (POSTs with a readable body) with 500 instead of 200;
    /// replaces any failures still pending from an earlier call.
    pub fn fail_next(&self, n: usize) {
        lock(&self.state).fail_remaining = n;
    }

    /// How many requests arrived so far, failed and refused ones included.
    pub fn attempts(&self) -> usize {
        lock(&self.state).requests.len()
    }

    /// Every request received so far, failed and refused ones included, oldest first.
    pub fn requests(&self) -> Vec<Received> {
        lock(&self.state).requests.clone()
    }

    /// The accepted deliveries so far, oldest first.
    pub fn accepted(&self) -> Vec<Received> {
        self.accepted_matching(|_| true)
    }

    /// The accepted deliveries whose body is JSON for which `pred` holds, oldest first; e.g.
    /// `sink.accepted_where(|json| json["status"] == "down")`.
    pub fn accepted_where(&self, pred: impl Fn(&Value) -> bool) -> Vec<Received> {
        self.accepted_matching(|received| received.json.as_ref().is_some_and(&pred))
    }

    /// Polls until at least `n` deliveries were accepted and returns all accepted so far;
    /// panics when fewer arrived within `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        self.wait_accepted("accepted webhook deliveries", n, timeout, |_| true)
            .await
    }

    /// Polls until at least `n` accepted deliveries have a JSON body for which `pred` holds,
    /// and returns those; panics when fewer arrived within `timeout`.
    pub async fn wait_for_where(
        &self,
        n: usize,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Vec<Received> {
        self.wait_accepted("matching webhook deliveries", n, timeout, |received| {
            received.json.as_ref().is_some_and(&pred)
        })
        .await
    }

    /// Polls until at least `n` requests arrived, accepted or not, and returns them all;
    /// panics when fewer arrived within `timeout`.
    pub async fn wait_for_attempts(&self, n: usize, timeout: Duration) -> Vec<Received> {
        wait_for(&format!("{n} webhook attempts"), timeout, async || {
            let requests = self.requests();
            if requests.len() >= n {
                Ok(requests)
            } else {
                Err(format!("{} attempts", requests.len()))
            }
        })
        .await
    }

    fn accepted_matching(&self, keep: impl Fn(&Received) -> bool) -> Vec<Received> {
        lock(&self.state)
            .requests
            .iter()
            .filter(|received| received.is_accepted() && keep(received))
            .cloned()
            .collect()
    }

    async fn wait_accepted(
        &self,
        what: &str,
        n: usize,
        timeout: Duration,
        keep: impl Fn(&Received) -> bool,
    ) -> Vec<Received> {
        wait_for(&format!("{n} {what}"), timeout, async || {
            let seen = self.accepted_matching(&keep);
            if seen.len() >= n {
                Ok(seen)
            } else {
                Err(format!(
                    "{} of them, {} attempts",
                    seen.len(),
                    self.attempts()
                ))
            }
        })
        .await
    }
}

impl State {
    /// Records `received` and decides its status: `refusal` when the body could not be read,
    /// then 405 for anything but a POST, then a told failure, else 200.
    fn record(&mut self, mut received: Received, refusal: Option<StatusCode>) -> StatusCode {
        let status = if let Some(refusal) = refusal {
            refusal
        } else if received.method != Method::POST.as_str() {
            StatusCode::METHOD_NOT_ALLOWED
        } else if self.fail_remaining > 0 {
            self.fail_remaining -= 1;
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        };
        received.status = status.as_u16();
        self.requests.push(received);
        status
    }
}

async fn serve(stream: TcpStream, state: Arc<Mutex<State>>) {
    let service = service_fn(move |request| handle(request, Arc::clone(&state)));
    // A client that hangs up mid-request only ends its own connection.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn handle(
    request: Request<Incoming>,
    state: Arc<Mutex<State>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let (body, refusal) = match Limited::new(body, MAX_WEBHOOK_BODY_BYTES).collect().await {
        Ok(collected) => (collected.to_bytes(), None),
        Err(err) if err.is::<LengthLimitError>() => {
            (Bytes::new(), Some(StatusCode::PAYLOAD_TOO_LARGE))
        }
        Err(_) => (Bytes::new(), Some(StatusCode::BAD_REQUEST)),
    };
    let received = Received {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: header_map(&parts.headers),
        json: serde_json::from_slice(&body).ok(),
        body,
        status: 0,
        at: Instant::now(),
    };
    let status = lock(&state).record(received, refusal);
    let text = if status.is_success() {
        "ok".to_owned()
    } else {
        format!("status {}", status.as_u16())
    };
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    Ok(response)
}

/// Headers by name (hyper's names are already lowercase), repeated ones joined with `, `.
fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map = BTreeMap::<String, String>::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        map.entry(name.as_str().to_owned())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    map
}
