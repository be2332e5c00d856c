//! The HTTP API against browsers and slow clients (the security issue, part 3 and the HTTP
//! half of part 7), on real `ringwatch` processes: pages of other origins cannot create
//! anything (`text/plain` fetch, HTML form, foreign `Origin`), a foreign `Host` (DNS rebinding)
//! is refused, every answer carries the anti-sniffing and anti-framing headers, the dashboard's
//! login gives an `HttpOnly`, `SameSite=Strict` session whose scope is the token's and which
//! ends on every node within 1 s of the token's revoke, and 300 slowloris connections neither
//! stop a normal client nor slow probing, nor cost memory or log lines.

use reqwest::Method;
use ringwatch_tests::attack::{
    LogMark, MAX_LOG_LINES, MAX_RSS_GROWTH_KIB, SLOWLORIS_CONNECTIONS, Slowloris, slow_client,
};
use ringwatch_tests::{
    Api, Cluster, NodeProc, Resp, Target, TestDir, monitor_body, secs, wait_for, wait_until,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// SPEC: a definition (a revoke too) reaches every live node within 1 s.
const REPLICATION: Duration = Duration::from_secs(1);
/// The bootstrap admin token of the auth-on nodes.
const ADMIN: &str = "admin-bootstrap-0123456789abcdef";

/// Sends a raw HTTP/1.1 request and reads the whole answer (the request asks to close).
async fn raw(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    // A reset after the answer (a refused connection) keeps what was read.
    let _ = tokio::time::timeout(secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("an answer within 10 s");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// A POST as another origin's page sends it: its `Origin`, and `content_type`.
async fn cross_origin_post(node: &NodeProc, origin: Option<&str>, ct: &str, body: &str) -> u16 {
    let addr = node.http_addr();
    let origin = origin
        .map(|o| format!("origin: {o}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST /api/monitors HTTP/1.1\r\nhost: {addr}\r\n{origin}content-type: {ct}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let (status, text) = raw(addr, &head, body.as_bytes()).await;
    assert!(
        status < 300 || text.contains("\"error\""),
        "a JSON error: {text}"
    );
    status
}

fn assert_secure_headers(resp: &Resp) {
    let want = [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
    ];
    for (name, value) in want {
        assert_eq!(
            resp.header(name).as_deref(),
            Some(value),
            "{}",
            resp.describe()
        );
    }
    let csp = resp.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "{}: {csp}",
        resp.request
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_origins_and_foreign_hosts_change_nothing_and_every_answer_is_unframeable() {
    let node = NodeProc::start("web").await;
    let api = node.api();
    let url = "http://127.0.0.1:9/";
    let json_body = json!({"url": url, "interval_secs": 60}).to_string();

    // What a page on another origin can send without a CORS preflight.
    let evil = Some("http://evil.example");
    let attempts = [
        (
            "text/plain fetch",
            evil,
            "text/plain;charset=UTF-8",
            json_body.as_str(),
        ),
        (
            "form",
            evil,
            "application/x-www-form-urlencoded",
            "url=http%3A%2F%2F127.0.0.1%3A9%2F",
        ),
        (
            "multipart form",
            evil,
            "multipart/form-data; boundary=x",
            "--x--",
        ),
        (
            "text/plain without Origin",
            None,
            "text/plain",
            json_body.as_str(),
        ),
        (
            "form without Origin",
            None,
            "application/x-www-form-urlencoded",
            "url=x",
        ),
        (
            "JSON from another origin",
            evil,
            "application/json",
            json_body.as_str(),
        ),
        (
            "JSON from another port",
            Some("http://127.0.0.1:1"),
            "application/json",
            json_body.as_str(),
        ),
        (
            "JSON from a sandboxed frame",
            Some("null"),
            "application/json",
            json_body.as_str(),
        ),
    ];
    for (what, origin, ct, body) in attempts {
        let status = cross_origin_post(&node, origin, ct, body).await;
        let want = if origin.is_some() { 403 } else { 415 };
        assert_eq!(status, want, "{what}");
    }
    assert!(
        api.list_monitors().await.is_empty(),
        "a refused request created a monitor"
    );
    // The node's own page (same origin) may.
    let own = format!("http://{}", node.http_addr());
    assert_eq!(
        cross_origin_post(&node, Some(&own), "application/json", &json_body).await,
        201
    );

    // DNS rebinding: the attacker's name in Host. Only /healthz answers any Host.
    let addr = node.http_addr();
    for path in ["/", "/api/monitors", "/app.js"] {
        let head = format!(
            "GET {path} HTTP/1.1\r\nhost: rebound.example:{}\r\nconnection: close\r\n\r\n",
            addr.port()
        );
        let (status, text) = raw(addr, &head, b"").await;
        assert_eq!(status, 421, "{path}: {text}");
        assert!(
            text.contains("public_urls") && !text.contains("<html"),
            "{text}"
        );
    }
    let head = "GET /healthz HTTP/1.1\r\nhost: lb.internal\r\nconnection: close\r\n\r\n";
    assert_eq!(raw(addr, head, b"").await.0, 200);
    let localhost = format!(
        "GET /api/monitors HTTP/1.1\r\nhost: localhost:{}\r\nconnection: close\r\n\r\n",
        addr.port()
    );
    assert_eq!(raw(addr, &localhost, b"").await.0, 200);

    // Every answer: pages, data, errors.
    for resp in [
        api.get("/").await,
        api.get("/app.js").await,
        api.get("/api/monitors").await,
        api.get("/api/monitors/m-none").await,
        api.get("/healthz").await,
        api.post_bytes("/api/monitors", b"{".to_vec()).await,
    ] {
        assert_secure_headers(&resp);
    }
    let page = api.get("/").await;
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
}

/// Logs in with `token` on `api`; returns the answer.
async fn login(api: &Api, token: &str) -> Resp {
    api.post_json("/api/session", &json!({ "token": token }))
        .await
}

/// The `name=value` part of a `Set-Cookie`.
fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().trim().to_owned()
}

/// A request as the dashboard page sends it: the session cookie and the page's `Origin`.
async fn as_page(
    api: &Api,
    cookie: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Resp {
    let origin = api.base().to_owned();
    let mut req = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .request(method, api.url(path))
        .header("cookie", cookie)
        .header("origin", origin);
    if let Some(body) = body {
        req = req.json(body);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.unwrap().to_vec();
    Resp {
        request: path.to_owned(),
        status,
        headers,
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_sessions_have_their_tokens_scope_and_end_with_it_on_every_node() {
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("admin-token");
    std::fs::write(&path, ADMIN).unwrap();
    let path = path.display().to_string();
    let args = ["--auth", "on", "--admin-token-file", path.as_str()];
    let cluster = Cluster::start_authenticated(2, &args, ADMIN).await;
    let admin = cluster.api("n1");
    let make = async |scope: &str| {
        let made = admin
            .post_json("/api/tokens", &json!({"name": scope, "scope": scope}))
            .await;
        made.expect_status(201);
        let made: Value = made.json();
        (
            made["id"].as_str().unwrap().to_owned(),
            made["token_secret"].as_str().unwrap().to_owned(),
        )
    };
    let (_, reader) = make("read").await;
    let (writer_id, writer) = make("write").await;
    let n1 = cluster.anonymous_api("n1");
    let n2 = cluster.anonymous_api("n2");
    let body = json!({"url": "http://127.0.0.1:9/", "interval_secs": 60, "active": false});

    // Bad logins.
    assert_eq!(login(&n1, "rw_nothing").await.status, 401);
    let anonymous = n1.get("/api/session").await;
    anonymous.expect_status(200);
    assert_eq!(anonymous.json::<Value>()["scope"], Value::Null);

    // A read session: the cookie's flags, reads work, changes 403.
    let resp = login(&n1, &reader).await;
    resp.expect_status(200);
    assert_eq!(resp.json::<Value>()["scope"], "read");
    let set = resp.header("set-cookie").expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(flag), "{set}");
    }
    assert!(
        !set.contains(&reader) && !resp.text().contains(&reader),
        "the raw secret is shown: {set}"
    );
    let read_cookie = cookie_pair(&set);
    as_page(&n1, &read_cookie, Method::GET, "/api/monitors", None)
        .await
        .expect_status(200);
    let who = as_page(&n1, &read_cookie, Method::GET, "/api/session", None).await;
    assert_eq!(who.json::<Value>()["scope"], "read");
    as_page(
        &n1,
        &read_cookie,
        Method::POST,
        "/api/monitors",
        Some(&body),
    )
    .await
    .expect_status(403);

    // A write session may change, from the page only (a change without Origin is refused).
    let write_cookie = cookie_pair(&login(&n1, &writer).await.header("set-cookie").unwrap());
    as_page(
        &n1,
        &write_cookie,
        Method::POST,
        "/api/monitors",
        Some(&body),
    )
    .await
    .expect_status(201);
    // The cookie is the token's session on every node (behind one name, a load balancer).
    as_page(
        &n2,
        &write_cookie,
        Method::POST,
        "/api/monitors",
        Some(&body),
    )
    .await
    .expect_status(201);
    let no_origin = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(n1.url("/api/monitors"))
        .header("cookie", &write_cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_origin.status().as_u16(), 403);

    // Logout clears the cookie; without it the API answers 401.
    let out = as_page(&n1, &write_cookie, Method::DELETE, "/api/session", None).await;
    out.expect_status(204);
    let cleared = out.header("set-cookie").unwrap();
    assert!(
        cleared.starts_with("ringwatch_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let after = as_page(
        &n1,
        &cookie_pair(&cleared),
        Method::GET,
        "/api/monitors",
        None,
    )
    .await;
    after.expect_status(401);

    // Revoked on n2: the session fails on every node within 1 s.
    let revoked_at = Instant::now();
    cluster
        .api("n2")
        .delete(&format!("/api/tokens/{writer_id}"))
        .await
        .expect_status(204);
    for api in [&n1, &n2] {
        wait_for(
            "the revoked token's session to be refused",
            REPLICATION,
            async || {
                let resp = as_page(api, &write_cookie, Method::GET, "/api/monitors", None).await;
                if resp.status == 401 {
                    Ok(())
                } else {
                    Err(resp.describe())
                }
            },
        )
        .await;
        println!(
            "{}: session refused {:?} after the revoke",
            api.base(),
            revoked_at.elapsed()
        );
    }
    as_page(&n2, &read_cookie, Method::GET, "/api/monitors", None)
        .await
        .expect_status(200);

    for name in ["n1", "n2"] {
        let node = cluster.node(name);
        let logs = node.stderr_log() + &node.stdout_log();
        for secret in [reader.as_str(), writer.as_str(), ADMIN] {
            assert!(!logs.contains(secret), "{name}'s log shows a secret");
        }
    }
}

/// A node with `toml` as its config file (plus the test's standard flags).
async fn node_with_config(name: &str, toml: &str) -> NodeProc {
    let dir = TestDir::new();
    let config = dir.path().join("web.toml");
    std::fs::write(&config, toml).unwrap();
    let config = config.display().to_string();
    NodeProc::start_in(&dir, name, &["--config", config.as_str()]).await
}

/// Whether the server closed `stream` (EOF or reset, after a 408 or nothing).
async fn closed(stream: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    tokio::time::timeout(secs(1), stream.read_to_end(&mut rest))
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_slowloris_connections_cost_nothing_that_matters() {
    const HEADER_TIMEOUT: Duration = Duration::from_secs(2);
    const ATTACK: Duration = Duration::from_secs(8);
    let target = Target::start().await;
    let node = node_with_config("slow", "http_header_timeout = \"2s\"\n").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&monitor_body(&target.url("/probed"), 1))
        .await;
    api.wait_results(&monitor.id, 2, secs(10)).await;
    let idle_kib = node.rss_kib();
    let log_mark = LogMark::of(&node);
    let addr = node.http_addr();

    // Half trickle a header byte every 500 ms and reconnect when closed; half stall.
    let started = Instant::now();
    let mut attack = Slowloris::start(addr, SLOWLORIS_CONNECTIONS, started + ATTACK).await;
    // Meanwhile a normal client gets its answers, promptly.
    let mut slowest = Duration::ZERO;
    let mut peak_kib = idle_kib;
    while started.elapsed() < ATTACK {
        let asked = Instant::now();
        api.get("/api/monitors").await.expect_status(200);
        slowest = slowest.max(asked.elapsed());
        peak_kib = peak_kib.max(node.rss_kib());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let reconnects = attack.cuts().await;
    let window_end = Instant::now();
    println!(
        "idle {idle_kib} KiB, peak {peak_kib} KiB; slowest answer {slowest:?}; \
         trickling clients were cut and reconnected {reconnects} times"
    );
    assert!(slowest < secs(2), "a normal request took {slowest:?}");
    assert!(
        peak_kib < idle_kib + MAX_RSS_GROWTH_KIB,
        "rss {idle_kib} -> {peak_kib} KiB"
    );
    assert!(reconnects > 0, "no trickling connection was ever cut");
    // Stalled connections were closed by the header timeout, long before now.
    assert!(started.elapsed() > HEADER_TIMEOUT * 2);
    for s in &mut attack.stalled {
        assert!(
            closed(s).await,
            "a stalled connection is still open after {:?}",
            started.elapsed()
        );
    }
    // Probing kept its rate (1/s) through the attack.
    let window = window_end - started;
    let probes = target.hits_between("/probed", started, window_end);
    let least = window.as_secs() as usize - 1;
    assert!(probes >= least, "{probes} probes in {window:?}");
    let grown = log_mark.new_lines(&node).len();
    assert!(grown < MAX_LOG_LINES, "the log grew by {grown} lines");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_get_503_and_the_cap_frees_up() {
    const CAP: usize = 20;
    let node = node_with_config(
        "capped",
        &format!("http_max_connections = {CAP}\nhttp_header_timeout = \"60s\"\n"),
    )
    .await;
    let addr = node.http_addr();
    let mut held = Vec::new();
    for _ in 0..CAP {
        held.push(slow_client(addr).await.expect("connect"));
    }
    // The harness's client may hold a kept-alive connection of its own: count it out.
    let head = format!("GET /api/monitors HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    wait_until(
        "a connection over the cap to be refused",
        secs(5),
        async || raw(addr, &head, b"").await.0 == 503,
    )
    .await;
    let (status, text) = raw(addr, &head, b"").await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("too many open connections"), "{text}");
    held.clear();
    wait_until("the cap to free up", secs(5), async || {
        raw(addr, &head, b"").await.0 == 200
    })
    .await;
    let log = node.stderr_log();
    let lines = log
        .lines()
        .filter(|l| l.contains("http_max_connections"))
        .count();
    assert!(
        (1..=2).contains(&lines),
        "refusals are logged once per interval: {lines} lines"
    );
}
