//! Running the real `ringwatch` binary: long-lived nodes ([`NodeProc`]) and one-shot client
//! commands ([`run_ringwatch`]), each in a temporary directory ([`TestDir`]).

use crate::api::Api;
use std::ffi::OsStr;
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a node may take from spawn to its `listening ...` line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// How often the harness looks at a child's stdout or exit state.
const CHILD_POLL_INTERVAL: Duration = Duration::from_millis(20);
/// Lines of a node's stderr printed when a test fails while the node is alive.
const FAILURE_LOG_LINES: usize = 60;

/// The `ringwatch` binary under test: `$RINGWATCH_BIN` if set, else `ringwatch` in the cargo
/// target directory this executable was built into: next to it (a binary of this crate, in
/// `<target>/<profile>/`) or one level up (a test, in `<target>/<profile>/deps/`).
pub fn ringwatch_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("RINGWATCH_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("path of the test executable");
    let file = format!("ringwatch{}", std::env::consts::EXE_SUFFIX);
    let exe_dir = exe.parent().expect("an executable lives in a directory");
    if exe_dir.file_name().is_none_or(|d| d != "deps") && exe_dir.join(&file).is_file() {
        return exe_dir.join(file);
    }
    let profile_dir = exe_dir
        .parent()
        .expect("test executable lives in <target>/<profile>/deps");
    let bin = profile_dir.join(file);
    if !bin.is_file() {
        panic!(
            "no ringwatch binary at {}: build it first: cargo build -p ringwatch --bin ringwatch",
            bin.display()
        );
    }
    bin
}

/// A temporary directory for one test's nodes and logs; kept (and its path printed) when the
/// test fails, so the logs can be read afterwards.
pub struct TestDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl TestDir {
    pub fn new() -> Arc<TestDir> {
        let dir = tempfile::Builder::new()
            .prefix("ringwatch-test-")
            .tempdir()
            .expect("create temp dir");
        let path = dir.path().to_owned();
        Arc::new(TestDir {
            dir: Some(dir),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            eprintln!("test failed: keeping {}", dir.keep().display());
        }
    }
}

/// What a node announced on stdout once it served: `listening http=.. cluster=.. name=..`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listening {
    pub http: SocketAddr,
    pub cluster: SocketAddr,
    pub name: String,
}

impl Listening {
    /// Parses the startup line; `None` for any other line.
    pub fn parse(line: &str) -> Option<Listening> {
        let rest = line.trim().strip_prefix("listening ")?;
        let (mut http, mut cluster, mut name) = (None, None, None);
        for field in rest.split_whitespace() {
            match field.split_once('=')? {
                ("http", addr) => http = addr.parse().ok(),
                ("cluster", addr) => cluster = addr.parse().ok(),
                ("name", value) => name = Some(value.to_owned()),
                _ => {}
            }
        }
        Some(Listening {
            http: http?,
            cluster: cluster?,
            name: name?,
        })
    }
}

/// One `ringwatch node` process with `--http 127.0.0.1:0 --cluster 127.0.0.1:0` and
/// `--data <dir>/<name>`; stdout and stderr go to files in the test dir. Dropping it kills the
/// process.
pub struct NodeProc {
    name: String,
    dir: Arc<TestDir>,
    extra_args: Vec<String>,
    /// Environment variables set for the node (the test's own `RINGWATCH_*` never are).
    env: Vec<(String, String)>,
    child: Child,
    exit: Option<ExitStatus>,
    /// Counts starts of this node: each start gets its own log files.
    generation: u32,
    listening: Listening,
}

impl NodeProc {
    /// Starts a node named `name` in a fresh temp dir and waits until it serves.
    pub async fn start(name: &str) -> NodeProc {
        NodeProc::start_in(&TestDir::new(), name, &[]).await
    }

    /// Starts a node named `name` in `dir` (shared by the nodes of one test) with `extra_args`
    /// after the standard ones, and waits until it serves.
    pub async fn start_in(dir: &Arc<TestDir>, name: &str, extra_args: &[&str]) -> NodeProc {
        NodeProc::start_with_env(dir, name, extra_args, &[]).await
    }

    /// [`NodeProc::start_in`] with environment variables for the node, such as
    /// `RINGWATCH_LOG=debug`.
    pub async fn start_with_env(
        dir: &Arc<TestDir>,
        name: &str,
        extra_args: &[&str],
        env: &[(&str, &str)],
    ) -> NodeProc {
        let extra_args: Vec<String> = extra_args.iter().map(|a| (*a).to_owned()).collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let child = spawn_node(dir, name, &extra_args, &env, 1);
        let mut node = NodeProc {
            name: name.to_owned(),
            dir: Arc::clone(dir),
            extra_args,
            env,
            child,
            exit: None,
            generation: 1,
            listening: Listening {
                http: ([127, 0, 0, 1], 0).into(),
                cluster: ([127, 0, 0, 1], 0).into(),
                name: name.to_owned(),
            },
        };
        node.listening = node.await_listening().await;
        node
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `http://127.0.0.1:PORT` of the running incarnation.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.listening.http)
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.listening.http
    }

    /// The cluster address, for other nodes' `--join`.
    pub fn cluster_addr(&self) -> SocketAddr {
        self.listening.cluster
    }

    /// The `--data` directory; the same across restarts.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join(&self.name)
    }

    /// A client for this incarnation's HTTP API (ports change on restart: ask again).
    pub fn api(&self) -> Api {
        Api::new(self.http_url())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn sigterm(&mut self) {
        self.signal(libc::SIGTERM);
    }

    pub fn sigint(&mut self) {
        self.signal(libc::SIGINT);
    }

    pub fn sigkill(&mut self) {
        self.signal(libc::SIGKILL);
    }

    pub fn sigstop(&mut self) {
        self.signal(libc::SIGSTOP);
    }

    pub fn sigcont(&mut self) {
        self.signal(libc::SIGCONT);
    }

    /// Sends `signal` to the running node; panics if it has already exited.
    pub fn signal(&mut self, signal: libc::c_int) {
        if let Some(status) = self.poll_exit() {
            panic!(
                "node {} already exited ({status}) before signal {signal}\n{}",
                self.name,
                self.stderr_tail(FAILURE_LOG_LINES)
            );
        }
        let pid = libc::pid_t::try_from(self.pid()).expect("pid fits pid_t");
        // SAFETY: kill(2) has no memory-safety preconditions; the child is unreaped, so `pid`
        // still names it.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(
            rc,
            0,
            "kill({pid}, {signal}): {}",
            std::io::Error::last_os_error()
        );
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.poll_exit().is_none()
    }

    /// Waits up to `timeout` for the process to exit; `None` if it is still running.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.poll_exit() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(CHILD_POLL_INTERVAL).await;
        }
    }

    /// Starts the node again with the same name, data dir and arguments (new ports), killing
    /// it first if it still runs, and waits until it serves.
    pub async fn restart(&mut self) {
        if self.is_running() {
            self.sigkill();
            self.wait_exit(STARTUP_TIMEOUT)
                .await
                .expect("killed node exits");
        }
        self.generation += 1;
        self.child = spawn_node(
            &self.dir,
            &self.name,
            &self.extra_args,
            &self.env,
            self.generation,
        );
        self.exit = None;
        self.listening = self.await_listening().await;
    }

    /// [`NodeProc::restart`] with `extra_args` (after the standard ones) instead of the
    /// arguments of the first start, from now on: a restarted node whose peers all moved needs
    /// new `--join` addresses.
    pub async fn restart_with(&mut self, extra_args: &[&str]) {
        self.extra_args = extra_args.iter().map(|a| (*a).to_owned()).collect();
        self.restart().await;
    }

    /// Resident set size in KiB, from `/proc/PID/status`.
    pub fn rss_kib(&self) -> u64 {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmRSS in {path}"))
    }

    /// The whole stderr (logs) of the current incarnation.
    pub fn stderr_log(&self) -> String {
        read_lossy(&log_path(&self.dir, &self.name, self.generation, "stderr"))
    }

    /// The whole stdout of the current incarnation.
    pub fn stdout_log(&self) -> String {
        read_lossy(&log_path(&self.dir, &self.name, self.generation, "stdout"))
    }

    /// The last `lines` lines of stderr, headed by the node's name and log path, for failure
    /// messages.
    pub fn stderr_tail(&self, lines: usize) -> String {
        let path = log_path(&self.dir, &self.name, self.generation, "stderr");
        let log = read_lossy(&path);
        let all: Vec<&str> = log.lines().collect();
        let tail = all[all.len().saturating_sub(lines)..].join("\n");
        format!(
            "--- last {lines} lines of {} ---\n{tail}\n--- end ---",
            path.display()
        )
    }

    fn poll_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().expect("try_wait on node");
        }
        self.exit
    }

    async fn await_listening(&mut self) -> Listening {
        let stdout_path = log_path(&self.dir, &self.name, self.generation, "stdout");
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(listening) = read_lossy(&stdout_path).lines().find_map(Listening::parse) {
                assert_eq!(listening.name, self.name, "startup line names another node");
                return listening;
            }
            if let Some(status) = self.poll_exit() {
                panic!(
                    "node {} exited ({status}) before its listening line\nstdout: {}\n{}",
                    self.name,
                    read_lossy(&stdout_path),
                    self.stderr_tail(FAILURE_LOG_LINES)
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "node {} printed no `listening http=.. cluster=.. name=..` line on stdout \
                     within {STARTUP_TIMEOUT:?}\nstdout: {}\n{}",
                    self.name,
                    read_lossy(&stdout_path),
                    self.stderr_tail(FAILURE_LOG_LINES)
                );
            }
            tokio::time::sleep(CHILD_POLL_INTERVAL).await;
        }
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "node {} (pid {}, {}):\n{}",
                self.name,
                self.pid(),
                self.http_url(),
                self.stderr_tail(FAILURE_LOG_LINES)
            );
        }
        if self.poll_exit().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn log_path(dir: &TestDir, name: &str, generation: u32, stream: &str) -> PathBuf {
    dir.path().join(format!("{name}.{generation}.{stream}.log"))
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

fn spawn_node(
    dir: &TestDir,
    name: &str,
    extra_args: &[String],
    env: &[(String, String)],
    generation: u32,
) -> Child {
    let stdout = File::create(log_path(dir, name, generation, "stdout")).expect("stdout log");
    let stderr = File::create(log_path(dir, name, generation, "stderr")).expect("stderr log");
    let data_dir = dir.path().join(name);
    let mut cmd = ringwatch_command(dir.path());
    cmd.arg("node")
        .args(["--name", name])
        .args(["--http", "127.0.0.1:0"])
        .args(["--cluster", "127.0.0.1:0"])
        .arg("--data")
        .arg(&data_dir)
        .args(extra_args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    cmd.spawn()
        .unwrap_or_else(|e| panic!("spawn {:?}: {e}", cmd.get_program()))
}

/// A `ringwatch` command run in `cwd` with an environment that cannot steer it: no
/// `RINGWATCH_*` overrides and no proxies from the developer's shell.
fn ringwatch_command(cwd: &Path) -> Command {
    let mut cmd = Command::new(ringwatch_bin());
    cmd.current_dir(cwd);
    for (key, _) in std::env::vars_os() {
        if is_steering_env(&key) {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn is_steering_env(key: &OsStr) -> bool {
    let key = key.to_string_lossy().to_ascii_uppercase();
    key.starts_with("RINGWATCH_")
        || matches!(
            key.as_str(),
            "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY" | "NO_PROXY"
        )
}

/// What a one-shot `ringwatch` command did.
#[derive(Debug)]
pub struct CliOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    /// Panics with the command's output unless it exited 0.
    pub fn assert_success(&self, what: &str) {
        assert!(self.status.success(), "{what}: {self}");
    }
}

impl std::fmt::Display for CliOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// Runs `ringwatch ARGS` in `cwd` to completion; panics if it takes longer than `timeout`
/// (and kills it).
pub async fn run_ringwatch(args: &[&str], cwd: &Path, timeout: Duration) -> CliOutput {
    try_run_ringwatch(args, cwd, timeout)
        .await
        .unwrap_or_else(|problem| panic!("{problem}"))
}

/// Runs `ringwatch ARGS` in `cwd` to completion; `Err` says why it did not complete: it was
/// still running after `timeout` (and is killed) or could not be started.
pub async fn try_run_ringwatch(
    args: &[&str],
    cwd: &Path,
    timeout: Duration,
) -> Result<CliOutput, String> {
    let mut cmd = tokio::process::Command::from(ringwatch_command(cwd));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let shown = args.join(" ");
    let output = tokio::time::timeout(timeout, cmd.output())
        .await
        .map_err(|_| format!("`ringwatch {shown}` still running after {timeout:?}"))?
        .map_err(|e| format!("run `ringwatch {shown}`: {e}"))?;
    Ok(CliOutput {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}
