//! The HTTP client every client subcommand uses: one node's base URL and, if given, the
//! token it sends as `Authorization: Bearer`.

use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::Value;

use super::NodeUrl;

/// An HTTP client of one node, sending the token if one was given.
pub(super) struct Client {
    pub(super) http: reqwest::Client,
    pub(super) base: String,
}

impl Client {
    pub(super) fn new(node: &NodeUrl) -> anyhow::Result<Self> {
        let mut headers = HeaderMap::new();
        if let Some(token) = &node.token {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .context("the token is not valid in an HTTP header")?;
            // Kept out of reqwest's own debug output.
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        Ok(Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .default_headers(headers)
                .build()?,
            base: node.url.trim_end_matches('/').to_owned(),
        })
    }

    pub(super) async fn send(&self, req: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the node at {}", self.base))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            let msg = body["error"].as_str().unwrap_or(text.as_str());
            bail!("{status}: {msg}");
        }
        Ok(body)
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `/api/monitors/{id}` with `id` escaped as one path segment.
    pub(super) fn monitor_url(&self, id: &str) -> anyhow::Result<reqwest::Url> {
        let mut url = reqwest::Url::parse(&self.url("/api/monitors"))
            .with_context(|| format!("--node {} is not a URL", self.base))?;
        url.path_segments_mut()
            .map_err(|()| anyhow::anyhow!("--node {} cannot take a path", self.base))?
            .push(id);
        Ok(url)
    }

    /// The id of the monitor `key` names: an id, or else the one monitor with that name.
    pub(super) async fn resolve_monitor(&self, key: &str) -> anyhow::Result<String> {
        let resp = self
            .http
            .get(self.monitor_url(key)?)
            .send()
            .await
            .with_context(|| format!("cannot reach the node at {}", self.base))?;
        if resp.status().is_success() {
            return Ok(key.to_owned());
        }
        let list = self.send(self.http.get(self.url("/api/monitors"))).await?;
        let named: Vec<&str> = list
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|m| m["name"].as_str() == Some(key))
            .filter_map(|m| m["id"].as_str())
            .collect();
        match named.as_slice() {
            [] => bail!("no monitor has the id or name {key:?} (`ringwatch ls` lists them)"),
            [id] => Ok((*id).to_owned()),
            ids => bail!(
                "{} monitors are named {key:?} ({}): name one by its id",
                ids.len(),
                ids.join(", ")
            ),
        }
    }
}
