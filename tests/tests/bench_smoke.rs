//! The benchmark is not a test (no timing assertions here); this only keeps it working: a
//! seconds-long `ringwatch-bench --smoke` run against the built-in target must complete and
//! print its table.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A smoke run takes a few seconds; this is the most it may take before it counts as hung.
const SMOKE_TIMEOUT: Duration = Duration::from_secs(120);

/// The node binary: `RINGWATCH_BIN` (set by scripts/test), else the `ringwatch` next to the
/// bench binary (same profile).
fn ringwatch_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("RINGWATCH_BIN") {
        return PathBuf::from(bin);
    }
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_ringwatch-bench"));
    let bin = bench.with_file_name("ringwatch");
    assert!(
        bin.is_file(),
        "no ringwatch binary at {}: build it first: cargo build -p ringwatch --bin ringwatch",
        bin.display()
    );
    bin
}

#[test]
fn smoke_run_completes_and_prints_the_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_ringwatch-bench"))
        .args(["--smoke", "--target", "builtin", "--bin"])
        .arg(ringwatch_bin())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("start ringwatch-bench");
    let deadline = Instant::now() + SMOKE_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for ringwatch-bench") {
            break Some(status);
        }
        if Instant::now() > deadline {
            // The bench stops its own children when it gets SIGKILL (parent-death signal).
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let status = status.unwrap_or_else(|| {
        panic!("ringwatch-bench --smoke still ran after {SMOKE_TIMEOUT:?}\n{stdout}\n{stderr}")
    });
    assert!(
        status.success(),
        "ringwatch-bench --smoke failed ({status})\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("| K | interval s | offered/s | achieved/s (at target) |"),
        "no table header in:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("| 50 | 1 |")),
        "no row for the 50 monitors of --smoke in:\n{stdout}"
    );
}
