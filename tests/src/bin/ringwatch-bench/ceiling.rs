//! The load tool's ceiling: how many requests/s wrk gets from the same target with a new
//! connection per request, which is what every check costs. Checks cannot go faster than that
//! on this machine, so the node's rate is reported as a fraction of it.

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::proc::which;

/// wrk's arguments before the URL.
pub const WRK_ARGS: [&str; 5] = ["-t2", "-c64", "-d5s", "-H", "Connection: close"];
/// wrk runs 5 s; allow this long before giving up on it.
const WRK_TIMEOUT: Duration = Duration::from_secs(30);

/// What one wrk run found.
pub struct Ceiling {
    pub requests_per_sec: f64,
    /// wrk's error lines ("Socket errors: ...", "Non-2xx or 3xx responses: ..."), if any.
    pub errors: Vec<String>,
}

/// True when wrk is installed.
pub fn wrk_installed() -> bool {
    which("wrk").is_some()
}

/// The command line the report shows.
pub fn wrk_command(url: &str) -> String {
    format!("wrk -t2 -c64 -d5s -H 'Connection: close' {url}")
}

/// Runs wrk against `url`.
pub async fn measure(url: &str) -> Result<Ceiling> {
    let bin = which("wrk").context("wrk not installed (apt-get install wrk)")?;
    let child = tokio::process::Command::new(bin)
        .args(WRK_ARGS)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .context("start wrk")?;
    let out = tokio::time::timeout(WRK_TIMEOUT, child.wait_with_output())
        .await
        .context("wrk did not finish")??;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "wrk failed ({}): {}{}",
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    parse(&text).with_context(|| format!("no Requests/sec in wrk's output:\n{text}"))
}

fn parse(text: &str) -> Option<Ceiling> {
    let requests_per_sec = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()?;
    let errors = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("Socket errors") || l.starts_with("Non-2xx"))
        .map(str::to_string)
        .collect();
    Some(Ceiling {
        requests_per_sec,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_requests_per_second_and_errors() {
        let out = "Running 5s test @ http://127.0.0.1:1/\n  2 threads and 64 connections\n  \
                   Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency     1.20ms  \
                   0.50ms  10.00ms   90.00%\n  235000 requests in 5.00s, 30.00MB read\n  \
                   Socket errors: connect 0, read 12, write 0, timeout 0\n\
                   Requests/sec:  47012.34\nTransfer/sec:      6.00MB\n";
        let c = parse(out).expect("parsed");
        assert_eq!(c.requests_per_sec, 47012.34);
        assert_eq!(
            c.errors,
            vec!["Socket errors: connect 0, read 12, write 0, timeout 0"]
        );
        assert!(parse("nothing").is_none());
    }
}
