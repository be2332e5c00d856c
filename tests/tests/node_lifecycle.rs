//! One node's process life: clean stop on signals, restart on the same data dir, a kill -9
//! while probing, and the exit codes of failed starts.

use ringwatch_tests::{
    Api, NodeProc, ProbeResult, Target, TestDir, monitor_body, now_ms, secs, try_run_ringwatch,
    wait_for,
};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// SIGTERM/SIGINT: "exit 0 within 10 s".
const CLEAN_EXIT_TIMEOUT: Duration = Duration::from_secs(10);
/// After a kill -9 while probing every second, the stored history may lack at most the
/// results of this span before the kill.
const KILL_LOSS_BOUND_MS: u64 = 2_000;

/// Waits for a stored result that started at or after `after_ms`: the node is probing.
async fn wait_result_after(api: &Api, id: &str, after_ms: u64) -> ProbeResult {
    wait_for("a result after the restart", secs(5), async || {
        let results = api.results(id, Some(after_ms), None).await;
        results
            .into_iter()
            .find(|r| r.at_ms >= after_ms)
            .ok_or_else(|| "none yet".to_owned())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_line_names_the_bound_ports() {
    let node = NodeProc::start("solo").await;
    let mut failures = Vec::new();
    for (what, addr) in [("http", node.http_addr()), ("cluster", node.cluster_addr())] {
        if !addr.ip().is_loopback() || addr.port() == 0 {
            failures.push(format!("{what}={addr} is not the bound 127.0.0.1 port"));
        } else if let Err(e) = tokio::net::TcpStream::connect(addr).await {
            failures.push(format!("{what}={addr} does not accept connections: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nstdout: {:?}",
        failures.join("\n"),
        node.stdout_log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_zero_and_restart_keeps_monitors_and_history() {
    let target = Target::start().await;
    let mut node = NodeProc::start("solo").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&monitor_body(&target.url("/persist"), 1))
        .await;
    let paused = api
        .create_monitor(&serde_json::json!({
            "url": target.url("/persist-paused"),
            "name": "paused one",
            "active": false,
        }))
        .await;
    let history = api.wait_results(&monitor.id, 3, secs(15)).await;

    node.sigterm();
    let status = node
        .wait_exit(CLEAN_EXIT_TIMEOUT)
        .await
        .unwrap_or_else(|| panic!("still running {CLEAN_EXIT_TIMEOUT:?} after SIGTERM"));
    assert_eq!(status.code(), Some(0), "exit after SIGTERM: {status}");
    let stdout = node.stdout_log();
    assert_eq!(
        stdout.lines().count(),
        1,
        "stdout carries exactly the startup line: {stdout:?}"
    );

    node.restart().await;
    let restarted_ms = now_ms();
    let api = node.api();
    let mut monitors: Vec<_> = api
        .list_monitors()
        .await
        .iter()
        .map(|m| m.definition())
        .collect();
    monitors.sort_by_key(|d| d.id != monitor.id);
    assert_eq!(monitors, vec![monitor.definition(), paused.definition()]);
    assert_eq!(api.get_monitor(&paused.id).await.status, "paused");

    let kept = api.results(&monitor.id, None, None).await;
    let lost: Vec<_> = history.iter().filter(|r| !kept.contains(r)).collect();
    assert!(
        lost.is_empty(),
        "results lost over a clean restart: {lost:?}"
    );
    wait_result_after(&api, &monitor.id, restarted_ms).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_exits_zero() {
    let mut node = NodeProc::start("solo").await;
    node.sigint();
    let status = node
        .wait_exit(CLEAN_EXIT_TIMEOUT)
        .await
        .unwrap_or_else(|| panic!("still running {CLEAN_EXIT_TIMEOUT:?} after SIGINT"));
    assert_eq!(status.code(), Some(0), "exit after SIGINT: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_probing_keeps_history_up_to_the_kill() {
    let target = Target::start().await;
    let mut node = NodeProc::start("solo").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&monitor_body(&target.url("/crash"), 1))
        .await;
    api.wait_results(&monitor.id, 4, secs(15)).await;

    let killed_ms = now_ms();
    node.sigkill();
    node.wait_exit(secs(5))
        .await
        .expect("a killed node is gone at once");

    node.restart().await;
    let restarted_ms = now_ms();
    let restarted_at = Instant::now();
    let api = node.api();
    assert_eq!(
        api.get_monitor(&monitor.id).await.definition(),
        monitor.definition()
    );
    let history = api.results(&monitor.id, None, None).await;
    let newest = history
        .iter()
        .filter(|r| r.at_ms <= killed_ms)
        .map(|r| r.at_ms)
        .max()
        .expect("history before the kill survived");
    assert!(
        newest + KILL_LOSS_BOUND_MS >= killed_ms,
        "newest stored result started {} ms before the kill (bound {KILL_LOSS_BOUND_MS} ms): {history:?}",
        killed_ms - newest
    );

    let resumed = wait_result_after(&api, &monitor.id, restarted_ms).await;
    assert_eq!(resumed.node, "solo");
    assert!(
        target.hits_since("/crash", restarted_at) >= 1,
        "no probe reached the target after the restart"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_flags_exit_2() {
    let dir = TestDir::new();
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8 temp path");
    // Every run also names ports 0 and a temp data dir, so a node that wrongly starts binds
    // nothing fixed; it is then killed by the timeout.
    let cases: [(&str, &[&str]); 6] = [
        ("unknown flag", &["--no-such-flag"]),
        ("a zone with a space", &["--zone", "eu west"]),
        ("an empty zone", &["--zone", ""]),
        ("a zone with a slash", &["--zone", "zone/1"]),
        (
            "unparsable --http",
            &["--name", "x", "--http", "not-an-address"],
        ),
        ("missing flag value", &["--name"]),
    ];
    let mut failures = Vec::new();
    for (label, bad) in cases {
        let mut args = vec![
            "node",
            "--http",
            "127.0.0.1:0",
            "--cluster",
            "127.0.0.1:0",
            "--data",
            data,
        ];
        args.extend_from_slice(bad);
        match try_run_ringwatch(&args, dir.path(), secs(10)).await {
            Ok(out) if out.status.code() == Some(2) => {}
            Ok(out) => failures.push(format!("{label}: expected exit 2, got {out}")),
            Err(problem) => failures.push(format!("{label}: expected exit 2: {problem}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_data_dir_and_busy_port_exit_1_with_a_reason() {
    let dir = TestDir::new();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"a file where the data dir should be").expect("write file");
    let file = file.to_str().expect("utf-8 temp path");
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8 temp path");
    // Held by the test for the whole run: a port that is certainly in use.
    let busy = TcpListener::bind("127.0.0.1:0").expect("bind a port to occupy");
    let busy_addr = busy.local_addr().expect("addr").to_string();

    let cases: [(&str, Vec<&str>); 2] = [
        (
            "data dir is a file",
            vec![
                "--http",
                "127.0.0.1:0",
                "--cluster",
                "127.0.0.1:0",
                "--data",
                file,
            ],
        ),
        (
            "http port in use",
            vec![
                "--http",
                &busy_addr,
                "--cluster",
                "127.0.0.1:0",
                "--data",
                data,
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (label, flags) in cases {
        let mut args = vec!["node", "--name", "solo"];
        args.extend(flags);
        match try_run_ringwatch(&args, dir.path(), secs(15)).await {
            Ok(out) if out.status.code() != Some(1) => {
                failures.push(format!("{label}: expected exit 1, got {out}"));
            }
            Ok(out) if out.stderr.trim().is_empty() => {
                failures.push(format!("{label}: exit 1 without a reason on stderr"));
            }
            Ok(_) => {}
            Err(problem) => failures.push(format!("{label}: expected exit 1: {problem}")),
        }
    }
    drop(busy);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
