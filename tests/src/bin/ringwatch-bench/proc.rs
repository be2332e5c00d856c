//! Child processes that are always stopped (in `Drop`, so on errors, panics and Ctrl-C too),
//! and what `/proc` says about processes and the machine.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How long a child may take to exit after its stop signal before it gets SIGKILL in `Drop`.
const DROP_GRACE: Duration = Duration::from_secs(5);

/// A child process in its own process group, stopped when dropped. Its stdout lines arrive
/// on a channel ([`Child::wait_line`]); its stderr goes to a log file.
pub struct Child {
    name: &'static str,
    child: std::process::Child,
    stdout: mpsc::Receiver<String>,
    log: PathBuf,
    stop_signal: libc::c_int,
}

impl Child {
    /// Spawns `cmd`. `stop_signal` is what `Drop` sends to the process group first, and what
    /// the child gets if this process dies without running `Drop` (SIGKILL of the bench).
    ///
    /// Call from the main thread: the parent-death signal fires when the spawning *thread*
    /// exits, and the main thread lives as long as the process.
    pub fn spawn(
        name: &'static str,
        mut cmd: Command,
        log: &Path,
        stop_signal: libc::c_int,
    ) -> Result<Child> {
        let stderr = File::create(log).with_context(|| format!("create {}", log.display()))?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            // Own group: a terminal's Ctrl-C reaches only us, and we stop the children in order.
            .process_group(0);
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, stop_signal as libc::c_ulong) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("start {name} ({:?})", cmd.get_program()))?;
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                // The receiver may be gone; keep draining so the child never blocks on stdout.
                let _ = tx.send(line);
            }
        });
        Ok(Child {
            name,
            child,
            stdout: rx,
            log: log.to_path_buf(),
            stop_signal,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    /// The first stdout line starting with `prefix`; fails when the child exits first or
    /// `timeout` passes.
    pub fn wait_line(&mut self, prefix: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.stdout.recv_timeout(Duration::from_millis(50)) {
                Ok(line) if line.starts_with(prefix) => return Ok(line),
                Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait()?;
                    bail!(
                        "{} exited ({status}) before printing {prefix:?}:\n{}",
                        self.name,
                        self.log_tail()
                    );
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "{} printed no {prefix:?} line within {timeout:?}:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
        }
    }

    /// The last lines of the child's stderr log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(20)..];
        format!("--- {} ---\n{}\n", self.log.display(), tail.join("\n"))
    }

    /// Sends `signal` to the child alone and waits up to `timeout` for it to exit; SIGKILL
    /// after that. Returns the exit status and whether SIGKILL was needed.
    pub fn stop(&mut self, signal: libc::c_int, timeout: Duration) -> Result<(ExitStatus, bool)> {
        if let Some(status) = self.child.try_wait()? {
            return Ok((status, false));
        }
        self.signal_group(signal, false);
        if let Some(status) = self.wait_until(Instant::now() + timeout)? {
            return Ok((status, false));
        }
        self.signal_group(libc::SIGKILL, true);
        Ok((self.child.wait()?, true))
    }

    fn wait_until(&mut self, deadline: Instant) -> Result<Option<ExitStatus>> {
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            if Instant::now() > deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Signals the child (`group`: its whole process group, e.g. nginx's workers). Only called
    /// while the child is not yet reaped, so its pid and group id still name our processes.
    fn signal_group(&self, signal: libc::c_int, group: bool) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: plain syscalls on ids of our own child.
        unsafe {
            if group {
                libc::killpg(pid, signal);
            } else {
                libc::kill(pid, signal);
            }
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        self.signal_group(self.stop_signal, true);
        if !matches!(self.wait_until(Instant::now() + DROP_GRACE), Ok(Some(_))) {
            self.signal_group(libc::SIGKILL, true);
            let _ = self.child.wait();
        }
    }
}

/// An executable named `name` on PATH (or in /usr/sbin, /sbin, where nginx lives but which
/// are not on every user's PATH).
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A port that was free a moment ago on 127.0.0.1 (for programs that cannot bind port 0 and
/// report it, like nginx).
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// CPU time (user + system) of process `pid`, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start at field 3 ("state");
    // utime and stime are fields 14 and 15.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("/proc/PID/stat without ')'")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |n: usize| -> Result<u64> {
        fields
            .get(n - 3)
            .context("short /proc/PID/stat")?
            .parse()
            .context("/proc/PID/stat field")
    };
    Ok(field(14)? + field(15)?)
}

/// Clock ticks per second of [`cpu_ticks`].
pub fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if n > 0 { n as f64 } else { 100.0 }
}

/// Resident set size of process `pid` (VmRSS), in KiB.
pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/PID/status")
}

/// CPU time (user + system) of every process in process group `pgid` (e.g. nginx's master
/// and workers), in clock ticks.
pub fn group_cpu_ticks(pgid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| process_group_of(pid) == Some(pgid))
        .filter_map(|pid| cpu_ticks(pid).ok())
        .sum()
}

fn process_group_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 5, the second after the command name.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

/// Busy CPU time of the whole machine (all CPUs, everything but idle and iowait, from the
/// first line of /proc/stat), in clock ticks.
pub fn machine_busy_ticks() -> u64 {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let first = text.lines().next().unwrap_or_default();
    // user nice system idle iowait irq softirq steal
    first
        .split_whitespace()
        .skip(1)
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .filter_map(|(_, n)| n.parse::<u64>().ok())
        .sum()
}

/// The 1, 5 and 15 minute load averages, as /proc/loadavg gives them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

/// Cores, CPU model and kernel of this machine, for the report.
pub struct Machine {
    pub cores: usize,
    pub model: String,
    pub kernel: String,
}

impl Machine {
    pub fn read() -> Machine {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == "model name").then(|| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".to_string());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| format!("Linux {}", k.trim()))
            .unwrap_or_else(|_| std::env::consts::OS.to_string());
        Machine {
            cores,
            model,
            kernel,
        }
    }
}

/// Raises this process' open-file limit to its hard limit (the built-in target holds one
/// descriptor per connection in flight); children inherit it.
pub fn raise_nofile_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit write/read only the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
