//! In-process tests of the alerter inside a running node: its restart keeps what it owes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ringwatch_proto::{Monitor, NotifierKind, Rev, Status};
use warp::Filter;

use crate::config::Config;
use crate::links::AlerterMessage;
use crate::node::Node;
use crate::store::Store;

/// A local HTTP server on 127.0.0.1:0 answering `status()` and counting requests.
async fn server(
    status: impl Fn() -> u16 + Clone + Send + Sync + 'static,
) -> (String, Arc<AtomicU64>) {
    let hits = Arc::new(AtomicU64::new(0));
    let counter = hits.clone();
    let route = warp::any().map(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        let code = warp::http::StatusCode::from_u16(status()).unwrap();
        warp::reply::with_status("", code)
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(route).incoming(listener).run());
    (format!("http://{addr}/"), hits)
}

async fn wait_until(what: &str, deadline: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_alerter_still_sends_what_it_owed_once() {
    let config = Config {
        name: "alert-restart".into(),
        http: "127.0.0.1:0".parse().unwrap(),
        cluster: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    }
    .finish()
    .unwrap();
    let node = Node::start_with_store(config, Store::in_memory())
        .await
        .unwrap();
    let ctx = node.ctx.clone();
    // The channel refuses until told otherwise; the target always fails.
    let accepting = Arc::new(AtomicU64::new(0));
    let open = accepting.clone();
    let (hook, calls) = server(move || {
        if open.load(Ordering::SeqCst) == 1 {
            200
        } else {
            503
        }
    })
    .await;
    let (target, _) = server(|| 500).await;
    let notifier = ringwatch_proto::Notifier {
        id: String::new(),
        name: "hook".into(),
        kind: NotifierKind::Webhook { url: hook },
        rev: Rev::default(),
        deleted: false,
    };
    super::notifiers::create(&ctx, notifier).unwrap();
    let mut m = Monitor::new(String::new(), target);
    m.interval_secs = 1;
    m.failure_threshold = 1;
    let id = crate::catalog::create(&ctx, vec![m])
        .unwrap()
        .remove(0)
        .id
        .clone();

    let five_s = Duration::from_secs(5);
    wait_until("a refused attempt", five_s, || {
        calls.load(Ordering::SeqCst) >= 1
    })
    .await;
    assert_eq!(ctx.live.get(&id).unwrap().status(), Status::Down);
    ctx.links
        .alerter
        .get()
        .unwrap()
        .cast(AlerterMessage::Panic)
        .unwrap();
    let before = ctx.links.alerter.get().unwrap().get_id();
    wait_until("a new alerter", five_s, || {
        ctx.links
            .alerter
            .get()
            .is_some_and(|a| a.get_id() != before)
    })
    .await;
    accepting.store(1, Ordering::SeqCst);
    let label = crate::metrics::OutcomeLabel {
        outcome: "delivered",
    };
    let delivered = || ctx.metrics.notifications.get_or_create(&label).get();
    wait_until("the delivery", Duration::from_secs(10), || delivered() == 1).await;
    assert!(
        ctx.store
            .delivered(&id, 1, &super::notifiers::live(&ctx)[0].id)
            .unwrap()
    );
    // More failing probes decide nothing new and send nothing more.
    let seen = calls.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2_500)).await; // a measurement window, not a sync
    assert_eq!(calls.load(Ordering::SeqCst), seen);
    assert_eq!(delivered(), 1);
    node.shutdown().await;
}

/// A monitor in maintenance gets no decision, plain or zoned (both reach the alerter as a
/// `Due`); once the window is gone, each still failing goes down with one notification.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_decision_in_a_window_and_one_down_once_it_is_over() {
    let config = Config {
        name: "alert-maintenance".into(),
        http: "127.0.0.1:0".parse().unwrap(),
        cluster: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    }
    .finish()
    .unwrap();
    let node = Node::start_with_store(config, Store::in_memory())
        .await
        .unwrap();
    let ctx = node.ctx.clone();
    let (hook, calls) = server(|| 200).await;
    let (target, hits) = server(|| 500).await;
    let notifier = ringwatch_proto::Notifier {
        id: String::new(),
        name: "hook".into(),
        kind: NotifierKind::Webhook { url: hook },
        rev: Rev::default(),
        deleted: false,
    };
    super::notifiers::create(&ctx, notifier).unwrap();
    let now = crate::clock::now_ms();
    let window = crate::maintenance::create(
        &ctx,
        crate::domain::maintenance::MaintenanceInput {
            title: "deploy".into(),
            monitors: "all".into(),
            start_ms: Some(now - 1_000),
            end_ms: Some(now + 3_600_000),
            ..Default::default()
        },
    )
    .unwrap();
    let monitor = |zoned: bool| {
        let mut m = Monitor::new(String::new(), target.clone());
        m.interval_secs = 1;
        m.failure_threshold = 1;
        m.zones = zoned.then_some(ringwatch_proto::Zones::All);
        m
    };
    let ids: Vec<String> = crate::catalog::create(&ctx, vec![monitor(false), monitor(true)])
        .unwrap()
        .iter()
        .map(|m| m.id.clone())
        .collect();
    // Four failing probes each, well past the threshold of one: nothing decided, nothing sent.
    wait_until("eight failing probes", Duration::from_secs(10), || {
        hits.load(Ordering::SeqCst) >= 8
    })
    .await;
    ctx.flush_results(Duration::from_secs(5)).await;
    for id in &ids {
        assert!(ctx.in_maintenance(id, crate::clock::now_ms()));
        let e = ctx.live.get(id).unwrap();
        assert_eq!(e.status(), Status::Pending, "{id} decided in a window");
        assert!(
            e.last.as_ref().is_some_and(|r| !r.ok),
            "{id}: probes are recorded"
        );
        assert!(ctx.store.transitions(id).unwrap().is_empty());
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    assert!(crate::maintenance::delete(&ctx, &window.id).unwrap());
    wait_until("both down, both notified", Duration::from_secs(10), || {
        ids.iter()
            .all(|id| ctx.live.get(id).unwrap().status() == Status::Down)
            && calls.load(Ordering::SeqCst) >= 2
    })
    .await;
    let seen = hits.load(Ordering::SeqCst);
    wait_until("four more failing probes", Duration::from_secs(10), || {
        hits.load(Ordering::SeqCst) >= seen + 4
    })
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 2, "one DOWN per monitor");
    for id in &ids {
        assert_eq!(ctx.store.transitions(id).unwrap().len(), 1);
    }
    node.shutdown().await;
}
