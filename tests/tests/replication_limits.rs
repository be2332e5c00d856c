//! No API input can break replication: a definition over the size cap is refused with 400 and
//! a clear message; definitions just under it, 24 of them (about 2.3 MiB, more than one frame
//! holds), still reach a node that starts empty and one that restarts; and the monitor count
//! limit (`max_monitors`) answers 409.

use ringwatch_tests::{NodeProc, TestDir, secs, wait_until};
use serde_json::{Value, json};

/// What `node/src/domain/spec` caps a definition at.
const MAX_DEFINITION_BYTES: usize = 128 * 1024;

/// A monitor of `body_kib` KiB of request body and `headers` headers of 4,000 bytes at `url`,
/// not probed.
fn large(url: &str, body_kib: usize, headers: usize) -> Value {
    let headers: serde_json::Map<String, Value> = (0..headers)
        .map(|i| (format!("X-Pad-{i}"), Value::from("h".repeat(4_000))))
        .collect();
    json!({
        "url": url,
        "active": false,
        "method": "POST",
        "body": "x".repeat(body_kib * 1024),
        "headers": headers,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_definitions_cannot_break_replication() {
    let dir = TestDir::new();
    let config = dir.path().join("limits.toml");
    std::fs::write(&config, "max_monitors = 26\n").expect("write config");
    let config = config.to_str().expect("utf-8 path");
    let n1 = NodeProc::start_in(&dir, "n1", &["--config", config]).await;
    let join = n1.cluster_addr().to_string();
    let mut n2 = NodeProc::start_in(&dir, "n2", &["--config", config, "--join", &join]).await;
    let (a1, a2) = (n1.api(), n2.api());
    wait_until("n2 joins", secs(10), async || {
        a2.cluster_view().await.alive == ["n1", "n2"]
    })
    .await;

    // Over the cap: every field within its own limit, all of them together not.
    let over = large("http://127.0.0.1:9/over", 64, 20);
    let resp = a1.post_json("/api/monitors", &over).await;
    resp.expect_status(400);
    let message = resp.error_message().unwrap_or_default();
    assert!(
        message.contains("bytes encoded") && message.contains(&MAX_DEFINITION_BYTES.to_string()),
        "{message}"
    );

    // 24 requests just under it (60 KiB of body, 9 headers of 4,000 bytes: about 97 KiB):
    // 2.3 MiB of definitions, replicated live.
    let mut ids = Vec::new();
    for i in 0..24 {
        let url = format!("http://127.0.0.1:9/large-{i}");
        let m = a1.create_monitor(&large(&url, 60, 9)).await;
        ids.push(m.id);
    }
    ids.sort();
    wait_until("n2 holds the 24 large monitors", secs(10), async || {
        a2.monitor_ids().await.len() == 24
    })
    .await;

    // A node that starts empty gets them all in its full sync, a restarted one too.
    let n3 = NodeProc::start_in(&dir, "n3", &["--config", config, "--join", &join]).await;
    let a3 = n3.api();
    n2.restart().await;
    let a2 = n2.api();
    for (name, api) in [("n3", &a3), ("n2", &a2)] {
        wait_until(
            &format!("{name} holds the 24 large monitors"),
            secs(15),
            async || {
                let mut held = api.monitor_ids().await;
                held.sort();
                held == ids
            },
        )
        .await;
    }
    let fresh = a3.get_monitor(&ids[7]).await;
    assert_eq!(
        fresh.definition(),
        a1.get_monitor(&ids[7]).await.definition()
    );

    // The count limit: 26 in all, on whichever node takes the request.
    let small =
        |i: usize| json!({ "url": format!("http://127.0.0.1:9/small-{i}"), "active": false });
    let resp = a1
        .post_json("/api/monitors", &json!([small(0), small(1), small(2)]))
        .await;
    resp.expect_status(409);
    let message = resp.error_message().unwrap_or_default();
    assert!(message.contains("max_monitors"), "{message}");
    a1.create_monitor(&small(3)).await;
    a1.create_monitor(&small(4)).await;
    wait_until("n3 holds 26", secs(10), async || {
        a3.monitor_ids().await.len() == 26
    })
    .await;
    a3.post_json("/api/monitors", &small(5))
        .await
        .expect_status(409);
    assert_eq!(a1.monitor_ids().await.len(), 26);

    for node in [&n1, &n3] {
        assert!(
            !node.stderr_log().contains("exceeds configured limit"),
            "a frame went over the transport limit:\n{}",
            node.stderr_tail(40)
        );
    }
}
