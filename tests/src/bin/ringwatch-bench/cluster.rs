//! Cluster mode (`--nodes N`): for each K a fresh cluster of N nodes (n1, then n2..nN joined
//! through n1), every node listing all N alive before the K monitors are added in bulk
//! through n1. Over the window it measures what replication costs: the replication-lag
//! histograms of all nodes summed, peer bytes sent per result produced, each node's disk bytes
//! per stored result (every node stores every result), and the nodes' CPU and largest RSS.
//! Then, unless `--catchup-absence 0`, the catch-up of the last node after a kill -9 (see
//! [`crate::catchup`]). One row per K in a table of its own.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::node::{Node, Spec};
use crate::proc::{self, Machine};
use crate::prom::{Scrape, bucket_delta, quantile};
use crate::report::{self, CatchUpCell, ClusterRow, TableRow};
use crate::target::Target;
use crate::{CHECKS_TOTAL, DISK_BYTES, LAG_HISTOGRAM, Plan, Snapshot, Window, catchup};

/// How long the nodes may take to list each other alive (a healthy cluster needs well under
/// a second; the SPEC bound is 5 s).
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the membership is polled while waiting for it.
const CONVERGE_POLL: Duration = Duration::from_millis(100);
const REPL_LAG_HISTOGRAM: &str = "ringwatch_replication_lag_seconds";
pub const PEER_BYTES: &str = "ringwatch_peer_bytes_sent_total";
const PEER_RESULTS: &str = "ringwatch_peer_results_sent_total";
pub const BATCHES_DROPPED: &str = "ringwatch_peer_batches_dropped_total";

/// The nodes of one run, in one temporary directory (a subdirectory per node).
pub struct Cluster {
    // Fields drop in order: the nodes stop before their directory is removed.
    nodes: Vec<Node>,
    incarnations: Vec<u32>,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts n1, then n2..nN joined through n1, each up to its `listening` line. Call from
    /// the main thread (see [`crate::proc::Child::spawn`]).
    pub fn start(bin: &Path, n: u32) -> Result<Cluster> {
        let dir = tempfile::Builder::new()
            .prefix("ringwatch-bench-cluster")
            .tempdir()?;
        let mut cluster = Cluster {
            nodes: Vec::new(),
            incarnations: Vec::new(),
            bin: bin.to_path_buf(),
            dir,
        };
        for i in 1..=n {
            let name = format!("n{i}");
            let node_dir = cluster.node_dir(&name);
            std::fs::create_dir_all(&node_dir)?;
            let join = cluster
                .nodes
                .first()
                .map(|n1| n1.cluster_addr().to_string());
            let spec = Spec {
                name: &name,
                dir: &node_dir,
                join: join.as_deref(),
                incarnation: 1,
            };
            cluster.nodes.push(Node::launch(bin, &spec)?);
            cluster.incarnations.push(1);
        }
        Ok(cluster)
    }

    fn node_dir(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Every node but the last.
    pub fn survivors(&self) -> &[Node] {
        &self.nodes[..self.nodes.len() - 1]
    }

    pub fn last(&self) -> &Node {
        self.nodes.last().expect("a cluster has nodes")
    }

    /// Waits until every node lists exactly all nodes alive; returns how long that took.
    pub async fn wait_converged(&self) -> Result<Duration> {
        let started = Instant::now();
        let mut want: Vec<String> = self.nodes.iter().map(|n| n.name().to_string()).collect();
        want.sort();
        loop {
            let mut seen = Vec::new();
            for node in &self.nodes {
                match node.alive().await {
                    Ok(alive) if alive == want => {}
                    Ok(alive) => seen.push(format!("{} sees {alive:?}", node.name())),
                    Err(e) => seen.push(format!("{}: {e:#}", node.name())),
                }
            }
            if seen.is_empty() {
                return Ok(started.elapsed());
            }
            if started.elapsed() > CONVERGE_TIMEOUT {
                bail!(
                    "the nodes did not all list {want:?} alive within {CONVERGE_TIMEOUT:?}: {}",
                    seen.join("; ")
                );
            }
            tokio::time::sleep(CONVERGE_POLL).await;
        }
    }

    /// Fails (with the node's last log lines) when one of `nodes` has exited.
    pub fn check_alive(&mut self, nodes: std::ops::Range<usize>) -> Result<()> {
        for node in &mut self.nodes[nodes] {
            let name = node.name().to_string();
            node.check_alive().with_context(|| format!("node {name}"))?;
        }
        Ok(())
    }

    /// kill -9 of the last node; returns once it has been reaped.
    pub fn kill_last(&mut self) -> Result<()> {
        self.nodes.last_mut().expect("a cluster has nodes").kill()
    }

    /// Starts the (killed) last node again with its data directory, joined through n1, up to
    /// its `listening` line.
    pub fn restart_last(&mut self) -> Result<()> {
        let i = self.nodes.len() - 1;
        let name = self.nodes[i].name().to_string();
        let join = self.nodes[0].cluster_addr().to_string();
        self.incarnations[i] += 1;
        let node_dir = self.node_dir(&name);
        let spec = Spec {
            name: &name,
            dir: &node_dir,
            join: Some(&join),
            incarnation: self.incarnations[i],
        };
        self.nodes[i] = Node::launch(&self.bin, &spec)?;
        Ok(())
    }

    /// SIGTERM to each node in turn; how each went.
    pub fn stop(&mut self) -> String {
        let how: Vec<String> = self
            .nodes
            .iter_mut()
            .map(|node| {
                let name = node.name().to_string();
                match node.stop() {
                    Ok(how) => format!("{name} {how}"),
                    Err(e) => format!("{name}: stop failed: {e:#}"),
                }
            })
            .collect();
        format!("at the end: {}", how.join("; "))
    }

    /// What the nodes logged at warning level or above, over all their incarnations.
    pub fn log_notes(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|node| {
                let (count, kinds) = Node::log_summary(&self.node_dir(node.name()));
                match count {
                    0 => format!("{} logged no warnings or errors", node.name()),
                    _ => format!(
                        "{} logged {count} warning/error lines, most often: {}",
                        node.name(),
                        kinds.join(" | ")
                    ),
                }
            })
            .collect()
    }
}

/// Runs every K on a fresh cluster and prints the report; true when all runs completed.
pub async fn run_all(
    plan: &Plan,
    bin: &Path,
    shown_bin: &Path,
    target: &Target,
    machine: &Machine,
) -> Result<bool> {
    let header = crate::preamble(machine, shown_bin, target, &preamble_lines(plan));
    eprintln!(
        "ringwatch-bench: {} nodes {}; target {}; K = {:?}",
        plan.nodes,
        shown_bin.display(),
        target.url(),
        plan.monitors
    );
    let run_k = async |k| run_one(plan, k, bin, target, machine).await;
    Ok(crate::run_each(plan, &header, run_k).await)
}

fn preamble_lines(plan: &Plan) -> Vec<String> {
    let n = plan.nodes;
    let catchup = if plan.catchup_absence.is_zero() {
        "not measured (--catchup-absence 0)".to_string()
    } else {
        format!(
            "after each run's window, kill -9 of n{n}; the others probe on for {} s; n{n} \
             restarts with its --data, --join n1. catch-up s: from the restart (process spawn) \
             until, for {} monitors spread over the list, n1 and n{n} hold the same number \
             (within 1) of results with at_ms between the kill and the restart (polled every \
             {} ms); results pulled: n{n}'s count of those results, summed over the sampled \
             monitors",
            plan.catchup_absence.as_secs(),
            catchup::SAMPLED_MONITORS,
            catchup::POLL_EVERY.as_millis()
        )
    };
    vec![
        format!(
            "- each run: fresh cluster of {n} nodes (n1, then n2..n{n} joined through n1; \
             every node lists all {n} alive before the monitors are added), K monitors of \
             distinct URLs added in bulk through n1 and sharded over the nodes, interval {} s, \
             timeout 5000 ms; warm-up {} s + one interval; window {} s",
            plan.interval_secs,
            plan.warmup.as_secs(),
            plan.window.as_secs()
        ),
        format!(
            "- achieved/s: requests counted at the target over the window; repl lag: all nodes' \
             replication-lag histograms (a probe's end on one node to its result stored on \
             another; buckets 5 ms x 2^i, interpolated) summed over the window; peer \
             bytes/result: all nodes' peer bytes sent (frames of every kind) over the results \
             all nodes produced (checks_total), in the window; each result goes to {} peers, \
             and per peer divides by that; disk B/stored result: each node's (n1 / n2 / ...) \
             store_disk_bytes at the end of the window over the results produced cluster-wide \
             since the start (each node stores every result); CPU: all nodes' utime+stime over \
             the window; RSS: the largest node's at the end of the window",
            n - 1
        ),
        format!("- catch-up: {catchup}"),
        "- ceiling: wrk not run in cluster mode (the target's ceiling is the same as in \
         single-node runs)"
            .to_string(),
    ]
}

async fn run_one(
    plan: &Plan,
    k: u64,
    bin: &Path,
    target: &Target,
    machine: &Machine,
) -> Result<ClusterRow> {
    let mut cluster = Cluster::start(bin, plan.nodes)?;
    let converged = cluster.wait_converged().await?;
    let all = 0..cluster.nodes().len();
    eprintln!(
        "K={k}: {} nodes up in {} (all alive everywhere after {:.1} s); adding monitors",
        plan.nodes,
        cluster.dir.path().display(),
        converged.as_secs_f64()
    );
    let window = crate::load_and_measure(plan, k, cluster.nodes(), target).await;
    // A node that died explains a failed window best.
    cluster.check_alive(all)?;
    let Window { took, start, end } = window?;
    let mut row = measure(plan, k, &start, &end, machine.cores);
    for node in cluster.nodes() {
        row.max_rss_kib = row.max_rss_kib.max(proc::rss_kib(node.pid())?);
    }
    row.notes.insert(
        0,
        format!(
            "all {} nodes listed each other alive {:.1} s after the start; created {k} \
             monitors through n1 in {:.2} s",
            plan.nodes,
            converged.as_secs_f64(),
            took.as_secs_f64()
        ),
    );
    row.notes.push(format!(
        "load average at the end of the window: {}",
        proc::load_average()
    ));
    eprintln!(
        "K={k}: achieved {:.0}/s of {:.0}/s offered; repl lag p50 {} ms, p99 {} ms",
        row.achieved_per_sec,
        row.offered_per_sec(),
        report::ms(row.lag_p50),
        report::ms(row.lag_p99)
    );
    if !plan.catchup_absence.is_zero() {
        catch_up(plan, k, &mut cluster, target, &mut row).await;
    }
    row.notes.push(cluster.stop());
    row.notes.extend(cluster.log_notes());
    Ok(row)
}

/// Measures the catch-up into `row`; its failure is the row's catch-up cell, not the run's.
async fn catch_up(
    plan: &Plan,
    k: u64,
    cluster: &mut Cluster,
    target: &Target,
    row: &mut ClusterRow,
) {
    match catchup::measure(cluster, target, k, plan.catchup_absence).await {
        Ok(c) => {
            row.catchup = c.cell;
            row.notes.extend(c.notes);
        }
        Err(e) => {
            eprintln!("K={k}: catch-up failed: {e:#}");
            row.catchup = CatchUpCell::Failed;
            row.notes
                .push(format!("catch-up measurement failed: {e:#}"));
        }
    }
}

/// The row of a run from the window's two snapshots (RSS and catch-up are filled in by the
/// caller).
fn measure(plan: &Plan, k: u64, start: &Snapshot, end: &Snapshot, cores: usize) -> ClusterRow {
    let secs = end.at.duration_since(start.at).as_secs_f64();
    let delivered = end.target_requests.saturating_sub(start.target_requests);
    let (m0, m1) = (&start.metrics, &end.metrics);
    let lag = bucket_delta(
        &m0.buckets(REPL_LAG_HISTOGRAM),
        &m1.buckets(REPL_LAG_HISTOGRAM),
    );
    let produced = m1.sum(CHECKS_TOTAL) - m0.sum(CHECKS_TOTAL);
    let bytes = m1.sum(PEER_BYTES) - m0.sum(PEER_BYTES);
    // Every node stores every result: the cluster's checks since the start.
    let stored = m1.sum(CHECKS_TOTAL);
    let disk_per_result = end
        .per_node
        .iter()
        .map(|s| (s.has(DISK_BYTES) && stored > 0.0).then(|| s.sum(DISK_BYTES) / stored))
        .collect();
    let mut notes = crate::window_notes(start, end, secs, cores);
    notes.extend(replication_notes(plan, start, end, secs));
    notes.extend(crate::problems(
        m0,
        m1,
        crate::failed_checks(m1) - crate::failed_checks(m0),
    ));
    for name in [
        REPL_LAG_HISTOGRAM,
        PEER_BYTES,
        PEER_RESULTS,
        BATCHES_DROPPED,
    ] {
        if !m1.has(name) && m1.buckets(name).is_empty() {
            notes.push(format!("the nodes' /metrics have no {name}"));
        }
    }
    ClusterRow {
        nodes: plan.nodes,
        k,
        interval_secs: plan.interval_secs,
        achieved_per_sec: delivered as f64 / secs,
        lag_p50: quantile(&lag, 0.50),
        lag_p99: quantile(&lag, 0.99),
        bytes_per_result: (produced > 0.0).then(|| bytes / produced),
        disk_per_result,
        cpu_cores: crate::cores_used(start, end, secs, |c| c.node),
        max_rss_kib: 0,
        check_errors: crate::failed_checks(m1) as u64,
        catchup: CatchUpCell::NotRun,
        notes,
    }
}

/// Per node: checks, replication lag, schedule lag, store size; the cluster's peer traffic
/// and dropped batches.
fn replication_notes(plan: &Plan, start: &Snapshot, end: &Snapshot, secs: f64) -> Vec<String> {
    let (m0, m1) = (&start.metrics, &end.metrics);
    let delta = |name: &str| m1.sum(name) - m0.sum(name);
    let produced = delta(CHECKS_TOTAL);
    let peers = f64::from(plan.nodes - 1);
    let per_node: Vec<String> = start
        .per_node
        .iter()
        .zip(&end.per_node)
        .enumerate()
        .map(|(i, (s0, s1))| node_line(i + 1, s0, s1, secs))
        .collect();
    let schedule = bucket_delta(&m0.buckets(LAG_HISTOGRAM), &m1.buckets(LAG_HISTOGRAM));
    vec![
        format!(
            "per node in the window (checks/s, repl lag p50/p99/max bucket ms, schedule lag \
             p99 ms, store MB at the end): {}",
            per_node.join("; ")
        ),
        format!(
            "schedule lag of all nodes: p50 {} ms, p99 {} ms",
            report::ms(quantile(&schedule, 0.50)),
            report::ms(quantile(&schedule, 0.99))
        ),
        format!(
            "peer traffic in the window: {produced:.0} results produced, {:.2} MB sent to \
             peers ({:.2} MB/s); results sent in live gossip: {:.2} per result produced \
             (each result to {peers} peers: {peers:.2} expected)",
            delta(PEER_BYTES) / 1e6,
            delta(PEER_BYTES) / 1e6 / secs,
            delta(PEER_RESULTS) / produced.max(1.0),
        ),
        format!(
            "peer batches dropped (a peer fell behind): {} in the window, {} since the start",
            delta(BATCHES_DROPPED),
            m1.sum(BATCHES_DROPPED)
        ),
    ]
}

/// One node's part of [`replication_notes`].
fn node_line(i: usize, s0: &Scrape, s1: &Scrape, secs: f64) -> String {
    let repl = bucket_delta(
        &s0.buckets(REPL_LAG_HISTOGRAM),
        &s1.buckets(REPL_LAG_HISTOGRAM),
    );
    // The largest bucket bound that saw an observation in the window.
    let mut worst = "-".to_string();
    let mut below = 0.0;
    for &(le, n) in &repl {
        if n > below {
            worst = if le.is_finite() {
                format!("≤{:.0}", le * 1000.0)
            } else {
                "+Inf".to_string()
            };
        }
        below = n;
    }
    let schedule = bucket_delta(&s0.buckets(LAG_HISTOGRAM), &s1.buckets(LAG_HISTOGRAM));
    format!(
        "n{i} {:.0}/s, {}/{}/{}, {}, {:.1} MB",
        (s1.sum(CHECKS_TOTAL) - s0.sum(CHECKS_TOTAL)) / secs,
        report::ms(quantile(&repl, 0.50)),
        report::ms(quantile(&repl, 0.99)),
        worst,
        report::ms(quantile(&schedule, 0.99)),
        s1.sum(DISK_BYTES) / 1e6
    )
}
