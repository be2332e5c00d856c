//! Debian's Prometheus and promtool, for the tests of `/metrics`: a real Prometheus scraping
//! real nodes, and promtool's checks. `scripts/test` installs the `prometheus` package and sets
//! `RINGWATCH_REQUIRE_PROMETHEUS=1`, so there a missing tool fails the test; run alone
//! without the package, a test says it skips that part.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::wait_for;

/// `name` on the `PATH`; `None` (and a line saying so) when it is missing and not required.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let required = std::env::var("RINGWATCH_REQUIRE_PROMETHEUS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{name} is missing (apt-get install prometheus; scripts/test does)"
        );
        eprintln!("SKIPPED the {name} part: {name} is not installed (apt-get install prometheus)");
    }
    found
}

/// What a run of promtool printed, and whether it succeeded.
#[derive(Debug)]
pub struct ToolRun {
    pub success: bool,
    pub output: String,
}

/// Runs `promtool args`, with `stdin` as its input.
pub async fn promtool(bin: &Path, args: &[&str], stdin: &str) -> ToolRun {
    let mut child = tokio::process::Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start promtool");
    let mut input = child.stdin.take().expect("promtool stdin");
    input
        .write_all(stdin.as_bytes())
        .await
        .expect("write to promtool");
    drop(input);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("promtool finishes within 60 s")
        .expect("promtool output");
    ToolRun {
        success: out.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// One series of a query's answer: its labels, and its samples as (Unix seconds, value).
#[derive(Debug, Clone)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub samples: Vec<(f64, f64)>,
}

impl Series {
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }
}

/// A Prometheus server scraping some nodes; killed when dropped.
pub struct Prometheus {
    child: tokio::process::Child,
    base: String,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Prometheus {
    /// Starts `bin` scraping `targets` (HTTP addresses of nodes) every `interval` as job
    /// `ringwatch`, and returns once it is ready.
    pub async fn start(bin: &Path, targets: &[SocketAddr], interval: Duration) -> Prometheus {
        let dir = tempfile::tempdir().expect("a directory for Prometheus");
        let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let secs = interval.as_secs().max(1);
        let config = format!(
            "global:\n  scrape_interval: {secs}s\n  scrape_timeout: {secs}s\n\
             scrape_configs:\n  - job_name: ringwatch\n    static_configs:\n      \
             - targets: [{}]\n",
            targets.join(", ")
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("write prometheus.yml");
        let http = reqwest::Client::new();
        // The port comes from the kernel; another process may take it between our probe and
        // Prometheus's bind, so a start that fails is tried again on a fresh port.
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
            let mut child = tokio::process::Command::new(bin)
                .arg(format!("--config.file={}", config_path.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--log.level=warn")
                .stdout(Stdio::null())
                .stderr(log)
                .kill_on_drop(true)
                .spawn()
                .expect("start prometheus");
            let base = format!("http://127.0.0.1:{port}");
            let ready = wait_for(
                "Prometheus to be ready",
                Duration::from_secs(60),
                async || {
                    if let Ok(Some(status)) = child.try_wait() {
                        return Ok(Err(format!("exited: {status}")));
                    }
                    match http.get(format!("{base}/-/ready")).send().await {
                        Ok(r) if r.status().is_success() => Ok(Ok(())),
                        other => Err(format!("{other:?}")),
                    }
                },
            )
            .await;
            match ready {
                Ok(()) => {
                    return Prometheus {
                        child,
                        base,
                        _dir: dir,
                        http,
                    };
                }
                Err(why) => {
                    let log = std::fs::read_to_string(dir.path().join("prometheus.log"))
                        .unwrap_or_default();
                    eprintln!(
                        "Prometheus on port {port} did not start ({why}); trying again:\n{log}"
                    );
                }
            }
        }
        panic!("Prometheus did not start in 5 tries");
    }

    /// The answer to PromQL `query`: an instant vector (one sample per series) or a range
    /// vector (all raw samples of each series in the range).
    pub async fn query(&mut self, query: &str) -> Vec<Series> {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("Prometheus exited: {status}");
        }
        let resp = self
            .http
            .get(format!(
                "{}/api/v1/query?query={}",
                self.base,
                encode(query)
            ))
            .send()
            .await
            .expect("query Prometheus");
        let body: Value = resp.json().await.expect("a JSON answer");
        assert_eq!(body["status"], "success", "{query}: {body}");
        let point = |p: &Value| {
            let ts = p[0].as_f64().expect("a timestamp");
            let v = p[1].as_str().expect("a value").parse().expect("a number");
            (ts, v)
        };
        let result = body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        result
            .iter()
            .map(|s| Series {
                labels: serde_json::from_value(s["metric"].clone()).expect("labels"),
                samples: match s.get("values") {
                    Some(values) => values
                        .as_array()
                        .expect("values")
                        .iter()
                        .map(point)
                        .collect(),
                    None => vec![point(&s["value"])],
                },
            })
            .collect()
    }
}

/// `text` percent-encoded for a URL's query.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
