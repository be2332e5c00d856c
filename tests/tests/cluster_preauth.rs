//! Bounded work before authentication (issue 12, part 7, the cluster side): 500 half-open
//! connections at the cluster port (TCP open with nothing sent, half a TLS record, or half
//! of a large frame) while a node probes. The node keeps probing at its rate, its memory
//! stays within 64 MiB of its idle figure, its log grows by fewer than 100 lines, it closes
//! every one of them within its handshake timeout, and a real peer can still join. With
//! and without cluster TLS.

use std::time::{Duration, Instant};

use ringwatch_tests::attack::{
    HALF_OPEN_CONNECTIONS, LogMark, MAX_LOG_LINES, MAX_RSS_GROWTH_KIB, closed_by_peer,
    cluster_certificates, open_half_open, tls_args,
};
use ringwatch_tests::cluster::{assert_probe_rates, monitor_paths, wait_all_probed_since};
use ringwatch_tests::{NodeProc, Target, TestDir, measurement_window_until, ms, secs, wait_until};

/// The node's handshake timeout (5 s), plus slack for a loaded machine.
const CLOSED_WITHIN: Duration = Duration::from_secs(10);
/// The window in which probing, memory and the log are watched.
const WINDOW: Duration = Duration::from_secs(12);

async fn half_open_connections_cost_little(tls: bool) {
    let dir = TestDir::new();
    let certs = if tls {
        Some(cluster_certificates(dir.path(), &["n1", "n2"]).await)
    } else {
        None
    };
    let args = tls_args(certs.as_deref(), "n1");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let n1 = NodeProc::start_in(&dir, "n1", &args).await;
    let target = Target::start().await;
    let paths = monitor_paths(5);
    let created_at = Instant::now();
    for path in &paths {
        n1.api()
            .create_monitor(&serde_json::json!({ "url": target.url(path), "interval_secs": 1 }))
            .await;
    }
    wait_all_probed_since(&target, &paths, created_at, secs(5)).await;
    // Idle: probing in steady state for a few seconds.
    measurement_window_until(Instant::now() + secs(3)).await;
    let idle_kib = n1.rss_kib();
    let log_mark = LogMark::of(&n1);

    let opened_at = Instant::now();
    let attackers = open_half_open(n1.cluster_addr(), HALF_OPEN_CONNECTIONS).await;
    eprintln!(
        "{} of {HALF_OPEN_CONNECTIONS} connections opened in {:?}",
        attackers.len(),
        opened_at.elapsed()
    );

    // A real peer joins while they are open.
    let mut args = tls_args(certs.as_deref(), "n2");
    args.extend(["--join".into(), n1.cluster_addr().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let n2 = NodeProc::start_in(&dir, "n2", &args).await;
    let window_start = Instant::now();
    let mut max_kib = n1.rss_kib();
    let mut all_closed_after = None;
    while window_start.elapsed() < WINDOW {
        max_kib = max_kib.max(n1.rss_kib());
        if all_closed_after.is_none() && attackers.iter().all(closed_by_peer) {
            all_closed_after = Some(opened_at.elapsed());
        }
        tokio::time::sleep(ms(200)).await;
    }
    for node in [&n1, &n2] {
        let api = node.api();
        wait_until("n1 and n2 to see each other alive", secs(10), async || {
            api.cluster_view().await.alive == ["n1", "n2"]
        })
        .await;
    }
    // Every monitor kept its rate through the attack and n2's arrival (it takes over some).
    assert_probe_rates(
        &target,
        &paths,
        window_start,
        WINDOW - secs(1),
        Some(0.7),
        1.5,
    )
    .await;

    let still_open = attackers.iter().filter(|s| !closed_by_peer(s)).count();
    let grew_kib = max_kib.saturating_sub(idle_kib);
    let tail = log_mark.new_lines(&n1);
    let new_lines = tail.len();
    eprintln!(
        "tls={tls}: rss idle {idle_kib} KiB, max {max_kib} KiB (+{grew_kib}); log +{new_lines} \
         lines; all closed after {all_closed_after:?}; still open {still_open}"
    );
    assert_eq!(still_open, 0, "the node left connections open");
    let closed_after = all_closed_after.expect("all closed within the window");
    assert!(
        closed_after <= CLOSED_WITHIN,
        "closed after {closed_after:?}"
    );
    assert!(
        grew_kib <= MAX_RSS_GROWTH_KIB,
        "memory grew by {grew_kib} KiB (idle {idle_kib} KiB)"
    );
    assert!(
        new_lines < MAX_LOG_LINES,
        "the log grew by {new_lines} lines:\n{}",
        tail.join("\n")
    );
    assert!(
        tail.iter().any(|l| l.contains("cluster handshake failed")),
        "the attack is not mentioned:\n{}",
        tail.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_cost_little_with_tls() {
    half_open_connections_cost_little(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_cost_little_without_tls() {
    half_open_connections_cost_little(false).await;
}
