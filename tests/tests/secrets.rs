//! SPEC "secrets are never shown": a monitor with `Authorization: Bearer <s1>`, one whose URL
//! carries `user:<s2>@`, a Slack notifier with `<s3>` in its URL and an email notifier with
//! SMTP password `<s4>`, plus a header the user marks secret (`X-Tenant: <s5>`) and a body
//! marked secret (`<s6>`). None of s1..s6 appears in any API answer, the event stream,
//! `/metrics`, the CLI's output, the dashboard's files, the notifications' texts or either
//! node's debug log, while the probes and the notifications still use every one of them, also
//! after the definitions are edited with their secrets sent back redacted.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use tokio::sync::watch;

use ringwatch_tests::{
    Api, Behavior, NodeProc, SmtpSink, Target, TestDir, WebhookSink, run_ringwatch, secs,
    wait_until,
};
use serde_json::{Value, json};

const S1: &str = "s1-bearer-5c0ffee1";
const S2: &str = "s2-urlpass-7d1ce";
const S3: &str = "s3-slackpath-9ab3";
const S4: &str = "s4-smtppass-42fe";
const S5: &str = "s5-tenant-81b0";
const S6: &str = "s6-bodypin-3e77";
const SECRETS: [&str; 6] = [S1, S2, S3, S4, S5, S6];

const SETTLE: Duration = Duration::from_secs(20);
const DEBUG_LOG: [(&str, &str); 1] = [("RINGWATCH_LOG", "debug")];

/// Panics naming the secret and where it showed.
fn assert_hidden(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} shows the secret {s}:\n{text}");
    }
}

/// Every GET answer a client can see about these definitions, from `api`.
async fn api_answers(api: &Api, monitors: &[&str], notifiers: &[&str]) -> Vec<(String, String)> {
    let mut paths: Vec<String> = [
        "/api/monitors",
        "/api/notifiers",
        "/api/cluster",
        "/api/summary",
        "/metrics",
    ]
    .map(str::to_owned)
    .to_vec();
    for id in monitors {
        paths.push(format!("/api/monitors/{id}"));
        paths.push(format!("/api/monitors/{id}/results?last=100"));
        paths.push(format!("/api/monitors/{id}/incidents"));
        paths.push(format!("/api/monitors/{id}/stats"));
    }
    for id in notifiers {
        paths.push(format!("/api/notifiers/{id}"));
    }
    let mut answers = Vec::new();
    for path in paths {
        let resp = api.get(&path).await;
        assert_eq!(resp.status, 200, "GET {path}: {}", resp.describe());
        answers.push((format!("GET {} {path}", api.base()), resp.text()));
    }
    answers
}

/// Reads `/api/events` of `api` until `stop` turns true.
async fn read_events(api: Api, mut stop: watch::Receiver<bool>) -> String {
    let mut stream = reqwest::Client::new()
        .get(api.url("/api/events"))
        .send()
        .await
        .expect("open /api/events");
    let mut text = String::new();
    loop {
        tokio::select! {
            chunk = stream.chunk() => match chunk {
                Ok(Some(chunk)) => text.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return text,
            },
            _ = stop.wait_for(|s| *s) => return text,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_used_but_never_shown() {
    let dir = TestDir::new();
    let n1 = NodeProc::start_with_env(&dir, "n1", &[], &DEBUG_LOG).await;
    let join = n1.cluster_addr().to_string();
    let mut n2 = NodeProc::start_with_env(&dir, "n2", &["--join", &join], &DEBUG_LOG).await;
    let mut n1 = n1;
    let (a1, a2) = (n1.api(), n2.api());
    // Both event streams run from before the first definition to the end of the test.
    let (stop, stopped) = watch::channel(false);
    let events = [
        tokio::spawn(read_events(a1.clone(), stopped.clone())),
        tokio::spawn(read_events(a2.clone(), stopped)),
    ];

    // Probe targets that record what they receive; the webhook sink answers POSTs.
    let probed = WebhookSink::start().await;
    let slack = WebhookSink::start().await;
    let smtp = SmtpSink::start().await;
    let flip = Target::start().await;

    let slack_url = slack.url(&format!("/services/T0/B0/{S3}"));
    let slack_n: Value = a1
        .post_json(
            "/api/notifiers",
            &json!({"type": "slack", "url": slack_url}),
        )
        .await
        .expect_status(201)
        .json();
    let email_n: Value = a1
        .post_json(
            "/api/notifiers",
            &json!({
                "type": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp.port(),
                "smtp_security": "none", "smtp_username": "rw", "smtp_password": S4,
                "from": "rw@example.test", "to": ["ops@example.test"],
            }),
        )
        .await
        .expect_status(201)
        .json();
    assert_eq!(
        slack_n["url"],
        format!("http://{}/***", slack.addr()),
        "a webhook URL shows only scheme and host"
    );

    let bearer = a1
        .create_monitor(&json!({
            "url": probed.url("/bearer"), "method": "POST", "interval_secs": 1,
            "headers": {"Authorization": format!("Bearer {S1}"), "Accept": "*/*", "X-Tenant": S5},
            "secret_headers": ["x-tenant"],
            "body": format!("{{\"pin\":\"{S6}\"}}"), "secret_body": true,
        }))
        .await;
    let basic_url = probed
        .url("/basic")
        .replacen("http://", &format!("http://user:{S2}@"), 1);
    let basic = a1
        .create_monitor(&json!({"url": basic_url, "method": "POST", "interval_secs": 1}))
        .await;
    let down = a1
        .create_monitor(&json!({
            "url": flip.url("/flip").replacen("http://", &format!("http://user:{S2}@"), 1),
            "interval_secs": 1, "failure_threshold": 1,
        }))
        .await;
    let shown: Value = a1.get(&format!("/api/monitors/{}", bearer.id)).await.json();
    assert_eq!(shown["headers"]["Authorization"], "***");
    assert_eq!(shown["headers"]["Accept"], "*/*");
    assert_eq!(
        shown["headers"]["X-Tenant"], "***",
        "a header marked secret"
    );
    assert_eq!(shown["secret_headers"], json!(["x-tenant"]));
    assert_eq!(shown["body"], "***", "a body marked secret");
    assert_eq!(shown["secret_body"], true);
    let shown: Value = a1.get(&format!("/api/monitors/{}", basic.id)).await.json();
    let basic_shown = shown["url"].as_str().expect("url").to_owned();
    assert!(basic_shown.contains("user:***@"), "{basic_shown}");

    // The probes carry the secrets.
    let basic_auth = format!("Basic {}", BASE64.encode(format!("user:{S2}")));
    let carries = |path: &'static str, value: String| {
        let probed = &probed;
        async move {
            wait_until(
                &format!("{path} probed with its credentials"),
                SETTLE,
                async || {
                    probed
                        .requests()
                        .iter()
                        .any(|r| r.path == path && r.header("authorization") == Some(&value))
                },
            )
            .await;
        }
    };
    carries("/bearer", format!("Bearer {S1}")).await;
    let sent_all = |r: &ringwatch_tests::Received| {
        r.path == "/bearer"
            && r.header("x-tenant") == Some(S5)
            && r.body_text() == format!("{{\"pin\":\"{S6}\"}}")
    };
    assert!(
        probed.requests().iter().any(sent_all),
        "the marked secrets are sent"
    );
    carries("/basic", basic_auth.clone()).await;

    // Edits that send the redacted values back (as the dashboard's form does) keep them,
    // made on the other node once it holds the monitors.
    wait_until("n2 holds the monitors", SETTLE, async || {
        a2.monitor_ids().await.len() == 3
    })
    .await;
    let since = probed.requests().len();
    a2.patch_monitor(
        &bearer.id,
        &json!({"name": "bearer", "headers": {"Authorization": "***", "X-Tenant": "***", "X-Extra": "1"}}),
    )
    .await;
    a2.patch_monitor(&basic.id, &json!({"url": basic_shown, "interval_secs": 2}))
        .await;
    wait_until(
        "probes after the edits keep their secrets",
        SETTLE,
        async || {
            let after = &probed.requests()[since..];
            after.iter().any(|r| {
                sent_all(r)
                    && r.header("x-extra") == Some("1")
                    && r.header("authorization") == Some(&format!("Bearer {S1}"))
            }) && after
                .iter()
                .any(|r| r.path == "/basic" && r.header("authorization") == Some(&basic_auth))
        },
    )
    .await;

    // A status change reaches Slack at its secret URL and the SMTP server with the password.
    a1.wait_status(&down.id, "up", SETTLE).await;
    flip.set("/flip", Behavior::Status(503));
    let posts = slack.wait_for(1, SETTLE).await;
    assert_eq!(posts[0].path, format!("/services/T0/B0/{S3}"));
    let mail = smtp.wait_for(1, SETTLE).await;
    assert_eq!(mail[0].auth_password.as_deref(), Some(S4));
    assert_hidden("the Slack message", &posts[0].body_text());
    assert_hidden("the email", &mail[0].data);
    a2.wait_status(&down.id, "down", SETTLE).await;

    // Every answer of either node.
    let monitors = [bearer.id.as_str(), basic.id.as_str(), down.id.as_str()];
    let notifiers = [
        slack_n["id"].as_str().expect("id"),
        email_n["id"].as_str().expect("id"),
    ];
    for api in [&a1, &a2] {
        for (what, text) in api_answers(api, &monitors, &notifiers).await {
            assert_hidden(&what, &text);
        }
    }

    // The dashboard's page and scripts.
    let dashboard = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dashboard");
    let mut files = vec!["/".to_owned()];
    for entry in std::fs::read_dir(&dashboard).expect("dashboard dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".js") || name.ends_with(".html") || name.ends_with(".css") {
            files.push(format!("/{name}"));
        }
    }
    for path in files {
        let resp = a1.get(&path).await;
        assert_eq!(resp.status, 200, "GET {path}");
        assert_hidden(&format!("dashboard {path}"), &resp.text());
    }

    // The CLI.
    for args in [
        vec!["ls", "--node", a2.base()],
        vec!["cluster", "--node", a1.base()],
        vec!["stats", &bearer.id, "--node", a1.base()],
    ] {
        let out = run_ringwatch(&args, dir.path(), secs(20)).await;
        out.assert_success(&args.join(" "));
        assert_hidden(&format!("ringwatch {}", args.join(" ")), &out.to_string());
    }

    // The event streams: they saw every create, edit, result and status change.
    stop.send(true).expect("readers listen");
    for e in events {
        let text = e.await.expect("event reader");
        for event in ["event:monitor", "event:result", "event:status"] {
            assert!(text.contains(event), "no {event:?} in:\n{text}");
        }
        assert_hidden("/api/events", &text);
    }

    // The logs, at debug level, after a clean stop.
    for node in [&mut n1, &mut n2] {
        node.sigterm();
        let status = node.wait_exit(secs(15)).await;
        assert!(
            status.is_some_and(|s| s.success()),
            "clean stop: {status:?}"
        );
        let log = node.stderr_log();
        assert!(log.contains("DEBUG"), "not a debug log:\n{log}");
        assert_hidden(&format!("the log of {}", node.name()), &log);
    }
}
