//! One `ringwatch node` process under test: started on ephemeral ports with its own data
//! directory, loaded with monitors over the bulk API, scraped, and stopped.

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

pub struct Node {
    // Fields drop in order: the process stops before its data directory is removed.
    child: Child,
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Node {
    /// Starts a node and waits for its `listening http=...` line. Call from the main thread
    /// (see [`Child::spawn`]).
    pub fn start(bin: &Path) -> Result<Node> {
        let dir = tempfile::Builder::new()
            .prefix("ringwatch-bench-node")
            .tempdir()?;
        let mut cmd = Command::new(bin);
        cmd.arg("node")
            .args(["--http", "127.0.0.1:0", "--cluster", "127.0.0.1:0"])
            .args(["--name", "bench"])
            .arg("--data")
            .arg(dir.path().join("data"))
            .env("RINGWATCH_LOG", "warn");
        let mut child = Child::spawn(
            "ringwatch node",
            cmd,
            &dir.path().join("stderr.log"),
            libc::SIGKILL,
        )?;
        let line = tokio::task::block_in_place(|| child.wait_line("listening ", START_TIMEOUT))?;
        let http = line
            .split_whitespace()
            .find_map(|f| f.strip_prefix("http="))
            .with_context(|| format!("no http= in the node's line {line:?}"))?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(120))
            .build()?;
        Ok(Node {
            child,
            base: format!("http://{http}"),
            client,
            _dir: dir,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.pid()
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
            .context("GET /metrics")?
            .text()
            .await?;
        Ok(Scrape::parse(&text))
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

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
