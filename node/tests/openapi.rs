//! The API contract: a real node's answers on every route match the OpenAPI document it serves
//! at `/api/openapi.json`, and every route of the router is in that document.
//!
//! Each JSON body is validated against the schema the document gives its path, method, status
//! and content type, with the document's components embedded so `$ref`s resolve. The check is
//! stricter than the document in one way: every object schema is taken as closed, so a field the
//! document does not name fails as surely as a missing or mistyped one. Every (operation,
//! status) pair the document lists must be met at least once, so the document cannot promise an
//! answer the test never saw.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use ringwatch::config::{AuthMode, Config};
use ringwatch::domain::token::Secret;
use ringwatch::node::Node;
use ringwatch::store::Store;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use warp::Filter;

/// The router's source: every `warp::path!` in it is a route the document must name.
const ROUTER_SOURCE: &str = include_str!("../src/api/mod.rs");
/// Routes left out of the document on purpose: test-only fault injection.
const INTERNAL_ROUTES: [&str; 1] = ["/api/debug/partition"];
/// Methods tried on every documented path to find operations the document does not list.
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];
/// One byte more than the API accepts (larger bodies get 413).
const TOO_LARGE: usize = (1 << 20) + 1;
const DEADLINE: Duration = Duration::from_secs(15);

/// A local target: `/ok` answers 200, `/down` 500. Never the internet.
async fn target() -> String {
    let ok = warp::path!("ok").map(|| "ok");
    let down = warp::path!("down")
        .map(|| warp::reply::with_status("down", warp::http::StatusCode::INTERNAL_SERVER_ERROR));
    let other = warp::any().map(|| "ok");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(ok.or(down).or(other)).incoming(listener).run());
    format!("http://{addr}")
}

/// The bootstrap admin token of the node with auth on.
const ADMIN: &str = "contract-admin-token-0123456789";

async fn start_node(auth: AuthMode) -> Node {
    let config = Config {
        name: format!("contract-{auth:?}").to_lowercase(),
        http: "127.0.0.1:0".parse().unwrap(),
        cluster: "127.0.0.1:0".parse().unwrap(),
        probers: 2,
        auth,
        admin_token: Some(Secret::new(ADMIN)),
        // The three monitors `monitors` creates; a fourth meets the 409.
        max_monitors: 3,
        ..Config::default()
    }
    .finish()
    .unwrap();
    Node::start_with_store(config, Store::in_memory())
        .await
        .unwrap()
}

/// Polls `probe` until it gives a value; fails naming `what` after [`DEADLINE`].
async fn wait_for<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Marks every object schema that names its properties as closed (see the module doc).
fn close_objects(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), false.into());
            }
            map.values_mut().for_each(close_objects);
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// `schema` with the document's (closed) components beside it, so `#/components/...` resolves.
fn with_components(doc: &Value, schema: &Value) -> Value {
    let mut components = doc["components"].clone();
    close_objects(&mut components);
    let mut schema = schema.clone();
    close_objects(&mut schema);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": components,
        "allOf": [schema],
    })
}

fn validate(doc: &Value, schema: &Value, instance: &Value, what: &str) {
    let root = with_components(doc, schema);
    let validator = jsonschema::draft202012::new(&root)
        .unwrap_or_else(|e| panic!("{what}: the document's schema does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: the answer does not match the document:\n  {}\nanswer: {instance}\nschema: {schema}",
        errors.join("\n  ")
    );
}

/// `/api/monitors/{id}` -> `/api/monitors/{}`: paths compared by shape.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// Every `warp::path!(...)` of the router source, as path shapes (`/api/monitors/{}`).
fn router_paths() -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let mut rest = ROUTER_SOURCE;
    while let Some(start) = rest.find("warp::path!(") {
        rest = &rest[start + "warp::path!(".len()..];
        let end = rest.find(')').expect("a closed warp::path!");
        let segments: Vec<String> = rest[..end]
            .split('/')
            .map(|s| {
                let s = s.trim();
                match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    Some(literal) => literal.to_owned(),
                    None => "{}".to_owned(),
                }
            })
            .collect();
        paths.insert(format!("/{}", segments.join("/")));
    }
    paths
}

/// A client that checks every answer against the document and counts what it has seen.
struct Contract {
    http: reqwest::Client,
    base: String,
    doc: Value,
    seen: BTreeSet<(String, String, u16)>,
    /// Sent as `Authorization: Bearer` when set.
    token: Option<String>,
}

/// One answer: headers and body (JSON, or a string for text types).
struct Answer {
    headers: reqwest::header::HeaderMap,
    body: Value,
}

/// What a request sends: nothing, JSON (checked against the request schema when accepted), or
/// the announcement of a body over the limit.
enum Send {
    Nothing,
    Json(Value),
    TooLarge,
}

impl Contract {
    /// The document's path template a concrete path (query stripped) falls under.
    fn template(&self, path: &str) -> String {
        let path = path.split('?').next().unwrap_or_default();
        let parts: Vec<&str> = path.split('/').collect();
        let fits = |t: &&String| {
            let tparts: Vec<&str> = t.split('/').collect();
            tparts.len() == parts.len()
                && tparts
                    .iter()
                    .zip(&parts)
                    .all(|(t, p)| t.starts_with('{') || t == p)
        };
        let paths = self.doc["paths"].as_object().unwrap();
        let found = paths
            .keys()
            .filter(fits)
            .min_by_key(|t| t.matches('{').count());
        found
            .unwrap_or_else(|| panic!("{path} is not in the document"))
            .clone()
    }

    /// The documented operation of `method template`.
    fn operation(&self, method: &Method, template: &str) -> Value {
        let op = &self.doc["paths"][template][method.as_str().to_ascii_lowercase()];
        assert!(op.is_object(), "{method} {template} is not in the document");
        op.clone()
    }

    /// Sends `method path`, asserts the answer is `want`, and checks it against the document.
    async fn expect(&mut self, method: Method, path: &str, send: Send, want: u16) -> Answer {
        let template = self.template(path);
        let op = self.operation(&method, &template);
        let what = format!("{method} {path} (want {want})");
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        match send {
            Send::Nothing => {}
            Send::Json(body) => {
                if want < 300 {
                    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                    validate(&self.doc, schema, &body, &format!("request of {what}"));
                }
                req = req.json(&body);
            }
            Send::TooLarge => return self.too_large(&method, path, &template, &op).await,
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        let text = resp.text().await.unwrap_or_default();
        self.check(&method, path, template, &op, want, (status, headers, text))
    }

    /// Checks an answer to `method path` against the document's `op` and counts it as seen.
    fn check(
        &mut self,
        method: &Method,
        path: &str,
        template: String,
        op: &Value,
        want: u16,
        (status, headers, text): (u16, HeaderMap, String),
    ) -> Answer {
        let what = format!("{method} {path} (want {want})");
        assert_eq!(status, want, "{what}: {text}");
        let documented = &op["responses"][status.to_string()];
        assert!(documented.is_object(), "{what}: status not in the document");
        self.seen.insert((method.to_string(), template, status));
        let body = answer_body(&self.doc, documented, &headers, text, &what);
        for name in documented["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|h| h.0)
        {
            let value = headers.get(name.as_str()).and_then(|v| v.to_str().ok());
            assert!(
                value.is_some_and(|v| v.parse::<u64>().is_ok()),
                "{what}: documented header {name} missing or not a count: {value:?}"
            );
        }
        Answer { headers, body }
    }

    /// Announces a body over the limit and sends none of it: the node refuses on the
    /// content-length alone, and sending the body would race its closing the connection.
    async fn too_large(
        &mut self,
        method: &Method,
        path: &str,
        template: &str,
        op: &Value,
    ) -> Answer {
        let addr = self.base.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
             content-length: {TOO_LARGE}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        let read = tokio::time::timeout(DEADLINE, stream.read_to_end(&mut raw)).await;
        read.expect("the 413 answer and a closed connection before the deadline")
            .unwrap();
        let raw = String::from_utf8(raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
        let mut lines = head.lines();
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).unwrap();
        let mut headers = HeaderMap::new();
        for (name, value) in lines.filter_map(|l| l.split_once(':')) {
            let name = HeaderName::from_bytes(name.trim().as_bytes()).unwrap();
            headers.insert(name, HeaderValue::from_str(value.trim()).unwrap());
        }
        let answer = (status.parse().unwrap(), headers, body.to_owned());
        self.check(method, path, template.to_owned(), op, 413, answer)
    }

    async fn get(&mut self, path: &str, want: u16) -> Answer {
        self.expect(Method::GET, path, Send::Nothing, want).await
    }

    async fn json(&mut self, method: Method, path: &str, body: Value, want: u16) -> Value {
        self.expect(method, path, Send::Json(body), want).await.body
    }

    /// Every (operation, status) of the document not met yet.
    fn unmet(&self) -> Vec<String> {
        let mut unmet = Vec::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for status in op["responses"].as_object().unwrap().keys() {
                    let key = (
                        method.to_ascii_uppercase(),
                        path.clone(),
                        status.parse().unwrap(),
                    );
                    if !self.seen.contains(&key) {
                        unmet.push(format!("{} {} {}", key.0, key.1, key.2));
                    }
                }
            }
        }
        unmet
    }
}

/// The body of an answer, checked against its `documented` response: none where none is
/// documented, a documented content type, and JSON that fits the schema.
fn answer_body(
    doc: &Value,
    documented: &Value,
    headers: &reqwest::header::HeaderMap,
    text: String,
    what: &str,
) -> Value {
    let Some(content) = documented["content"].as_object() else {
        assert!(
            text.is_empty(),
            "{what}: a body where none is documented: {text}"
        );
        return Value::Null;
    };
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (media, media_type) = content
        .iter()
        .find(|(m, _)| content_type.starts_with(m.as_str()))
        .unwrap_or_else(|| panic!("{what}: content-type {content_type:?} not in {content:?}"));
    if media != "application/json" {
        return Value::String(text);
    }
    let json: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"));
    validate(doc, &media_type["schema"], &json, what);
    json
}

/// Opens the event stream, as documented (its body never ends: [`read_events`] reads it).
async fn subscribe(c: &mut Contract) -> reqwest::Response {
    let events = c
        .http
        .get(format!("{}/api/events", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let content_type = events.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let op = c.operation(&Method::GET, "/api/events");
    let content = op["responses"]["200"]["content"].as_object().unwrap();
    assert!(
        content.keys().any(|m| content_type.starts_with(m.as_str())),
        "events: content-type {content_type:?} not in {content:?}"
    );
    c.seen.insert(("GET".into(), "/api/events".into(), 200));
    events
}

/// Reads server-sent events until one of each name in `want` arrived; validates each one's
/// data against the schema the document's `x-events` gives its name.
async fn read_events(resp: reqwest::Response, doc: &Value, want: &[&str]) {
    let schemas = &doc["paths"]["/api/events"]["get"]["x-events"];
    let mut stream = resp.bytes_stream();
    let mut buf = String::new();
    let mut missing: BTreeSet<&str> = want.iter().copied().collect();
    let deadline = Instant::now() + DEADLINE;
    while !missing.is_empty() {
        let chunk = tokio::time::timeout_at(deadline.into(), stream.next())
            .await
            .unwrap_or_else(|_| panic!("no SSE events {missing:?} before the deadline"))
            .expect("the event stream ended")
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            let mut name = "message";
            let mut data = String::new();
            for line in event.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if data.is_empty() {
                continue; // a keep-alive comment
            }
            let schema = &schemas[name];
            assert!(schema.is_object(), "event {name:?} is not in x-events");
            let json: Value = serde_json::from_str(&data).unwrap();
            validate(doc, schema, &json, &format!("SSE event {name}"));
            missing.remove(name);
        }
    }
}

/// Every `warp::path!` route is a documented path, and no method answers on a documented path
/// unless the document lists it (405 is the router's "not this method"; its body is still the
/// documented error shape).
async fn routes_are_documented(c: &Contract) {
    let documented: BTreeSet<String> = c.doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|p| shape(p))
        .collect();
    let routed = router_paths();
    assert!(
        routed.len() >= 10,
        "the router scan found too little: {routed:?}"
    );
    for path in &routed {
        assert!(
            documented.contains(path) || INTERNAL_ROUTES.contains(&path.as_str()),
            "route {path} is not in the OpenAPI document"
        );
    }
    for (path, item) in c.doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method.as_str().to_ascii_lowercase()).is_some() {
                continue;
            }
            let url = format!("{}{}", c.base, path.replace("{id}", "x"));
            let resp = c.http.request(method.clone(), &url).send().await.unwrap();
            let status = resp.status().as_u16();
            assert_eq!(
                status, 405,
                "{method} {path} answers but is not in the document"
            );
            let body: Value = resp.json().await.unwrap();
            let error = json!({ "$ref": "#/components/schemas/ErrorBody" });
            validate(&c.doc, &error, &body, &format!("{method} {path}"));
        }
    }
}

/// Creates a webhook notifier (to `target`) and an email one; refusals. Returns their ids.
async fn notifiers(c: &mut Contract, target: &str) -> (String, String) {
    let hook = json!({"type": "webhook", "name": "hook", "url": format!("{target}/hook")});
    let hook = c.json(Method::POST, "/api/notifiers", hook, 201).await;
    let mail = json!({"type": "email", "smtp_host": "127.0.0.1", "smtp_port": 1,
        "smtp_security": "none", "smtp_username": "u", "smtp_password": "p",
        "from": "rw@example.test", "to": ["ops@example.test"]});
    let mail = c.json(Method::POST, "/api/notifiers", mail, 201).await;
    let mail_id = mail["id"].as_str().unwrap().to_owned();
    c.json(
        Method::POST,
        "/api/notifiers",
        json!({"type": "pager"}),
        400,
    )
    .await;
    c.expect(Method::POST, "/api/notifiers", Send::TooLarge, 413)
        .await;
    let all = c.get("/api/notifiers", 200).await;
    assert_eq!(all.body.as_array().unwrap().len(), 2);
    c.get(&format!("/api/notifiers/{mail_id}"), 200).await;
    c.get("/api/notifiers/n-unknown", 404).await;
    (hook["id"].as_str().unwrap().to_owned(), mail_id)
}

/// A maintenance window over monitor `id`, now: the monitor shows as `maintenance`; a
/// recurring one, edits, refusals and deletes.
async fn maintenance(c: &mut Contract, id: &str) {
    let now = ringwatch::clock::now_ms();
    let once = json!({"title": "deploy", "monitors": [id], "start_ms": now - 1_000,
        "end_ms": now + 600_000});
    let made = c.json(Method::POST, "/api/maintenance", once, 201).await;
    assert_eq!(made["active_now"], true, "{made}");
    let shown = c.get(&format!("/api/monitors/{id}"), 200).await.body;
    assert_eq!(shown["status"], "maintenance", "{shown}");
    let listed = c.get("/api/monitors?status=maintenance", 200).await.body;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let weekly = json!({"title": "backup", "monitors": "all", "cron": "0 3 * * SUN",
        "duration_secs": 3600, "timezone": "Europe/Berlin"});
    let weekly = c.json(Method::POST, "/api/maintenance", weekly, 201).await;
    assert!(weekly["next_start_ms"].as_u64().unwrap() > now, "{weekly}");
    let bad = json!({"title": "x", "monitors": "all", "cron": "0 3 * *", "duration_secs": 60});
    c.json(Method::POST, "/api/maintenance", bad, 400).await;
    c.expect(Method::POST, "/api/maintenance", Send::TooLarge, 413)
        .await;
    let path = format!("/api/maintenance/{}", weekly["id"].as_str().unwrap());
    c.get(&path, 200).await;
    c.get("/api/maintenance/w-unknown", 404).await;
    let edited = c
        .json(Method::PATCH, &path, json!({"duration_secs": 60}), 200)
        .await;
    assert_eq!(edited["duration_secs"], 60);
    c.json(
        Method::PATCH,
        &path,
        json!({"timezone": "Nowhere/Else"}),
        400,
    )
    .await;
    c.json(Method::PATCH, "/api/maintenance/w-unknown", json!({}), 404)
        .await;
    c.expect(Method::PATCH, &path, Send::TooLarge, 413).await;
    let list = c.get("/api/maintenance", 200).await.body;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let summary = c.get("/api/summary", 200).await.body;
    assert!(summary["maintenance"].as_u64().unwrap() >= 1, "{summary}");
    for window in [&made, &weekly] {
        let path = format!("/api/maintenance/{}", window["id"].as_str().unwrap());
        c.expect(Method::DELETE, &path, Send::Nothing, 204).await;
        c.expect(Method::DELETE, &path, Send::Nothing, 404).await;
    }
}

/// Makes a token, lists it without its secret and revokes it; refusals.
async fn tokens(c: &mut Contract) {
    let made = json!({"name": "ci", "scope": "read"});
    let made = c.json(Method::POST, "/api/tokens", made, 201).await;
    let secret = made["token_secret"].as_str().unwrap().to_owned();
    let bad = json!({"name": "ci", "scope": "root"});
    c.json(Method::POST, "/api/tokens", bad, 400).await;
    c.expect(Method::POST, "/api/tokens", Send::TooLarge, 413)
        .await;
    let list = c.get("/api/tokens", 200).await.body;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(&secret), "{list}");
    let path = format!("/api/tokens/{}", made["id"].as_str().unwrap());
    c.expect(Method::DELETE, &path, Send::Nothing, 204).await;
    c.expect(Method::DELETE, &path, Send::Nothing, 404).await;
}

/// On a node with auth on: every operation the document says needs a token answers 401
/// without one, and every one it says may answer 403 does so for a read token.
async fn refusals(c: &mut Contract, auth_base: String) {
    let ops: Vec<(Method, String, bool)> = c.doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().unwrap().iter().filter_map(move |(m, op)| {
                op.get("security")?;
                op["responses"].get("401")?;
                let method = Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok()?;
                let forbidden = op["responses"].get("403").is_some();
                Some((method, path.replace("{id}", "x"), forbidden))
            })
        })
        .collect();
    assert!(ops.len() >= 15, "too few operations need a token: {ops:?}");
    let read = c
        .http
        .post(format!("{auth_base}/api/tokens"))
        .bearer_auth(ADMIN)
        .json(&json!({"name": "reader", "scope": "read"}))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status().as_u16(), 201);
    let read: Value = read.json().await.unwrap();
    c.base = auth_base;
    for (method, path, forbidden) in ops {
        c.token = None;
        c.expect(method.clone(), &path, Send::Nothing, 401).await;
        if forbidden {
            c.token = read["token_secret"].as_str().map(str::to_owned);
            c.expect(method, &path, Send::Nothing, 403).await;
        }
    }
    c.token = None;
    c.get("/healthz", 200).await;
    c.get("/", 200).await;
    // The dashboard's login: a token it does not know, then the read token.
    let wrong = json!({"token": "rw_0000000000000000_0000"});
    c.json(Method::POST, "/api/session", wrong, 401).await;
    let login = json!({"token": read["token_secret"]});
    let view = c.json(Method::POST, "/api/session", login, 200).await;
    assert_eq!(
        (view["auth"].as_str(), view["scope"].as_str()),
        (Some("on"), Some("read"))
    );
}

/// Status pages and badges: the definitions (made, listed, read, changed, refused, deleted),
/// the page as HTML and JSON, and the badges, on the node with auth off.
async fn status_pages(c: &mut Contract, up: &str, down: &str) {
    let body = json!({"slug": "contract", "title": "Contract", "description": "d",
        "groups": [{"name": "g", "monitors": [up, down]}],
        "announcement": {"title": "a", "text": "t", "severity": "info", "start_ms": 1}});
    let made = c.json(Method::POST, "/api/status-pages", body, 201).await;
    let id = made["id"].as_str().unwrap().to_owned();
    let bad = json!({"slug": "Not A Slug", "title": "x"});
    c.json(Method::POST, "/api/status-pages", bad, 400).await;
    c.expect(Method::POST, "/api/status-pages", Send::TooLarge, 413)
        .await;
    let list = c.get("/api/status-pages", 200).await.body;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let path = format!("/api/status-pages/{id}");
    c.get(&path, 200).await;
    c.get("/api/status-pages/p-unknown", 404).await;
    let changed = c
        .json(
            Method::PATCH,
            &path,
            json!({"announcement": null, "show_details": true}),
            200,
        )
        .await;
    assert!(changed["announcement"].is_null());
    c.json(Method::PATCH, &path, json!({"slug": "BAD"}), 400)
        .await;
    c.json(Method::PATCH, "/api/status-pages/p-unknown", json!({}), 404)
        .await;
    c.expect(Method::PATCH, &path, Send::TooLarge, 413).await;
    let html = c.get("/status/contract", 200).await;
    assert!(html.body.as_str().unwrap().starts_with("<!doctype html>"));
    let data = c.get("/status/contract.json", 200).await.body;
    assert_eq!(data["groups"][0]["monitors"].as_array().unwrap().len(), 2);
    c.get("/status/unknown", 404).await;
    for badge in [
        "status.svg",
        "uptime.svg?window=30d",
        "latency.svg?window=24h",
    ] {
        let answer = c.get(&format!("/badge/{up}/{badge}"), 200).await;
        assert!(answer.body.as_str().unwrap().starts_with("<svg"));
    }
    c.get(&format!("/badge/{up}/uptime.svg?window=soon"), 400)
        .await;
    c.get(&format!("/badge/{up}/other.svg"), 404).await;
    c.expect(Method::DELETE, &path, Send::Nothing, 204).await;
    c.expect(Method::DELETE, &path, Send::Nothing, 404).await;
}

/// The 401 of a page that is not public and of a badge of a monitor on no public page, on the
/// node with auth on.
async fn private_pages(c: &mut Contract) {
    c.token = Some(ADMIN.to_owned());
    let body = json!({"slug": "private", "title": "Private", "public": false});
    c.json(Method::POST, "/api/status-pages", body, 201).await;
    c.token = None;
    c.get("/status/private", 401).await;
    c.get("/badge/m-unknown/status.svg", 401).await;
}

/// The session routes on a node with auth off: nobody needs to log in.
async fn session_without_auth(c: &mut Contract) {
    let view = c.get("/api/session", 200).await.body;
    assert_eq!(view["auth"], "off");
    c.json(Method::POST, "/api/session", json!({"token": "x"}), 400)
        .await;
    c.expect(Method::DELETE, "/api/session", Send::Nothing, 204)
        .await;
}

/// Creates one monitor and, in bulk, a failing one alerting `hook` and a paused one; lists,
/// reads and patches them; refusals. Returns the ids of the first two.
async fn monitors(c: &mut Contract, target: &str, hook: &str) -> (String, String) {
    let one = json!({"url": format!("{target}/ok"), "name": "one", "interval_secs": 1,
        "expect_status": [200, "200-299"], "headers": {"X-A": "1"}, "notifiers": []});
    let one = c.json(Method::POST, "/api/monitors", one, 201).await;
    let id = one["id"].as_str().unwrap().to_owned();
    let bulk = json!([
        {"url": format!("{target}/down"), "name": "down", "interval_secs": 1,
            "failure_threshold": 1, "notifiers": [hook]},
        {"url": format!("{target}/paused"), "active": false, "notifiers": []},
    ]);
    let bulk = c.json(Method::POST, "/api/monitors", bulk, 201).await;
    let bad = json!({"url": format!("{target}/ok"), "bogus": 1});
    c.json(Method::POST, "/api/monitors", bad, 400).await;
    let fourth = json!({"url": format!("{target}/ok"), "name": "fourth"});
    c.json(Method::POST, "/api/monitors", fourth, 409).await;
    c.expect(Method::POST, "/api/monitors", Send::TooLarge, 413)
        .await;

    let page = c
        .get("/api/monitors?q=o&status=pending&offset=0&limit=1", 200)
        .await;
    assert!(page.headers.contains_key("x-total-count"));
    c.get("/api/monitors", 200).await;
    c.get("/api/monitors?status=bogus", 400).await;
    let path = format!("/api/monitors/{id}");
    c.get(&path, 200).await;
    c.get("/api/monitors/m-unknown", 404).await;

    let change = json!({"name": "renamed", "max_response_ms": 5000, "body": null});
    c.json(Method::PATCH, &path, change, 200).await;
    c.json(Method::PATCH, &path, json!({"interval_secs": 0}), 400)
        .await;
    c.json(
        Method::PATCH,
        "/api/monitors/m-unknown",
        json!({"name": "x"}),
        404,
    )
    .await;
    c.expect(Method::PATCH, &path, Send::TooLarge, 413).await;
    (id, bulk[0]["id"].as_str().unwrap().to_owned())
}

/// Checks, results and incidents of the monitors: `down_id` fails until it is down.
async fn results_and_incidents(c: &mut Contract, id: &str, down_id: &str) {
    c.expect(
        Method::POST,
        &format!("/api/monitors/{id}/check"),
        Send::Nothing,
        200,
    )
    .await;
    c.expect(
        Method::POST,
        "/api/monitors/m-unknown/check",
        Send::Nothing,
        404,
    )
    .await;
    c.get(&format!("/api/monitors/{id}/results?since=0&limit=10"), 200)
        .await;
    c.get(&format!("/api/monitors/{id}/results?limit=0"), 400)
        .await;
    c.get("/api/monitors/m-unknown/results", 404).await;

    let incidents = format!("{}/api/monitors/{down_id}/incidents", c.base);
    let http = c.http.clone();
    wait_for("an incident with an alert", async || {
        let body: Value = http.get(&incidents).send().await.ok()?.json().await.ok()?;
        let alerts = body.as_array()?.first()?["alerts"].as_array()?;
        (!alerts.is_empty()).then_some(())
    })
    .await;
    c.get(&format!("/api/monitors/{down_id}/incidents"), 200)
        .await;
    c.get("/api/monitors/m-unknown/incidents", 404).await;
    let results = c
        .get(&format!("/api/monitors/{down_id}/results"), 200)
        .await;
    assert!(!results.body.as_array().unwrap().is_empty());
    let down = c.get("/api/monitors?status=down", 200).await;
    assert_eq!(down.body.as_array().unwrap().len(), 1);
    c.get(&format!("/api/monitors/{id}/results?last=5"), 200)
        .await;
    c.get(&format!("/api/monitors/{id}/results?last=5&since=0"), 400)
        .await;
}

/// History of a monitor: stats and series, once its rollups hold a good check.
async fn history(c: &mut Contract, id: &str) {
    let stats = format!("{}/api/monitors/{id}/stats", c.base);
    let http = c.http.clone();
    wait_for("stats with a latency", async || {
        let body: Value = http.get(&stats).send().await.ok()?.json().await.ok()?;
        (!body["latency_ms"].is_null()).then_some(())
    })
    .await;
    c.get(&format!("/api/monitors/{id}/stats?window=1h"), 200)
        .await;
    c.get(&format!("/api/monitors/{id}/stats?window=soon"), 400)
        .await;
    c.get(&format!("/api/monitors/{id}/stats?window=10s"), 400)
        .await;
    c.get("/api/monitors/m-unknown/stats", 404).await;
    c.get(&format!("/api/monitors/{id}/series?step=60s"), 200)
        .await;
    c.get(&format!("/api/monitors/{id}/series?from=10&to=5"), 400)
        .await;
    c.get("/api/monitors/m-unknown/series", 404).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_as_the_openapi_document_says() {
    let target = target().await;
    let node = start_node(AuthMode::Off).await;
    let base = format!("http://{}", node.http_addr);
    let http = reqwest::Client::new();
    let doc: Value = http
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut c = Contract {
        http,
        base,
        doc,
        seen: BTreeSet::new(),
        token: None,
    };
    routes_are_documented(&c).await;

    // Subscribe first, so the changes below show up on the stream.
    let events = subscribe(&mut c).await;
    c.get("/healthz", 200).await;
    c.get("/", 200).await;
    c.get("/api/openapi.json", 200).await;
    let metrics = c.get("/metrics", 200).await;
    assert!(metrics.body.as_str().unwrap().contains("# TYPE"));

    let (hook, mail) = notifiers(&mut c, &target).await;
    let (id, down_id) = monitors(&mut c, &target, &hook).await;
    results_and_incidents(&mut c, &id, &down_id).await;
    history(&mut c, &id).await;
    maintenance(&mut c, &id).await;
    status_pages(&mut c, &id, &down_id).await;
    let summary = c.get("/api/summary", 200).await;
    assert_eq!(summary.body["total"], 3);
    let cluster = c.get("/api/cluster", 200).await;
    assert_eq!(cluster.body["nodes"][0]["self"], true);

    for path in [
        format!("/api/monitors/{id}"),
        format!("/api/notifiers/{mail}"),
    ] {
        c.expect(Method::DELETE, &path, Send::Nothing, 204).await;
        c.expect(Method::DELETE, &path, Send::Nothing, 404).await;
    }
    read_events(events, &c.doc, &["result", "status", "monitor", "deleted"]).await;
    tokens(&mut c).await;
    session_without_auth(&mut c).await;
    let guarded = start_node(AuthMode::On).await;
    refusals(&mut c, format!("http://{}", guarded.http_addr)).await;
    private_pages(&mut c).await;
    let unmet = c.unmet();
    assert!(
        unmet.is_empty(),
        "documented answers no request met: {unmet:?}"
    );
    node.shutdown().await;
    guarded.shutdown().await;
}
