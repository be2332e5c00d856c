//! Hostile targets: whatever a probed server does, the node stays up, stays bounded in memory,
//! and reports the monitor down with an error kind that says why (SPEC: "A node process never
//! panics or exits on bad input from the network").

use ringwatch_tests::{Behavior, NodeProc, ProbeResult, Target, measurement_window_until, ms};
use serde_json::json;
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// Memory a node may use while probing one hostile target; an unbounded read would pass it.
const RSS_BOUND_KIB: u64 = 200 * 1024;
/// How long a hostile target is probed at 1 s while memory and health are watched.
const ENDURANCE: Duration = Duration::from_secs(10);
/// Long enough for a few probes at 1 s to fail and the monitor to be declared down.
const DOWN_TIMEOUT: Duration = Duration::from_secs(15);

/// Probes `url` every second with `timeout_ms`, waits until the monitor is down, checks the
/// node is still healthy and returns the deciding result.
async fn probe_until_down(node: &NodeProc, url: &str, timeout_ms: u64) -> ProbeResult {
    let api = node.api();
    let monitor = api
        .create_monitor(&json!({ "url": url, "interval_secs": 1, "timeout_ms": timeout_ms }))
        .await;
    let down = api.wait_status(&monitor.id, "down", DOWN_TIMEOUT).await;
    assert!(api.is_healthy().await, "node unhealthy after probing {url}");
    let last = down.last_result.expect("a down monitor has a last_result");
    assert!(!last.ok, "{last:?}");
    assert!(
        last.error.as_deref().is_some_and(|e| !e.trim().is_empty()),
        "a failed result explains itself: {last:?}"
    );
    last
}

fn assert_kind(result: &ProbeResult, kinds: &[&str]) {
    let kind = result.error_kind.as_deref().unwrap_or("null");
    assert!(
        kinds.contains(&kind),
        "error_kind {kind}, expected one of {kinds:?}: {result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_chain_of_50_hops_is_down_with_redirects() {
    let target = Target::with("/chain", Behavior::RedirectChain { hops: 50 }).await;
    let node = NodeProc::start("solo").await;
    let last = probe_until_down(&node, &target.url("/chain"), 5000).await;
    assert_kind(&last, &["redirects"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_loop_is_down_with_redirects() {
    let target = Target::start().await;
    target.set_redirect_loop("/loop-a", "/loop-b");
    let node = NodeProc::start("solo").await;
    let last = probe_until_down(&node, &target.url("/loop-a"), 5000).await;
    assert_kind(&last, &["redirects"]);
    assert!(target.hits("/loop-b") >= 1, "the redirect was not followed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_that_never_answers_is_down_with_timeout() {
    let target = Target::with("/hang", Behavior::Hang).await;
    let node = NodeProc::start("solo").await;
    let last = probe_until_down(&node, &target.url("/hang"), 500).await;
    assert_kind(&last, &["timeout"]);
    assert!(
        last.latency_ms < 2000,
        "the 500 ms timeout was not enforced: {last:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_answer_is_down_with_protocol() {
    let target = Target::with("/garbage", Behavior::Garbage).await;
    let node = NodeProc::start("solo").await;
    let last = probe_until_down(&node, &target.url("/garbage"), 5000).await;
    assert_kind(&last, &["protocol"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_response_headers_are_refused_and_the_node_survives() {
    let target = Target::with("/huge", Behavior::HugeHeaders { bytes: 1 << 20 }).await;
    let node = NodeProc::start("solo").await;
    let last = probe_until_down(&node, &target.url("/huge"), 5000).await;
    assert_kind(&last, &["protocol", "other"]);
    assert!(node.rss_kib() < RSS_BOUND_KIB, "rss {} KiB", node.rss_kib());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_port_is_down_with_refused() {
    // A port that was just free on 127.0.0.1: nothing listens on it once the listener is gone.
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("pick a free port");
    let node = NodeProc::start("solo").await;
    let last = probe_until_down(&node, &format!("http://{closed}/"), 5000).await;
    assert_kind(&last, &["refused"]);
    assert_eq!(last.status_code, None, "{last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_body_keeps_the_node_up_and_bounded() {
    let target = Target::with("/endless", Behavior::EndlessBody).await;
    let mut node = NodeProc::start("solo").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&json!({
            "url": target.url("/endless"),
            "interval_secs": 1,
            "timeout_ms": 3000,
        }))
        .await;

    let end = Instant::now() + ENDURANCE;
    let mut peak_kib = 0;
    while Instant::now() < end {
        assert!(
            node.is_running(),
            "node exited while probing an endless body"
        );
        assert!(
            api.is_healthy().await,
            "node unhealthy while probing an endless body"
        );
        peak_kib = peak_kib.max(node.rss_kib());
        assert!(
            peak_kib < RSS_BOUND_KIB,
            "rss {peak_kib} KiB while probing an endless body"
        );
        // Sampling period of the memory measurement.
        measurement_window_until(Instant::now() + ms(500)).await;
    }

    let results = api.results(&monitor.id, None, None).await;
    assert!(
        results.len() >= 3,
        "only {} probes of an endless body completed in {ENDURANCE:?}: {results:?}",
        results.len()
    );
    let status = api.get_monitor(&monitor.id).await.status;
    assert!(
        ["up", "down"].contains(&status.as_str()),
        "status {status} after {} results",
        results.len()
    );
    eprintln!(
        "endless body: {} results, status {status}, peak rss {peak_kib} KiB",
        results.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_body_without_the_expected_text_is_down_with_assertion() {
    let target = Target::with("/endless", Behavior::EndlessBody).await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&json!({
            "url": target.url("/endless"),
            "interval_secs": 1,
            "timeout_ms": 5000,
            "expect_body_contains": "never-in-the-body",
        }))
        .await;
    let down = api.wait_status(&monitor.id, "down", DOWN_TIMEOUT).await;
    let last = down.last_result.expect("a down monitor has a last_result");
    // Only the first 64 KiB are searched: the verdict comes long before the timeout.
    assert_kind(&last, &["assertion"]);
    assert!(last.latency_ms < 5000, "{last:?}");
    assert!(api.is_healthy().await);
}
