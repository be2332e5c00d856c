//! `ringwatch-failover`: how long monitors go unprobed when a node dies, and how much double
//! probing a rejoin causes, on three local nodes (release build) and a local target.
//!
//! It adds `--monitors` monitors at `--interval` (each its own target path), waits for the
//! steady state and measures the duplicate baseline over one window. Then `--kills` times: kill
//! -9 of the node owning the most monitors; for each of its monitors the time from the kill to
//! the first request at the target after the process is gone (which only another node can
//! make), the max over its monitors being that kill's failover time; restart of the node with
//! its data dir; probes counted per monitor over `--window` seconds from the restart, those
//! in excess of one per interval being the duplicates of the rebalancing; and a wait for the
//! steady state (every node sees all three, the owners are what they were) before the next kill.
//!
//! Prints markdown tables on stdout (one row per kill, then p50/max and totals); progress goes
//! to stderr. The node binary is `$RINGWATCH_BIN`, else `ringwatch` next to this tool.
//! Usage: `scripts/failover-bench [--kills 10] [--monitors 60] [--interval 1] [--window 10]`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Parser;
use ringwatch_tests::cluster::{
    Cluster, busiest, count_by_owner, monitor_paths, paths_owned_by, wait_all_probed_since,
};
use ringwatch_tests::{Target, measurement_window_until, secs};

/// Longest any wait for the cluster may take before the run is abandoned.
const PATIENCE: Duration = Duration::from_secs(60);

#[derive(Debug, Parser)]
#[command(
    name = "ringwatch-failover",
    about = "Failover time and rebalancing duplicates of a 3-node ringwatch cluster"
)]
struct Args {
    /// kill -9 / restart rounds.
    #[arg(long, default_value_t = 10)]
    kills: usize,
    /// Monitors, each with its own target path.
    #[arg(long, default_value_t = 60)]
    monitors: usize,
    /// Seconds between probes of each monitor.
    #[arg(long, default_value_t = 1)]
    interval: u64,
    /// Seconds after each restart over which duplicates are counted.
    #[arg(long, default_value_t = 10)]
    window: u64,
}

/// What one kill/restart round measured.
struct Round {
    victim: String,
    moved: usize,
    /// Kill to first probe by the new owner, per monitor of the victim.
    failover: Vec<Duration>,
    /// Restart to every node seeing all three again.
    rejoin: Duration,
    probes: usize,
    expected: usize,
    excess: usize,
    missing: usize,
}

/// Probe counts of one window against one probe per interval per monitor.
struct Tally {
    probes: usize,
    expected: usize,
    /// Probes above the expected count, summed over monitors.
    excess: usize,
    /// Probes below it, summed over monitors.
    missing: usize,
}

fn tally(
    target: &Target,
    paths: &[String],
    from: Instant,
    window: Duration,
    interval: u64,
) -> Tally {
    let per_monitor = (window.as_secs() / interval) as usize;
    let mut t = Tally {
        probes: 0,
        expected: per_monitor * paths.len(),
        excess: 0,
        missing: 0,
    };
    for path in paths {
        let n = target.hits_between(path, from, from + window);
        t.probes += n;
        t.excess += n.saturating_sub(per_monitor);
        t.missing += per_monitor.saturating_sub(n);
    }
    t
}

fn pct(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

/// Nearest-rank percentile of `sorted` (ascending).
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let window = secs(args.window);
    eprintln!(
        "starting 3 nodes ({})",
        ringwatch_tests::ringwatch_bin().display()
    );
    let mut cluster = Cluster::start(3).await;
    let target = Target::start().await;
    let paths = monitor_paths(args.monitors);
    let created_at = Instant::now();
    let monitors = cluster
        .create_monitors("n1", &target, &paths, args.interval)
        .await;
    let ids: Vec<String> = monitors.into_iter().map(|m| m.id).collect();
    let owners = cluster.wait_owners_agree(&ids, PATIENCE).await;
    let firsts = wait_all_probed_since(&target, &paths, created_at, PATIENCE).await;
    eprintln!("owners: {:?}", count_by_owner(&owners));

    let steady_from = firsts.values().max().copied().expect("some monitors") + secs(1);
    measurement_window_until(steady_from + window).await;
    let baseline = tally(&target, &paths, steady_from, window, args.interval);

    let mut rounds = Vec::new();
    for kill in 1..=args.kills {
        let round = kill_and_restart(&mut cluster, &target, &ids, &paths, &owners, &args).await;
        eprintln!(
            "kill {kill}: {} ({} monitors) failover max {} ms, {} excess probes",
            round.victim,
            round.moved,
            ms(*round.failover.iter().max().expect("moved some")),
            round.excess
        );
        rounds.push(round);
    }
    print_report(&args, &baseline, &rounds);
}

async fn kill_and_restart(
    cluster: &mut Cluster,
    target: &Target,
    ids: &[String],
    paths: &[String],
    steady_owners: &BTreeMap<String, String>,
    args: &Args,
) -> Round {
    let owners = cluster.wait_owners_agree(ids, PATIENCE).await;
    let victim = busiest(&owners);
    let victim_paths = paths_owned_by(&owners, ids, paths, &victim);

    let killed_at = cluster.kill(&victim).await;
    let reaped_at = Instant::now();
    let firsts = wait_all_probed_since(target, &victim_paths, reaped_at, PATIENCE).await;
    let failover: Vec<Duration> = firsts.values().map(|at| *at - killed_at).collect();
    cluster.wait_converged(PATIENCE).await;

    let restarted_at = Instant::now();
    cluster.restart(&victim).await;
    cluster.wait_converged(PATIENCE).await;
    let rejoin = restarted_at.elapsed();
    let window = secs(args.window);
    measurement_window_until(restarted_at + window).await;
    let t = tally(target, paths, restarted_at, window, args.interval);

    // The rebalanced steady state: the owners are those before the kill.
    let back = cluster.wait_owners_agree(ids, PATIENCE).await;
    if back != *steady_owners {
        eprintln!("warning: owners after the restart differ from the steady state");
    }
    Round {
        victim,
        moved: victim_paths.len(),
        failover,
        rejoin,
        probes: t.probes,
        expected: t.expected,
        excess: t.excess,
        missing: t.missing,
    }
}

fn print_report(args: &Args, baseline: &Tally, rounds: &[Round]) {
    println!(
        "3 nodes, {} monitors at {} s, {} kills (kill -9 of the busiest node, restart with its \
         data), duplicates counted over {} s from each restart.\n",
        args.monitors, args.interval, args.kills, args.window
    );
    println!(
        "| kill | victim | monitors moved | failover max (ms) | failover median (ms) | rejoin (ms) \
         | probes in window | expected | excess (duplicates) | missing |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (i, r) in rounds.iter().enumerate() {
        let mut f = r.failover.clone();
        f.sort();
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} ({:.1} %) | {} |",
            i + 1,
            r.victim,
            r.moved,
            ms(*f.last().expect("moved some")),
            ms(percentile(&f, 0.5)),
            ms(r.rejoin),
            r.probes,
            r.expected,
            r.excess,
            pct(r.excess, r.expected),
            r.missing
        );
    }
    let mut maxima: Vec<Duration> = rounds
        .iter()
        .map(|r| *r.failover.iter().max().expect("moved some"))
        .collect();
    maxima.sort();
    let excess: usize = rounds.iter().map(|r| r.excess).sum();
    let expected: usize = rounds.iter().map(|r| r.expected).sum();
    let missing: usize = rounds.iter().map(|r| r.missing).sum();
    println!("\n| metric | value |\n|---|---|");
    if !maxima.is_empty() {
        println!(
            "| failover time (kill -9 to first probe by the new owner, max per kill), p50 | {} ms |",
            ms(percentile(&maxima, 0.5))
        );
        println!(
            "| failover time, max over {} kills | {} ms |",
            maxima.len(),
            ms(*maxima.last().expect("non-empty"))
        );
    }
    println!(
        "| duplicates during rebalancing ({} s from each restart) | {excess} of {expected} expected probes ({:.2} %) |",
        args.window,
        pct(excess, expected)
    );
    println!(
        "| probes missing in those windows | {missing} ({:.2} %) |",
        pct(missing, expected)
    );
    println!(
        "| same count in steady state (baseline, {} s) | {} excess, {} missing of {} ({:.2} % / {:.2} %) |",
        args.window,
        baseline.excess,
        baseline.missing,
        baseline.expected,
        pct(baseline.excess, baseline.expected),
        pct(baseline.missing, baseline.expected)
    );
}
