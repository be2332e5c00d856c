//! In-process tests of the supervision tree: a node on an in-memory store probing a local
//! target, with faults injected into its actors.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ractor::ActorRef;
use ringwatch_proto::Monitor;
use warp::Filter;

use crate::config::Config;
use crate::links::CoordinatorMessage;
use crate::links::PoolMessage;
use crate::node::Node;
use crate::store::Store;

/// A local HTTP target that counts its hits.
async fn target() -> (String, Arc<AtomicU64>) {
    let hits = Arc::new(AtomicU64::new(0));
    let counter = hits.clone();
    let route = warp::any().map(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        "ok"
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(route).incoming(listener).run());
    (format!("http://{addr}/"), hits)
}

async fn node(name: &str) -> Node {
    let config = Config {
        name: name.into(),
        http: "127.0.0.1:0".parse().unwrap(),
        cluster: "127.0.0.1:0".parse().unwrap(),
        probers: 2,
        ..Config::default()
    }
    .finish()
    .unwrap();
    Node::start_with_store(config, Store::in_memory())
        .await
        .unwrap()
}

async fn wait_until(what: &str, deadline: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn add(node: &Node, url: &str) -> Arc<Monitor> {
    let mut m = Monitor::new(String::new(), url.into());
    m.interval_secs = 1;
    crate::catalog::create(&node.ctx, vec![m])
        .unwrap()
        .remove(0)
}

/// Waits for `n` more hits and returns how long they took.
async fn more_hits(hits: &AtomicU64, n: u64) -> Duration {
    let start = Instant::now();
    let goal = hits.load(Ordering::Relaxed) + n;
    wait_until("more probes", Duration::from_secs(10), || {
        hits.load(Ordering::Relaxed) >= goal
    })
    .await;
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_prober_is_restarted_and_keeps_probing() {
    let node = node("fault-prober").await;
    let (url, hits) = target().await;
    // Several monitors, so both probers have some.
    for _ in 0..6 {
        add(&node, &url);
    }
    more_hits(&hits, 6).await;
    let pool: ActorRef<PoolMessage> = node.ctx.links.pool.get().unwrap();
    for n in 0..2 {
        pool.cast(PoolMessage::PanicProber(n)).unwrap();
    }
    wait_until("prober restarts", Duration::from_secs(5), || {
        node.ctx.metrics.prober_restarts.get() >= 2
    })
    .await;
    // All six monitors keep being probed: 12 more hits within a few seconds.
    more_hits(&hits, 12).await;
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_coordinator_is_restarted_without_a_probing_gap() {
    let node = node("fault-coord").await;
    let (url, hits) = target().await;
    add(&node, &url);
    more_hits(&hits, 1).await;
    node.ctx
        .coordinator()
        .unwrap()
        .cast(CoordinatorMessage::Panic)
        .unwrap();
    // The next probe still comes within its interval (plus slack).
    assert!(more_hits(&hits, 1).await < Duration::from_secs(3));
    // And the restarted coordinator takes new monitors.
    wait_until("a new coordinator", Duration::from_secs(5), || {
        node.ctx.coordinator().is_some()
    })
    .await;
    let (url2, hits2) = target().await;
    add(&node, &url2);
    more_hits(&hits2, 2).await;
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_results_into_the_store() {
    let node = node("drain").await;
    let (url, hits) = target().await;
    let m = add(&node, &url);
    more_hits(&hits, 2).await;
    let store = node.ctx.store.clone();
    node.shutdown().await;
    let stored = store.results(&m.id, 0, 100).unwrap();
    assert!(stored.len() as u64 >= hits.load(Ordering::Relaxed) - 1);
    assert!(stored.iter().all(|r| r.ok && r.node == "drain"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_from_a_peer_costs_only_that_frame() {
    use crate::links::PeersMessage;
    use ringwatch_proto::{Envelope, MemberInfo, PeerMsg, encode};

    let node = node("garbage").await;
    let peers: ActorRef<PeersMessage> = node.ctx.links.peers.get().unwrap();
    let valid = encode(&Envelope {
        from: MemberInfo {
            name: "evil".into(),
            incarnation: 1,
            cluster: "127.0.0.1:9".into(),
            http: "127.0.0.1:9".into(),
            zone: "default".into(),
        },
        body: PeerMsg::Definitions(vec![]),
    });
    let mut bad_version = valid.clone();
    bad_version[0] = 99;
    let frames = [
        vec![],
        vec![1],
        vec![0xff; 64],
        valid[..valid.len() / 2].to_vec(),
        bad_version,
    ];
    for f in &frames {
        let (bytes, session) = (f.clone(), Some("evil~1".to_owned()));
        peers.cast(PeersMessage::Frame { bytes, session }).unwrap();
    }
    wait_until("rejected frames counted", Duration::from_secs(5), || {
        node.ctx.metrics.peer_frames_rejected.get() == frames.len() as u64
    })
    .await;
    // The node still works: it takes a monitor and probes it.
    let (url, hits) = target().await;
    add(&node, &url);
    more_hits(&hits, 1).await;
    node.shutdown().await;
}
