//! Bounded work before authentication (issue 12, part 7, the cluster side): 500 half-open
//! connections at the cluster port (TCP open with nothing sent, half a TLS record, or half
//! of a large frame) while a node probes. The node keeps probing at its rate, its memory
//! stays within 64 MiB of its idle figure, its log grows by fewer than 100 lines, it closes
//! every one of them within its handshake timeout, and a real peer can still join. With
//! and without cluster TLS.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ringwatch_tests::cluster::{assert_probe_rates, monitor_paths, wait_all_probed_since};
use ringwatch_tests::{
    NodeProc, Target, TestDir, measurement_window_until, ms, run_ringwatch, secs, wait_until,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Issue 12: the half-open connections of the attack.
const HALF_OPEN: usize = 500;
/// Issue 12: most the node's memory may grow over its idle figure.
const MAX_RSS_GROWTH_KIB: u64 = 64 * 1024;
/// Issue 12: most lines the node's log may grow by.
const MAX_LOG_LINES: usize = 100;
/// The node's handshake timeout (5 s), plus slack for a loaded machine.
const CLOSED_WITHIN: Duration = Duration::from_secs(10);
/// The window in which probing, memory and the log are watched.
const WINDOW: Duration = Duration::from_secs(12);

async fn certificates(dir: &Path) -> PathBuf {
    let certs = dir.join("certs");
    let arg = certs.to_str().expect("utf-8 path");
    run_ringwatch(&["cert", "init", "--dir", arg], dir, secs(30))
        .await
        .assert_success("cert init");
    for name in ["n1", "n2"] {
        run_ringwatch(&["cert", "issue", name, "--dir", arg], dir, secs(30))
            .await
            .assert_success("cert issue");
    }
    certs
}

fn node_args(certs: Option<&Path>, name: &str) -> Vec<String> {
    let Some(certs) = certs else {
        return Vec::new();
    };
    let file = |f: String| certs.join(f).display().to_string();
    vec![
        "--tls-ca-file".into(),
        file("ca.crt".into()),
        "--tls-cert-file".into(),
        file(format!("{name}.crt")),
        "--tls-key-file".into(),
        file(format!("{name}.key")),
    ]
}

/// What the i-th attacking connection sends before it stalls.
fn half_handshake(i: usize) -> Vec<u8> {
    match i % 3 {
        0 => Vec::new(),
        // A TLS handshake record header promising 16 KiB, and 100 bytes of it.
        1 => [&[0x16, 0x03, 0x01, 0x40, 0x00][..], &[0u8; 100]].concat(),
        // A cluster frame header promising 4 MiB - 1 bytes, and 1000 of them.
        _ => [&((4u64 << 20) - 1).to_be_bytes()[..], &[0u8; 1000]].concat(),
    }
}

fn log_lines(node: &NodeProc) -> usize {
    node.stderr_log().lines().count()
}

/// True once the node has closed `stream` (EOF or reset; any bytes before are skipped).
fn closed_by_peer(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match stream.try_read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

async fn half_open_connections_cost_little(tls: bool) {
    let dir = TestDir::new();
    let certs = if tls {
        Some(certificates(dir.path()).await)
    } else {
        None
    };
    let args = node_args(certs.as_deref(), "n1");
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
    let lines_before = log_lines(&n1);

    let opened_at = Instant::now();
    let mut attackers = Vec::with_capacity(HALF_OPEN);
    for i in 0..HALF_OPEN {
        let Ok(mut stream) = TcpStream::connect(n1.cluster_addr()).await else {
            continue; // refused at the TCP level: costs the node nothing either
        };
        let _ = stream.write_all(&half_handshake(i)).await;
        attackers.push(stream);
    }
    eprintln!(
        "{} of {HALF_OPEN} connections opened in {:?}",
        attackers.len(),
        opened_at.elapsed()
    );

    // A real peer joins while they are open.
    let mut args = node_args(certs.as_deref(), "n2");
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
    let new_lines = log_lines(&n1) - lines_before;
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
    let log = n1.stderr_log();
    let tail: Vec<&str> = log.lines().skip(lines_before).collect();
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
