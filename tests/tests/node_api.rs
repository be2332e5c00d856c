//! One node's HTTP API: what it serves, what it creates, and what it refuses (SPEC "HTTP API",
//! "Errors": nothing is created or changed by a refused request).

use reqwest::Method;
use ringwatch_tests::{
    Api, Definition, NodeProc, Resp, Target, monitor_body, monitor_path, now_ms, secs,
};
use serde_json::{Value, json};
use std::collections::HashSet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Request bodies must stay at or under 1 MiB; larger ones get 413.
const MAX_BODY_BYTES: usize = 1 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_healthz_dashboard_and_empty_api() {
    let node = NodeProc::start("solo").await;
    let api = node.api();

    api.get("/healthz").await.expect_status(200);

    let page = api.get("/").await;
    page.expect_status(200);
    let content_type = page.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("text/html"),
        "dashboard content-type {content_type:?}: {}",
        page.describe()
    );
    assert!(
        page.text().to_ascii_lowercase().contains("<html"),
        "dashboard is not an HTML page: {}",
        page.describe()
    );

    assert!(api.list_monitors().await.is_empty());
    let cluster = api.get("/api/cluster").await;
    let cluster_json: Value = cluster.expect_status(200).json();
    assert!(
        cluster_json.to_string().contains("solo"),
        "cluster view does not name this node: {}",
        cluster.describe()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_and_metrics_answer() {
    let node = NodeProc::start("solo").await;
    let api = node.api();

    let summary = api.get("/api/summary").await;
    let json: Value = summary.expect_status(200).json();
    for (field, expected) in [
        ("total", json!(0)),
        ("up", json!(0)),
        ("down", json!(0)),
        ("pending", json!(0)),
        ("paused", json!(0)),
        ("node", json!("solo")),
    ] {
        assert_eq!(json[field], expected, "{field}: {}", summary.describe());
    }
    assert!(json["version"].is_string(), "{}", summary.describe());

    api.get("/metrics").await.expect_status(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_applies_defaults_and_get_and_list_agree() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();

    let resp = api
        .post_json("/api/monitors", &json!({ "url": target.url("/defaults") }))
        .await;
    let raw: Value = resp.expect_status(201).json();
    for field in [
        "id",
        "url",
        "name",
        "interval_secs",
        "timeout_ms",
        "active",
        "failure_threshold",
        "recovery_threshold",
        "status",
        "owner",
        "last_result",
        "created_ms",
    ] {
        assert!(
            raw.get(field).is_some(),
            "monitor object lacks `{field}`: {}",
            resp.describe()
        );
    }
    let created: ringwatch_tests::Monitor = resp.json();
    assert!(!created.id.is_empty());
    assert_eq!(created.url, target.url("/defaults"));
    assert_eq!(created.interval_secs, 30, "default interval_secs");
    assert_eq!(created.timeout_ms, 10_000, "default timeout_ms");
    assert!(created.active, "default active");
    assert_eq!(created.failure_threshold, 2, "default failure_threshold");
    assert_eq!(created.recovery_threshold, 1, "default recovery_threshold");
    assert_eq!(
        created.expect_status,
        json!(["200-399"]),
        "the accepted statuses a check applies when none are named"
    );
    assert!(
        ["pending", "up", "down"].contains(&created.status.as_str()),
        "status of a new active monitor: {}",
        created.status
    );

    let fetched = api.get_monitor(&created.id).await;
    assert_eq!(fetched.definition(), created.definition());
    let listed = api.list_monitors().await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].definition(), created.definition());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_keeps_given_fields_and_inactive_is_paused() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();

    let created = api
        .create_monitor(&json!({
            "url": target.url("/given"),
            "name": "given fields",
            "interval_secs": 7,
            "timeout_ms": 2500,
            "active": false,
            "failure_threshold": 3,
            "recovery_threshold": 2,
            "expect_body_contains": "ok",
        }))
        .await;
    assert_eq!(created.name, "given fields");
    assert_eq!(created.interval_secs, 7);
    assert_eq!(created.timeout_ms, 2500);
    assert!(!created.active);
    assert_eq!(created.failure_threshold, 3);
    assert_eq!(created.recovery_threshold, 2);
    assert_eq!(created.expect_body_contains.as_deref(), Some("ok"));
    assert_eq!(created.status, "paused", "an inactive monitor is paused");
    assert_eq!(
        api.get_monitor(&created.id).await.definition(),
        created.definition()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_create_returns_every_monitor_with_distinct_ids() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();

    let bodies: Vec<Value> = ["/bulk-a", "/bulk-b", "/bulk-c"]
        .iter()
        .map(|path| monitor_body(&target.url(path), 60))
        .collect();
    let created = api.create_monitors(&bodies).await;
    assert_eq!(created.len(), 3, "{created:?}");
    let ids: HashSet<&str> = created.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), 3, "ids are not distinct: {created:?}");
    let urls: HashSet<&str> = created.iter().map(|m| m.url.as_str()).collect();
    let wanted: HashSet<String> = ["/bulk-a", "/bulk-b", "/bulk-c"]
        .iter()
        .map(|path| target.url(path))
        .collect();
    assert_eq!(
        urls,
        wanted.iter().map(String::as_str).collect::<HashSet<_>>()
    );

    let listed: HashSet<String> = api.monitor_ids().await.into_iter().collect();
    let created_ids: HashSet<String> = created.into_iter().map(|m| m.id).collect();
    assert_eq!(listed, created_ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_list_is_one_json_array_whose_pages_agree() {
    // The list is written a chunk of monitors at a time: more than two chunks, pages that
    // start and end inside them, and an empty page must each still be one JSON array.
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let bodies: Vec<Value> = (0..600)
        .map(|i| json!({ "url": format!("http://127.0.0.1:9/{i}"), "interval_secs": 60, "active": false }))
        .collect();
    let created = api.create_monitors(&bodies).await;
    let page = async |query: &str| -> (Vec<String>, Option<String>) {
        let resp = api.get(&format!("/api/monitors{query}")).await;
        resp.expect_status(200);
        let list: Vec<Value> = resp.json();
        let ids = list
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect();
        (ids, resp.header("x-total-count"))
    };
    let created_ids: Vec<String> = created.into_iter().map(|m| m.id).collect();
    let (all, total) = page("").await;
    assert_eq!(total.as_deref(), Some("600"));
    assert_eq!(all.len(), 600);
    assert_eq!(
        all.iter().collect::<HashSet<_>>(),
        created_ids.iter().collect::<HashSet<_>>()
    );
    assert_eq!(page("?offset=250&limit=300").await.0, all[250..550]);
    assert_eq!(page("?offset=590").await.0, all[590..]);
    assert_eq!(page("?limit=0").await, (vec![], Some("600".to_owned())));
}

/// The definitions of all monitors, for "nothing changed" comparisons.
async fn definitions(api: &Api) -> Vec<Definition> {
    let mut defs: Vec<Definition> = api
        .list_monitors()
        .await
        .iter()
        .map(|m| m.definition())
        .collect();
    defs.sort_by(|a, b| a.id.cmp(&b.id));
    defs
}

/// Sends each `(label, body)` with `send`, expecting `status` with an error body and no change
/// to any monitor; reports every case that misbehaves at once.
async fn assert_refusals(
    api: &Api,
    cases: Vec<(&str, Vec<u8>)>,
    status: u16,
    send: impl AsyncFn(Vec<u8>) -> Resp,
) {
    let before = definitions(api).await;
    let mut failures = Vec::new();
    for (label, body) in cases {
        let resp = send(body).await;
        if let Err(problem) = resp.check_refusal(status) {
            failures.push(format!("{label}: {problem}"));
        }
        let after = definitions(api).await;
        if after != before {
            failures.push(format!(
                "{label}: monitors changed\nbefore: {before:?}\nafter: {after:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn json_bytes(value: Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_invalid_create_bodies_with_400_and_creates_nothing() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let url = target.url("/refusals");
    api.create_monitor(&monitor_body(&target.url("/existing"), 60))
        .await;

    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "malformed JSON",
            b"{\"url\": \"http://127.0.0.1/\"".to_vec(),
        ),
        ("empty body", Vec::new()),
        ("not an object", json_bytes(json!(42))),
        ("missing url", json_bytes(json!({ "interval_secs": 5 }))),
        ("url of wrong type", json_bytes(json!({ "url": 5 }))),
        (
            "interval_secs of wrong type",
            json_bytes(json!({ "url": url, "interval_secs": "abc" })),
        ),
        (
            "interval_secs not an integer",
            json_bytes(json!({ "url": url, "interval_secs": 1.5 })),
        ),
        (
            "active of wrong type",
            json_bytes(json!({ "url": url, "active": "yes" })),
        ),
        (
            "unknown field",
            json_bytes(json!({ "url": url, "colour": "red" })),
        ),
        (
            "ftp url",
            json_bytes(json!({ "url": "ftp://127.0.0.1/file" })),
        ),
        (
            "javascript url",
            json_bytes(json!({ "url": "javascript:alert(1)" })),
        ),
        (
            "url without scheme",
            json_bytes(json!({ "url": "example.com/health" })),
        ),
        ("empty url", json_bytes(json!({ "url": "" }))),
        (
            "http url without host",
            json_bytes(json!({ "url": "http://" })),
        ),
        (
            "interval_secs 0",
            json_bytes(json!({ "url": url, "interval_secs": 0 })),
        ),
        (
            "interval_secs negative",
            json_bytes(json!({ "url": url, "interval_secs": -1 })),
        ),
        (
            "interval_secs beyond u64",
            format!("{{\"url\": \"{url}\", \"interval_secs\": 18446744073709551616}}").into_bytes(),
        ),
        (
            "timeout_ms 0",
            json_bytes(json!({ "url": url, "timeout_ms": 0 })),
        ),
        (
            "timeout_ms negative",
            json_bytes(json!({ "url": url, "timeout_ms": -5 })),
        ),
        (
            "bulk with one bad url",
            json_bytes(json!([
                monitor_body(&target.url("/bulk-good-1"), 60),
                { "url": "ftp://127.0.0.1/file" },
                monitor_body(&target.url("/bulk-good-2"), 60),
            ])),
        ),
        (
            "bulk with one bad number",
            json_bytes(json!([
                monitor_body(&target.url("/bulk-good-1"), 60),
                monitor_body(&target.url("/bulk-good-2"), 60),
                { "url": url, "interval_secs": 0 },
            ])),
        ),
        (
            "bulk with one wrong type",
            json_bytes(json!([
                { "url": 7 },
                monitor_body(&target.url("/bulk-good-1"), 60),
            ])),
        ),
    ];
    let create = async |body| api.post_bytes("/api/monitors", body).await;
    assert_refusals(&api, cases, 400, create).await;
    assert!(api.is_healthy().await, "node unhealthy after refusals");
}

/// A create request that is valid JSON apart from its size, so only the size can be refused.
fn oversized_create_body(url: &str) -> Vec<u8> {
    let body = json_bytes(json!({
        "url": url,
        "name": "n".repeat(MAX_BODY_BYTES + 64 * 1024),
    }));
    assert!(body.len() > MAX_BODY_BYTES);
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_body_over_one_mib_with_413() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    api.create_monitor(&monitor_body(&target.url("/existing"), 60))
        .await;
    let before = definitions(&api).await;

    // A client of its own: how the node treats the connection after a 413 is the subject of
    // `oversized_body_answer_leaves_a_usable_or_announced_closed_connection`.
    let resp = node
        .api()
        .post_bytes("/api/monitors", oversized_create_body(&target.url("/big")))
        .await;
    if let Err(problem) = resp.check_refusal(413) {
        panic!("body over 1 MiB: {problem}");
    }
    assert_eq!(definitions(&api).await, before, "monitor list changed");
    assert!(api.is_healthy().await, "node unhealthy after a huge body");
}

/// Reads one HTTP/1.1 response (head and a `content-length` body) from `stream`: the status
/// and the headers with lower-case names.
async fn read_raw_response(stream: &mut TcpStream) -> Result<(u16, Vec<(String, String)>), String> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) => return Err(format!("connection closed after {} bytes", buf.len())),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut have = buf.len() - head_end;
    while have < length {
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) => return Err("connection closed inside the body".to_owned()),
            Ok(n) => have += n,
            Err(e) => return Err(format!("read body: {e}")),
        }
    }
    Ok((status, headers))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_answer_leaves_a_usable_or_announced_closed_connection() {
    let node = NodeProc::start("solo").await;
    let addr = node.http_addr();
    let body = oversized_create_body("http://127.0.0.1:9/");
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/monitors HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("send head");
    // The node may answer before it has read the whole body; a failed write is its right.
    let _ = stream.write_all(&body).await;
    let (status, headers) = timeout(secs(10), read_raw_response(&mut stream))
        .await
        .expect("413 answer within 10 s")
        .unwrap_or_else(|e| panic!("reading the 413 answer: {e}"));
    assert_eq!(status, 413, "{headers:?}");
    let announces_close = headers
        .iter()
        .any(|(name, value)| name == "connection" && value.eq_ignore_ascii_case("close"));
    if announces_close {
        return;
    }
    // Not announced closed: a keep-alive client will send its next request on it.
    let next = format!("GET /healthz HTTP/1.1\r\nhost: {addr}\r\n\r\n");
    let answer = match stream.write_all(next.as_bytes()).await {
        Ok(()) => timeout(secs(10), read_raw_response(&mut stream))
            .await
            .unwrap_or_else(|_| Err("no answer within 10 s".to_owned())),
        Err(e) => Err(format!("write: {e}")),
    };
    match answer {
        Ok((200, _)) => {}
        other => panic!(
            "the 413 answer lacks `connection: close` ({headers:?}) but the connection does not \
             serve the next request ({other:?}): a keep-alive client's next request fails"
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_id_is_404_everywhere() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    api.create_monitor(&monitor_body(&target.url("/existing"), 60))
        .await;
    let before = definitions(&api).await;

    let missing = monitor_path("m-does-not-exist");
    let answers = [
        api.get(&missing).await,
        api.patch_json(&missing, &json!({ "name": "renamed" }))
            .await,
        api.delete(&missing).await,
        api.post_bytes(&format!("{missing}/check"), Vec::new())
            .await,
        api.get(&format!("{missing}/results")).await,
    ];
    let failures: Vec<String> = answers
        .iter()
        .filter_map(|resp| resp.check_refusal(404).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(definitions(&api).await, before, "monitor list changed");
}

/// A request outside the happy path and the statuses that may answer it.
struct OddRequest {
    label: &'static str,
    method: Method,
    path: String,
    body: Option<Vec<u8>>,
    statuses: &'static [u16],
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_requests_get_4xx_json_errors_and_the_node_survives() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&monitor_body(&target.url("/odd"), 60))
        .await;
    let results = format!("{}/results", monitor_path(&monitor.id));
    let before = definitions(&api).await;

    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let long_id = monitor_path(&"x".repeat(8 * 1024));
    let cases = [
        OddRequest {
            label: "invalid UTF-8 body",
            method: Method::POST,
            path: "/api/monitors".to_owned(),
            body: Some(b"{\"url\": \"http://\xff\xfe/\"}".to_vec()),
            statuses: &[400],
        },
        OddRequest {
            label: "JSON nested 100000 deep",
            method: Method::POST,
            path: "/api/monitors".to_owned(),
            body: Some(nested.into_bytes()),
            statuses: &[400],
        },
        OddRequest {
            label: "since not a number",
            method: Method::GET,
            path: format!("{results}?since=abc"),
            body: None,
            statuses: &[400],
        },
        OddRequest {
            label: "limit negative",
            method: Method::GET,
            path: format!("{results}?limit=-1"),
            body: None,
            statuses: &[400],
        },
        OddRequest {
            label: "limit beyond u64",
            method: Method::GET,
            path: format!("{results}?limit=99999999999999999999999"),
            body: None,
            statuses: &[400],
        },
        OddRequest {
            label: "list offset not a number",
            method: Method::GET,
            path: "/api/monitors?offset=abc".to_owned(),
            body: None,
            statuses: &[400],
        },
        OddRequest {
            label: "list status not a status",
            method: Method::GET,
            path: "/api/monitors?status=sideways".to_owned(),
            body: None,
            statuses: &[400],
        },
        OddRequest {
            label: "DELETE on the collection",
            method: Method::DELETE,
            path: "/api/monitors".to_owned(),
            body: None,
            statuses: &[405],
        },
        OddRequest {
            label: "PUT on a monitor",
            method: Method::PUT,
            path: monitor_path(&monitor.id),
            body: Some(b"{}".to_vec()),
            statuses: &[405],
        },
        OddRequest {
            label: "8 KiB id",
            method: Method::GET,
            path: long_id,
            body: None,
            statuses: &[404, 414, 431],
        },
        OddRequest {
            label: "encoded traversal in the id",
            method: Method::GET,
            path: "/api/monitors/..%2F..%2Fetc%2Fpasswd".to_owned(),
            body: None,
            statuses: &[404],
        },
    ];
    let mut failures = Vec::new();
    for case in cases {
        let body = case.body.map(|b| (b, "application/json"));
        let resp = api.send(case.method, &case.path, body).await;
        if !case.statuses.contains(&resp.status) || resp.error_message().is_none() {
            failures.push(format!(
                "{}: expected one of {:?} with a JSON error: {}",
                case.label,
                case.statuses,
                resp.describe()
            ));
        }
    }
    assert!(api.is_healthy().await, "node unhealthy after odd requests");
    assert_eq!(definitions(&api).await, before, "monitor list changed");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_bad_patch_bodies_and_leaves_the_monitor_unchanged() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&monitor_body(&target.url("/patch-me"), 60))
        .await;
    let path = monitor_path(&monitor.id);

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("malformed JSON", b"{\"interval_secs\": ".to_vec()),
        ("not an object", json_bytes(json!([1, 2]))),
        (
            "interval_secs of wrong type",
            json_bytes(json!({ "interval_secs": "abc" })),
        ),
        ("interval_secs 0", json_bytes(json!({ "interval_secs": 0 }))),
        (
            "interval_secs negative",
            json_bytes(json!({ "interval_secs": -3 })),
        ),
        ("timeout_ms 0", json_bytes(json!({ "timeout_ms": 0 }))),
        (
            "active of wrong type",
            json_bytes(json!({ "active": "no" })),
        ),
        ("unknown field", json_bytes(json!({ "colour": "red" }))),
        ("ftp url", json_bytes(json!({ "url": "ftp://127.0.0.1/x" }))),
        (
            "valid field next to a bad one",
            json_bytes(json!({ "name": "renamed", "timeout_ms": -1 })),
        ),
    ];
    let patch = async |body| api.patch_bytes(&path, body).await;
    assert_refusals(&api, cases, 400, patch).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_changes_only_the_named_fields() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&monitor_body(&target.url("/rename"), 60))
        .await;

    let patched = api
        .patch_monitor(
            &monitor.id,
            &json!({ "name": "renamed", "timeout_ms": 1234 }),
        )
        .await;
    let mut expected = monitor.definition();
    expected.name = "renamed".to_owned();
    expected.timeout_ms = 1234;
    assert_eq!(patched.definition(), expected);
    assert_eq!(api.get_monitor(&monitor.id).await.definition(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_probes_now_and_answers_the_result() {
    let target = Target::start().await;
    target.set("/broken", ringwatch_tests::Behavior::Status(503));
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let good = api
        .create_monitor(&monitor_body(&target.url("/check"), 3600))
        .await;
    let bad = api
        .create_monitor(&monitor_body(&target.url("/broken"), 3600))
        .await;

    let hits_before = target.hits("/check");
    let started = now_ms();
    let result = api.check(&good.id).await;
    let answered = now_ms();
    assert_eq!(result.monitor_id, good.id);
    assert!(result.ok, "{result:?}");
    assert_eq!(result.status_code, Some(200), "{result:?}");
    assert_eq!(result.node, "solo");
    assert!(result.error.is_none(), "{result:?}");
    assert!(
        (started.saturating_sub(1000)..=answered).contains(&result.at_ms),
        "at_ms {} outside the check's span {started}..={answered}",
        result.at_ms
    );
    assert!(
        target.hits("/check") > hits_before,
        "the check did not reach the target"
    );
    // Once `/check` has answered, its result is history: read at once, no waiting.
    let stored = api.results(&good.id, None, None).await;
    assert!(
        stored.contains(&result),
        "/results right after /check lacks its result {result:?}: {stored:?}"
    );

    let failed = api.check(&bad.id).await;
    assert_eq!(failed.monitor_id, bad.id);
    assert!(!failed.ok, "{failed:?}");
    assert_eq!(failed.status_code, Some(503), "{failed:?}");
    assert_eq!(
        failed.error_kind.as_deref(),
        Some("bad_status"),
        "{failed:?}"
    );
    assert!(
        failed
            .error
            .as_deref()
            .is_some_and(|e| !e.trim().is_empty()),
        "{failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_oldest_first_and_respect_since_and_limit() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&monitor_body(&target.url("/history"), 1))
        .await;

    let all = api.wait_results(&monitor.id, 5, secs(15)).await;
    assert!(
        all.windows(2).all(|w| w[0].at_ms <= w[1].at_ms),
        "not oldest first: {all:?}"
    );
    assert!(all.iter().all(|r| r.monitor_id == monitor.id), "{all:?}");

    // Between two results, so inclusive and exclusive readings of `since` agree.
    let since = all[1].at_ms + 1;
    assert!(since < all[2].at_ms, "two results in one ms: {all:?}");
    let newer = api.results(&monitor.id, Some(since), None).await;
    assert!(newer.iter().all(|r| r.at_ms >= since), "{newer:?}");
    assert!(
        newer.len() >= all.len() - 2 && newer[..all.len() - 2] == all[2..],
        "since={since} should give the results after the second one\nall: {all:?}\ngot: {newer:?}"
    );

    let page = api.results(&monitor.id, Some(since), Some(2)).await;
    assert_eq!(page, all[2..4], "since={since}&limit=2");

    let limited = api.results(&monitor.id, None, Some(3)).await;
    assert_eq!(limited.len(), 3, "limit=3: {limited:?}");
    assert!(limited.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));

    let future = api
        .results(&monitor.id, Some(now_ms() + 3_600_000), None)
        .await;
    assert!(future.is_empty(), "since in the future: {future:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_notifier_ids_are_refused_by_name() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let url = target.url("/notified");

    let refused = api
        .post_json(
            "/api/monitors",
            &json!({"url": url, "notifiers": ["ops", "pager"]}),
        )
        .await;
    refused.expect_status(400);
    let msg = refused.error_message().unwrap_or_default();
    assert!(
        msg.contains("\"ops\"") && msg.contains("\"pager\""),
        "the refusal should name both unknown ids: {msg:?}"
    );
    assert!(
        api.monitor_ids().await.is_empty(),
        "a refused create made a monitor"
    );

    let hook = api
        .post_json(
            "/api/notifiers",
            &json!({"type": "webhook", "url": target.url("/hook")}),
        )
        .await;
    hook.expect_status(201);
    let hook_id = hook.json::<Value>()["id"]
        .as_str()
        .expect("notifier id")
        .to_owned();
    let monitor = api
        .create_monitor(&json!({"url": url, "notifiers": [hook_id]}))
        .await;

    let refused = api
        .patch_json(
            &monitor_path(&monitor.id),
            &json!({"notifiers": [hook_id, "ops"]}),
        )
        .await;
    refused.expect_status(400);
    let msg = refused.error_message().unwrap_or_default();
    assert!(
        msg.contains("\"ops\"") && !msg.contains(&hook_id),
        "{msg:?}"
    );
    assert_eq!(
        api.get_monitor(&monitor.id).await.definition(),
        monitor.definition()
    );

    // A notifier deleted later does not block other changes to the monitors that name it.
    api.delete(&format!("/api/notifiers/{hook_id}"))
        .await
        .expect_status(204);
    let paused = api
        .patch_monitor(&monitor.id, &json!({"active": false}))
        .await;
    assert!(!paused.active);
}
