//! Hostile bytes at the cluster port: the node survives and still forms a cluster.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use ringwatch_tests::{NodeProc, TestDir, secs, wait_until};

fn blast(addr: &str, bytes: &[u8]) {
    if let Ok(mut s) = TcpStream::connect(addr) {
        let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
        let _ = s.write_all(bytes);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_at_the_cluster_port_does_not_hurt_the_node() {
    let dir = TestDir::new();
    let n1 = NodeProc::start_in(&dir, "n1", &[]).await;
    let addr = n1.cluster_addr().to_string();
    // Random bytes, a frame header promising 4 GiB, an HTTP request, then a flood.
    let mut noise = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..65_536 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        noise.push((x >> 16) as u8);
    }
    blast(&addr, &noise);
    blast(&addr, &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    blast(&addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    for _ in 0..50 {
        blast(&addr, &noise[..1024]);
    }
    assert!(
        n1.api().is_healthy().await,
        "n1 died: {}",
        n1.stderr_tail(40)
    );
    // A real peer can still join it and see it alive.
    let n2 = NodeProc::start_in(&dir, "n2", &["--join", &addr]).await;
    for node in [&n1, &n2] {
        let api = node.api();
        wait_until("both nodes see each other alive", secs(10), async || {
            api.cluster_view().await.alive == ["n1", "n2"]
        })
        .await;
    }
}
