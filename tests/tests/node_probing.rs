//! One node probing local targets: cadence measured at the target, up/down decisions, and
//! changes (PATCH, pause, DELETE) taking effect on the probing.

use ringwatch_tests::{
    Behavior, NodeProc, Target, measurement_window_until, monitor_body, secs, wait_for, wait_until,
};
use serde_json::json;
use std::time::{Duration, Instant};

/// After a change that stops probing is answered, a probe already under way may still land;
/// none may arrive later than this.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// SPEC "at its interval" with scheduling jitter and a loaded machine: a probe counts for the
/// window it was due in if it lands within half an interval.
const HALF_INTERVAL: Duration = Duration::from_millis(500);

/// Waits for the first request to `path` at or after `from`.
async fn first_hit_since(target: &Target, path: &str, from: Instant, timeout: Duration) -> Instant {
    wait_for(&format!("a probe of {path}"), timeout, async || {
        target
            .first_hit_since(path, from)
            .ok_or_else(|| format!("{} hits in all", target.hits(path)))
    })
    .await
}

/// Lets `window` pass after `from` and asserts no request reached `path` later than
/// `from + STOP_GRACE`.
async fn assert_probing_stopped(target: &Target, path: &str, from: Instant, window: Duration) {
    measurement_window_until(from + window).await;
    let late = target.hits_since(path, from + STOP_GRACE);
    assert_eq!(
        late, 0,
        "{late} probes of {path} arrived more than {STOP_GRACE:?} after probing should have stopped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_every_second_and_goes_up() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let created_at = Instant::now();
    let monitor = api
        .create_monitor(&monitor_body(&target.url("/up"), 1))
        .await;

    let first = first_hit_since(&target, "/up", created_at, secs(5)).await;
    let up = api.wait_status(&monitor.id, "up", secs(5)).await;
    assert_eq!(up.owner.as_deref(), Some("solo"), "owner of {up:?}");
    let last = up.last_result.expect("an up monitor has a last_result");
    assert!(last.ok && last.status_code == Some(200), "{last:?}");

    // The 10 probes due at first+1s ..= first+10s, each allowed half an interval of jitter.
    let from = first + HALF_INTERVAL;
    let to = from + secs(10);
    measurement_window_until(to).await;
    let probes = target.hits_between("/up", from, to);
    assert!(
        (9..=11).contains(&probes),
        "{probes} probes in the 10 s after the first one, expected 10 +- 1"
    );

    let results = api.results(&monitor.id, None, None).await;
    assert!(results.len() >= 9, "{} results stored", results.len());
    for result in &results {
        assert_eq!(result.monitor_id, monitor.id, "{result:?}");
        assert_eq!(result.node, "solo", "{result:?}");
        assert!(result.ok, "{result:?}");
        assert_eq!(result.status_code, Some(200), "{result:?}");
        assert!(result.error.is_none(), "{result:?}");
        assert!(
            result.latency_ms < 1000,
            "latency {} ms against a local target: {result:?}",
            result.latency_ms
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_status_goes_down_after_threshold_and_recovers() {
    let target = Target::with("/flaky", Behavior::Status(500)).await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&monitor_body(&target.url("/flaky"), 1))
        .await;
    assert_eq!(monitor.failure_threshold, 2);

    let down = api.wait_status(&monitor.id, "down", secs(10)).await;
    let results = api.results(&monitor.id, None, None).await;
    assert!(
        results.len() >= 2,
        "down after {} failed probes; failure_threshold is 2: {results:?}",
        results.len()
    );
    let last = down.last_result.expect("a down monitor has a last_result");
    assert!(!last.ok, "{last:?}");
    assert_eq!(last.status_code, Some(500), "{last:?}");
    assert_eq!(last.error_kind.as_deref(), Some("bad_status"), "{last:?}");
    assert!(
        last.error.as_deref().is_some_and(|e| !e.trim().is_empty()),
        "a failed result explains itself: {last:?}"
    );

    target.set("/flaky", Behavior::Status(200));
    let up = api.wait_status(&monitor.id, "up", secs(5)).await;
    assert!(up.last_result.is_some_and(|r| r.ok));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_slower_than_timeout_goes_down_with_timeout() {
    let target = Target::with(
        "/slow",
        Behavior::Slow {
            delay: secs(2),
            status: 200,
        },
    )
    .await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&json!({
            "url": target.url("/slow"),
            "interval_secs": 1,
            "timeout_ms": 300,
        }))
        .await;

    let down = api.wait_status(&monitor.id, "down", secs(10)).await;
    let last = down.last_result.expect("a down monitor has a last_result");
    assert!(!last.ok, "{last:?}");
    assert_eq!(last.error_kind.as_deref(), Some("timeout"), "{last:?}");
    assert!(
        last.error.as_deref().is_some_and(|e| !e.trim().is_empty()),
        "{last:?}"
    );
    assert_eq!(last.status_code, None, "no answer, no status: {last:?}");
    assert!(
        last.latency_ms < 1500,
        "the 300 ms timeout was not enforced: {last:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patched_interval_takes_effect_on_the_next_probe() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&monitor_body(&target.url("/patched"), 60))
        .await;

    let patched = api
        .patch_monitor(&monitor.id, &json!({ "interval_secs": 1 }))
        .await;
    let answered = Instant::now();
    assert_eq!(patched.interval_secs, 1);

    // "within ~2 s", with half an interval for load.
    let first = first_hit_since(&target, "/patched", answered, secs(2) + HALF_INTERVAL).await;
    let from = first + HALF_INTERVAL;
    let to = from + secs(4);
    measurement_window_until(to).await;
    let probes = target.hits_between("/patched", from, to);
    assert!(
        (3..=5).contains(&probes),
        "{probes} probes in the 4 s after the first at the new interval, expected 4 +- 1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_monitor_is_not_probed_until_resumed() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&monitor_body(&target.url("/pause"), 1))
        .await;
    wait_until("2 probes before pausing", secs(5), async || {
        target.hits("/pause") >= 2
    })
    .await;

    let paused = api
        .patch_monitor(&monitor.id, &json!({ "active": false }))
        .await;
    let paused_at = Instant::now();
    assert!(!paused.active);
    api.wait_status(&monitor.id, "paused", secs(2)).await;
    assert_probing_stopped(&target, "/pause", paused_at, secs(4)).await;
    assert_eq!(api.get_monitor(&monitor.id).await.status, "paused");

    let resumed = api
        .patch_monitor(&monitor.id, &json!({ "active": true }))
        .await;
    let resumed_at = Instant::now();
    assert!(resumed.active);
    first_hit_since(&target, "/pause", resumed_at, secs(2) + HALF_INTERVAL).await;
    api.wait_status(&monitor.id, "up", secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_monitor_stops_being_probed_and_is_gone() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&monitor_body(&target.url("/delete"), 1))
        .await;
    let keeper = api
        .create_monitor(&monitor_body(&target.url("/keep"), 1))
        .await;
    wait_until("2 probes before deleting", secs(5), async || {
        target.hits("/delete") >= 2
    })
    .await;

    api.delete_monitor(&monitor.id).await;
    let deleted_at = Instant::now();
    api.get(&ringwatch_tests::monitor_path(&monitor.id))
        .await
        .expect_status(404);
    assert_eq!(api.monitor_ids().await, vec![keeper.id.clone()]);

    assert_probing_stopped(&target, "/delete", deleted_at, secs(4)).await;
    // The other monitor kept its cadence meanwhile.
    let kept = target.hits_between("/keep", deleted_at, deleted_at + secs(4));
    assert!(kept >= 3, "the remaining monitor got {kept} probes in 4 s");
}
