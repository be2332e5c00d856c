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
