//! Local targets for the probe tests: an HTTP/1 server on `127.0.0.1:0`, plain or TLS with a
//! short-lived self-signed certificate, that answers through a closure and records every
//! request it receives.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    /// The value of header `name` (lower case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// Time the server waits before answering: a slow target.
    pub delay: Duration,
    /// A `Location` header, for redirects.
    pub location: Option<String>,
}

impl Answer {
    /// `status` with `body`, at once.
    pub fn new(status: u16, body: &str) -> Self {
        Answer {
            status,
            body: body.to_owned(),
            delay: Duration::ZERO,
            location: None,
        }
    }

    /// A redirect with `status` to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Answer {
            location: Some(location.to_owned()),
            ..Answer::new(status, "")
        }
    }
}

type Handler = dyn Fn(&Seen) -> Answer + Send + Sync;

struct State {
    handler: Box<Handler>,
    seen: Mutex<Vec<Seen>>,
}

/// A running server; stops accepting when dropped.
pub struct TestServer {
    addr: SocketAddr,
    scheme: &'static str,
    state: Arc<State>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl TestServer {
    /// A plain HTTP server answering every request with `handler`.
    pub async fn http(handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Self {
        Self::start(None, Box::new(handler)).await
    }

    /// An https server with `cert`, answering every request with `handler`.
    pub async fn https(
        cert: &TestCert,
        handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static,
    ) -> Self {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key.clone()));
        let config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der.clone()], key)
            .expect("server certificate and key match");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        Self::start(Some(acceptor), Box::new(handler)).await
    }

    async fn start(tls: Option<TlsAcceptor>, handler: Box<Handler>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State {
            handler,
            seen: Mutex::new(Vec::new()),
        });
        let scheme = if tls.is_some() { "https" } else { "http" };
        let accept = tokio::spawn(accept_loop(listener, tls, state.clone()));
        TestServer {
            addr,
            scheme,
            state,
            accept,
        }
    }

    /// `http(s)://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    /// Every request received so far, oldest first.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().expect("seen lock").clone()
    }
}

async fn accept_loop(listener: TcpListener, tls: Option<TlsAcceptor>, state: Arc<State>) {
    while let Ok((tcp, _)) = listener.accept().await {
        let (tls, state) = (tls.clone(), state.clone());
        tokio::spawn(async move {
            match tls {
                None => serve(tcp, state).await,
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(tcp).await {
                        serve(stream, state).await;
                    }
                }
            }
        });
    }
}

async fn serve<S>(stream: S, state: Arc<State>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| answer(req, state.clone()));
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn answer(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes().to_vec());
    let seen = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: (parts.headers.iter())
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: body.unwrap_or_default(),
    };
    let answer = (state.handler)(&seen);
    state.seen.lock().expect("seen lock").push(seen);
    // A slow target, not synchronisation: the probe under test measures this wait.
    tokio::time::sleep(answer.delay).await;
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = hyper::StatusCode::from_u16(answer.status).expect("valid status");
    if let Some(location) = answer.location {
        let value = hyper::header::HeaderValue::from_str(&location).expect("valid location");
        response
            .headers_mut()
            .insert(hyper::header::LOCATION, value);
    }
    Ok(response)
}

/// A self-signed certificate for `127.0.0.1` and `localhost`, and its PKCS#8 key.
pub struct TestCert {
    pub der: CertificateDer<'static>,
    key: Vec<u8>,
}

impl TestCert {
    /// A certificate that became valid an hour ago and expires `valid_for` from now.
    pub fn expiring_in(valid_for: time::Duration) -> Self {
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let mut params = rcgen::CertificateParams::new(names).expect("certificate names");
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + valid_for;
        let key = rcgen::KeyPair::generate().expect("key pair");
        let cert = params.self_signed(&key).expect("self-signed certificate");
        TestCert {
            der: cert.der().clone(),
            key: key.serialize_der(),
        }
    }
}
