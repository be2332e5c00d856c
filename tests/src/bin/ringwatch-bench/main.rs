//! `ringwatch-bench`: how many checks per second one Ringwatch node delivers, counted at the
//! target, against the machine's own ceiling for new-connection requests.
//!
//! One command, no network: starts a local target (nginx when installed, else a built-in hyper
//! server), then for each `--monitors K` a fresh `ringwatch node` (release build), adds K
//! monitors of distinct URLs on that target in bulk, waits a warm-up, and measures over a
//! window: requests the target answered (nginx `stub_status` or an atomic counter, never the
//! node's own count), schedule lag p50/p99 from the node's `/metrics` histogram (bucket counts
//! of the window only), node CPU and RSS from `/proc`, store bytes per result and failed checks.
//! After the node has stopped, wrk measures the new-connection ceiling of the same target.
//! It prints a markdown table, one row per K. Progress goes to stderr, the report to stdout.
//!
//! With `--nodes N` (2..=5) each run is a fresh cluster instead (see [`cluster`]): n1, then
//! n2..nN joined through it; the monitors are added through n1 and sharded over the nodes.
//! Its table has the replication figures: lag from a probe's end on one node to its result
//! stored on another, peer bytes per result, disk bytes per stored result on each node, and
//! the catch-up of a node killed and restarted after `--catchup-absence` seconds.
//!
//! With `--history HOURS` it runs no node at all (see [`history`]): it writes HOURS of
//! simulated results for K monitors straight through the node's `Store`, with the retention
//! prune, and reports the store's disk bytes per result held at steady state, which a run of
//! minutes cannot show.
//!
//! Every child (nginx, node, wrk) is stopped when this tool ends: on errors and panics (in
//! `Drop`), on Ctrl-C/SIGTERM (the work is dropped), and nginx and the node also when this tool
//! is killed (parent-death signal; wrk ends by itself after 5 s). Nothing is installed; missing
//! tools are named.
//!
//! Usage: `scripts/bench [--monitors 1000,10000,20000] [--interval 1] [--duration 15]
//! [--warmup 5] [--target auto|nginx|builtin] [--bin PATH] [--no-wrk] [--smoke]
//! [--nodes N [--catchup-absence 60]] [--history HOURS [--retention HOURS] [--rate N]]`.

mod catchup;
mod ceiling;
mod cluster;
mod history;
mod node;
mod proc;
mod prom;
mod report;
mod rollups;
mod target;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Parser;

use node::Node;
use proc::Machine;
use prom::{Scrape, bucket_delta, quantile};
use report::{Outcome, Row, TableRow, WrkCell};
use target::{Target, TargetKind};

const LAG_HISTOGRAM: &str = "ringwatch_schedule_lag_seconds";
const CHECK_HISTOGRAM: &str = "ringwatch_check_latency_seconds";
const CHECKS_TOTAL: &str = "ringwatch_checks_total";
const DISK_BYTES: &str = "ringwatch_store_disk_bytes";
const SKIPPED_TOTAL: &str = "ringwatch_checks_skipped_total";
const DROPPED_TOTAL: &str = "ringwatch_results_dropped_total";

#[derive(Debug, Parser)]
#[command(
    name = "ringwatch-bench",
    about = "Checks/s one ringwatch node delivers to a local target, vs the machine's ceiling"
)]
struct Args {
    /// Monitors per run; repeat or separate with commas for several runs, each on a fresh
    /// node [default: 1000,10000,20000].
    #[arg(long, value_delimiter = ',')]
    monitors: Vec<u64>,
    /// Seconds between checks of each monitor [default: 1].
    #[arg(long)]
    interval: Option<u64>,
    /// Length of the measurement window in seconds [default: 15].
    #[arg(long)]
    duration: Option<u64>,
    /// Seconds to run before measuring, on top of one interval [default: 5].
    #[arg(long)]
    warmup: Option<u64>,
    /// A run of seconds: 50 monitors, 1 s interval, 1 s warm-up, 2 s window, no wrk.
    #[arg(long)]
    smoke: bool,
    /// Nodes under test: 1, or a cluster of 2 to 5 (n1, the others joined through it).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=5))]
    nodes: u32,
    /// Cluster mode: seconds the last node stays killed before its restart and the catch-up
    /// measurement; 0 skips it [default: 60; 3 with --smoke].
    #[arg(long)]
    catchup_absence: Option<u64>,
    /// The HTTP target the monitors check.
    #[arg(long, value_enum, default_value_t = TargetKind::Auto)]
    target: TargetKind,
    /// The ringwatch binary [default: TARGET_DIR/release/ringwatch].
    #[arg(long = "bin", env = "RINGWATCH_BIN")]
    bin: Option<PathBuf>,
    /// Skip the wrk ceiling.
    #[arg(long)]
    no_wrk: bool,
    /// Run no node: write this many hours of simulated results for each K straight through
    /// the node's store (retention prune included) and report its disk bytes per result held
    /// [--monitors default: 1000; --interval default: 60].
    #[arg(long, value_name = "HOURS", value_parser = clap::value_parser!(u64).range(1..))]
    history: Option<u64>,
    /// With --history: hours of results the prune keeps [default: the node's retention].
    #[arg(long, value_name = "HOURS", requires = "history")]
    retention: Option<u64>,
    /// With --history: results written per wall-clock second at most, as a node under that
    /// load writes them (sled cleans its log in the background, on wall-clock time)
    /// [default: as fast as the store takes them].
    #[arg(
        long,
        value_name = "RESULTS",
        requires = "history",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    rate: Option<u64>,
    /// Write the rollups of K monitors with every retention full (five years) into a store,
    /// then time `stats?window=1y` and the monitor list on the real node started on it, and
    /// report the rollups' bytes per monitor [--monitors default: 20000].
    #[arg(long, conflicts_with = "history")]
    rollups: bool,
}

/// The settings of every run, after defaults and `--smoke`.
struct Plan {
    monitors: Vec<u64>,
    interval_secs: u64,
    warmup: Duration,
    window: Duration,
    wrk: bool,
    /// 1, or the size of the cluster.
    nodes: u32,
    /// Cluster mode: how long the last node stays down before the catch-up (zero: skipped).
    catchup_absence: Duration,
}

impl Args {
    fn plan(&self) -> Result<Plan> {
        let smoke = self.smoke;
        let pick =
            |v: Option<u64>, normal: u64, tiny: u64| v.unwrap_or(if smoke { tiny } else { normal });
        let monitors = match (self.monitors.is_empty(), smoke) {
            (false, _) => self.monitors.clone(),
            (true, true) => vec![50],
            (true, false) => vec![1_000, 10_000, 20_000],
        };
        let plan = Plan {
            monitors,
            interval_secs: self.interval.unwrap_or(1),
            warmup: Duration::from_secs(pick(self.warmup, 5, 1)),
            window: Duration::from_secs(pick(self.duration, 15, 2)),
            // The ceiling is the target's, the same with one node or several.
            wrk: !smoke && !self.no_wrk && self.nodes == 1,
            nodes: self.nodes,
            catchup_absence: Duration::from_secs(pick(self.catchup_absence, 60, 3)),
        };
        anyhow::ensure!(
            self.nodes > 1 || self.catchup_absence.is_none(),
            "--catchup-absence needs a cluster (--nodes 2..5)"
        );
        anyhow::ensure!(
            plan.interval_secs >= 1,
            "--interval must be at least 1 second"
        );
        anyhow::ensure!(
            !plan.window.is_zero(),
            "--duration must be at least 1 second"
        );
        anyhow::ensure!(
            plan.monitors.iter().all(|&k| k > 0),
            "--monitors must be positive"
        );
        Ok(plan)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tokio::select! {
        result = run(args) => match result {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("ringwatch-bench: {e:#}");
                ExitCode::FAILURE
            }
        },
        signal = interrupted() => {
            // Leaving the select drops `run`, and with it every child process.
            eprintln!("ringwatch-bench: {signal}: stopping the node and the target");
            ExitCode::from(130)
        }
    }
}

async fn interrupted() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => "interrupted",
        _ = term.recv() => "terminated",
    }
}

/// Runs every K (on one node or a cluster, as `--nodes` says); true when all runs completed.
async fn run(args: Args) -> Result<bool> {
    if let Some(hours) = args.history {
        return run_history(&args, hours);
    }
    if args.rollups {
        return run_rollups(&args).await;
    }
    let plan = args.plan()?;
    let found = node::find_bin(args.bin.clone())?;
    // Every run uses this copy, so a rebuild of the binary during the runs cannot mix builds.
    let (bin, _bin_dir) = node::snapshot_bin(&found)?;
    proc::raise_nofile_limit();
    let machine = Machine::read();
    let target = Target::start(args.target).await?;
    if plan.nodes > 1 {
        return cluster::run_all(&plan, &bin, &found, &target, &machine).await;
    }
    let wrk_state = match (plan.wrk, ceiling::wrk_installed()) {
        (false, _) => "not run (--smoke or --no-wrk)".to_string(),
        (true, false) => "wrk not installed (apt-get install wrk)".to_string(),
        (true, true) => format!(
            "`{}`, after each run's node has stopped",
            ceiling::wrk_command(&target.url())
        ),
    };
    let header = preamble(
        &machine,
        &found,
        &target,
        &single_node_lines(&plan, &wrk_state),
    );
    eprintln!(
        "ringwatch-bench: node {}; target {}; K = {:?}",
        found.display(),
        target.url(),
        plan.monitors
    );
    let run_k = async |k| run_one(&plan, k, &bin, &target, &machine).await;
    Ok(run_each(&plan, &header, run_k).await)
}

/// `--rollups`: one store of full-retention rollups per K, then the node on it.
async fn run_rollups(args: &Args) -> Result<bool> {
    let found = node::find_bin(args.bin.clone())?;
    let (bin, _bin_dir) = node::snapshot_bin(&found)?;
    let monitors = if args.monitors.is_empty() {
        vec![20_000]
    } else {
        args.monitors.clone()
    };
    let m = Machine::read();
    let header = [
        "# Ringwatch benchmark: history at steady state".to_string(),
        String::new(),
        format!("- command: `{}`", command_line()),
        format!("- machine: {} cores ({}), {}", m.cores, m.model, m.kernel),
        format!("- load average at start: {}", proc::load_average()),
        format!("- node: {}", node::describe_bin(&found)),
    ]
    .join("\n");
    for k in monitors {
        rollups::run(&bin, &rollups::RollupsPlan { monitors: k }, &header).await?;
    }
    Ok(true)
}

/// `--history`: one simulated history per K, each in a fresh store, reported in turn.
fn run_history(args: &Args, hours: u64) -> Result<bool> {
    let monitors = if args.monitors.is_empty() {
        vec![1_000]
    } else {
        args.monitors.clone()
    };
    anyhow::ensure!(
        monitors.iter().all(|&k| k > 0),
        "--monitors must be positive"
    );
    let interval_secs = args.interval.unwrap_or(60);
    anyhow::ensure!(interval_secs >= 1, "--interval must be at least 1 second");
    let m = Machine::read();
    let header = [
        "# Ringwatch benchmark: the store after a simulated history".to_string(),
        String::new(),
        format!("- command: `{}`", command_line()),
        format!("- machine: {} cores ({}), {}", m.cores, m.model, m.kernel),
        format!("- load average at start: {}", proc::load_average()),
    ]
    .join("\n");
    for k in monitors {
        let plan = history::HistoryPlan {
            monitors: k,
            interval_secs,
            hours,
            retention_hours: args.retention,
            rate: args.rate,
        };
        history::run(&plan, &header)?;
    }
    Ok(true)
}

/// Runs `run_k` for each K of the plan (a failed K becomes a failed row), then prints
/// `header` and the table; true when all runs completed.
async fn run_each<R: TableRow>(
    plan: &Plan,
    header: &str,
    mut run_k: impl AsyncFnMut(u64) -> Result<R>,
) -> bool {
    let mut outcomes = Vec::new();
    for &k in &plan.monitors {
        let outcome = match run_k(k).await {
            Ok(row) => Outcome::Done(row),
            Err(e) => {
                eprintln!("ringwatch-bench: K={k} failed: {e:#}");
                Outcome::Failed {
                    k,
                    interval_secs: plan.interval_secs,
                    error: format!("{e:#}"),
                }
            }
        };
        outcomes.push(outcome);
    }
    println!("{header}\n{}", report::render(&outcomes));
    outcomes.iter().all(|o| matches!(o, Outcome::Done(_)))
}

/// The report's head: what ran where, then `mode` (the lines that describe the runs).
fn preamble(m: &Machine, bin: &Path, target: &Target, mode: &[String]) -> String {
    let mut lines = vec![
        "# Ringwatch benchmark".to_string(),
        String::new(),
        format!("- command: `{}`", command_line()),
        format!("- machine: {} cores ({}), {}", m.cores, m.model, m.kernel),
        format!(
            "- load average at start: {} (other work on the machine competes with the nodes)",
            proc::load_average()
        ),
        format!("- node: `{}` ({})", bin.display(), node::describe_bin(bin)),
        format!("- target: {} at {}", target.describe(), target.url()),
    ];
    lines.extend_from_slice(mode);
    if bin.components().any(|c| c.as_os_str() == "debug") {
        lines.push(
            "- WARNING: a debug build of the node; its numbers are not representative".into(),
        );
    }
    lines.push(String::new());
    lines.join("\n")
}

/// The preamble lines of single-node runs.
fn single_node_lines(plan: &Plan, wrk: &str) -> Vec<String> {
    vec![
        format!(
            "- each run: fresh node, K monitors of distinct URLs, interval {} s, timeout 5000 ms; \
             warm-up {} s + one interval; window {} s",
            plan.interval_secs,
            plan.warmup.as_secs(),
            plan.window.as_secs()
        ),
        "- achieved/s: requests counted at the target over the window; lag: node's schedule-lag \
         histogram over the window; CPU: node utime+stime over the window; RSS: at the end \
         (per monitor: growth since before the monitors were added); check errors: failed checks \
         over the whole run"
            .to_string(),
        format!("- ceiling: {wrk}"),
    ]
}

/// This tool's command line, shell-quoted; as `scripts/bench ...` when that script ran it.
fn command_line() -> String {
    let mut args: Vec<String> = std::env::args().collect();
    if let Some(via) = std::env::var_os("RINGWATCH_BENCH_VIA") {
        args[0] = via.to_string_lossy().into_owned();
    }
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_=./,:".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What is read at each end of the measurement window.
struct Snapshot {
    at: Instant,
    target_requests: u64,
    /// Every node's scrape combined (for one node: its scrape).
    metrics: Scrape,
    /// Each node's scrape, in the order of the nodes.
    per_node: Vec<Scrape>,
    cpu: CpuTicks,
}

/// CPU time used so far, in clock ticks.
struct CpuTicks {
    /// Of all nodes.
    node: u64,
    /// nginx's processes (0 for the built-in target, which is part of `bench`).
    target: u64,
    bench: u64,
    machine: u64,
}

impl Snapshot {
    async fn take(nodes: &[Node], target: &Target) -> Result<Snapshot> {
        let target_requests = target.requests().await?;
        let at = Instant::now();
        let mut per_node = Vec::with_capacity(nodes.len());
        let mut node_ticks = 0;
        for node in nodes {
            per_node.push(node.metrics().await?);
            node_ticks += proc::cpu_ticks(node.pid())?;
        }
        Ok(Snapshot {
            at,
            target_requests,
            metrics: Scrape::combined(&per_node),
            per_node,
            cpu: CpuTicks {
                node: node_ticks,
                target: target.process_group().map_or(0, proc::group_cpu_ticks),
                bench: proc::cpu_ticks(std::process::id())?,
                machine: proc::machine_busy_ticks(),
            },
        })
    }
}

async fn run_one(
    plan: &Plan,
    k: u64,
    bin: &Path,
    target: &Target,
    machine: &Machine,
) -> Result<Row> {
    let mut node = Node::start(bin)?;
    let rss_before_kib = proc::rss_kib(node.pid())?;
    eprintln!(
        "K={k}: node up (pid {}, RSS {} KiB); adding monitors",
        node.pid(),
        rss_before_kib
    );
    let window = load_and_measure(plan, k, std::slice::from_ref(&node), target).await;
    // A node that died explains a failed window best.
    node.check_alive()?;
    let Window { took, start, end } = window?;
    let rss_end_kib = proc::rss_kib(node.pid())?;
    let stopped = node.stop()?;
    drop(node);

    let mut row = measure(k, plan.interval_secs, &start, &end, machine.cores);
    row.rss_before_kib = rss_before_kib;
    row.rss_end_kib = rss_end_kib;
    row.notes.insert(
        0,
        format!(
            "created {k} monitors in {:.2} s ({:.0}/s)",
            took.as_secs_f64(),
            k as f64 / took.as_secs_f64()
        ),
    );
    row.notes.push(format!("node {stopped}"));
    if plan.wrk {
        row.wrk = wrk_cell(target, &mut row.notes).await;
    }
    eprintln!(
        "K={k}: achieved {:.0}/s of {:.0}/s offered",
        row.achieved_per_sec,
        row.offered_per_sec()
    );
    Ok(row)
}

/// What [`load_and_measure`] found.
struct Window {
    /// How long adding the monitors took.
    took: Duration,
    start: Snapshot,
    end: Snapshot,
}

/// Adds K monitors through the first of `nodes`, waits the warm-up, and reads `nodes` and the
/// target at both ends of the window.
async fn load_and_measure(plan: &Plan, k: u64, nodes: &[Node], target: &Target) -> Result<Window> {
    let took = nodes[0]
        .add_monitors(&target.url(), k, plan.interval_secs)
        .await?;
    let warmup = plan.warmup + Duration::from_secs(plan.interval_secs);
    eprintln!(
        "K={k}: added in {:.1} s; warm-up {} s",
        took.as_secs_f64(),
        warmup.as_secs()
    );
    tokio::time::sleep(warmup).await;
    eprintln!("K={k}: measuring {} s", plan.window.as_secs());
    let start = Snapshot::take(nodes, target).await?;
    tokio::time::sleep_until((start.at + plan.window).into()).await;
    let end = Snapshot::take(nodes, target).await?;
    Ok(Window { took, start, end })
}

/// The row of a run from the window's two snapshots (RSS is filled in by the caller).
fn measure(k: u64, interval_secs: u64, start: &Snapshot, end: &Snapshot, cores: usize) -> Row {
    let secs = end.at.duration_since(start.at).as_secs_f64();
    let delivered = end.target_requests.saturating_sub(start.target_requests);
    let (m0, m1) = (&start.metrics, &end.metrics);
    let lag = bucket_delta(&m0.buckets(LAG_HISTOGRAM), &m1.buckets(LAG_HISTOGRAM));
    let results = m1.sum(CHECKS_TOTAL);
    let mut notes = window_notes(start, end, secs, cores);
    notes.extend(problems(m0, m1, failed_checks(m1) - failed_checks(m0)));
    Row {
        k,
        interval_secs,
        achieved_per_sec: delivered as f64 / secs,
        lag_p50: quantile(&lag, 0.50),
        lag_p99: quantile(&lag, 0.99),
        cpu_cores: cores_used(start, end, secs, |c| c.node),
        rss_end_kib: 0,
        rss_before_kib: 0,
        disk_per_result: (m1.has(DISK_BYTES) && results > 0.0)
            .then(|| m1.sum(DISK_BYTES) / results),
        check_errors: failed_checks(m1) as u64,
        wrk: WrkCell::Missing,
        notes,
    }
}

/// Checks that failed so far.
fn failed_checks(s: &Scrape) -> f64 {
    s.sum_where(CHECKS_TOTAL, |x| x.label("outcome") != Some("ok"))
}

/// Cores one consumer (`of`) used on average over the window.
fn cores_used(start: &Snapshot, end: &Snapshot, secs: f64, of: fn(&CpuTicks) -> u64) -> f64 {
    of(&end.cpu).saturating_sub(of(&start.cpu)) as f64 / proc::clock_ticks_per_sec() / secs
}

/// The node's own view of the window (its check rate, CPU per check, check durations) and who
/// used the machine's CPU; the nodes' together in a cluster.
fn window_notes(start: &Snapshot, end: &Snapshot, secs: f64, cores: usize) -> Vec<String> {
    let (m0, m1) = (&start.metrics, &end.metrics);
    let who = if end.per_node.len() > 1 {
        "nodes"
    } else {
        "node"
    };
    let [node, target, bench, machine] = [
        |c: &CpuTicks| c.node,
        |c: &CpuTicks| c.target,
        |c: &CpuTicks| c.bench,
        |c: &CpuTicks| c.machine,
    ]
    .map(|of| cores_used(start, end, secs, of));
    // The reads at each end are not simultaneous; keep the sum within the machine.
    let machine = machine.min(cores as f64);
    let node_checks = (m1.sum(CHECKS_TOTAL) - m0.sum(CHECKS_TOTAL)) / secs;
    let check = bucket_delta(&m0.buckets(CHECK_HISTOGRAM), &m1.buckets(CHECK_HISTOGRAM));
    vec![
        format!(
            "{who} counted {node_checks:.0} checks/s in the window ({:.0} µs of {who} CPU per \
             check); check duration p50 {} ms, p99 {} ms",
            node * 1e6 / node_checks.max(1.0),
            report::ms(quantile(&check, 0.50)),
            report::ms(quantile(&check, 0.99)),
        ),
        format!(
            "CPU cores in the window: {who} {node:.2}, target {target:.2}, this tool {bench:.2}, \
             rest (other processes, kernel network work) {:.2}; machine busy {machine:.2} of \
             {cores}",
            (machine - node - target - bench).max(0.0)
        ),
    ]
}

/// Notes on anything that keeps the node from its job: failed checks by kind, skipped checks,
/// dropped results, metrics it does not expose.
fn problems(m0: &Scrape, m1: &Scrape, failed_in_window: f64) -> Vec<String> {
    let mut notes = Vec::new();
    let by_kind: Vec<String> = m1
        .samples(CHECKS_TOTAL)
        .filter(|s| s.label("outcome") != Some("ok") && s.value > 0.0)
        .map(|s| format!("{}={}", s.label("outcome").unwrap_or("?"), s.value))
        .collect();
    if !by_kind.is_empty() {
        notes.push(format!(
            "failed checks over the run: {} ({failed_in_window} in the window)",
            by_kind.join(", ")
        ));
    }
    for (name, what) in [
        (SKIPPED_TOTAL, "checks skipped (previous one still running)"),
        (DROPPED_TOTAL, "results dropped"),
    ] {
        let n = m1.sum(name) - m0.sum(name);
        if n > 0.0 {
            notes.push(format!("{what} in the window: {n}"));
        }
    }
    for name in [LAG_HISTOGRAM, CHECKS_TOTAL, DISK_BYTES] {
        let present = if name == LAG_HISTOGRAM {
            !m1.buckets(name).is_empty()
        } else {
            m1.has(name)
        };
        if !present {
            notes.push(format!("the node's /metrics has no {name}"));
        }
    }
    notes
}

async fn wrk_cell(target: &Target, notes: &mut Vec<String>) -> WrkCell {
    if !ceiling::wrk_installed() {
        notes.push("wrk not installed (apt-get install wrk): no ceiling".into());
        return WrkCell::Missing;
    }
    eprintln!("wrk: measuring the new-connection ceiling (5 s)");
    match ceiling::measure(&target.url()).await {
        Ok(c) => {
            if !c.errors.is_empty() {
                notes.push(format!("wrk: {}", c.errors.join("; ")));
            }
            WrkCell::Measured(c.requests_per_sec)
        }
        Err(e) => {
            notes.push(format!("wrk failed: {e:#}"));
            WrkCell::Missing
        }
    }
}
