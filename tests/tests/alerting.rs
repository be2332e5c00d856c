//! Alerting end to end, against a local webhook sink and a local SMTP sink: SPEC "one status
//! change gives exactly one notification per channel, cluster-wide, also when the owner dies
//! during the outage"; downs confirmed by a second node; retries; incidents.

use ringwatch_tests::cluster::Cluster;
use ringwatch_tests::{
    Api, Behavior, NodeProc, Received, SmtpSink, Target, TestDir, WebhookSink, secs, wait_for,
    wait_until,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Generous bound for a state every node should reach (several probe intervals).
const SETTLE: Duration = Duration::from_secs(15);

/// Adds a webhook notifier pointing at `sink` through `api`; returns its id.
async fn add_webhook(api: &Api, sink: &WebhookSink) -> String {
    let body = json!({ "type": "webhook", "name": "test sink", "url": sink.url("/hook") });
    let created: Value = api
        .post_json("/api/notifiers", &body)
        .await
        .expect_status(201)
        .json();
    created["id"].as_str().expect("notifier id").to_owned()
}

/// Creates a 1 s monitor of `path` with `failure_threshold` on `api`; returns its id.
async fn add_monitor(api: &Api, target: &Target, path: &str, failure_threshold: u32) -> String {
    let body = json!({
        "url": target.url(path), "name": path, "interval_secs": 1,
        "timeout_ms": 2000, "failure_threshold": failure_threshold,
    });
    api.create_monitor(&body).await.id
}

/// Waits until `api` lists monitor `id` (it may not have replicated yet) with `status`.
async fn wait_status(api: &Api, id: &str, status: &str) {
    wait_until(&format!("{id} is {status}"), SETTLE, async || {
        let resp = api.get(&format!("/api/monitors/{id}")).await;
        resp.status == 200 && resp.json::<Value>()["status"] == status
    })
    .await;
}

fn with_status(received: &[Received], status: &str) -> Vec<Value> {
    received
        .iter()
        .filter_map(|r| r.json.clone())
        .filter(|j| j["status"] == status)
        .collect()
}

/// The owner of `id` as `api` sees it, once it names one.
async fn owner_of(api: &Api, id: &str) -> String {
    wait_for("an owner", SETTLE, async || {
        api.get_monitor(id)
            .await
            .owner
            .ok_or_else(|| "none".to_owned())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_failures_send_one_down_after_a_second_node_confirmed() {
    let cluster = Cluster::start(2).await;
    let (n1, n2) = (cluster.api("n1"), cluster.api("n2"));
    let sink = WebhookSink::start().await;
    let target = Target::start().await;
    let notifier = add_webhook(&n1, &sink).await;
    // Notifiers are cluster-wide: the other node lists it too.
    wait_until("n2 knows the notifier", SETTLE, async || {
        let list: Value = n2.get("/api/notifiers").await.json();
        list.as_array()
            .is_some_and(|a| a.iter().any(|n| n["id"] == notifier.as_str()))
    })
    .await;
    let id = add_monitor(&n2, &target, "/svc", 3).await;
    wait_status(&n1, &id, "up").await;

    let failing_since = Instant::now();
    target.set("/svc", Behavior::Status(503));
    let down = sink
        .wait_for_where(1, secs(8), |j| j["status"] == "down")
        .await;
    let arrived = down[0].at;
    assert!(arrived.duration_since(failing_since) <= secs(8));
    // One or two failures sent nothing: the alert came after the third failing probe, and
    // after the second opinion's probe (4 failing requests at the target).
    let failing = target.hits_between("/svc", failing_since, arrived);
    assert!(failing >= 4, "DOWN after only {failing} failing requests");
    let body = down[0].json.clone().unwrap();
    let owner = body["node"].as_str().unwrap().to_owned();
    let other = if owner == "n1" { "n2" } else { "n1" };
    assert_eq!(body["confirmed_by"], other, "{body}");
    assert_eq!(body["previous_status"], "up");
    assert_eq!(body["monitor_id"], id.as_str());
    assert!(body["reason"].as_str().unwrap().contains("503"), "{body}");
    assert_eq!(body["last_result"]["status_code"], 503);
    for key in ["name", "url", "since_ms"] {
        assert!(body.get(key).is_some(), "{key} missing from {body}");
    }
    wait_status(&n1, &id, "down").await;
    wait_status(&n2, &id, "down").await;

    target.set("/svc", Behavior::Status(200));
    let up = sink
        .wait_for_where(1, SETTLE, |j| j["status"] == "up")
        .await;
    assert_eq!(up[0].json.as_ref().unwrap()["previous_status"], "down");
    assert_eq!(with_status(&sink.accepted(), "down").len(), 1);

    // The incident is listed on both nodes, with its cause and end.
    for api in [&n1, &n2] {
        let list: Value = wait_for("the incident", SETTLE, async || {
            let list: Value = api
                .get(&format!("/api/monitors/{id}/incidents"))
                .await
                .json();
            match list.as_array().map(Vec::len) {
                Some(1) if !list[0]["end_ms"].is_null() => Ok(list),
                _ => Err(list.to_string()),
            }
        })
        .await;
        assert!(
            list[0]["cause"].as_str().unwrap().contains("confirmed by"),
            "{list}"
        );
        assert!(list[0]["duration_ms"].as_u64().unwrap() > 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blip_with_the_second_opinion_on_sends_nothing() {
    let cluster = Cluster::start(2).await;
    let n1 = cluster.api("n1");
    let sink = WebhookSink::start().await;
    let target = Target::start().await;
    add_webhook(&n1, &sink).await;
    // Threshold 1: without a second opinion, one failed probe would be a down.
    let id = add_monitor(&n1, &target, "/blip", 1).await;
    wait_status(&n1, &id, "up").await;

    let since = Instant::now();
    target.set(
        "/blip",
        Behavior::FailTimes {
            times: 1,
            status: 500,
        },
    );
    // The failing probe, the peer's second opinion (good), then more good probes.
    wait_until("the blip and 3 good probes after it", SETTLE, async || {
        target.hits_since("/blip", since) >= 5
    })
    .await;
    let monitor = n1.get_monitor(&id).await;
    assert_eq!(monitor.status, "up");
    assert!(sink.requests().is_empty(), "{:?}", sink.requests());
    let incidents: Value = n1
        .get(&format!("/api/monitors/{id}/incidents"))
        .await
        .json();
    assert_eq!(incidents, json!([]));
    let metrics = n1.get("/metrics").await.text();
    let n2_metrics = cluster.api("n2").get("/metrics").await.text();
    let verdict = "ringwatch_second_opinions_total{verdict=\"up\"} 1";
    assert!(
        metrics.contains(verdict) || n2_metrics.contains(verdict),
        "no second opinion was asked"
    );
}

/// Three nodes with a fast failure detector; a notifier and one failing-ready monitor.
struct Outage {
    cluster: Cluster,
    sink: WebhookSink,
    target: Target,
    id: String,
}

impl Outage {
    async fn start(failure_threshold: u32) -> Outage {
        let cluster = Cluster::start_with(3, &["--heartbeat-timeout", "1s"]).await;
        let sink = WebhookSink::start().await;
        let target = Target::start().await;
        let n1 = cluster.api("n1");
        let notifier = add_webhook(&n1, &sink).await;
        for n in ["n2", "n3"] {
            let api = cluster.api(n);
            wait_until("the notifier replicated", SETTLE, async || {
                api.get(&format!("/api/notifiers/{notifier}")).await.status == 200
            })
            .await;
        }
        let id = add_monitor(&n1, &target, "/svc", failure_threshold).await;
        wait_status(&n1, &id, "up").await;
        Outage {
            cluster,
            sink,
            target,
            id,
        }
    }

    fn survivor(&self, dead: &str) -> Api {
        let name = ["n1", "n2", "n3"].into_iter().find(|n| *n != dead).unwrap();
        self.cluster.api(name)
    }

    /// After `dead` was killed: waits until a survivor owns the monitor and probed it
    /// `probes` times since `since`.
    async fn wait_taken_over(&self, dead: &str, since: Instant, probes: usize) {
        let api = self.survivor(dead);
        wait_until("a survivor owns the monitor", SETTLE, async || {
            api.get_monitor(&self.id)
                .await
                .owner
                .is_some_and(|o| o != dead)
        })
        .await;
        wait_until("the new owner probed", SETTLE, async || {
            self.target.hits_since("/svc", since) >= probes
        })
        .await;
    }

    /// The target answers 200 again: waits for the UP and 3 probes more, time for a repeat
    /// to arrive if there were one.
    async fn recover(&self) {
        self.target.set("/svc", Behavior::Status(200));
        self.sink
            .wait_for_where(1, SETTLE, |j| j["status"] == "up")
            .await;
        let after_up = Instant::now();
        wait_until("3 more probes", SETTLE, async || {
            self.target.hits_since("/svc", after_up) >= 3
        })
        .await;
    }

    fn count(&self, status: &str) -> usize {
        with_status(&self.sink.accepted(), status).len()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_killed_after_the_down_alert_sends_no_second_down_and_one_up() {
    let mut o = Outage::start(2).await;
    let owner = owner_of(&o.cluster.api("n1"), &o.id).await;
    o.target.set("/svc", Behavior::Status(500));
    o.sink
        .wait_for_where(1, SETTLE, |j| j["status"] == "down")
        .await;
    // "After the alert" means after its delivery is on record elsewhere: an owner killed
    // between the channel's answer and that record leaves a repeat with the same event_id
    // (the one documented at-least-once window), which is not what this test is about.
    let survivor = o.survivor(&owner);
    wait_until("a survivor recorded the delivery", SETTLE, async || {
        down_alert(&survivor, &o.id).await["outcome"] == "delivered"
    })
    .await;

    let killed = Instant::now();
    o.cluster.kill(&owner).await;
    o.wait_taken_over(&owner, killed, 4).await;
    assert_eq!(o.count("down"), 1, "{:?}", o.sink.accepted());
    let api = o.survivor(&owner);
    assert_eq!(api.get_monitor(&o.id).await.status, "down");

    o.recover().await;
    assert_eq!(
        (o.count("down"), o.count("up")),
        (1, 1),
        "{:?}",
        o.sink.accepted()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_killed_before_the_down_alert_gives_exactly_one_down() {
    let mut o = Outage::start(3).await;
    let owner = owner_of(&o.cluster.api("n1"), &o.id).await;
    let failing_since = Instant::now();
    o.target.set("/svc", Behavior::Status(500));
    // The owner sees the first failure (of three needed), then dies.
    wait_until("a failing probe", SETTLE, async || {
        o.target.hits_since("/svc", failing_since) >= 1
    })
    .await;
    let killed = Instant::now();
    o.cluster.kill(&owner).await;
    let down = o
        .sink
        .wait_for_where(1, SETTLE, |j| j["status"] == "down")
        .await;
    assert_ne!(down[0].json.as_ref().unwrap()["node"], owner.as_str());
    o.wait_taken_over(&owner, killed, 6).await;
    assert_eq!(o.count("down"), 1, "{:?}", o.sink.accepted());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_killed_while_the_channel_fails_leaves_the_alert_to_the_next_owner() {
    let mut o = Outage::start(2).await;
    let owner = owner_of(&o.cluster.api("n1"), &o.id).await;
    o.sink.fail_next(1_000);
    o.target.set("/svc", Behavior::Status(500));
    // The owner decided and tried; the channel refused. The decision is on record on a
    // survivor before the kill (an owner killed before its transition leaves the node is the
    // "before the down alert" case, which another test covers).
    o.sink.wait_for_attempts(1, SETTLE).await;
    let survivor = o.survivor(&owner);
    wait_until("a survivor holds the decision", SETTLE, async || {
        !down_alert(&survivor, &o.id).await.is_null()
    })
    .await;
    let killed = Instant::now();
    o.cluster.kill(&owner).await;
    o.sink.fail_next(0);
    let down = o
        .sink
        .wait_for_where(1, SETTLE, |j| j["status"] == "down")
        .await;
    assert_eq!(
        down[0].json.as_ref().unwrap()["node"],
        owner.as_str(),
        "decided once, by the old owner"
    );
    o.wait_taken_over(&owner, killed, 4).await;
    assert_eq!(o.count("down"), 1, "{:?}", o.sink.accepted());
}

/// `nodes` nodes with a webhook notifier at a local sink and one 1 s monitor of `/svc` on a
/// local target, up; returns them with the monitor's id.
async fn watched(nodes: usize) -> (Cluster, WebhookSink, Target, String) {
    let cluster = Cluster::start(nodes).await;
    let n1 = cluster.api("n1");
    let sink = WebhookSink::start().await;
    let target = Target::start().await;
    add_webhook(&n1, &sink).await;
    let id = add_monitor(&n1, &target, "/svc", 1).await;
    wait_status(&n1, &id, "up").await;
    (cluster, sink, target, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_webhook_gets_the_alert_once_after_retries() {
    let (_cluster, sink, target, id) = watched(1).await;

    sink.fail_next(3);
    target.set("/svc", Behavior::Status(500));
    let down = sink
        .wait_for_where(1, SETTLE, |j| j["status"] == "down")
        .await;
    assert_eq!(sink.attempts(), 4, "3 refusals, then the delivery");
    assert_eq!(
        down[0].header("idempotency-key"),
        Some(format!("{id}/1").as_str())
    );
    let after = Instant::now();
    wait_until("3 more probes", SETTLE, async || {
        target.hits_since("/svc", after) >= 3
    })
    .await;
    assert_eq!(sink.accepted().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_channel_receives_a_readable_email() {
    let cluster = Cluster::start(1).await;
    let n1 = cluster.api("n1");
    let smtp = SmtpSink::start().await;
    let target = Target::start().await;
    let body = json!({
        "type": "email", "name": "ops mail", "smtp_host": "127.0.0.1", "smtp_port": smtp.port(),
        "smtp_security": "none", "smtp_username": "ringwatch", "smtp_password": "secret",
        "from": "ringwatch@example.test", "to": ["ops@example.test"],
    });
    let created: Value = n1
        .post_json("/api/notifiers", &body)
        .await
        .expect_status(201)
        .json();
    assert!(
        !created.to_string().contains("secret"),
        "password shown: {created}"
    );
    let id = add_monitor(&n1, &target, "/shop", 1).await;
    wait_status(&n1, &id, "up").await;

    target.set("/shop", Behavior::Status(503));
    let mail = smtp.wait_for(1, SETTLE).await;
    assert_eq!(mail[0].to, ["ops@example.test"]);
    assert_eq!(mail[0].auth_user.as_deref(), Some("ringwatch"));
    let subject = mail[0].subject().unwrap();
    assert!(
        subject.contains("DOWN") && subject.contains("/shop"),
        "{subject}"
    );
    let text = mail[0].body();
    assert!(text.contains("503") && text.contains(&id), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifier_api_refuses_bad_input_and_deletes() {
    let cluster = Cluster::start(1).await;
    let n1 = cluster.api("n1");
    for (body, want) in [
        (
            json!({"type": "sms", "url": "http://x/"}),
            "must be webhook",
        ),
        (json!({"type": "webhook"}), "url is required"),
        (
            json!({"type": "webhook", "url": "http://x/", "id": "mine"}),
            "made by the server",
        ),
        (
            json!({"type": "email", "smtp_host": "h", "from": "x", "to": ["a@b"]}),
            "email address",
        ),
    ] {
        let resp = n1.post_json("/api/notifiers", &body).await;
        resp.check_refusal(400).unwrap();
        let message = resp.error_message().unwrap();
        assert!(message.contains(want), "{body}: {message}");
    }
    let resp = n1.post_bytes("/api/notifiers", b"{not json".to_vec()).await;
    resp.check_refusal(400).unwrap();
    let list: Value = n1.get("/api/notifiers").await.json();
    assert_eq!(list, json!([]), "nothing was created by refused requests");

    let sink = WebhookSink::start().await;
    let id = add_webhook(&n1, &sink).await;
    assert_eq!(n1.delete(&format!("/api/notifiers/{id}")).await.status, 204);
    assert_eq!(n1.get(&format!("/api/notifiers/{id}")).await.status, 404);
    assert_eq!(n1.delete(&format!("/api/notifiers/{id}")).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_file_notifiers_and_a_monitors_choice_of_channels() {
    let from_file = WebhookSink::start().await;
    let from_api = WebhookSink::start().await;
    let target = Target::start().await;
    let dir = TestDir::new();
    let config = dir.path().join("ringwatch.toml");
    let toml = format!(
        "[[notifiers]]\nid = \"file-hook\"\ntype = \"webhook\"\nurl = \"{}\"\n\n\
         [[monitors]]\nid = \"file-shop\"\nurl = \"{}\"\ninterval_secs = 1\n\
         failure_threshold = 1\nnotifiers = [\"file-hook\"]\nexpect_status = [200, \"300-399\"]\n",
        from_file.url("/hook"),
        target.url("/only-file"),
    );
    std::fs::write(&config, toml).unwrap();
    let node = NodeProc::start_in(&dir, "n1", &["--config", config.to_str().unwrap()]).await;
    let api = node.api();
    let listed: Value = api
        .get("/api/notifiers/file-hook")
        .await
        .expect_status(200)
        .json();
    assert_eq!(listed["type"], "webhook");
    add_webhook(&api, &from_api).await;

    let chosen = "file-shop".to_owned();
    assert_eq!(api.get_monitor(&chosen).await.failure_threshold, 1);
    let everyone = add_monitor(&api, &target, "/all", 1).await;
    wait_status(&api, &chosen, "up").await;
    wait_status(&api, &everyone, "up").await;
    target.set("/only-file", Behavior::Status(500));
    target.set("/all", Behavior::Status(500));

    let is = |id: &str| {
        let id = id.to_owned();
        move |j: &Value| j["monitor_id"] == id.as_str()
    };
    from_file.wait_for_where(1, SETTLE, is(&chosen)).await;
    from_file.wait_for_where(1, SETTLE, is(&everyone)).await;
    from_api.wait_for_where(1, SETTLE, is(&everyone)).await;
    assert!(
        from_api.accepted_where(is(&chosen)).is_empty(),
        "a channel the monitor did not choose was alerted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_sends_what_it_still_owed_once() {
    let dir = TestDir::new();
    let mut node = NodeProc::start_in(&dir, "n1", &[]).await;
    let sink = WebhookSink::start().await;
    let target = Target::start().await;
    add_webhook(&node.api(), &sink).await;
    let id = add_monitor(&node.api(), &target, "/svc", 1).await;
    wait_status(&node.api(), &id, "up").await;

    // Decided and tried, refused by the channel, then the process dies.
    sink.fail_next(1_000);
    target.set("/svc", Behavior::Status(500));
    sink.wait_for_attempts(1, SETTLE).await;
    node.sigkill();
    sink.fail_next(0);
    node.restart().await;
    let down = sink
        .wait_for_where(1, SETTLE, |j| j["status"] == "down")
        .await;
    assert_eq!(
        down[0].json.as_ref().unwrap()["event_id"],
        format!("{id}/1")
    );

    // Restarted again after the delivery: nothing is sent twice.
    node.sigkill();
    node.restart().await;
    target.set("/svc", Behavior::Status(200));
    sink.wait_for_where(1, SETTLE, |j| j["status"] == "up")
        .await;
    let after = Instant::now();
    wait_until("3 more probes", SETTLE, async || {
        target.hits_since("/svc", after) >= 3
    })
    .await;
    let accepted = sink.accepted();
    assert_eq!(with_status(&accepted, "down").len(), 1, "{accepted:?}");
    assert_eq!(with_status(&accepted, "up").len(), 1, "{accepted:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_and_discord_get_their_own_formats() {
    let cluster = Cluster::start(1).await;
    let n1 = cluster.api("n1");
    let sink = WebhookSink::start().await;
    for (kind, path) in [("slack", "/slack"), ("discord", "/discord")] {
        let body = json!({ "type": kind, "url": sink.url(path) });
        n1.post_json("/api/notifiers", &body)
            .await
            .expect_status(201);
    }
    let target = Target::start().await;
    let id = add_monitor(&n1, &target, "/shop", 1).await;
    wait_status(&n1, &id, "up").await;
    target.set("/shop", Behavior::Status(502));
    let got = sink.wait_for(2, SETTLE).await;
    let slack = got
        .iter()
        .find(|r| r.path == "/slack")
        .expect("slack message");
    let discord = got
        .iter()
        .find(|r| r.path == "/discord")
        .expect("discord message");
    let text = slack.json.as_ref().unwrap()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.starts_with("DOWN: /shop") && text.contains("502"),
        "{text}"
    );
    let content = discord.json.as_ref().unwrap()["content"].as_str().unwrap();
    assert_eq!(content, text);
}

/// The `down` notification of the newest incident of `id`, as `api` shows it.
async fn down_alert(api: &Api, id: &str) -> Value {
    let incidents: Value = api
        .get(&format!("/api/monitors/{id}/incidents"))
        .await
        .expect_status(200)
        .json();
    incidents[0]["alerts"]
        .as_array()
        .and_then(|alerts| alerts.iter().find(|a| a["status"] == "down"))
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_shows_a_failing_channels_attempts_and_error_while_it_retries() {
    let (cluster, sink, target, id) = watched(2).await;

    sink.fail_next(1_000);
    target.set("/svc", Behavior::Status(500));
    sink.wait_for_attempts(2, SETTLE).await;
    for name in ["n1", "n2"] {
        let api = cluster.api(name);
        let alert = wait_for(
            &format!("{name} shows the failed attempts"),
            SETTLE,
            async || {
                let alert = down_alert(&api, &id).await;
                if alert["attempts"].as_u64().unwrap_or(0) >= 2 {
                    Ok(alert)
                } else {
                    Err(format!("{alert}"))
                }
            },
        )
        .await;
        assert_eq!(alert["outcome"], "pending", "{name}: {alert}");
        let error = alert["last_error"].as_str().unwrap_or_default();
        assert!(
            error.contains("500"),
            "{name}: the sink's 500 is the error: {alert}"
        );
        assert!(
            !error.contains(&sink.url("/hook")),
            "{name}: the webhook URL is a secret: {alert}"
        );
        assert!(
            alert["next_attempt_ms"].as_u64().is_some(),
            "{name}: {alert}"
        );
    }

    sink.fail_next(0);
    sink.wait_for_where(1, SETTLE, |j| j["status"] == "down")
        .await;
    for name in ["n1", "n2"] {
        let api = cluster.api(name);
        let alert = wait_for(&format!("{name} shows the delivery"), SETTLE, async || {
            let alert = down_alert(&api, &id).await;
            if alert["outcome"] == "delivered" {
                Ok(alert)
            } else {
                Err(format!("{alert}"))
            }
        })
        .await;
        assert!(
            alert["attempts"].as_u64().unwrap_or(0) >= 3,
            "{name}: {alert}"
        );
        assert!(alert["last_error"].is_null(), "{name}: {alert}");
    }
}

/// Unix ms now, to compare with the `since_ms` of notifications.
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Polls the clock until unix ms `at`: the scenario's own timeline, not a synchronisation.
async fn until_unix_ms(what: &str, at: u64) {
    let wait = Duration::from_millis(at.saturating_sub(unix_ms())) + SETTLE;
    wait_until(what, wait, async || unix_ms() >= at).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_and_a_half_periods_down_give_three_reminders_also_when_the_owner_is_killed() {
    const PERIOD_MS: u64 = 6_000;
    let mut o = Outage::start(2).await;
    let n1 = o.cluster.api("n1");
    n1.patch_json(
        &format!("/api/monitors/{}", o.id),
        &json!({"repeat_every": "6s"}),
    )
    .await
    .expect_status(200);
    for n in ["n1", "n2", "n3"] {
        let api = o.cluster.api(n);
        wait_until("repeat_every replicated", SETTLE, async || {
            api.get(&format!("/api/monitors/{}", o.id))
                .await
                .json::<Value>()["repeat_every"]
                == "6s"
        })
        .await;
    }
    let owner = owner_of(&n1, &o.id).await;
    o.target.set("/svc", Behavior::Status(500));
    let down = o
        .sink
        .wait_for_where(1, SETTLE, |j| j["status"] == "down")
        .await;
    let down = down[0].json.clone().unwrap();
    assert_eq!(down["reminder"], false);
    let since = down["since_ms"].as_u64().unwrap();

    // The owner sends the first reminder, and is killed half way to the second.
    let first = o
        .sink
        .wait_for_where(1, SETTLE + Duration::from_millis(PERIOD_MS), |j| {
            j["reminder"] == true
        })
        .await;
    assert_eq!(first[0].json.as_ref().unwrap()["node"], owner.as_str());
    until_unix_ms("1.5 periods down", since + PERIOD_MS * 3 / 2).await;
    o.cluster.kill(&owner).await;
    // The target recovers 3.5 periods after the down.
    until_unix_ms("3.5 periods down", since + PERIOD_MS * 7 / 2).await;
    o.recover().await;

    let got: Vec<Value> = o
        .sink
        .accepted()
        .iter()
        .filter_map(|r| r.json.clone())
        .collect();
    let reminders: Vec<&Value> = got.iter().filter(|j| j["reminder"] == true).collect();
    let sent: Vec<(u64, &Value)> = reminders
        .iter()
        .map(|j| (j["since_ms"].as_u64().unwrap() - since, &j["node"]))
        .collect();
    assert_eq!(reminders.len(), 3, "three reminders: {sent:?}");
    for (k, j) in reminders.iter().enumerate() {
        // Each is dated at its period's boundary, whoever sent it.
        assert_eq!(
            j["since_ms"],
            since + PERIOD_MS * (k as u64 + 1),
            "{sent:?}"
        );
        assert_eq!(
            (&j["status"], &j["previous_status"]),
            (&"down".into(), &"down".into())
        );
        assert!(
            j["reason"]
                .as_str()
                .unwrap()
                .contains(&format!("reminder {}", k + 1))
        );
    }
    assert!(
        reminders[1..].iter().all(|j| j["node"] != owner.as_str()),
        "the next owner sends the rest: {sent:?}"
    );
    let events: std::collections::BTreeSet<String> =
        got.iter().map(|j| j["event_id"].to_string()).collect();
    assert_eq!(events.len(), got.len(), "no notification twice: {got:?}");
    assert_eq!(
        (o.count("down"), o.count("up")),
        (4, 1),
        "one down, three reminders, one up"
    );
}
