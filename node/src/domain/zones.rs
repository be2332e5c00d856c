//! Monitors probed from several zones: each zone's verdict, the quorum that makes the
//! monitor down, and which side of a split cluster may decide. A deterministic core: the live
//! view counts, the alerter asks.
//!
//! - Every node counts each zone's results apart ([`ZoneCount::observe`]) with the monitor's
//!   own thresholds: `failure_threshold` consecutive failures in a zone make that zone's
//!   verdict down, `recovery_threshold` consecutive successes make it up again (a zone's
//!   first success makes a pending zone up).
//! - A zone's counts are current only while its results keep coming: a zone whose newest
//!   result is more than [`stale_after_ms`] older than the monitor's newest result from any
//!   zone is `pending` again (it makes no call), and a result after such a gap starts the
//!   zone's counts afresh. So a node that has just rejoined, or that has not yet caught up
//!   with a zone's results, never decides on what a zone saw before the gap.
//! - A zone with no live node is `unreachable`: it is left out of the count and of the
//!   denominator ([`judge`]). The quorum is the monitor's `quorum` (at most the reachable
//!   zones) or, by default, a majority of the reachable zones; at least 1.
//! - The monitor is down when at least the quorum of reachable zones see it down, up when
//!   fewer do and at least one reachable zone sees it up, and unchanged otherwise.
//! - Only a side of the cluster that sees a majority of the cluster's zones decides
//!   ([`decides`]); on an exact half, the side that holds the first zone by name. So during a
//!   split between zones exactly one side sends notifications.

use std::collections::{BTreeMap, BTreeSet};

use ringwatch_proto::{Monitor, Status, Zones};

/// The zone of a node that names none.
pub const DEFAULT_ZONE: &str = "default";

/// One zone's view of a monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verdict {
    #[default]
    Pending,
    Up,
    Down,
}

/// One zone's consecutive counts of a monitor and its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ZoneCount {
    pub failures: u32,
    pub successes: u32,
    pub verdict: Verdict,
    /// Unix ms of the zone's newest result counted.
    pub last_ms: u64,
}

/// How much older than the monitor's newest result a zone's newest result may be and still
/// count: three intervals plus the probe timeout plus 5 s, room for a slow probe and for a
/// zone's prober moving to another node.
pub fn stale_after_ms(m: &Monitor) -> u64 {
    m.interval_secs
        .saturating_mul(3_000)
        .saturating_add(m.timeout_ms)
        .saturating_add(5_000)
}

impl ZoneCount {
    /// Counts one result of this zone. Returns whether the verdict changed. A result that
    /// comes more than [`stale_after_ms`] after the zone's previous one starts the counts
    /// afresh: what the zone saw in between is not known here (yet).
    pub fn observe(&mut self, m: &Monitor, ok: bool, at_ms: u64) -> bool {
        let before = self.verdict;
        if self.last_ms != 0 && at_ms > self.last_ms.saturating_add(stale_after_ms(m)) {
            *self = ZoneCount::default();
        }
        self.last_ms = self.last_ms.max(at_ms);
        super::status::count(&mut self.failures, &mut self.successes, m, ok);
        if self.failures >= m.failure_threshold.max(1) {
            self.verdict = Verdict::Down;
        } else if self.successes > 0
            && (self.verdict != Verdict::Down || self.successes >= m.recovery_threshold.max(1))
        {
            self.verdict = Verdict::Up;
        }
        self.verdict != before
    }
}

/// What a monitor's zones say together.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Judgement {
    /// The status the zones call for, if they call for one.
    pub status: Option<Status>,
    /// Reachable zones that see it down, sorted.
    pub down: Vec<String>,
    /// Zones with a live node among the monitor's zones.
    pub reachable: u32,
    /// Down zones needed for down.
    pub quorum: u32,
}

/// The zones a monitor with `zones` is probed from, sorted: every zone of the cluster
/// (`known`) for `All`.
pub fn of_monitor(zones: &Zones, known: &BTreeSet<String>) -> Vec<String> {
    match zones {
        Zones::All => known.iter().cloned().collect(),
        Zones::Only(names) => names.clone(),
    }
}

/// The quorum among `reachable` zones: `quorum` if set (at most `reachable`), else a majority.
/// At least 1.
pub fn quorum(quorum: Option<u32>, reachable: u32) -> u32 {
    match quorum {
        Some(q) => q.min(reachable),
        None => reachable / 2 + 1,
    }
    .max(1)
}

/// What the zones `zones` of monitor `m` say, given each zone's counts and which zones have a
/// live node.
pub fn judge(
    m: &Monitor,
    zones: &[String],
    counts: &BTreeMap<String, ZoneCount>,
    alive_zones: &BTreeSet<String>,
) -> Judgement {
    let reachable: Vec<&String> = zones.iter().filter(|z| alive_zones.contains(*z)).collect();
    let current = Current::of(m, zones, counts);
    let verdict = |z: &String| current.verdict(z);
    let down: Vec<String> = reachable
        .iter()
        .filter(|z| verdict(z) == Verdict::Down)
        .map(|z| (*z).clone())
        .collect();
    let n = reachable.len() as u32;
    let q = quorum(m.quorum, n);
    let status = if n == 0 {
        None
    } else if down.len() as u32 >= q {
        Some(Status::Down)
    } else if reachable.iter().any(|z| verdict(z) == Verdict::Up) {
        Some(Status::Up)
    } else {
        None
    };
    Judgement {
        status,
        down,
        reachable: n,
        quorum: q,
    }
}

/// The zones' verdicts that count: a zone whose newest result is stale next to the monitor's
/// newest result from any of its zones is pending.
struct Current<'a> {
    counts: &'a BTreeMap<String, ZoneCount>,
    since_ms: u64,
}

impl<'a> Current<'a> {
    fn of(m: &Monitor, zones: &[String], counts: &'a BTreeMap<String, ZoneCount>) -> Self {
        let newest = zones
            .iter()
            .filter_map(|z| counts.get(z))
            .map(|c| c.last_ms)
            .max()
            .unwrap_or(0);
        Current {
            counts,
            since_ms: newest.saturating_sub(stale_after_ms(m)),
        }
    }

    fn verdict(&self, zone: &str) -> Verdict {
        match self.counts.get(zone) {
            Some(c) if c.last_ms >= self.since_ms => c.verdict,
            _ => Verdict::Pending,
        }
    }
}

/// Each zone's state as the monitor view shows it: `up`, `down`, `pending` (also a zone whose
/// results stopped coming) or `unreachable`.
pub fn statuses(
    m: &Monitor,
    zones: &[String],
    counts: &BTreeMap<String, ZoneCount>,
    alive_zones: &BTreeSet<String>,
) -> BTreeMap<String, &'static str> {
    let current = Current::of(m, zones, counts);
    zones
        .iter()
        .map(|z| {
            let shown = if !alive_zones.contains(z) {
                "unreachable"
            } else {
                match current.verdict(z) {
                    Verdict::Pending => "pending",
                    Verdict::Up => "up",
                    Verdict::Down => "down",
                }
            };
            (z.clone(), shown)
        })
        .collect()
}

/// Whether the side of the cluster that sees the zones `alive_zones` (of the cluster's zones
/// `known`) decides status changes and sends notifications: it sees more than half of the
/// zones, or exactly half and among them the first zone by name. A cluster of one zone always
/// decides.
pub fn decides(alive_zones: &BTreeSet<String>, known: &BTreeSet<String>) -> bool {
    let seen = known.iter().filter(|z| alive_zones.contains(*z)).count();
    let total = known.len();
    if total == 0 || seen * 2 > total {
        return true;
    }
    seen * 2 == total && known.first().is_some_and(|z| alive_zones.contains(z))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn zoned(fail: u32, recover: u32) -> Monitor {
        let mut m = Monitor::new("m".into(), "http://x/".into());
        m.failure_threshold = fail;
        m.recovery_threshold = recover;
        m.zones = Some(Zones::All);
        m
    }

    fn feed(m: &Monitor, counts: &mut BTreeMap<String, ZoneCount>, zone: &str, oks: &[bool]) {
        let c = counts.entry(zone.to_owned()).or_default();
        for (i, ok) in oks.iter().enumerate() {
            c.observe(m, *ok, i as u64);
        }
    }

    #[test]
    fn a_zone_applies_the_thresholds() {
        let m = zoned(2, 2);
        let mut c = ZoneCount::default();
        assert!(!c.observe(&m, false, 1), "one failure is not down");
        assert_eq!(c.verdict, Verdict::Pending);
        assert!(c.observe(&m, false, 2));
        assert_eq!(c.verdict, Verdict::Down);
        assert!(!c.observe(&m, true, 3), "one success does not recover");
        assert!(c.observe(&m, true, 4));
        assert_eq!(c.verdict, Verdict::Up);
        assert!(!c.observe(&m, false, 5), "a blip stays up");
        assert_eq!(c.last_ms, 5);
    }

    #[test]
    fn one_zone_of_three_is_not_a_quorum_two_are() {
        let m = zoned(1, 1);
        let zones = of_monitor(&Zones::All, &set(&["a", "b", "c"]));
        let alive = set(&["a", "b", "c"]);
        let mut counts = BTreeMap::new();
        for z in ["a", "b", "c"] {
            feed(&m, &mut counts, z, &[true]);
        }
        feed(&m, &mut counts, "a", &[false]);
        let j = judge(&m, &zones, &counts, &alive);
        assert_eq!((j.status, j.quorum, j.reachable), (Some(Status::Up), 2, 3));
        assert_eq!(j.down, ["a"]);
        feed(&m, &mut counts, "b", &[false]);
        let j = judge(&m, &zones, &counts, &alive);
        assert_eq!(j.status, Some(Status::Down));
        assert_eq!(j.down, ["a", "b"]);
        let shown = statuses(&m, &zones, &counts, &alive);
        assert_eq!(
            shown.into_iter().collect::<Vec<_>>(),
            [
                ("a".into(), "down"),
                ("b".into(), "down"),
                ("c".into(), "up")
            ]
        );
    }

    #[test]
    fn an_unreachable_zone_leaves_the_denominator() {
        let m = zoned(1, 1);
        let zones = of_monitor(&Zones::All, &set(&["a", "b", "c"]));
        let mut counts = BTreeMap::new();
        feed(&m, &mut counts, "a", &[false]);
        feed(&m, &mut counts, "b", &[true]);
        feed(&m, &mut counts, "c", &[false]);
        // c gone: 1 of 2 reachable zones down, the majority of 2 is 2.
        let j = judge(&m, &zones, &counts, &set(&["a", "b"]));
        assert_eq!((j.status, j.quorum, j.reachable), (Some(Status::Up), 2, 2));
        assert_eq!(
            statuses(&m, &zones, &counts, &set(&["a", "b"]))["c"],
            "unreachable"
        );
        // No reachable zone: no call either way.
        assert_eq!(judge(&m, &zones, &counts, &set(&[])).status, None);
    }

    #[test]
    fn an_explicit_quorum_is_capped_by_the_reachable_zones() {
        assert_eq!(quorum(Some(3), 4), 3);
        assert_eq!(quorum(Some(3), 2), 2);
        assert_eq!(quorum(Some(0), 2), 1);
        assert_eq!(quorum(None, 1), 1);
        assert_eq!(quorum(None, 4), 3);
        let mut m = zoned(1, 1);
        m.quorum = Some(1);
        let zones = vec!["a".to_owned(), "b".to_owned()];
        let mut counts = BTreeMap::new();
        feed(&m, &mut counts, "a", &[false]);
        feed(&m, &mut counts, "b", &[true]);
        let j = judge(&m, &zones, &counts, &set(&["a", "b"]));
        assert_eq!(j.status, Some(Status::Down));
    }

    #[test]
    fn pending_zones_make_no_call() {
        let m = zoned(2, 1);
        let zones = vec!["a".to_owned(), "b".to_owned()];
        let mut counts = BTreeMap::new();
        feed(&m, &mut counts, "a", &[false]);
        let j = judge(&m, &zones, &counts, &set(&["a", "b"]));
        assert_eq!(j.status, None);
    }

    #[test]
    fn a_zone_heard_of_before_a_gap_makes_no_call() {
        // A node rejoins after a cut: zone a was last heard up 30 s ago, its own zone c has
        // been failing since. It must not call the monitor up on zone a's old verdict, nor
        // count zone a's first new failure on top of the counts from before the gap.
        let m = zoned(2, 1); // interval 60 s by default: make it 1 s
        let m = Monitor {
            interval_secs: 1,
            timeout_ms: 2_000,
            ..m
        };
        assert_eq!(stale_after_ms(&m), 10_000);
        let zones = vec!["a".to_owned(), "c".to_owned()];
        let alive = set(&["a", "c"]);
        let mut counts: BTreeMap<String, ZoneCount> = BTreeMap::new();
        let mut at = |zone: &str, ms: u64, ok: bool| {
            counts
                .entry(zone.to_owned())
                .or_default()
                .observe(&m, ok, ms);
        };
        at("a", 1_000, true);
        at("c", 1_000, true);
        at("c", 31_000, false);
        at("c", 32_000, false);
        let j = judge(&m, &zones, &counts, &alive);
        assert_eq!(
            j.status, None,
            "zone a's verdict from before the gap counts: {j:?}"
        );
        assert_eq!(
            statuses(&m, &zones, &counts, &alive)["a"],
            "pending",
            "a zone whose results stopped coming is pending"
        );
        // Zone a's first result after the gap starts its counts afresh: one failure of two.
        counts.get_mut("a").unwrap().observe(&m, false, 33_000);
        assert_eq!(counts["a"].verdict, Verdict::Pending);
        assert_eq!(counts["a"].failures, 1);
        assert_eq!(judge(&m, &zones, &counts, &alive).status, None);
        counts.get_mut("a").unwrap().observe(&m, false, 34_000);
        let j = judge(&m, &zones, &counts, &alive);
        assert_eq!(j.status, Some(Status::Down));
        assert_eq!(j.down, ["a", "c"]);
        // Within the window nothing is stale: a slow zone still counts.
        counts.get_mut("c").unwrap().observe(&m, true, 43_000);
        assert_eq!(counts["c"].verdict, Verdict::Up);
        assert_eq!(statuses(&m, &zones, &counts, &alive)["a"], "down");
    }

    #[test]
    fn only_the_side_with_most_zones_decides() {
        let known = set(&["a", "b", "c"]);
        assert!(decides(&set(&["a", "b"]), &known));
        assert!(!decides(&set(&["c"]), &known));
        assert!(decides(&set(&["a", "b", "c"]), &known));
        // Four zones split two and two: the side with the first zone by name.
        let four = set(&["a", "b", "c", "d"]);
        assert!(decides(&set(&["a", "d"]), &four));
        assert!(!decides(&set(&["b", "c"]), &four));
        // One zone (the default): always.
        assert!(decides(&set(&["default"]), &set(&["default"])));
        assert!(decides(&set(&[]), &set(&[])));
    }
}
