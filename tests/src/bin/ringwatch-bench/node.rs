//! One `ringwatch node` process under test: started on ephemeral ports with its own data
//! directory (alone, or joining a cluster), loaded with monitors over the bulk API, scraped,
//! asked for its view of the cluster and its stored results, and stopped or killed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::proc::Child;
use crate::prom::Scrape;

/// Monitors per `POST /api/monitors` (about 500 KB of JSON, under the node's 1 MiB limit).
const BULK_BATCH: u64 = 5_000;
/// How long the node may take to print its `listening` line.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the node may take to exit after SIGTERM (SPEC: 10 s) before it gets SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// Check timeout of every monitor.
const CHECK_TIMEOUT_MS: u64 = 5_000;
/// How long a SIGKILLed node may take to be reaped.
const KILL_TIMEOUT: Duration = Duration::from_secs(10);
/// Results the node answers per `GET /api/monitors/{id}/results` at most (its
/// `MAX_RESULTS_LIMIT`); fuller windows are read in pages.
const RESULTS_PAGE: usize = 10_000;
/// Kinds of log message a run's notes show per node (errors, then the most frequent).
const LOG_KINDS_SHOWN: usize = 4;
/// The cluster secret of every bench node (a node on the default cookie logs a warning).
const COOKIE: &str = "ringwatch-bench";

/// The node binary to bench: `--bin`/`RINGWATCH_BIN`, else `<target>/release/ringwatch`.
pub fn find_bin(explicit: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(bin) = explicit {
        if !bin.is_file() {
            bail!(
                "no ringwatch binary at {} (from --bin or RINGWATCH_BIN)",
                bin.display()
            );
        }
        return Ok(bin);
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            // This tool lives in <target>/<profile>/.
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target_dir.join("release").join("ringwatch");
    if !bin.is_file() {
        bail!(
            "no ringwatch release binary at {}.\nBuild it with:\n    \
             cargo build --release -p ringwatch --bin ringwatch\n\
             (scripts/bench builds it and this tool), or pass --bin PATH / set RINGWATCH_BIN.",
            bin.display()
        );
    }
    Ok(bin)
}

/// A copy of `bin` in a new temporary directory (removed when the returned guard drops).
pub fn snapshot_bin(bin: &Path) -> Result<(PathBuf, tempfile::TempDir)> {
    let dir = tempfile::Builder::new()
        .prefix("ringwatch-bench-bin")
        .tempdir()?;
    let copy = dir.path().join("ringwatch");
    std::fs::copy(bin, &copy).with_context(|| format!("copy {}", bin.display()))?;
    Ok((copy, dir))
}

/// Size and build time of a binary, to tell builds apart in reports.
pub fn describe_bin(bin: &Path) -> String {
    let Ok(meta) = bin.metadata() else {
        return "unreadable".to_string();
    };
    let age = meta
        .modified()
        .ok()
        .and_then(|m| m.elapsed().ok())
        .map_or("?".to_string(), |a| format!("{} min", a.as_secs() / 60));
    format!("{} MB, built {age} ago", meta.len() / 1_000_000)
}

/// How one incarnation of a node runs.
pub struct Spec<'a> {
    /// `--name`, stable across restarts.
    pub name: &'a str,
    /// Holds the node's data directory (`data/`, kept across restarts) and its stderr logs.
    pub dir: &'a Path,
    /// Cluster address of a running node to join.
    pub join: Option<&'a str>,
    /// 1 for the first start, 2 after the first restart...: names the stderr log.
    pub incarnation: u32,
}

pub struct Node {
    // Fields drop in order: the process stops before its data directory is removed.
    child: Child,
    name: String,
    base: String,
    cluster: String,
    client: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
}

impl Node {
    /// Starts a lone node in a temporary directory of its own and waits for its `listening`
    /// line. Call from the main thread (see [`Child::spawn`]).
    pub fn start(bin: &Path) -> Result<Node> {
        let dir = tempfile::Builder::new()
            .prefix("ringwatch-bench-node")
            .tempdir()?;
        let spec = Spec {
            name: "bench",
            dir: dir.path(),
            join: None,
            incarnation: 1,
        };
        let mut node = Node::launch(bin, &spec)?;
        node._dir = Some(dir);
        Ok(node)
    }

    /// Starts a node as `spec` says and waits for its `listening http=H cluster=C` line.
    /// Call from the main thread (see [`Child::spawn`]).
    pub fn launch(bin: &Path, spec: &Spec) -> Result<Node> {
        let mut cmd = Command::new(bin);
        cmd.arg("node")
            .args(["--http", "127.0.0.1:0", "--cluster", "127.0.0.1:0"])
            .args(["--name", spec.name])
            .arg("--data")
            .arg(spec.dir.join("data"))
            .env("RINGWATCH_LOG", "warn")
            .env("RINGWATCH_COOKIE", COOKIE);
        if let Some(peer) = spec.join {
            cmd.args(["--join", peer]);
        }
        let log = spec.dir.join(format!("stderr-{}.log", spec.incarnation));
        let mut child = Child::spawn("ringwatch node", cmd, &log, libc::SIGKILL)?;
        let line = tokio::task::block_in_place(|| child.wait_line("listening ", START_TIMEOUT))
            .with_context(|| format!("start node {}", spec.name))?;
        let field = |key: &str| {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(key))
                .map(str::to_string)
                .with_context(|| format!("no {key} in the node's line {line:?}"))
        };
        let (http, cluster) = (field("http=")?, field("cluster=")?);
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(120))
            .build()?;
        Ok(Node {
            child,
            name: spec.name.to_string(),
            base: format!("http://{http}"),
            cluster,
            client,
            _dir: None,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cluster address, for other nodes' `--join`.
    pub fn cluster_addr(&self) -> &str {
        &self.cluster
    }

    /// Fails (with the node's last log lines) when the node has exited.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("the node exited ({status}):\n{}", self.child.log_tail());
        }
        Ok(())
    }

    pub async fn metrics(&self) -> Result<Scrape> {
        let text = self
            .client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("GET /metrics of {}", self.name))?
            .text()
            .await?;
        Ok(Scrape::parse(&text))
    }

    /// `GET path`: the body, and the time from the request to the whole body; fails on a
    /// non-2xx answer.
    async fn get(&self, path: &str) -> Result<(bytes::Bytes, Duration)> {
        let start = std::time::Instant::now();
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .with_context(|| format!("GET {path} of {}", self.name))?;
        let status = resp.status();
        let body = resp.bytes().await?;
        let took = start.elapsed();
        if !status.is_success() {
            bail!(
                "GET {path} of {} answered {status}: {}",
                self.name,
                truncate(&String::from_utf8_lossy(&body), 300)
            );
        }
        Ok((body, took))
    }

    /// `GET path`, timed: the time taken and the body's length.
    pub async fn get_timed(&self, path: &str) -> Result<(Duration, usize)> {
        let (body, took) = self.get(path).await?;
        Ok((took, body.len()))
    }

    /// `GET path` as JSON; fails on a non-2xx answer.
    pub async fn get_json(&self, path: &str) -> Result<Value> {
        let (body, _) = self.get(path).await?;
        serde_json::from_slice(&body).with_context(|| format!("GET {path}: not JSON"))
    }

    /// The names this node lists alive (`GET /api/cluster`), sorted.
    pub async fn alive(&self) -> Result<Vec<String>> {
        let view = self.get_json("/api/cluster").await?;
        let names = view["alive"]
            .as_array()
            .context("/api/cluster without \"alive\"")?
            .iter()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect();
        Ok(names)
    }

    /// The ids of the first `limit` monitors this node lists.
    pub async fn monitor_ids(&self, limit: u64) -> Result<Vec<String>> {
        let list = self
            .get_json(&format!("/api/monitors?limit={limit}"))
            .await?;
        let ids = list
            .as_array()
            .context("/api/monitors is not a list")?
            .iter()
            .filter_map(|m| m["id"].as_str().map(str::to_string))
            .collect();
        Ok(ids)
    }

    /// How many results of monitor `id` (from any node) this node holds with `at_ms` in
    /// `from_ms..=to_ms`.
    pub async fn count_results(&self, id: &str, from_ms: u64, to_ms: u64) -> Result<u64> {
        let mut since = from_ms;
        let mut count = 0;
        loop {
            let path = format!("/api/monitors/{id}/results?since={since}&limit={RESULTS_PAGE}");
            let page = self.get_json(&path).await?;
            let times: Vec<u64> = page
                .as_array()
                .context("results are not a list")?
                .iter()
                .filter_map(|r| r["at_ms"].as_u64())
                .collect();
            count += times.iter().filter(|&&t| t <= to_ms).count() as u64;
            match times.last() {
                // A full page that still ends inside the window: read on (a result sharing
                // the page's last millisecond on the next page is not counted).
                Some(&last) if times.len() == RESULTS_PAGE && last < to_ms => since = last + 1,
                _ => return Ok(count),
            }
        }
    }

    /// Creates `k` monitors of `target_url?m=N` (distinct URLs), `interval_secs` apart, in
    /// bulk requests; returns how long that took.
    pub async fn add_monitors(
        &self,
        target_url: &str,
        k: u64,
        interval_secs: u64,
    ) -> Result<Duration> {
        let started = Instant::now();
        let mut next = 0;
        while next < k {
            let end = (next + BULK_BATCH).min(k);
            let batch: Vec<Value> = (next..end)
                .map(|m| {
                    json!({
                        "url": format!("{target_url}?m={m}"),
                        "interval_secs": interval_secs,
                        "timeout_ms": CHECK_TIMEOUT_MS,
                    })
                })
                .collect();
            self.post_batch(&batch)
                .await
                .with_context(|| format!("create monitors {next}..{end}"))?;
            next = end;
        }
        Ok(started.elapsed())
    }

    async fn post_batch(&self, batch: &[Value]) -> Result<()> {
        let resp = self
            .client
            .post(format!("{}/api/monitors", self.base))
            .json(batch)
            .send()
            .await?;
        let status = resp.status();
        let body = resp.text().await?;
        if status != reqwest::StatusCode::CREATED {
            bail!(
                "POST /api/monitors answered {status}: {}",
                truncate(&body, 300)
            );
        }
        let created = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.as_array().map(Vec::len));
        if created != Some(batch.len()) {
            bail!(
                "POST /api/monitors created {created:?} of {} monitors",
                batch.len()
            );
        }
        Ok(())
    }

    /// SIGKILL, and wait until the process is reaped.
    pub fn kill(&mut self) -> Result<()> {
        tokio::task::block_in_place(|| self.child.stop(libc::SIGKILL, KILL_TIMEOUT))?;
        Ok(())
    }

    /// The warnings and errors this node's incarnations logged in `dir` (the [`Spec`] dir):
    /// their number and the kinds of message, errors first, then the most frequent, as
    /// `N x message` (messages alike but for the contents of their `{...}`).
    pub fn log_summary(dir: &Path) -> (usize, Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return (0, Vec::new());
        };
        let mut logs: Vec<PathBuf> = entries
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        logs.sort();
        // Per kind: how often, and its first message and log (errors are shown in full).
        let mut kinds: Vec<(String, usize, String, String)> = Vec::new();
        let mut total = 0;
        for log in &logs {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            for message in text.lines().map(log_message).filter(|m| !m.is_empty()) {
                total += 1;
                let kind = truncate(&collapse_braces(&message), 200).to_string();
                match kinds.iter_mut().find(|(k, ..)| *k == kind) {
                    Some((_, n, ..)) => *n += 1,
                    None => {
                        let file = log.file_name().unwrap_or_default().to_string_lossy();
                        kinds.push((kind, 1, message, file.into_owned()));
                    }
                }
            }
        }
        // Errors first, then the most frequent warnings.
        kinds.sort_by_key(|(kind, n, ..)| (!kind.starts_with("ERROR"), std::cmp::Reverse(*n)));
        let top = kinds
            .into_iter()
            .take(LOG_KINDS_SHOWN)
            .map(|(kind, n, first, file)| {
                if kind.starts_with("ERROR") {
                    format!("{n} x {} (first in {file})", truncate(&first, 400))
                } else {
                    format!("{n} x {kind}")
                }
            })
            .collect();
        (total, top)
    }

    /// SIGTERM, then wait for the exit (SIGKILL after [`STOP_TIMEOUT`]); describes how it went.
    pub fn stop(&mut self) -> Result<String> {
        let (status, killed) =
            tokio::task::block_in_place(|| self.child.stop(libc::SIGTERM, STOP_TIMEOUT))?;
        Ok(match (killed, status.success()) {
            (true, _) => format!("did not exit within {STOP_TIMEOUT:?} of SIGTERM: killed"),
            (false, true) => "exited 0 after SIGTERM".to_string(),
            (false, false) => format!("exited with {status} after SIGTERM"),
        })
    }
}

/// `text` with the contents of every outermost `{...}` replaced by `..`.
fn collapse_braces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push_str("{..");
                }
                depth += 1;
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push('}');
                }
            }
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// A log line without its colours and timestamp: `WARN target: message`.
fn log_message(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // An SGR sequence: ESC [ ... m.
            chars.by_ref().find(|&c| c == 'm');
        } else {
            plain.push(c);
        }
    }
    let plain = plain.trim();
    match plain.split_once(' ') {
        Some((stamp, rest)) if stamp.ends_with('Z') => rest.trim().to_string(),
        _ => plain.to_string(),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_messages_lose_colours_and_timestamps() {
        let line = "\x1b[2m2026-11-22T03:26:20.791620Z\x1b[0m \x1b[33m WARN\x1b[0m \
                    \x1b[2mringwatch\x1b[0m\x1b[2m:\x1b[0m peer n3 fell behind";
        assert_eq!(log_message(line), "WARN ringwatch: peer n3 fell behind");
        assert_eq!(log_message("plain text"), "plain text");
    }

    #[test]
    fn log_kinds_ignore_what_is_in_braces() {
        assert_eq!(
            collapse_braces("session Some(Name { name: \"n3\", f: F { v: 1 } }) exited"),
            "session Some(Name {..}) exited"
        );
        assert_eq!(collapse_braces("no braces"), "no braces");
    }
}
