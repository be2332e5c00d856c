//! The catch-up measurement of cluster mode: how long a node that was down takes, after its
//! restart, to hold the results its peers made while it was away.
//!
//! The last node gets kill -9; the others probe on for the absence; the node restarts with
//! its data directory, joined through n1. For a sample of monitors spread over the list, the
//! results with `at_ms` between the kill and the restart are counted on n1 and on the
//! restarted node, every [`POLL_EVERY`], until every count matches within 1 (a probe that
//! straddles an end of the span may be stored on one side a moment later). The time is from
//! the restart (the spawn, so the node's own start-up counts) to the first poll that found a
//! match, which bounds it within one poll.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Result;

use crate::cluster::{BATCHES_DROPPED, Cluster, PEER_BYTES};
use crate::prom::Scrape;
use crate::report::CatchUpCell;
use crate::target::Target;

/// Monitors whose results are compared (fewer when there are fewer monitors).
pub const SAMPLED_MONITORS: usize = 20;
/// How often the counts are compared.
pub const POLL_EVERY: Duration = Duration::from_millis(200);
/// How long after the restart the counts may take to match before the run reports a
/// time-out (far above a minute of absence at 5,000 results/s on this machine).
const CATCHUP_TIMEOUT: Duration = Duration::from_secs(180);

/// What the catch-up measurement found: the table cell and its notes.
pub struct CatchUp {
    pub cell: CatchUpCell,
    pub notes: Vec<String>,
}

/// One comparison of the sampled monitors' counts.
struct Poll {
    /// Every count matches within 1.
    matched: bool,
    /// Sampled monitors whose counts match within 1.
    monitors_matched: usize,
    /// The restarted node's counts, summed.
    pulled: u64,
    /// n1's counts, summed.
    expected: u64,
    /// The monitor furthest behind, as `id: n1 N vs nK M`.
    worst: String,
}

/// Kills the last node of `cluster`, lets `absence` pass, restarts it and measures its
/// catch-up; `k` monitors exist.
pub async fn measure(
    cluster: &mut Cluster,
    target: &Target,
    k: u64,
    absence: Duration,
) -> Result<CatchUp> {
    let mut ids = cluster.nodes()[0].monitor_ids(k).await?;
    // Peers page their catch-up answers in id order: the sample includes the last id.
    ids.sort_unstable();
    let ids = spread(&ids, SAMPLED_MONITORS);
    let away = kill_and_restart(cluster, target, absence).await?;
    eprintln!(
        "catch-up: {} restarted (listening after {:.2} s); comparing {} monitors",
        cluster.last().name(),
        away.listening.as_secs_f64(),
        ids.len()
    );
    let polled = poll_until_matched(
        cluster,
        &ids,
        (away.kill_ms, away.restart_ms),
        away.restarted_at,
    )
    .await;
    let took = away.restarted_at.elapsed();
    cluster.check_alive(0..cluster.nodes().len() - 1)?;
    let after = survivors_scrape(cluster).await?;
    let notes = notes(cluster.last().name(), k, &ids, &away, &polled, took, &after);
    Ok(CatchUp {
        cell: polled.cell,
        notes,
    })
}

/// The absence of the last node, as [`kill_and_restart`] saw it.
struct Away {
    /// Unix ms just before the kill and just before the restart.
    kill_ms: u64,
    restart_ms: u64,
    restarted_at: Instant,
    /// From the restart to the node's `listening` line.
    listening: Duration,
    /// Checks/s the target counted while the node was down.
    rate: f64,
    /// The other nodes' scrapes, combined, just before the restart.
    before: Scrape,
}

/// kill -9 of the last node, `absence` for the others to probe on, and its restart.
async fn kill_and_restart(
    cluster: &mut Cluster,
    target: &Target,
    absence: Duration,
) -> Result<Away> {
    let requests_before = target.requests().await?;
    let kill_ms = now_ms();
    let killed_at = Instant::now();
    cluster.kill_last()?;
    eprintln!(
        "catch-up: killed {}; the others probe on for {} s",
        cluster.last().name(),
        absence.as_secs()
    );
    tokio::time::sleep_until((killed_at + absence).into()).await;
    cluster.check_alive(0..cluster.nodes().len() - 1)?;
    let requests = target.requests().await? - requests_before;
    let rate = requests as f64 / killed_at.elapsed().as_secs_f64();
    let before = survivors_scrape(cluster).await?;
    let restart_ms = now_ms();
    let restarted_at = Instant::now();
    cluster.restart_last()?;
    Ok(Away {
        kill_ms,
        restart_ms,
        restarted_at,
        listening: restarted_at.elapsed(),
        rate,
        before,
    })
}

/// The run's notes on the catch-up; `after` is the other nodes' scrape at the match.
fn notes(
    victim: &str,
    k: u64,
    ids: &[String],
    away: &Away,
    polled: &Polled,
    took: Duration,
    after: &Scrape,
) -> Vec<String> {
    let delta = |name: &str| after.sum(name) - away.before.sum(name);
    let mut notes = vec![
        format!(
            "catch-up: {victim} down {:.1} s (the target counted {:.0} checks/s meanwhile); \
             listening {:.2} s after its restart; {}",
            (away.restart_ms - away.kill_ms) as f64 / 1000.0,
            away.rate,
            away.listening.as_secs_f64(),
            describe(polled.cell, &polled.last, ids.len())
        ),
        format!(
            "catch-up: the other nodes sent {:.2} MB to peers from the restart to the match \
             ({:.1} s, live gossip included); peer batches dropped meanwhile: {}",
            delta(PEER_BYTES) / 1e6,
            took.as_secs_f64(),
            delta(BATCHES_DROPPED)
        ),
        format!(
            "catch-up progress (seconds after the restart: sampled monitors matched, results \
             of the absence held): {}",
            describe_progress(&polled.progress, ids.len())
        ),
        format!(
            "catch-up: the slowest comparison ({} requests to n1 and {victim}) took {:.2} s, \
             from {:.1} s after the restart",
            2 * ids.len(),
            polled.slowest.0.as_secs_f64(),
            polled.slowest.1.as_secs_f64()
        ),
    ];
    if let CatchUpCell::Done { pulled, .. } = polled.cell {
        notes.push(format!(
            "catch-up: {pulled} results over {} sampled monitors, ≈ {:.0} over all {k} \
             monitors",
            ids.len(),
            pulled as f64 * k as f64 / ids.len().max(1) as f64
        ));
    }
    notes
}

/// How the polling ended, and how it got there.
struct Polled {
    cell: CatchUpCell,
    /// The last comparison, or why it failed.
    last: Result<Poll>,
    /// At the first poll of each second after the restart: `(second, sampled monitors
    /// matched, results of the absence the restarted node holds for them)`.
    progress: Vec<(u64, usize, u64)>,
    /// The longest comparison (both nodes' answers for every sampled monitor), and when it
    /// started, after the restart.
    slowest: (Duration, Duration),
}

/// Polls until the counts match or [`CATCHUP_TIMEOUT`] passes.
async fn poll_until_matched(
    cluster: &Cluster,
    ids: &[String],
    (kill_ms, restart_ms): (u64, u64),
    restarted_at: Instant,
) -> Polled {
    let mut progress: Vec<(u64, usize, u64)> = Vec::new();
    let mut slowest = (Duration::ZERO, Duration::ZERO);
    loop {
        let polled_at = Instant::now();
        let last = compare(cluster, ids, kill_ms, restart_ms).await;
        if polled_at.elapsed() > slowest.0 {
            slowest = (polled_at.elapsed(), polled_at - restarted_at);
        }
        let secs = restarted_at.elapsed().as_secs_f64();
        let cell = match &last {
            Ok(p) if p.matched => Some(CatchUpCell::Done {
                secs,
                pulled: p.pulled,
            }),
            _ if secs > CATCHUP_TIMEOUT.as_secs_f64() => Some(CatchUpCell::TimedOut { secs }),
            _ => None,
        };
        if let Ok(p) = &last
            && progress.last().is_none_or(|(s, ..)| *s < secs as u64)
        {
            progress.push((secs as u64, p.monitors_matched, p.pulled));
            eprintln!(
                "catch-up: {secs:.1} s: {} of {} sampled monitors match; {} of {} results",
                p.monitors_matched,
                ids.len(),
                p.pulled,
                p.expected
            );
        }
        if let Some(cell) = cell {
            return Polled {
                cell,
                last,
                progress,
                slowest,
            };
        }
        tokio::time::sleep_until((polled_at + POLL_EVERY).into()).await;
    }
}

/// `second: matched monitors/sampled, results` for at most about 20 of the seconds.
fn describe_progress(progress: &[(u64, usize, u64)], sampled: usize) -> String {
    let stride = progress.len().div_ceil(20).max(1);
    progress
        .iter()
        .enumerate()
        .filter(|(i, _)| i % stride == 0 || *i == progress.len() - 1)
        .map(|(_, (s, m, n))| format!("{s} s {m}/{sampled} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Counts the results of `ids` with `at_ms` in `from_ms..=to_ms` on n1 and on the last node.
async fn compare(cluster: &Cluster, ids: &[String], from_ms: u64, to_ms: u64) -> Result<Poll> {
    let (n1, last) = (&cluster.nodes()[0], cluster.last());
    let mut poll = Poll {
        matched: true,
        monitors_matched: 0,
        pulled: 0,
        expected: 0,
        worst: String::new(),
    };
    let mut worst_gap = 0;
    for id in ids {
        let want = n1.count_results(id, from_ms, to_ms).await?;
        let have = last.count_results(id, from_ms, to_ms).await?;
        poll.expected += want;
        poll.pulled += have;
        let gap = want.abs_diff(have);
        poll.matched &= gap <= 1;
        poll.monitors_matched += usize::from(gap <= 1);
        if gap >= worst_gap {
            worst_gap = gap;
            poll.worst = format!("{id}: n1 {want} vs {} {have}", last.name());
        }
    }
    Ok(poll)
}

fn describe(cell: CatchUpCell, last: &Result<Poll>, sampled: usize) -> String {
    let seen = match last {
        Ok(p) => format!(
            "{sampled} sampled monitors: n1 {} results of the absence, restarted node {} \
             (furthest apart: {})",
            p.expected, p.pulled, p.worst
        ),
        Err(e) => format!("the last comparison failed: {e:#}"),
    };
    match cell {
        CatchUpCell::Done { secs, .. } => format!("matched {secs:.2} s after the restart; {seen}"),
        CatchUpCell::TimedOut { secs } => format!("NO match {secs:.0} s after the restart; {seen}"),
        CatchUpCell::NotRun | CatchUpCell::Failed => seen,
    }
}

/// The survivors' scrapes, combined.
async fn survivors_scrape(cluster: &Cluster) -> Result<Scrape> {
    let mut scrapes = Vec::new();
    for node in cluster.survivors() {
        scrapes.push(node.metrics().await?);
    }
    Ok(Scrape::combined(&scrapes))
}

/// `n` items of `all`, evenly spaced, the first and the last included (all of them when
/// there are fewer).
fn spread(all: &[String], n: usize) -> Vec<String> {
    if all.len() <= n || n < 2 {
        return all.iter().take(n).cloned().collect();
    }
    (0..n)
        .map(|i| all[i * (all.len() - 1) / (n - 1)].clone())
        .collect()
}

/// Unix time in milliseconds, the clock of the nodes' `at_ms`.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_spread_over_the_list() {
        let all: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        assert_eq!(spread(&all, 4), vec!["0", "33", "66", "99"]);
        assert_eq!(spread(&all, 2), vec!["0", "99"]);
        assert_eq!(spread(&all[..3], 20), vec!["0", "1", "2"]);
        assert!(spread(&[], 20).is_empty());
    }

    #[test]
    fn progress_shows_about_twenty_seconds_and_the_last() {
        let short = [(0, 0, 0), (1, 5, 300)];
        assert_eq!(describe_progress(&short, 20), "0 s 0/20 0, 1 s 5/20 300");
        let long: Vec<(u64, usize, u64)> = (0..45).map(|s| (s, 0, s)).collect();
        let text = describe_progress(&long, 20);
        assert_eq!(text.split(", ").count(), 16);
        assert!(text.starts_with("0 s 0/20 0, 3 s") && text.ends_with("44 s 0/20 44"));
    }
}
