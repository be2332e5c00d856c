//! Checks against local targets started inside each test: assertions, request shape, TCP
//! connects and certificate lifetimes.

use std::time::Duration;

use ringwatch_proto::{ErrorKind, Monitor, ProbeResult, StatusRange};

use super::test_server::{Answer, TestCert, TestServer};
use super::{Clients, check};

/// Timeout of the monitors in these tests: far above local latency.
const TEST_TIMEOUT_MS: u64 = 5_000;
/// Delay of the slow target in the response-time tests.
const SLOW_ANSWER: Duration = Duration::from_millis(300);

fn monitor(url: &str) -> Monitor {
    let mut m = Monitor::new("m".into(), url.to_owned());
    m.timeout_ms = TEST_TIMEOUT_MS;
    m
}

async fn probe(m: &Monitor) -> ProbeResult {
    let clients = Clients::new(super::Guard::default(), "default").expect("probe clients");
    check(&clients, m, "n1").await
}

/// Asserts `r` failed with `kind` and an error text containing `reason`.
fn assert_failed(r: &ProbeResult, kind: ErrorKind, reason: &str) {
    assert!(!r.ok, "{r:?}");
    assert_eq!(r.error_kind, Some(kind), "{r:?}");
    let error = r.error.as_deref().unwrap_or_default();
    assert!(error.contains(reason), "error {error:?} lacks {reason:?}");
}

fn assert_ok(r: &ProbeResult) {
    assert!(r.ok && r.error.is_none() && r.error_kind.is_none(), "{r:?}");
}

/// A port on 127.0.0.1 that (almost certainly) nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local addr").port()
}

#[tokio::test]
async fn refused_is_classified() {
    let r = probe(&monitor(&format!("http://127.0.0.1:{}/", closed_port()))).await;
    assert_failed(&r, ErrorKind::Refused, "");
    assert_eq!(r.node, "n1");
}

#[tokio::test]
async fn body_keyword_assertions() {
    let server = TestServer::http(|_| Answer::new(200, "all systems nominal")).await;
    let mut m = monitor(&server.url("/"));
    m.expect_body_contains = Some("operational".into());
    let r = probe(&m).await;
    assert_failed(
        &r,
        ErrorKind::Assertion,
        "body does not contain \"operational\"",
    );
    assert_eq!(r.status_code, Some(200));

    m.expect_body_contains = Some("nominal".into());
    assert_ok(&probe(&m).await);
    m.expect_body_not_contains = Some("systems".into());
    assert_failed(
        &probe(&m).await,
        ErrorKind::Assertion,
        "body contains \"systems\"",
    );
    m.expect_body_not_contains = Some("error".into());
    assert_ok(&probe(&m).await);
}

#[tokio::test]
async fn status_assertions() {
    let server = TestServer::http(|seen| match seen.path.as_str() {
        "/missing" => Answer::new(404, "gone"),
        _ => Answer::new(200, "ok"),
    })
    .await;
    let mut m = monitor(&server.url("/missing"));
    assert_failed(
        &probe(&m).await,
        ErrorKind::BadStatus,
        "unexpected status 404",
    );
    m.expect_status = vec![
        StatusRange { from: 200, to: 299 },
        StatusRange { from: 404, to: 404 },
    ];
    assert_ok(&probe(&m).await);

    let mut m = monitor(&server.url("/"));
    m.expect_status = vec![StatusRange { from: 500, to: 599 }];
    let r = probe(&m).await;
    assert_failed(&r, ErrorKind::BadStatus, "unexpected status 200");
    assert_eq!(r.status_code, Some(200));
}

#[tokio::test]
async fn response_time_assertion() {
    let server = TestServer::http(|_| Answer {
        delay: SLOW_ANSWER,
        ..Answer::new(200, "ok")
    })
    .await;
    let mut m = monitor(&server.url("/"));
    m.max_response_ms = Some(100);
    let r = probe(&m).await;
    assert_failed(&r, ErrorKind::Assertion, "more than the 100 ms allowed");
    let error = r.error.as_deref().unwrap_or_default();
    assert!(error.starts_with(&format!("response took {} ms", r.latency_ms)));
    assert!(r.latency_ms >= 300, "{r:?}");

    m.max_response_ms = Some(1_000);
    assert_ok(&probe(&m).await);
}

#[tokio::test]
async fn method_headers_and_body_reach_the_target() {
    let server = TestServer::http(|_| Answer::new(201, "created")).await;
    let mut m = monitor(&server.url("/hook"));
    m.method = "POST".into();
    m.headers = vec![
        ("Content-Type".into(), "application/json".into()),
        ("X-Probe".into(), "ringwatch".into()),
    ];
    m.body = Some(r#"{"ping":1}"#.into());
    assert_ok(&probe(&m).await);

    let seen = server.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    assert_eq!(seen[0].header("x-probe"), Some("ringwatch"));
    assert_eq!(seen[0].header("connection"), Some("close"));
    assert_eq!(seen[0].body, br#"{"ping":1}"#);

    m.method = "HEAD".into();
    m.body = None;
    assert_ok(&probe(&m).await);
    assert_eq!(server.seen()[1].method, "HEAD");
}

#[tokio::test]
async fn header_protected_endpoint_is_ok_with_its_header() {
    let server = TestServer::http(|seen| match seen.header("authorization") {
        Some("Bearer s3cret") => Answer::new(200, "welcome"),
        _ => Answer::new(401, "who are you?"),
    })
    .await;
    let mut m = monitor(&server.url("/private"));
    assert_failed(&probe(&m).await, ErrorKind::BadStatus, "401");
    m.headers = vec![("Authorization".into(), "Bearer s3cret".into())];
    let r = probe(&m).await;
    assert_ok(&r);
    assert_eq!(r.status_code, Some(200));
}

#[tokio::test]
async fn url_credentials_are_sent_as_basic_auth() {
    // "user:s2" in base64.
    let server = TestServer::http(|seen| match seen.header("authorization") {
        Some("Basic dXNlcjpzMg==") => Answer::new(200, "welcome"),
        _ => Answer::new(401, "who are you?"),
    })
    .await;
    let url = server
        .url("/private")
        .replacen("http://", "http://user:s2@", 1);
    let r = probe(&monitor(&url)).await;
    assert_ok(&r);
    assert_eq!(r.status_code, Some(200));
}

#[tokio::test]
async fn invalid_stored_request_fails_without_panicking() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let mut m = monitor(&url);
    m.headers = vec![("bad name".into(), "x".into())];
    assert_failed(&probe(&m).await, ErrorKind::Other, "");
    let mut m = monitor(&url);
    m.method = "GE T".into();
    assert_failed(&probe(&m).await, ErrorKind::Other, "invalid method");
}

#[tokio::test]
async fn tcp_connect_checks() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut m = monitor(&format!("tcp://127.0.0.1:{port}"));
    m.max_response_ms = Some(TEST_TIMEOUT_MS);
    let r = probe(&m).await;
    assert_ok(&r);
    assert_eq!((r.status_code, r.tls_days_left), (None, None));

    let r = probe(&monitor(&format!("tcp://127.0.0.1:{}", closed_port()))).await;
    assert_failed(&r, ErrorKind::Refused, "connecting to 127.0.0.1");
    drop(listener);
}

#[tokio::test]
async fn tls_days_left_and_minimum() {
    let cert = TestCert::expiring_in(time::Duration::days(3));
    let server = TestServer::https(&cert, |_| Answer::new(200, "secure")).await;
    let mut m = monitor(&server.url("/"));
    m.tls_skip_verify = true;
    let r = probe(&m).await;
    assert_ok(&r);
    let days = r.tls_days_left.expect("an https result has days left");
    assert!((2..=3).contains(&days), "{r:?}");

    m.tls_min_days = Some(7);
    let r = probe(&m).await;
    assert_failed(
        &r,
        ErrorKind::Assertion,
        &format!("expires in {days} days (minimum 7)"),
    );
    assert_eq!(r.tls_days_left, Some(days));

    m.tls_min_days = Some(2);
    assert_ok(&probe(&m).await);
}

#[tokio::test]
async fn unverifiable_certificate_fails_with_tls() {
    let cert = TestCert::expiring_in(time::Duration::days(30));
    let server = TestServer::https(&cert, |_| Answer::new(200, "secure")).await;
    let r = probe(&monitor(&server.url("/"))).await;
    assert_failed(&r, ErrorKind::Tls, "");
    assert!(
        server.seen().is_empty(),
        "no request after a failed handshake"
    );
}

#[test]
fn days_left_of_a_certificate() {
    let cert = TestCert::expiring_in(time::Duration::days(10));
    // A second on: notAfter is kept in whole seconds and may round up to the making time.
    let now_ms = super::now_ms() + 1_000;
    assert_eq!(super::tls::days_until_expiry(&cert.der, now_ms), Some(9));
    let in_11_days = now_ms + 11 * 86_400_000;
    assert_eq!(
        super::tls::days_until_expiry(&cert.der, in_11_days),
        Some(-2)
    );
}

/// The lean http:// path follows redirects as the reqwest path does.
#[tokio::test]
async fn lean_path_redirects_like_browsers() {
    let server = TestServer::http(|seen| match seen.path.as_str() {
        "/post" => Answer::redirect(303, "/landing"),
        "/keep" => Answer::redirect(307, "/landing"),
        "/loop-a" => Answer::redirect(302, "/loop-b"),
        "/loop-b" => Answer::redirect(302, "/loop-a"),
        _ => Answer::new(200, "landed"),
    })
    .await;
    let mut m = monitor(&server.url("/post"));
    m.method = "POST".into();
    m.body = Some("payload".into());
    m.expect_body_contains = Some("landed".into());
    assert_ok(&probe(&m).await);
    m.url = server.url("/keep");
    assert_ok(&probe(&m).await);
    let seen = server.seen();
    let landings: Vec<(&str, &[u8])> = seen
        .iter()
        .filter(|s| s.path == "/landing")
        .map(|s| (s.method.as_str(), s.body.as_slice()))
        .collect();
    assert_eq!(landings, [("GET", &b""[..]), ("POST", &b"payload"[..])]);
    m.url = server.url("/loop-a");
    assert_failed(&probe(&m).await, ErrorKind::Redirects, "redirect loop");
}

#[tokio::test]
async fn lean_path_drops_credentials_when_a_redirect_leaves_the_host() {
    let elsewhere = TestServer::http(|_| Answer::new(200, "ok")).await;
    let away = elsewhere.url("/there");
    let server = TestServer::http(move |seen| match seen.path.as_str() {
        "/start" => Answer::redirect(302, "/same"),
        "/same" => Answer::redirect(302, &away),
        _ => Answer::new(200, "ok"),
    })
    .await;
    let mut m = monitor(&server.url("/start"));
    m.headers = vec![("Authorization".into(), "Bearer t".into())];
    assert_ok(&probe(&m).await);
    let same = server.seen();
    assert!(
        same.iter()
            .all(|s| s.header("authorization") == Some("Bearer t"))
    );
    let there = elsewhere.seen();
    assert_eq!(there.len(), 1);
    assert_eq!(there[0].header("authorization"), None, "{:?}", there[0]);
    assert!(
        there[0]
            .header("host")
            .is_some_and(|h| h.starts_with("127.0.0.1:"))
    );
}

#[tokio::test]
async fn lean_path_hands_a_redirect_to_https_over() {
    let cert = TestCert::expiring_in(time::Duration::days(3));
    let secure = TestServer::https(&cert, |_| Answer::new(200, "secure")).await;
    let target = secure.url("/");
    let plain = TestServer::http(move |_| Answer::redirect(301, &target)).await;
    let mut m = monitor(&plain.url("/"));
    m.tls_skip_verify = true;
    m.expect_body_contains = Some("secure".into());
    let r = probe(&m).await;
    assert_ok(&r);
    assert!(
        r.tls_days_left.is_some_and(|d| (2..=3).contains(&d)),
        "{r:?}"
    );
}

/// Paths the URL parser keeps as they are but the HTTP request line may refuse end as a
/// result (a good one or a failed one), never as a panic.
#[tokio::test]
async fn lean_path_odd_paths_never_panic() {
    let server = TestServer::http(|_| Answer::new(200, "ok")).await;
    for path in ["/a|b", "/a^b", "/[x]", "/%zz", "/a\\b"] {
        let r = probe(&monitor(&server.url(path))).await;
        assert!(r.ok || r.error.is_some(), "{path}: {r:?}");
    }
}
