//! Mutual TLS between nodes (issue 12, part 5): three nodes with certificates from
//! `ringwatch cert` form a cluster, replicate and fail over as a plaintext cluster does; a
//! node with a certificate from another CA, a plaintext node and a node using another
//! node's certificate are refused, and both sides say why in their logs; the public default
//! cookie and plaintext are refused on a cluster address others can reach; a man in the
//! middle reads secrets off a plaintext cluster and nothing off a TLS one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ringwatch_tests::attack::{cluster_certificates, tls_args};
use ringwatch_tests::cluster::{
    Cluster, assert_probed_within, busiest, monitor_paths, paths_owned_by, wait_all_probed_since,
    wait_results_by,
};
use ringwatch_tests::{
    NodeProc, Target, TestDir, now_ms, run_ringwatch, secs, wait_for, wait_until,
};

/// SPEC: each monitor of a killed node is probed again within this.
const FAILOVER: Duration = Duration::from_secs(5);
/// SPEC: a definition written on any node is readable on every live node within this.
const REPLICATION: Duration = Duration::from_secs(1);
/// How long a refused node is watched for getting in anyway.
const REFUSED_WINDOW: Duration = Duration::from_secs(6);

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_cluster_replicates_and_fails_over() {
    let dir = TestDir::new();
    let certs = cluster_certificates(dir.path(), &["n1", "n2", "n3"]).await;
    let args = tls_args(Some(&certs), "{name}");
    let mut cluster = Cluster::start_with(3, &strs(&args)).await;
    for name in cluster.names() {
        let log = cluster.node(&name).stderr_log();
        assert!(
            log.contains("mutual TLS"),
            "{name} runs without TLS:\n{log}"
        );
    }

    // Definitions: written on n3, readable on n1 and n2 within a second.
    let target = Target::start().await;
    let paths = monitor_paths(30);
    let created_at = Instant::now();
    let monitors = cluster.create_monitors("n3", &target, &paths, 1).await;
    let ids: Vec<String> = monitors.iter().map(|m| m.id.clone()).collect();
    for name in ["n1", "n2"] {
        let api = cluster.api(name);
        wait_for(
            &format!("{name} to list 30 monitors"),
            REPLICATION,
            async || {
                let n = api.list_monitors().await.len();
                if n == 30 { Ok(()) } else { Err(format!("{n}")) }
            },
        )
        .await;
    }
    let owners = cluster.wait_owners_agree(&ids, secs(5)).await;
    wait_all_probed_since(&target, &paths, created_at, secs(5)).await;

    // Results: each node holds results probed by each of the others.
    let since = now_ms();
    for name in ["n1", "n2", "n3"] {
        let probers: Vec<&str> = ["n1", "n2", "n3"]
            .into_iter()
            .filter(|p| *p != name)
            .collect();
        let theirs: Vec<String> = ids
            .iter()
            .filter(|id| probers.contains(&owners[*id].as_str()))
            .cloned()
            .collect();
        wait_results_by(&cluster.api(name), &probers, &theirs, since, secs(5)).await;
    }

    // Failover: kill -9 of the busiest node; its monitors are probed again within 5 s.
    let victim = busiest(&owners);
    let victim_paths = paths_owned_by(&owners, &ids, &paths, &victim);
    let killed_at = cluster.kill(&victim).await;
    let reaped_at = Instant::now();
    let firsts = wait_all_probed_since(&target, &victim_paths, reaped_at, secs(15)).await;
    assert_probed_within(&firsts, killed_at, FAILOVER);
    cluster.wait_converged(secs(5)).await;

    // Restarted with its certificate, it rejoins.
    cluster.restart(&victim).await;
    cluster.wait_converged(secs(10)).await;
}

/// Waits until `node`'s log holds `text`; panics with the log otherwise.
async fn wait_log(node: &NodeProc, text: &str, timeout: Duration) {
    wait_for(
        &format!("{}'s log to say {text:?}", node.name()),
        timeout,
        async || {
            let log = node.stderr_log();
            if log.contains(text) {
                Ok(())
            } else {
                Err(node.stderr_tail(15))
            }
        },
    )
    .await;
}

/// Asserts that for [`REFUSED_WINDOW`] neither `a` nor `b` lists the other alive.
async fn assert_apart(a: &NodeProc, b: &NodeProc) {
    let end = Instant::now() + REFUSED_WINDOW;
    while Instant::now() < end {
        for (x, y) in [(a, b), (b, a)] {
            let alive = x.api().cluster_view().await.alive;
            assert!(
                !alive.iter().any(|n| n == y.name()),
                "{} lists {} alive: {alive:?}",
                x.name(),
                y.name()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_without_a_certificate_of_the_cluster_are_refused_and_say_why() {
    let dir = TestDir::new();
    let certs = cluster_certificates(dir.path(), &["n1"]).await;
    let n1 = NodeProc::start_in(&dir, "n1", &strs(&tls_args(Some(&certs), "n1"))).await;
    let join = n1.cluster_addr().to_string();

    // A certificate from another CA: each side refuses the other's.
    let other_dir = dir.path().join("other");
    std::fs::create_dir_all(&other_dir).expect("mkdir");
    let other = cluster_certificates(&other_dir, &["n2"]).await;
    let mut args = tls_args(Some(&other), "n2");
    args.extend(["--join".into(), join.clone()]);
    let n2 = NodeProc::start_in(&dir, "n2", &strs(&args)).await;
    assert_apart(&n1, &n2).await;
    wait_log(&n1, "cluster handshake failed", secs(5)).await;
    wait_log(&n2, "not signed by our cluster CA", secs(5)).await;
    drop(n2);

    // A plaintext node: refused at the TLS handshake; it learns that the peer speaks TLS.
    let n3 = NodeProc::start_in(&dir, "n3", &["--join", &join]).await;
    assert_apart(&n1, &n3).await;
    wait_log(&n1, "does not speak TLS", secs(5)).await;
    wait_log(&n3, "the peer speaks TLS", secs(5)).await;
    drop(n3);

    // A good certificate used under another name: the session is stopped.
    let mut args = tls_args(Some(&certs), "n1");
    args.extend(["--join".into(), join.clone()]);
    let n4 = NodeProc::start_in(&dir, "n4", &strs(&args)).await;
    assert_apart(&n1, &n4).await;
    wait_log(&n1, "calls itself \"n4\"", secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exposed_cluster_address_needs_a_secret_cookie_and_tls() {
    let dir: Arc<TestDir> = TestDir::new();
    let certs = cluster_certificates(dir.path(), &["n1"]).await;
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8 path");
    let base = [
        "node",
        "--http",
        "127.0.0.1:0",
        "--cluster",
        "0.0.0.0:0",
        "--data",
        data,
    ];
    let cases: [(&str, Vec<String>, &str); 3] = [
        ("the default cookie", tls_args(Some(&certs), "n1"), "public"),
        (
            "no TLS",
            vec!["--cookie".into(), "s3cret-cookie-for-the-test".into()],
            "--allow-plaintext-cluster",
        ),
        (
            "only part of TLS",
            vec![
                "--cookie".into(),
                "s3cret-cookie-for-the-test".into(),
                "--tls-ca-file".into(),
                certs.join("ca.crt").display().to_string(),
            ],
            "all of tls_ca_file",
        ),
    ];
    for (what, extra, says) in cases {
        let mut args: Vec<&str> = base.to_vec();
        args.extend(strs(&extra));
        let out = run_ringwatch(&args, dir.path(), secs(20)).await;
        assert_eq!(out.status.code(), Some(2), "{what}: {out}");
        assert!(out.stderr.contains(says), "{what}: {out}");
        assert!(
            !out.stderr.contains("s3cret-cookie"),
            "{what}: the cookie is shown: {out}"
        );
    }
}

/// Issue 12's man in the middle: a proxy on the path between two nodes keeps every byte. On a
/// plaintext cluster it reads a monitor's bearer token as the definition replicates (the
/// attack, and what shows the proxy is on the path); on a TLS cluster it reads none of it,
/// while the definition still arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_man_in_the_middle_reads_secrets_only_without_tls() {
    use ringwatch_tests::attack::RecordingProxy;
    for tls in [false, true] {
        let secret = format!("mitm-secret-{}-5ec12e7", u8::from(tls));
        let dir = TestDir::new();
        let certs = if tls {
            Some(cluster_certificates(dir.path(), &["n1", "n2"]).await)
        } else {
            None
        };
        let n1_args = tls_args(certs.as_deref(), "n1");
        let n1 = NodeProc::start_in(&dir, "n1", &strs(&n1_args)).await;
        let proxy = RecordingProxy::start(n1.cluster_addr()).await;
        let mut n2_args = tls_args(certs.as_deref(), "n2");
        n2_args.extend(["--join".into(), proxy.addr().to_string()]);
        let n2 = NodeProc::start_in(&dir, "n2", &strs(&n2_args)).await;
        let (a1, a2) = (n1.api(), n2.api());
        wait_until("n1 and n2 to see each other", REFUSED_WINDOW, async || {
            a1.cluster_view().await.alive == ["n1", "n2"]
                && a2.cluster_view().await.alive == ["n1", "n2"]
        })
        .await;
        let before = proxy.bytes();
        let m = a1
            .create_monitor(&serde_json::json!({
                "url": "http://127.0.0.1:9/never", "active": false,
                "headers": {"Authorization": format!("Bearer {secret}")},
            }))
            .await;
        wait_until("n2 to hold the monitor", REPLICATION * 5, async || {
            a2.monitor_ids().await.contains(&m.id)
        })
        .await;
        eprintln!(
            "tls={tls}: {} bytes through the proxy; secret seen: {}",
            proxy.bytes(),
            proxy.saw(&secret)
        );
        // The definition (with its secret, encrypted or not) crossed the proxy.
        assert!(
            proxy.bytes() >= before + secret.len(),
            "the definition did not go through the proxy"
        );
        assert_eq!(proxy.saw(&secret), !tls, "tls={tls}");
    }
}
