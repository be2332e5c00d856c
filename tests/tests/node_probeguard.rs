//! Probes are not a proxy into the node (issue part 8): the attacks of the issue, repeated
//! against the real binary, now fail.
//!
//! - A target's 301/307 cannot send a probe (with its method and body) into the node's own
//!   API or cluster port: the check fails with `redirects` and nothing is created.
//! - A 307/308 to another host does not resend a body or credentials: it is refused when the
//!   request has a body or a method other than GET/HEAD; a GET follows without credentials.
//! - With `block_private_targets = true`, loopback targets are refused at the API (400) and
//!   at the probe (`refused`, nothing connected), so `tcp://` cannot scan the node's host and
//!   `expect_body_contains` cannot read internal-only pages.
//! - Names and URLs with control or invisible characters are refused with 400.

use ringwatch_tests::{Behavior, NodeProc, ProbeResult, Target, TestDir, secs, wait_until};
use serde_json::{Value, json};

fn assert_refused(result: &ProbeResult, kind: &str, text: &str) {
    assert!(!result.ok, "{result:?}");
    assert_eq!(result.error_kind.as_deref(), Some(kind), "{result:?}");
    let error = result.error.as_deref().unwrap_or_default();
    assert!(error.contains(text), "error {error:?} should say {text:?}");
}

/// A monitor that POSTs a monitor definition (the attack's payload) to `url`.
fn posting_monitor(url: &str) -> Value {
    json!({
        "url": url,
        "interval_secs": 3600,
        "method": "POST",
        "headers": {"content-type": "application/json"},
        "body": r#"{"url":"http://127.0.0.1:9/made-by-a-redirect","interval_secs":1}"#,
    })
}

#[tokio::test]
async fn redirects_into_the_nodes_own_api_or_cluster_port_are_refused() {
    let node = NodeProc::start("n1").await;
    let api = node.api();
    let own_api = format!("{}/api/monitors", node.http_url());
    let cluster = format!("http://{}/", node.cluster_addr());
    let target = Target::start().await;
    let cases = [
        ("/r301", 301, own_api.clone()),
        ("/r302", 302, own_api.clone()),
        ("/r307", 307, own_api.clone()),
        ("/r308", 308, own_api.clone()),
        // The same address under a name (a 302: a 307 of the POST to another host name is
        // refused before its address is looked at, see the next test).
        ("/byname", 302, own_api.replace("127.0.0.1", "localhost")),
        ("/cluster", 307, cluster),
    ];
    for (path, status, location) in &cases {
        target.set(
            path,
            Behavior::RedirectStatus {
                status: *status,
                location: location.clone(),
            },
        );
        let monitor = api
            .create_monitor(&posting_monitor(&target.url(path)))
            .await;
        let result = api.check(&monitor.id).await;
        assert_refused(&result, "redirects", "this node's own address");
        assert!(target.hits(path) >= 1, "{path} was probed");
    }
    let urls: Vec<String> = api
        .list_monitors()
        .await
        .into_iter()
        .map(|m| m.url)
        .collect();
    assert_eq!(
        urls.len(),
        cases.len(),
        "only the test's monitors exist: {urls:?}"
    );
    assert!(
        !urls.iter().any(|u| u.contains("made-by-a-redirect")),
        "{urls:?}"
    );
    // A monitor may still name the node itself (its writer could call the API directly).
    let own = api
        .create_monitor(
            &json!({"url": format!("{}/healthz", node.http_url()), "interval_secs": 3600}),
        )
        .await;
    assert!(api.check(&own.id).await.ok);
}

#[tokio::test]
async fn a_307_to_another_host_never_resends_the_body_or_credentials() {
    let node = NodeProc::start("n1").await;
    let api = node.api();
    let sink = Target::start().await;
    let elsewhere = |path: &str| format!("http://localhost:{}{path}", sink.addr().port());
    let target = Target::start().await;
    let credentials = json!({"authorization": "Bearer s3cret", "cookie": "session=s3cret"});

    // POST with a body and credentials, 307 to another host: refused, nothing sent there.
    for (path, status) in [("/p307", 307), ("/p308", 308)] {
        let location = elsewhere("/post-sink");
        target.set(path, Behavior::RedirectStatus { status, location });
        let mut body = posting_monitor(&target.url(path));
        body["headers"] = credentials.clone();
        let monitor = api.create_monitor(&body).await;
        let result = api.check(&monitor.id).await;
        assert_refused(&result, "redirects", "to another host refused");
    }
    assert_eq!(sink.hits("/post-sink"), 0, "nothing reached the other host");

    // A GET is followed, without the credentials.
    target.set(
        "/g307",
        Behavior::RedirectStatus {
            status: 307,
            location: elsewhere("/get-sink"),
        },
    );
    let monitor = api
        .create_monitor(&json!({
            "url": target.url("/g307"), "interval_secs": 3600, "headers": credentials,
        }))
        .await;
    let result = api.check(&monitor.id).await;
    assert!(result.ok, "{result:?}");
    let seen = sink.requests("/get-sink");
    let last = seen.last().expect("the GET reached the other host");
    assert_eq!(last.method, "GET");
    assert_eq!(last.header("authorization"), None, "{last:?}");
    assert_eq!(last.header("cookie"), None, "{last:?}");

    // On the same host a 307 resends as it should (the rule is about other hosts).
    target.set(
        "/same",
        Behavior::RedirectStatus {
            status: 307,
            location: "/same-sink".into(),
        },
    );
    let mut body = posting_monitor(&target.url("/same"));
    body["headers"] = credentials.clone();
    let monitor = api.create_monitor(&body).await;
    assert!(api.check(&monitor.id).await.ok);
    let seen = target.requests("/same-sink");
    let last = seen.last().expect("the 307 was followed on the same host");
    assert_eq!(last.method, "POST");
    assert!(last.body_len > 0, "{last:?}");
    assert_eq!(last.header("authorization"), Some("Bearer s3cret"));
}

/// A node with `block_private_targets = true` and, from its config file, monitors that
/// name loopback targets (the API would refuse them; names are checked when probed).
async fn blocking_node(seeds: &[(&str, String)]) -> NodeProc {
    let dir = TestDir::new();
    let config = dir.path().join("ringwatch.toml");
    let mut toml = String::from("block_private_targets = true\n");
    for (id, url) in seeds {
        toml.push_str(&format!(
            "\n[[monitors]]\nid = \"{id}\"\nurl = \"{url}\"\ninterval_secs = 3600\n"
        ));
    }
    std::fs::write(&config, toml).unwrap();
    NodeProc::start_in(&dir, "n1", &["--config", config.to_str().unwrap()]).await
}

#[tokio::test]
async fn block_private_targets_keeps_probes_out_of_loopback() {
    let target = Target::with(
        "/internal",
        Behavior::Body {
            status: 200,
            body: "internal secret".into(),
        },
    )
    .await;
    let open_port = target.addr().port();
    // A port nothing listens on (bound, then released).
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let node = blocking_node(&[
        ("by-name", format!("http://localhost:{open_port}/internal")),
        ("literal", target.url("/internal")),
        ("scan-open", format!("tcp://127.0.0.1:{open_port}")),
        ("scan-closed", format!("tcp://127.0.0.1:{closed_port}")),
        ("scan-by-name", format!("tcp://localhost:{open_port}")),
    ])
    .await;
    let api = node.api();

    // The API refuses literal loopback addresses (and localhost) with a clear 400.
    for url in [
        target.url("/internal"),
        format!("http://localhost:{open_port}/"),
        format!("tcp://127.0.0.1:{open_port}"),
        format!("http://[::1]:{open_port}/"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://2130706433/".to_owned(),
    ] {
        let mut body = json!({"url": url, "interval_secs": 60});
        if url.starts_with("http") {
            // The oracle of the attack: read an internal page through a body assertion.
            body["expect_body_contains"] = json!("internal");
        }
        let resp = api.post_json("/api/monitors", &body).await;
        resp.expect_status(400);
        let message = resp.error_message().unwrap_or_default();
        assert!(
            message.contains("block_private_targets"),
            "{url}: {message}"
        );
    }
    // Nor can a patch point an existing monitor there.
    let public = api
        .create_monitor(
            &json!({"url": "http://93.184.215.14/", "interval_secs": 3600, "active": false}),
        )
        .await;
    let resp = api
        .patch_json(
            &format!("/api/monitors/{}", public.id),
            &json!({"url": target.url("/internal")}),
        )
        .await;
    resp.expect_status(400);

    // Names resolving to loopback fail their checks with `refused`; nothing is connected,
    // so open and closed ports look the same (no port scan, no body oracle).
    wait_until("the config file's monitors exist", secs(10), async || {
        api.list_monitors().await.len() == 6
    })
    .await;
    let mut texts = Vec::new();
    for id in [
        "by-name",
        "literal",
        "scan-open",
        "scan-closed",
        "scan-by-name",
    ] {
        let result = api.check(id).await;
        assert_refused(&result, "refused", "block_private_targets is on");
        texts.push(result.error.unwrap_or_default());
    }
    assert!(texts[0].contains("localhost resolves to"), "{}", texts[0]);
    assert_eq!(
        texts[2].replace(&open_port.to_string(), "P"),
        texts[3].replace(&closed_port.to_string(), "P"),
        "an open and a closed port answer alike"
    );
    assert_eq!(
        target.hits("/internal"),
        0,
        "no probe reached the internal target"
    );
}

#[tokio::test]
async fn names_and_urls_with_control_characters_are_refused() {
    let node = NodeProc::start("n1").await;
    let api = node.api();
    for body in [
        json!({"url": "http://127.0.0.1:9/", "name": "evil\u{1b}[2J\u{1b}]0;owned\u{7}"}),
        json!({"url": "http://127.0.0.1:9/", "name": "price \u{202e}001$"}),
        json!({"url": "http://127.0.0.1:9/", "name": "two\nlines"}),
        json!({"url": "http://127.0.0.1:9/\u{1b}[31m"}),
        json!({"url": "http://exa\tmple.com/"}),
        json!({"url": "http://example.com/\u{200b}"}),
    ] {
        let resp = api.post_json("/api/monitors", &body).await;
        resp.expect_status(400);
        let message = resp.error_message().unwrap_or_default();
        assert!(
            message.contains("control or invisible characters"),
            "{body}: {message}"
        );
    }
    let monitor = api
        .create_monitor(&json!({"url": "http://127.0.0.1:9/", "interval_secs": 3600}))
        .await;
    let resp = api
        .patch_json(
            &format!("/api/monitors/{}", monitor.id),
            &json!({"name": "x\u{9b}31m"}),
        )
        .await;
    resp.expect_status(400);
    assert_eq!(
        api.list_monitors().await.len(),
        1,
        "nothing refused was created"
    );
}
