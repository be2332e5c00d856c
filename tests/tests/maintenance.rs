//! Maintenance windows with the real binary (issue 15, part 5): three nodes, a monitor at 1 s
//! whose local target fails during a window made on one node.
//!
//! - during the window: status `maintenance` on every node, probes go on and are recorded,
//!   no DOWN webhook, and the stats API counts the failing time as neither up nor down;
//! - the target still failing after the window ends: exactly one DOWN webhook, after the end;
//! - bad input is refused with 400 (and unknown ids with 404) on any node.

use std::time::{Duration, Instant};

use ringwatch_tests::cluster::Cluster;
use ringwatch_tests::{Api, Behavior, Target, WebhookSink, now_ms, secs, wait_for, wait_until};
use serde_json::{Value, json};

const PATH: &str = "/svc";
/// How long the window lasts: room for replication, several failing probes and checks.
const WINDOW_MS: u64 = 14_000;
/// Generous bound for a state every node should reach.
const SETTLE: Duration = Duration::from_secs(15);

async fn add_webhook(api: &Api, sink: &WebhookSink) -> String {
    let body = json!({ "type": "webhook", "name": "sink", "url": sink.url("/hook") });
    let created: Value = api
        .post_json("/api/notifiers", &body)
        .await
        .expect_status(201)
        .json();
    created["id"].as_str().expect("notifier id").to_owned()
}

async fn status_on(api: &Api, id: &str) -> String {
    let v: Value = api.get(&format!("/api/monitors/{id}")).await.json();
    v["status"].as_str().unwrap_or("?").to_owned()
}

fn downs(sink: &WebhookSink, id: &str) -> usize {
    sink.accepted_where(|j| j["status"] == "down" && j["monitor_id"] == id)
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_holds_back_the_down_keeps_uptime_and_one_down_follows_it() {
    let cluster = Cluster::start(3).await;
    let apis: Vec<Api> = ["n1", "n2", "n3"].map(|n| cluster.api(n)).into();
    let sink = WebhookSink::start().await;
    let target = Target::start().await;
    target.set(PATH, Behavior::Status(200));
    let notifier = add_webhook(&apis[0], &sink).await;
    wait_until("n3 knows the notifier", SETTLE, async || {
        let list: Value = apis[2].get("/api/notifiers").await.json();
        list.as_array()
            .is_some_and(|a| a.iter().any(|n| n["id"] == notifier.as_str()))
    })
    .await;
    let body = json!({"url": target.url(PATH), "name": "svc", "interval_secs": 1,
        "timeout_ms": 2000, "failure_threshold": 2});
    let id = apis[1].create_monitor(&body).await.id;
    for api in &apis {
        wait_until("the monitor is up everywhere", SETTLE, async || {
            status_on(api, &id).await == "up"
        })
        .await;
    }

    // A window over the monitor from now, made on n1: every node shows it within a second.
    let start_ms = now_ms();
    let end_ms = start_ms + WINDOW_MS;
    let made: Value = apis[0]
        .post_json(
            "/api/maintenance",
            &json!({"title": "deploy", "monitors": [id], "start_ms": start_ms, "end_ms": end_ms}),
        )
        .await
        .expect_status(201)
        .json();
    assert_eq!(made["active_now"], true, "{made}");
    assert_eq!(made["next_end_ms"], end_ms, "{made}");
    let window_id = made["id"].as_str().unwrap().to_owned();
    let shown = Instant::now();
    for api in &apis {
        wait_until("status maintenance", secs(3), async || {
            status_on(api, &id).await == "maintenance"
        })
        .await;
    }
    assert!(shown.elapsed() < secs(3));
    let listed: Value = apis[2]
        .get(&format!("/api/maintenance/{window_id}"))
        .await
        .json();
    assert_eq!(listed["monitors"], json!([id]), "{listed}");

    // The target fails for the rest of the window and after it.
    let failing_since = Instant::now();
    let failing_ms = now_ms();
    target.set(PATH, Behavior::Status(503));
    let window_ends = failing_since + Duration::from_millis(end_ms.saturating_sub(failing_ms));
    // Until a second before the end: maintenance on every node, probes go on, nothing sent.
    let mut stats_checked = false;
    while Instant::now() + secs(1) < window_ends {
        for api in &apis {
            assert_eq!(status_on(api, &id).await, "maintenance");
        }
        assert_eq!(downs(&sink, &id), 0, "a DOWN was sent during the window");
        if !stats_checked && failing_since.elapsed() > secs(6) {
            // Failing for 6 s, 5 probes past the threshold: recorded, yet not down time.
            let results: Value = apis[2]
                .get(&format!("/api/monitors/{id}/results?since={failing_ms}"))
                .await
                .json();
            let failed = results
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["ok"] == false);
            assert!(
                failed.count() >= 4,
                "probes go on and are recorded: {results}"
            );
            for api in &apis {
                let stats: Value = api
                    .get(&format!("/api/monitors/{id}/stats?window=1h"))
                    .await
                    .json();
                assert_eq!(stats["down_ms"], 0, "{stats}");
                assert_eq!(stats["uptime"], 1.0, "{stats}");
                assert!(
                    stats["maintenance_ms"].as_u64().unwrap() >= 6_000,
                    "{stats}"
                );
                assert!(stats["checks"].as_u64().unwrap() > 0, "{stats}");
            }
            stats_checked = true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await; // a watch, not a synchronisation
    }
    assert!(
        stats_checked,
        "the window was too short to look at the stats"
    );

    // After the end: the usual confirmation, then exactly one DOWN.
    let down = wait_for("the DOWN after the window", secs(12), async || {
        let d = sink.accepted_where(|j| j["status"] == "down" && j["monitor_id"] == id.as_str());
        d.into_iter().next().ok_or_else(|| "none yet".to_owned())
    })
    .await;
    assert!(
        down.at >= window_ends,
        "the DOWN came before the window ended"
    );
    let body = down.json.unwrap();
    assert_eq!(body["previous_status"], "up", "{body}");
    for api in &apis {
        wait_until("down everywhere", SETTLE, async || {
            status_on(api, &id).await == "down"
        })
        .await;
    }
    // More failing probes, no second DOWN.
    let after = target.hits(PATH);
    wait_until("three more probes", SETTLE, async || {
        target.hits(PATH) >= after + 3
    })
    .await;
    assert_eq!(downs(&sink, &id), 1);
    // Uptime over the last hour: the window's failing time is not down time.
    let stats: Value = apis[1]
        .get(&format!("/api/monitors/{id}/stats?window=1h"))
        .await
        .json();
    let down_ms = stats["down_ms"].as_u64().unwrap();
    assert!(down_ms > 0 && down_ms <= now_ms() - end_ms, "{stats}");
    let maintenance_ms = stats["maintenance_ms"].as_u64().unwrap();
    assert!(
        (WINDOW_MS - 2_000..=WINDOW_MS).contains(&maintenance_ms),
        "{stats}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_windows_are_refused_on_any_node() {
    let cluster = Cluster::start(2).await;
    let (n1, n2) = (cluster.api("n1"), cluster.api("n2"));
    let target = Target::start().await;
    let id = n1
        .create_monitor(&json!({"url": target.url("/ok"), "interval_secs": 5}))
        .await
        .id;
    let now = now_ms();
    let cases = [
        (
            json!({"title": "x", "monitors": "all", "cron": "0 3 * *", "duration_secs": 60}),
            "5 fields",
        ),
        (
            json!({"title": "x", "monitors": "all", "cron": "0 25 * * *", "duration_secs": 60}),
            "not valid",
        ),
        (
            json!({"title": "x", "monitors": "all", "cron": "0 3 * * SUN", "duration_secs": 60, "timezone": "Europe/Atlantis"}),
            "unknown time zone",
        ),
        (
            json!({"title": "x", "monitors": "all", "start_ms": now + 10, "end_ms": now}),
            "end_ms must be after start_ms",
        ),
        (
            json!({"title": "x", "monitors": "all", "cron": "0 3 * * *", "duration_secs": 0}),
            "duration_secs must be at least 1",
        ),
        (
            json!({"title": "x", "monitors": "all", "cron": "0 3 * * *", "duration_secs": 40 * 86_400}),
            "at most 31 days",
        ),
        (
            json!({"title": "x", "monitors": "all", "start_ms": now, "end_ms": now + 1, "colour": "red"}),
            "unknown field",
        ),
        (
            json!({"title": "x", "monitors": ["m-nope"], "start_ms": now, "end_ms": now + 1}),
            "no monitor with id",
        ),
        (
            json!({"title": "x", "monitors": "all", "start_ms": now, "end_ms": now + 1, "cron": "0 3 * * *"}),
            "not both",
        ),
    ];
    for (body, why) in cases {
        let resp = n2.post_json("/api/maintenance", &body).await;
        assert_eq!(resp.status, 400, "{body}: {}", resp.describe());
        let error = resp.error_message().unwrap_or_default();
        assert!(error.contains(why), "{body}: {error:?} should say {why:?}");
    }
    let list: Value = n1.get("/api/maintenance").await.json();
    assert_eq!(list, json!([]), "nothing is created by a refused request");

    // A good one, then a refused edit leaves it as it was; unknown ids are 404.
    let good = json!({"title": "weekly", "monitors": [id], "cron": "0 3 * * SUN",
        "duration_secs": 3600, "timezone": "Europe/Berlin"});
    let made: Value = n1
        .post_json("/api/maintenance", &good)
        .await
        .expect_status(201)
        .json();
    let path = format!("/api/maintenance/{}", made["id"].as_str().unwrap());
    wait_until("n2 has the window", secs(3), async || {
        n2.get(&path).await.status == 200
    })
    .await;
    let refused = n2.patch_json(&path, &json!({"cron": "every sunday"})).await;
    assert_eq!(refused.status, 400, "{}", refused.describe());
    let kept: Value = n1.get(&path).await.json();
    assert_eq!(kept["cron"], "0 3 * * SUN");
    assert_eq!(n2.get("/api/maintenance/w-unknown").await.status, 404);
    let missing = n2
        .patch_json("/api/maintenance/w-unknown", &json!({}))
        .await;
    assert_eq!(missing.status, 404);
    // A one-off window made recurring and back through PATCH, on the other node.
    let once = n2
        .patch_json(
            &path,
            &json!({"cron": null, "duration_secs": null, "timezone": null,
                "start_ms": now + 60_000, "end_ms": now + 120_000}),
        )
        .await;
    assert_eq!(once.status, 200, "{}", once.describe());
    let once: Value = once.json();
    assert_eq!(
        (once["cron"].clone(), once["next_start_ms"].clone()),
        (Value::Null, json!(now + 60_000))
    );
    // The delete on n1 comes after the patch it has seen: two edits of one window on two
    // nodes within the same millisecond are concurrent, and the later revision wins either way.
    wait_until("the patch reached n1", secs(3), async || {
        n1.get(&path).await.json::<Value>()["start_ms"] == json!(now + 60_000)
    })
    .await;
    assert_eq!(n1.delete(&path).await.status, 204);
    wait_until("the delete reached n2", secs(3), async || {
        n2.get(&path).await.status == 404
    })
    .await;
}
