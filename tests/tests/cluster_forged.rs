//! A peer that has the cookie cannot corrupt the cluster: the test process joins a real node
//! as a raw ractor_cluster node named `evil` (with the cookie) and sends it forged frames:
//! frames claiming to be another node or the node itself, far-future revisions and results,
//! results of another origin, invented members. Each is dropped or refused and counted in
//! `/metrics`, the node's state shows none of it, and the log says so a few times, not once
//! per frame.

use std::time::Duration;

use ractor::{Actor, ActorRef};
use ractor_cluster::node::NodeConnectionMode;
use ractor_cluster::{NodeServer, NodeServerMessage};
use ringwatch::cluster::endpoint::{EndpointMessage, GROUP, session_name};
use ringwatch_proto::{Envelope, MemberInfo, Monitor, PeerMsg, ProbeResult, Rev, encode};
use ringwatch_tests::{NodeProc, Target, TestDir, now_ms, secs, wait_until};

const COOKIE: &str = "forged-frames-test-cookie";

/// The test process as a cluster node: its node server, and the node's endpoint it sends to.
struct Evil {
    _server: ActorRef<NodeServerMessage>,
    endpoint: ActorRef<EndpointMessage>,
    me: MemberInfo,
}

impl Evil {
    /// Connects to `addr` as `evil~1` with the cookie and waits for the node's endpoint.
    async fn join(addr: &str) -> Evil {
        let server = NodeServer::new(
            0,
            COOKIE.to_owned(),
            session_name("evil", 1),
            "127.0.0.1".to_owned(),
            None,
            Some(NodeConnectionMode::Isolated),
        );
        let (server, _) = Actor::spawn(None, server, ()).await.expect("node server");
        ractor_cluster::client_connect(&server, addr)
            .await
            .expect("connect to the node");
        let mut endpoint = None;
        for _ in 0..100 {
            endpoint = ractor::pg::get_members(&GROUP.to_owned())
                .into_iter()
                .find(|c| !c.get_id().is_local());
            if endpoint.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let endpoint = endpoint.expect("the node's endpoint is advertised").into();
        let me = member("evil", 1);
        Evil {
            _server: server,
            endpoint,
            me,
        }
    }

    fn send_as(&self, from: &MemberInfo, body: PeerMsg) {
        let bytes = encode(&Envelope {
            from: from.clone(),
            body,
        });
        self.endpoint
            .cast(EndpointMessage::frame(bytes))
            .expect("send a frame");
    }

    fn send(&self, body: PeerMsg) {
        self.send_as(&self.me, body);
    }

    fn heartbeat(&self, members: Vec<MemberInfo>) {
        self.send(PeerMsg::Heartbeat {
            members,
            acks: vec![],
        });
    }
}

fn member(name: &str, incarnation: u64) -> MemberInfo {
    MemberInfo {
        name: name.into(),
        incarnation,
        // Nothing listens there: dials to it fail at once.
        cluster: "127.0.0.1:1".into(),
        http: "127.0.0.1:1".into(),
        zone: "default".into(),
    }
}

fn monitor(id: &str, url: &str, hlc: u64) -> Monitor {
    let mut m = Monitor::new(id.into(), url.into());
    m.active = false;
    m.rev = Rev {
        hlc,
        node: "evil".into(),
    };
    m
}

fn result(monitor_id: &str, node: &str, at_ms: u64) -> ProbeResult {
    ProbeResult {
        monitor_id: monitor_id.into(),
        at_ms,
        ok: false,
        status_code: Some(500),
        latency_ms: 1,
        error: Some("forged".into()),
        error_kind: None,
        node: node.into(),
        tls_days_left: None,
        zone: "default".into(),
    }
}

/// The value of one metric line (`name{labels}`) in a `/metrics` text; 0 if absent.
fn metric(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_frames_from_a_peer_with_the_cookie_are_dropped_and_counted() {
    let target = Target::start().await;
    let dir = TestDir::new();
    let n1 = NodeProc::start_in(&dir, "n1", &["--cookie", COOKIE]).await;
    let api = n1.api();
    let real = api
        .create_monitor(&serde_json::json!({ "url": target.url("/ok"), "interval_secs": 1 }))
        .await;
    let evil = Evil::join(&n1.cluster_addr().to_string()).await;
    let now = now_ms();
    let hlc_now = now << 16;

    // 1. Frames claiming to be someone else: another node, another start of a node, n1 itself.
    let n2 = member("n2", 5);
    for _ in 0..25 {
        evil.send_as(
            &n2,
            PeerMsg::Heartbeat {
                members: vec![n2.clone()],
                acks: vec![],
            },
        );
    }
    evil.send_as(
        &n2,
        PeerMsg::Definitions(vec![monitor("as-n2", "http://127.0.0.1:9/", hlc_now)]),
    );
    evil.send_as(&member("evil", 2), PeerMsg::Leaving);
    evil.send_as(&member("n1", 1), PeerMsg::Leaving);

    // 2. Its own heartbeat, naming 100 members nobody has heard.
    let ghosts: Vec<MemberInfo> = std::iter::once(evil.me.clone())
        .chain((0..100).map(|i| member(&format!("ghost-{i}"), 1)))
        .collect();
    evil.heartbeat(ghosts.clone());

    // 3. Definitions: one from an hour ahead, one invalid, one fine.
    let hour_ahead = (now + 3_600_000) << 16;
    evil.send(PeerMsg::Definitions(vec![
        monitor("from-the-future", "http://127.0.0.1:9/", hour_ahead),
        monitor("not-a-url", "ftp://127.0.0.1/", hlc_now),
        monitor("fine", "http://127.0.0.1:9/", hlc_now),
    ]));

    // 4. Results for n1's monitor: a day ahead, another node's, and one that is fine.
    let day_ahead = now + 24 * 3_600_000;
    evil.send(PeerMsg::Results {
        seq: 1,
        results: vec![
            result(&real.id, "evil", day_ahead),
            result(&real.id, "n1", now),
            result(&real.id, "evil", now),
        ],
    });
    // A second opinion nobody asked for, claiming n1 probed it.
    evil.send(PeerMsg::Confirmed {
        token: 1,
        result: Box::new(result(&real.id, "n1", now)),
    });

    // Everything arrives in order on one session: once the last frame is counted, all was.
    let series = "ringwatch_peer_records_refused_total{kind=\"result\",reason=\"wrong_origin\"}";
    wait_until("the last forged frame is handled", secs(10), async || {
        metric(&api.get("/metrics").await.text(), series) == 2
    })
    .await;
    assert!(api.monitor_ids().await.contains(&"fine".to_owned()));
    let metrics = api.get("/metrics").await.expect_status(200).text();
    let dropped = |reason: &str| {
        metric(
            &metrics,
            &format!("ringwatch_peer_frames_dropped_total{{reason=\"{reason}\"}}"),
        )
    };
    assert_eq!(dropped("wrong_sender"), 27, "{metrics}");
    assert_eq!(dropped("from_self"), 1);
    let refused = |reason: &str| {
        metric(
            &metrics,
            &format!("ringwatch_peer_records_refused_total{{kind=\"result\",reason=\"{reason}\"}}"),
        )
    };
    assert_eq!(refused("future"), 1, "{metrics}");
    assert_eq!(refused("wrong_origin"), 2, "{metrics}");
    assert_eq!(
        metric(
            &metrics,
            "ringwatch_definitions_refused_total{kind=\"monitor\"}"
        ),
        2,
        "{metrics}"
    );

    // The node holds none of it.
    let ids = api.monitor_ids().await;
    for id in ["as-n2", "from-the-future", "not-a-url"] {
        assert!(!ids.contains(&id.to_owned()), "{id} was merged: {ids:?}");
    }
    let results = api.results(&real.id, None, None).await;
    assert!(
        results.iter().all(|r| r.at_ms < now + 60_000),
        "a result from the future was stored: {results:?}"
    );
    assert!(
        !results
            .iter()
            .any(|r| r.node == "n1" && r.error.as_deref() == Some("forged")),
        "a result forged as n1's was stored"
    );
    // The last result is a real one (n1's probe, or evil's fine result), not the forged one.
    let last = api.get_monitor(&real.id).await.last_result;
    assert!(
        last.as_ref().is_some_and(|r| r.at_ms < now + 60_000),
        "last_result {last:?}"
    );

    // Membership: evil (which spoke for itself) is a member; nobody it spoke for or invented.
    for _ in 0..4 {
        evil.heartbeat(ghosts.clone());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let view = api.cluster_view().await;
    let names: Vec<&str> = view.nodes.iter().map(|m| m.name.as_str()).collect();
    assert!(names.contains(&"evil"), "{view:?}");
    for ghost in ["n2", "ghost-0", "ghost-99"] {
        assert!(!names.contains(&ghost), "{ghost} adopted: {view:?}");
    }
    assert_eq!(view.nodes.len(), 2, "{view:?}");
    assert_eq!(view.alive, ["evil", "n1"]);
    // Past the 64 it dials at most, the hints are dropped, and counted.
    let metrics = api.get("/metrics").await.text();
    let hints = metric(&metrics, "ringwatch_peer_member_hints_dropped_total");
    assert!(hints >= 36, "{hints} hints dropped:\n{metrics}");

    // The log says so a few times, not once per frame.
    let log = n1.stderr_log();
    let lines = log.matches("dropping frames from a peer").count();
    assert!((1..=3).contains(&lines), "{lines} lines:\n{log}");
    assert!(api.is_healthy().await);
}
