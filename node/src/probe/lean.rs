//! The lean path of plain `http://` checks: our own TCP connect and hyper's HTTP/1
//! connection, without reqwest's per-request machinery (connector and pool services,
//! redirect and timeout layers). Measured on this project's bench machine: about 30% less CPU
//! per check against the same local target (docs/benchmarks.md).
//!
//! It behaves as the reqwest path does: the monitor's method, headers and body, a `Host`,
//! `User-Agent`, `Accept: */*` and `Connection: close`; redirects followed up to
//! [`MAX_REDIRECTS`] with loops stopped at once, `303` (and `301`/`302` after a `POST`)
//! turning into `GET`, credentials dropped when the chain leaves the first host; the body read
//! up to [`super::MAX_BODY_BYTES`]. A redirect to `https://` hands the rest of the chain to reqwest.
//! Every hop connects only to addresses the [`Guard`] allows, resolved once per hop; a
//! 307/308 to another host that would resend a body or an unsafe method is refused.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{ACCEPT, CONNECTION, HOST, HeaderValue, LOCATION, USER_AGENT};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use reqwest::Url;
use ringwatch_proto::{ErrorKind, Monitor};
use tokio::net::TcpStream;

use super::guard::BLOCKED;
use super::http::{
    Hop, assert_response, is_credential, keeps_body, resend_refusal, resends, same_host,
};
use super::{Clients, Guard, MAX_REDIRECTS, Outcome, error_chain};

/// Whether the lean path takes this monitor: plain http (https needs reqwest's TLS) without
/// user-info (reqwest turns `user:password@` into basic auth; this path does not).
pub(super) fn takes(monitor: &Monitor) -> bool {
    let rest = monitor
        .url
        .get(..7)
        .filter(|s| s.eq_ignore_ascii_case("http://"))
        .and_then(|_| monitor.url.get(7..));
    rest.is_some_and(|rest| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        !authority.contains('@')
    })
}

/// What the chain of requests ended in.
enum Ended {
    /// A final answer: its status and (if kept) the start of its body.
    Answer { status: StatusCode, body: Vec<u8> },
    /// A redirect to a scheme this path does not speak: reqwest continues from there.
    HandOver(Hop),
}

/// A failed check: the status seen (if any), the kind and the text.
type Failure = (Option<u16>, ErrorKind, String);

fn fail(kind: ErrorKind, text: impl Into<String>) -> Failure {
    (None, kind, text.into())
}

/// Runs the check of an `http://` monitor; `clients` serve a redirect to https.
pub(super) async fn run(
    clients: &Clients,
    monitor: &Monitor,
    timeout: std::time::Duration,
) -> Outcome {
    match follow(clients, monitor).await {
        Ok(Ended::Answer { status, body }) => {
            let outcome = Outcome {
                status_code: Some(status.as_u16()),
                ..Outcome::default()
            };
            match assert_response(monitor, status, &body, None) {
                Ok(()) => outcome,
                Err((kind, text)) => outcome.fail(kind, text),
            }
        }
        Ok(Ended::HandOver(hop)) => super::http::run_hop(clients, monitor, hop, timeout).await,
        Err((status, kind, text)) => Outcome::failed(status, kind, text),
    }
}

/// Sends the monitor's request and follows redirects until an answer that is not one.
async fn follow(clients: &Clients, monitor: &Monitor) -> Result<Ended, Failure> {
    let guard = clients.guard();
    let mut hop = Hop::first(monitor).map_err(|text| fail(ErrorKind::Other, text))?;
    let mut url =
        Url::parse(&hop.url).map_err(|e| fail(ErrorKind::Other, format!("invalid URL: {e}")))?;
    let mut seen: Vec<Url> = Vec::new();
    loop {
        if url.scheme() != "http" {
            hop.url = url.to_string();
            return Ok(Ended::HandOver(hop));
        }
        let addrs = resolve(guard, &url, &hop).await?;
        let response = exchange(&url, &addrs, &hop, monitor, clients.user_agent()).await?;
        let status = response.status();
        let Some(next) = redirect_target(&url, &response) else {
            let chunks = response.into_body().into_data_stream();
            let body = super::read_capped(chunks, keeps_body(monitor))
                .await
                .map_err(|e| {
                    (
                        Some(status.as_u16()),
                        ErrorKind::Protocol,
                        format!("reading body: {}", error_chain(&e, false)),
                    )
                })?;
            return Ok(Ended::Answer { status, body });
        };
        seen.push(url.clone());
        if seen.contains(&next) {
            return Err(fail(
                ErrorKind::Redirects,
                format!(
                    "redirect loop at {}",
                    crate::domain::secret::redact_url(next.as_str())
                ),
            ));
        }
        if seen.len() > MAX_REDIRECTS {
            return Err(fail(
                ErrorKind::Redirects,
                format!("more than {MAX_REDIRECTS} redirects"),
            ));
        }
        if resends(status) && hop.replays_request() && !same_host(&url, &next) {
            return Err(fail(ErrorKind::Redirects, resend_refusal(status, &next)));
        }
        redirect(&mut hop, status, &url, &next);
        url = next;
    }
}

/// Where a redirect answer points, if it is one with a usable `Location`.
fn redirect_target(url: &Url, response: &Response<Incoming>) -> Option<Url> {
    if !response.status().is_redirection() {
        return None;
    }
    let location = response.headers().get(LOCATION)?.to_str().ok()?;
    url.join(location).ok()
}

/// Turns `hop` into the request for the redirect from `from` to `to`, as browsers (and
/// reqwest) do.
fn redirect(hop: &mut Hop, status: StatusCode, from: &Url, to: &Url) {
    let to_get = match status {
        StatusCode::SEE_OTHER => hop.method != Method::HEAD,
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => hop.method == Method::POST,
        _ => false,
    };
    if to_get {
        hop.method = Method::GET;
        hop.body = None;
    }
    let same_origin = from.host_str() == to.host_str()
        && from.port_or_known_default() == to.port_or_known_default();
    hop.strip_credentials |= !same_origin;
    hop.redirected = true;
}

/// One request on a fresh connection.
async fn exchange(
    url: &Url,
    addrs: &[SocketAddr],
    hop: &Hop,
    monitor: &Monitor,
    user_agent: &HeaderValue,
) -> Result<Response<Incoming>, Failure> {
    let request = build(url, hop, monitor, user_agent)?;
    let stream = connect(addrs).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| fail(ErrorKind::Protocol, error_chain(&e, false)))?;
    // The connection runs until the answer is read or dropped (then it closes).
    tokio::spawn(async move {
        let _ = connection.await;
    });
    sender
        .send_request(request)
        .await
        .map_err(|e| fail(ErrorKind::Protocol, error_chain(&e, false)))
}

/// The request of `hop` to `url`: default headers unless the monitor sets its own.
fn build(
    url: &Url,
    hop: &Hop,
    monitor: &Monitor,
    user_agent: &HeaderValue,
) -> Result<Request<Full<Bytes>>, Failure> {
    let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let mut request = Request::builder().method(hop.method.clone()).uri(target);
    let sets = |name: &str| {
        monitor
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    if !sets("host") {
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        request = request.header(HOST, host);
    }
    if !sets("user-agent") {
        request = request.header(USER_AGENT, user_agent.clone());
    }
    if !sets("accept") {
        request = request.header(ACCEPT, HeaderValue::from_static("*/*"));
    }
    request = request.header(CONNECTION, HeaderValue::from_static("close"));
    for (name, value) in &monitor.headers {
        if !(hop.strip_credentials && is_credential(name)) {
            request = request.header(name.as_str(), value.as_str());
        }
    }
    let body = Full::new(hop.body.clone().unwrap_or_default());
    request
        .body(body)
        .map_err(|e| fail(ErrorKind::Other, format!("invalid request: {e}")))
}

/// The addresses of the URL's host that the guard lets this hop reach; a refusal of a later
/// hop is a refused redirect.
async fn resolve(guard: &Guard, url: &Url, hop: &Hop) -> Result<Vec<SocketAddr>, Failure> {
    let host = url
        .host_str()
        .ok_or_else(|| fail(ErrorKind::Other, "URL without a host"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    guard
        .resolve(host, port, hop.redirected)
        .await
        .map_err(|why| {
            if !why.starts_with(BLOCKED) {
                fail(ErrorKind::Dns, why)
            } else if hop.redirected {
                fail(
                    hop.refused_kind(),
                    format!("redirect to {url} refused: {why}"),
                )
            } else {
                fail(hop.refused_kind(), why)
            }
        })
}

/// Connects to the first of `addrs` that accepts.
async fn connect(addrs: &[SocketAddr]) -> Result<TcpStream, Failure> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => fail(ErrorKind::Refused, format!("tcp connect error: {e}")),
        None => fail(ErrorKind::Dns, "dns error: no addresses"),
    })
}
