//! Per-monitor assertions end to end: a failed assertion turns a monitor down with its reason
//! in `last_result.error`, and `tcp://host:port` monitors are up while something listens.

use ringwatch_tests::{Behavior, NodeProc, Target};
use serde_json::json;
use std::time::Duration;
use tokio::net::TcpListener;

/// A monitor probed every second with `failure_threshold` 1 is down after its first failed
/// probe; this leaves room for node start-up and a loaded machine.
const DECISION_TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyword_that_cannot_match_goes_down_with_the_reason() {
    let target = Target::with(
        "/status",
        Behavior::Body {
            status: 200,
            body: "all systems nominal".into(),
        },
    )
    .await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&json!({
            "url": target.url("/status"),
            "interval_secs": 1,
            "failure_threshold": 1,
            "expect_body_contains": "operational",
        }))
        .await;
    assert_eq!(monitor.expect_body_contains.as_deref(), Some("operational"));

    let down = api.wait_status(&monitor.id, "down", DECISION_TIMEOUT).await;
    let last = down.last_result.expect("a down monitor has a last_result");
    assert!(!last.ok, "{last:?}");
    assert_eq!(last.status_code, Some(200), "{last:?}");
    assert_eq!(last.error_kind.as_deref(), Some("assertion"), "{last:?}");
    let error = last.error.unwrap_or_default();
    assert!(
        error.contains("body does not contain \"operational\""),
        "the reason is in the error text: {error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_monitor_against_a_listener_goes_up() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    // Accept and drop, so that probes never queue up in the backlog.
    let acceptor = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let url = format!("tcp://127.0.0.1:{port}");
    let monitor = api
        .create_monitor(&json!({ "url": url, "interval_secs": 1, "failure_threshold": 1 }))
        .await;
    assert_eq!(monitor.url, url);
    assert_eq!(
        monitor.expect_status,
        json!([]),
        "a tcp check accepts no status codes: it has none"
    );

    let up = api.wait_status(&monitor.id, "up", DECISION_TIMEOUT).await;
    let last = up.last_result.expect("an up monitor has a last_result");
    assert!(last.ok && last.error.is_none(), "{last:?}");
    assert_eq!(
        last.status_code, None,
        "a tcp check has no status: {last:?}"
    );
    assert!(last.latency_ms < 1_000, "a local connect: {last:?}");
    acceptor.abort();
}
