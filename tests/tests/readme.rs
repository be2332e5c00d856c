//! The README's two first code blocks, run as written: the run command starts a node that
//! serves the dashboard, and the client helper adds, lists, shows the cluster and removes.
//!
//! The blocks are found by the HTML comments `<!-- readme-test: run -->` and
//! `<!-- readme-test: client -->` in front of them. Two things differ from a newcomer's
//! machine, both through the documented ways to steer a node and a client, never by editing
//! the commands: the node's ports and data directory come from `RINGWATCH_HTTP`,
//! `RINGWATCH_CLUSTER` and `RINGWATCH_DATA` (no fixed ports in tests), the client finds it
//! through `RINGWATCH_NODE`; and the monitored URL `https://example.com/` is replaced by a
//! local target server's (no test reaches the internet). The run command builds the release
//! binary if it is stale: `scripts/test` builds it first, so that is quick here.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ringwatch_tests::{Listening, Target, TestDir, wait_for};

/// The run command may have to build the release binary first.
const START_TIMEOUT: Duration = Duration::from_secs(600);
/// The whole client block, each command a `cargo run` of a fresh binary.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(300);
/// The URL the README's examples monitor; the test points it at a local server.
const EXAMPLE_URL: &str = "https://example.com/";
/// Where the README says the dashboard is, and where a node with no flags serves.
const DEFAULT_DASHBOARD: &str = "http://127.0.0.1:8080/";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

/// The body of the first fenced code block after `marker`, and the text after that block.
fn block_after<'a>(readme: &'a str, marker: &str) -> (&'a str, &'a str) {
    let at = readme
        .find(marker)
        .unwrap_or_else(|| panic!("README.md has no {marker}"));
    let rest = &readme[at + marker.len()..];
    let open = rest.find("```").expect("a code block after the marker");
    let body_start = open + rest[open..].find('\n').expect("a fence line") + 1;
    let body_len = rest[body_start..].find("```").expect("a closing fence");
    let body_end = body_start + body_len;
    (&rest[body_start..body_end], &rest[body_end + 3..])
}

/// `bash -c SCRIPT` in the repo root, with an environment a newcomer's shell would have:
/// nothing of the test runner's build variables and no `RINGWATCH_*` or proxy settings
/// except `env`.
fn shell(script: &str, env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(script).current_dir(repo_root());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        let steering = [
            "RINGWATCH_",
            "NEXTEST",
            "__NEXTEST",
            "CARGO_PKG_",
            "CARGO_BIN_",
        ]
        .iter()
        .any(|p| key.starts_with(p))
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "HTTP_PROXY",
                "HTTPS_PROXY",
                "ALL_PROXY",
                "NO_PROXY",
            ]
            .contains(&key.to_ascii_uppercase().as_str());
        if steering {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// The run command's process group: `cargo run` starts the node as its child, and both must
/// go when the test ends, however it ends.
struct Group(Child);

impl Group {
    fn signal(&self, signal: libc::c_int) {
        let pgid = self.0.id() as libc::pid_t;
        // SAFETY: kill(2) with a negative pid signals the group the child leads.
        unsafe { libc::kill(-pgid, signal) };
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_run_command_and_client_helper_work_as_written() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let (run, after_run) = block_after(&readme, "<!-- readme-test: run -->");
    let (client, _) = block_after(&readme, "<!-- readme-test: client -->");
    assert!(
        after_run[..after_run.len().min(400)].contains(DEFAULT_DASHBOARD),
        "the README should say where the dashboard is, right after the run command"
    );
    assert!(
        client.contains(EXAMPLE_URL),
        "the client block no longer monitors {EXAMPLE_URL}: update this test's substitution"
    );

    // The node, started by the README's command as written.
    let dir = TestDir::new();
    let stdout_path = dir.path().join("run.stdout.log");
    let stderr_path = dir.path().join("run.stderr.log");
    let mut cmd = shell(
        run,
        &[
            ("RINGWATCH_HTTP", "127.0.0.1:0".into()),
            ("RINGWATCH_CLUSTER", "127.0.0.1:0".into()),
            ("RINGWATCH_NAME", "readme".into()),
            (
                "RINGWATCH_DATA",
                dir.path().join("data").display().to_string(),
            ),
        ],
    );
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout log"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr log"))
        .process_group(0);
    let mut node = Group(cmd.spawn().expect("bash runs the README's run command"));
    let listening = wait_for("the node's listening line", START_TIMEOUT, async || {
        if let Ok(Some(status)) = node.0.try_wait() {
            panic!(
                "the README's run command `{}` exited ({status}) before serving:\n{}",
                run.trim(),
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        let out = std::fs::read_to_string(&stdout_path).unwrap_or_default();
        out.lines()
            .find_map(Listening::parse)
            .ok_or_else(|| "not yet".to_owned())
    })
    .await;
    let base = format!("http://{}", listening.http);

    let page = reqwest::get(format!("{base}/")).await.expect("GET /");
    assert_eq!(page.status(), 200, "the dashboard");
    let html = page.text().await.expect("the dashboard's text");
    assert!(html.contains("<title>Ringwatch</title>"), "{html}");

    // The client block, as written, against that node.
    let target = Target::start().await;
    let script = format!(
        "set -euo pipefail\n{}",
        client.replace(EXAMPLE_URL, &target.url("/"))
    );
    let mut cmd = shell(&script, &[("RINGWATCH_NODE", base.clone())]);
    cmd.stdin(Stdio::null());
    let output = tokio::time::timeout(CLIENT_TIMEOUT, tokio::process::Command::from(cmd).output())
        .await
        .expect("the client block finishes")
        .expect("bash runs the client block");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the README's client block failed ({}):\n{stdout}\n{stderr}",
        output.status
    );

    // `add` printed the new id; `ls` showed it by name; `rm example` deleted that one.
    let id = stdout
        .lines()
        .next()
        .map(str::trim)
        .filter(|l| l.starts_with("m-"))
        .unwrap_or_else(|| panic!("`add` printed no id first:\n{stdout}"));
    let row = stdout
        .lines()
        .find(|l| l.starts_with(id) && l.split_whitespace().count() > 1)
        .unwrap_or_else(|| panic!("`ls` has no row for {id}:\n{stdout}"));
    assert_eq!(
        row.split_whitespace().nth(1),
        Some("example"),
        "`ls` shows the monitor by name:\n{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("readme ")),
        "`cluster` lists the node:\n{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("monitor ") && l.contains(id)),
        "`stats example` shows the monitor's figures:\n{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("uptime ")),
        "`stats example` shows its uptime:\n{stdout}"
    );
    assert!(
        stdout.contains(&format!("deleted {id}")),
        "`rm example` deleted {id}:\n{stdout}"
    );
    let left: serde_json::Value = reqwest::get(format!("{base}/api/monitors"))
        .await
        .expect("list")
        .json()
        .await
        .expect("a JSON list");
    assert_eq!(left, serde_json::json!([]), "the block's monitor is gone");

    // A clean stop, as the README says: Ctrl-C.
    node.signal(libc::SIGINT);
    let status = wait_for(
        "the node to stop on Ctrl-C",
        Duration::from_secs(15),
        async || {
            node.0
                .try_wait()
                .expect("wait on the run command")
                .ok_or_else(|| "running".to_owned())
        },
    )
    .await;
    assert!(status.success(), "the run command ended with {status}");
}
