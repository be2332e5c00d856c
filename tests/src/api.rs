//! A thin JSON client for a node's HTTP API: raw requests ([`Resp`]) for tests that look at
//! refusals, and typed helpers ([`Monitor`], [`ProbeResult`]) that assert the happy path.

use crate::wait_for;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;

/// Per-request timeout of the test client: far above any answer a healthy node gives.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Characters of a response body quoted in failure messages.
const QUOTED_BODY_CHARS: usize = 600;

/// A monitor as the API returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Monitor {
    pub id: String,
    pub url: String,
    pub name: String,
    pub interval_secs: u64,
    pub timeout_ms: u64,
    pub active: bool,
    pub failure_threshold: u32,
    pub recovery_threshold: u32,
    #[serde(default)]
    pub expect_status: Value,
    #[serde(default)]
    pub expect_body_contains: Option<String>,
    /// `pending` | `up` | `down` | `paused`.
    pub status: String,
    pub owner: Option<String>,
    pub last_result: Option<ProbeResult>,
    pub created_ms: Option<u64>,
}

/// The fields of a monitor that only requests change (no status, owner or last result): equal
/// definitions mean a refused request changed nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub id: String,
    pub url: String,
    pub name: String,
    pub interval_secs: u64,
    pub timeout_ms: u64,
    pub active: bool,
    pub failure_threshold: u32,
    pub recovery_threshold: u32,
    pub expect_status: Value,
    pub expect_body_contains: Option<String>,
    pub created_ms: Option<u64>,
}

impl Monitor {
    pub fn definition(&self) -> Definition {
        Definition {
            id: self.id.clone(),
            url: self.url.clone(),
            name: self.name.clone(),
            interval_secs: self.interval_secs,
            timeout_ms: self.timeout_ms,
            active: self.active,
            failure_threshold: self.failure_threshold,
            recovery_threshold: self.recovery_threshold,
            expect_status: self.expect_status.clone(),
            expect_body_contains: self.expect_body_contains.clone(),
            created_ms: self.created_ms,
        }
    }
}

/// One probe result as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProbeResult {
    pub monitor_id: String,
    pub at_ms: u64,
    pub ok: bool,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    #[serde(default)]
    pub error_kind: Option<String>,
    pub node: String,
}

/// The body of a create request for `url` probed every `interval_secs`.
pub fn monitor_body(url: &str, interval_secs: u64) -> Value {
    json!({ "url": url, "interval_secs": interval_secs })
}

/// A node's API at one base URL.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
    /// Sent as `Authorization: Bearer` when set ([`Api::with_token`]).
    token: Option<String>,
}

/// A complete HTTP answer, whatever its status.
#[derive(Debug, Clone)]
pub struct Resp {
    /// `METHOD path`, for failure messages.
    pub request: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// `METHOD path -> status: body`, the body cut short.
    pub fn describe(&self) -> String {
        let text = self.text();
        let quoted: String = text.chars().take(QUOTED_BODY_CHARS).collect();
        let more = if quoted.len() < text.len() { "..." } else { "" };
        format!("{} -> {}: {quoted}{more}", self.request, self.status)
    }

    /// The body as JSON; panics (with the response) if it is not.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{}\nbody is not the expected JSON ({}): {e}",
                self.describe(),
                std::any::type_name::<T>()
            )
        })
    }

    /// The `error` text of a `{"error": "..."}` body, if the body is that and the text is not
    /// blank.
    pub fn error_message(&self) -> Option<String> {
        let value: Value = serde_json::from_slice(&self.body).ok()?;
        let text = value.as_object()?.get("error")?.as_str()?;
        (!text.trim().is_empty()).then(|| text.to_owned())
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Panics with the response unless its status is `status`.
    pub fn expect_status(&self, status: u16) -> &Resp {
        assert_eq!(self.status, status, "{}", self.describe());
        self
    }

    /// Checks a refusal: `status` and a `{"error": non-empty}` body; `Err` says what is wrong.
    pub fn check_refusal(&self, status: u16) -> Result<(), String> {
        if self.status != status {
            return Err(format!("expected {status}: {}", self.describe()));
        }
        if self.error_message().is_none() {
            return Err(format!(
                "expected a {{\"error\": non-empty string}} body: {}",
                self.describe()
            ));
        }
        Ok(())
    }
}

impl Api {
    /// A client for the node at `base` (`http://127.0.0.1:PORT`); proxies are never used.
    pub fn new(base: impl Into<String>) -> Api {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("build HTTP client");
        Api {
            base: base.into(),
            http,
            token: None,
        }
    }

    /// The same node's API, sending `token` as `Authorization: Bearer` on every request.
    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request and reads the whole answer; `Err` only for transport failures.
    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        body: Option<(Vec<u8>, &str)>,
    ) -> Result<Resp, reqwest::Error> {
        let headers: &[(&str, &str)] = match &body {
            Some((_, content_type)) => &[("content-type", content_type)],
            None => &[],
        };
        self.try_send_with(method, path, headers, body.map(|(bytes, _)| bytes))
            .await
    }

    /// [`Api::try_send`] with more request `headers` (`Accept`...).
    pub async fn try_send_with(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Resp, reqwest::Error> {
        let request = format!("{method} {path}");
        let mut builder = self.http.request(method, self.url(path));
        if let Some(token) = &self.token {
            builder = builder.bearer_auth(token);
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        if let Some(bytes) = body {
            builder = builder.body(bytes);
        }
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok(Resp {
            request,
            status,
            headers,
            body,
        })
    }

    /// Sends a request; panics on transport failure.
    pub async fn send(&self, method: Method, path: &str, body: Option<(Vec<u8>, &str)>) -> Resp {
        let what = format!("{method} {}", self.url(path));
        self.try_send(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("{what}: {}", error_chain(&e)))
    }

    /// `method path` with more request `headers`; panics on transport failure.
    pub async fn send_with(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Resp {
        let what = format!("{method} {}", self.url(path));
        self.try_send_with(method, path, headers, None)
            .await
            .unwrap_or_else(|e| panic!("{what}: {}", error_chain(&e)))
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.post_bytes(path, body.to_string().into_bytes()).await
    }

    /// POSTs `bytes` as `application/json`, whether they are JSON or not.
    pub async fn post_bytes(&self, path: &str, bytes: Vec<u8>) -> Resp {
        self.send(Method::POST, path, Some((bytes, "application/json")))
            .await
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> Resp {
        self.patch_bytes(path, body.to_string().into_bytes()).await
    }

    /// PATCHes `bytes` as `application/json`, whether they are JSON or not.
    pub async fn patch_bytes(&self, path: &str, bytes: Vec<u8>) -> Resp {
        self.send(Method::PATCH, path, Some((bytes, "application/json")))
            .await
    }

    /// Status of `GET /healthz`, or `None` when the node does not answer at all.
    pub async fn healthz(&self) -> Option<u16> {
        self.try_send(Method::GET, "/healthz", None)
            .await
            .ok()
            .map(|r| r.status)
    }

    /// Whether `GET /healthz` answers 200.
    pub async fn is_healthy(&self) -> bool {
        self.healthz().await == Some(200)
    }

    /// Creates one monitor; asserts 201 and returns it.
    pub async fn create_monitor(&self, body: &Value) -> Monitor {
        let resp = self.post_json("/api/monitors", body).await;
        resp.expect_status(201).json()
    }

    /// Creates monitors in bulk (a JSON array); asserts 201 and returns them.
    pub async fn create_monitors(&self, bodies: &[Value]) -> Vec<Monitor> {
        let resp = self
            .post_json("/api/monitors", &Value::Array(bodies.to_vec()))
            .await;
        resp.expect_status(201).json()
    }

    pub async fn list_monitors(&self) -> Vec<Monitor> {
        self.get("/api/monitors").await.expect_status(200).json()
    }

    /// Ids of all monitors, in the order listed.
    pub async fn monitor_ids(&self) -> Vec<String> {
        self.list_monitors()
            .await
            .into_iter()
            .map(|m| m.id)
            .collect()
    }

    /// One monitor; asserts 200.
    pub async fn get_monitor(&self, id: &str) -> Monitor {
        self.get(&monitor_path(id)).await.expect_status(200).json()
    }

    /// Changes fields of a monitor; asserts 200 and returns the changed monitor.
    pub async fn patch_monitor(&self, id: &str, patch: &Value) -> Monitor {
        let resp = self.patch_json(&monitor_path(id), patch).await;
        resp.expect_status(200).json()
    }

    /// Deletes a monitor; asserts a 2xx answer.
    pub async fn delete_monitor(&self, id: &str) {
        let resp = self.delete(&monitor_path(id)).await;
        assert!(
            (200..300).contains(&resp.status),
            "delete refused: {}",
            resp.describe()
        );
    }

    /// Probes a monitor now; asserts 200 and returns the result.
    pub async fn check(&self, id: &str) -> ProbeResult {
        let path = format!("{}/check", monitor_path(id));
        let resp = self
            .send(Method::POST, &path, Some((Vec::new(), "application/json")))
            .await;
        resp.expect_status(200).json()
    }

    /// `GET /api/monitors/{id}/results` with the optional `since` and `limit`; asserts 200.
    pub async fn results(
        &self,
        id: &str,
        since_ms: Option<u64>,
        limit: Option<usize>,
    ) -> Vec<ProbeResult> {
        self.results_resp(id, since_ms, limit)
            .await
            .expect_status(200)
            .json()
    }

    /// Waits until monitor `id` has `status` and returns the monitor.
    pub async fn wait_status(&self, id: &str, status: &str, timeout: Duration) -> Monitor {
        wait_for(&format!("monitor {id} {status}"), timeout, async || {
            let monitor = self.get_monitor(id).await;
            if monitor.status == status {
                Ok(monitor)
            } else {
                Err(format!(
                    "status {}, last_result {:?}",
                    monitor.status, monitor.last_result
                ))
            }
        })
        .await
    }

    /// Waits until monitor `id` has at least `count` stored results and returns them all.
    pub async fn wait_results(
        &self,
        id: &str,
        count: usize,
        timeout: Duration,
    ) -> Vec<ProbeResult> {
        wait_for(&format!("{count} results of {id}"), timeout, async || {
            let results = self.results(id, None, None).await;
            if results.len() >= count {
                Ok(results)
            } else {
                Err(format!("{} results", results.len()))
            }
        })
        .await
    }

    /// The raw answer of the results endpoint.
    pub async fn results_resp(
        &self,
        id: &str,
        since_ms: Option<u64>,
        limit: Option<usize>,
    ) -> Resp {
        let mut query = Vec::new();
        if let Some(since) = since_ms {
            query.push(format!("since={since}"));
        }
        if let Some(limit) = limit {
            query.push(format!("limit={limit}"));
        }
        let mut path = format!("{}/results", monitor_path(id));
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        self.get(&path).await
    }
}

/// `/api/monitors/{id}`.
pub fn monitor_path(id: &str) -> String {
    format!("/api/monitors/{id}")
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}
