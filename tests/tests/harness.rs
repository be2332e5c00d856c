//! Self-tests of the harness that need no node: the target behaves as each test relies on,
//! and the startup line parses. A plain reqwest client stands in for the node's prober.

use ringwatch_tests::{Behavior, Listening, Target, ms, secs};
use std::time::{Duration, Instant};

fn client(redirects: usize, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::limited(redirects))
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_200_by_default_then_switched_status_and_counts_hits() {
    let target = Target::start().await;
    let http = client(0, secs(5));
    let before = Instant::now();

    let resp = http.get(target.url("/x?q=1")).send().await.expect("get");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text().await.expect("body"), "ok");

    target.set("/x", Behavior::Status(500));
    let resp = http.get(target.url("/x")).send().await.expect("get");
    assert_eq!(resp.status().as_u16(), 500);
    // Same connection, kept alive, for a HEAD with no body.
    let resp = http.head(target.url("/x")).send().await.expect("head");
    assert_eq!(resp.status().as_u16(), 500);

    assert_eq!(target.hits("/x"), 3);
    assert_eq!(target.hits("/y"), 0);
    assert_eq!(target.hits_between("/x", before, Instant::now()), 3);
    assert_eq!(target.hits_since("/x", Instant::now()), 0);
    assert!(target.last_hit("/x").is_some_and(|at| at >= before));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_chain_ends_in_200_and_every_hop_counts() {
    let target = Target::with("/chain", Behavior::RedirectChain { hops: 3 }).await;
    let resp = client(10, secs(5))
        .get(target.url("/chain"))
        .send()
        .await
        .expect("follow 3 redirects");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(target.hits("/chain"), 4);

    target.set("/chain", Behavior::RedirectChain { hops: 50 });
    let err = client(10, secs(5))
        .get(target.url("/chain"))
        .send()
        .await
        .expect_err("50 hops exceed 10");
    assert!(err.is_redirect(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_loop_never_ends() {
    let target = Target::start().await;
    target.set_redirect_loop("/a", "/b");
    let err = client(10, secs(5))
        .get(target.url("/a"))
        .send()
        .await
        .expect_err("a loop");
    assert!(err.is_redirect(), "{err:?}");
    assert!(target.hits("/a") >= 1 && target.hits("/b") >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_hang_outlast_a_short_timeout() {
    let target = Target::start().await;
    target.set(
        "/slow",
        Behavior::Slow {
            delay: ms(1500),
            status: 200,
        },
    );
    target.set("/hang", Behavior::Hang);
    let http = client(0, ms(300));
    for path in ["/slow", "/hang"] {
        let err = http.get(target.url(path)).send().await.expect_err(path);
        assert!(err.is_timeout(), "{path}: {err:?}");
        assert_eq!(target.hits(path), 1, "{path}");
    }
    let resp = client(0, secs(5))
        .get(target.url("/slow"))
        .send()
        .await
        .expect("slow but within the timeout");
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_huge_headers_are_not_http() {
    let target = Target::start().await;
    target.set("/garbage", Behavior::Garbage);
    target.set("/huge", Behavior::HugeHeaders { bytes: 1 << 20 });
    let http = client(0, secs(5));
    for path in ["/garbage", "/huge"] {
        let err = http.get(target.url(path)).send().await.expect_err(path);
        assert!(!err.is_timeout(), "{path}: {err:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_body_streams_past_any_cap() {
    let target = Target::with("/endless", Behavior::EndlessBody).await;
    let resp = client(0, secs(10))
        .get(target.url("/endless"))
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(resp.status().as_u16(), 200);
    let read = read_some_body(resp, 4 << 20).await;
    assert!(read >= 4 << 20, "read {read} bytes");
}

#[test]
fn startup_line_parses() {
    let line = "listening http=127.0.0.1:41234 cluster=127.0.0.1:41235 name=n1\n";
    let parsed = Listening::parse(line).expect("parses");
    assert_eq!(parsed.http, "127.0.0.1:41234".parse().unwrap());
    assert_eq!(parsed.cluster, "127.0.0.1:41235".parse().unwrap());
    assert_eq!(parsed.name, "n1");
    assert!(Listening::parse("starting node n1").is_none());
    assert!(Listening::parse("listening http=127.0.0.1:1 name=n1").is_none());
}

/// Reads body chunks until at least `bytes` arrived; returns how many did.
async fn read_some_body(mut resp: reqwest::Response, bytes: usize) -> usize {
    let mut read = 0;
    while read < bytes {
        match resp.chunk().await.expect("body chunk") {
            Some(chunk) => read += chunk.len(),
            None => break,
        }
    }
    read
}
