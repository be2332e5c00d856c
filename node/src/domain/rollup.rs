//! Rollups: probe results added up per monitor, node and time step, and the window queries
//! over them. A pure core: no I/O, no clock (callers pass `now_ms`), no store.
//!
//! - [`Resolution`]: the steps (minute, hour, day, UTC and epoch-aligned) and the block spans
//!   the store groups them by.
//! - [`Sketch`]: the mergeable latency histogram behind percentiles (2% relative accuracy).
//! - [`Bucket`]: one node's checks of one monitor in one step; [`Block`]: the stored unit.
//!   Replication is "one writer, full state", see [`Bucket::supersedes`].
//! - Window queries: [`summarize`], [`Stats`], [`pick_resolution`], [`series_step`],
//!   [`series`], and retention ([`Retention`], [`expired`]).
//!
//! A window `[from_ms, to_ms)` counts the buckets whose *start* lies in it
//! ([`Bucket::starts_in`]): a window that starts mid-bucket leaves that bucket out, one that
//! ends mid-bucket takes it whole. Buckets are never split.

mod bucket;
mod sketch;

use serde::{Deserialize, Serialize};

pub use bucket::{Block, Bucket, Misplaced};
pub use sketch::{ALPHA, MAX_INDEX, Sketch, nearest_rank};

const MINUTE_MS: u64 = 60_000;
const HOUR_MS: u64 = 60 * MINUTE_MS;
const DAY_MS: u64 = 24 * HOUR_MS;

/// Most buckets a window query reads from one node; a finer resolution that needs more is
/// passed over for a coarser one ([`pick_resolution`]).
pub const MAX_BUCKETS_PER_WINDOW: u64 = 1_500;

/// Most points of a series; a smaller requested step is widened ([`series_step`]).
pub const MAX_POINTS: u64 = 1_000;

/// The width of a bucket. Steps are aligned on the Unix epoch, so a day starts at 00:00 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Minute,
    Hour,
    Day,
}

impl Resolution {
    /// Finest first.
    pub const fn all() -> [Resolution; 3] {
        [Resolution::Minute, Resolution::Hour, Resolution::Day]
    }

    pub const fn width_ms(self) -> u64 {
        match self {
            Resolution::Minute => MINUTE_MS,
            Resolution::Hour => HOUR_MS,
            Resolution::Day => DAY_MS,
        }
    }

    /// The start of the step holding `at_ms`.
    pub const fn floor(self, at_ms: u64) -> u64 {
        at_ms - at_ms % self.width_ms()
    }

    /// Steps per stored block: minutes per hour, hours per UTC day, days per 32-day span.
    pub const fn buckets_per_block(self) -> u64 {
        match self {
            Resolution::Minute => 60,
            Resolution::Hour => 24,
            Resolution::Day => 32,
        }
    }

    /// The span of one stored block (epoch-aligned).
    pub const fn block_ms(self) -> u64 {
        self.width_ms() * self.buckets_per_block()
    }

    /// The start of the block holding `at_ms`.
    pub const fn block_start(self, at_ms: u64) -> u64 {
        at_ms - at_ms % self.block_ms()
    }

    /// A stable one-byte code for store keys and records (`m`, `h`, `d`).
    pub const fn code(self) -> u8 {
        match self {
            Resolution::Minute => b'm',
            Resolution::Hour => b'h',
            Resolution::Day => b'd',
        }
    }

    pub const fn from_code(code: u8) -> Option<Resolution> {
        match code {
            b'm' => Some(Resolution::Minute),
            b'h' => Some(Resolution::Hour),
            b'd' => Some(Resolution::Day),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Resolution::Minute => "minute",
            Resolution::Hour => "hour",
            Resolution::Day => "day",
        }
    }
}

/// How long each kind of history is kept; older data is pruned ([`expired`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Raw probe results (ms).
    pub raw_ms: u64,
    /// Minute buckets (ms).
    pub minute_ms: u64,
    /// Hour buckets (ms).
    pub hour_ms: u64,
    /// Day buckets (ms).
    pub day_ms: u64,
}

impl Default for Retention {
    /// 48 hours of raw results and minutes, 400 days of hours, 5 years (1826 days) of days.
    fn default() -> Self {
        Retention {
            raw_ms: 48 * HOUR_MS,
            minute_ms: 48 * HOUR_MS,
            hour_ms: 400 * DAY_MS,
            day_ms: 1826 * DAY_MS,
        }
    }
}

impl Retention {
    /// How long buckets of `resolution` are kept.
    pub fn of(&self, resolution: Resolution) -> u64 {
        match resolution {
            Resolution::Minute => self.minute_ms,
            Resolution::Hour => self.hour_ms,
            Resolution::Day => self.day_ms,
        }
    }
}

/// Whether the bucket of `resolution` starting at `start_ms` is past its retention: its whole
/// step ended more than the retention before `now_ms`.
pub fn expired(resolution: Resolution, start_ms: u64, now_ms: u64, retention: &Retention) -> bool {
    let end = start_ms.saturating_add(resolution.width_ms());
    end.saturating_add(retention.of(resolution)) <= now_ms
}

/// Whether every bucket of the block starting at `block_start_ms` is [`expired`], so the
/// stored block can be deleted.
pub fn block_expired(
    resolution: Resolution,
    block_start_ms: u64,
    now_ms: u64,
    retention: &Retention,
) -> bool {
    let last = block_start_ms.saturating_add(resolution.block_ms() - resolution.width_ms());
    expired(resolution, last, now_ms, retention)
}

/// The finest resolution that still holds data from `window_ms` ago and needs at most
/// [`MAX_BUCKETS_PER_WINDOW`] buckets for it: 24 h -> minute, 30 d -> hour, 1 y -> day.
/// For a window that ends before now, pass `now - from`. Beyond every retention: day.
pub fn pick_resolution(window_ms: u64, retention: &Retention) -> Resolution {
    Resolution::all()
        .into_iter()
        .find(|&res| {
            retention.of(res) >= window_ms
                && window_ms.div_ceil(res.width_ms()) <= MAX_BUCKETS_PER_WINDOW
        })
        .unwrap_or(Resolution::Day)
}

/// Steps a chart of a window reads well with, when none is requested.
const NICE_STEPS_MS: [u64; 16] = [
    MINUTE_MS,
    2 * MINUTE_MS,
    5 * MINUTE_MS,
    10 * MINUTE_MS,
    15 * MINUTE_MS,
    30 * MINUTE_MS,
    HOUR_MS,
    2 * HOUR_MS,
    3 * HOUR_MS,
    6 * HOUR_MS,
    12 * HOUR_MS,
    DAY_MS,
    2 * DAY_MS,
    7 * DAY_MS,
    14 * DAY_MS,
    28 * DAY_MS,
];

/// The step of a series over `[from_ms, to_ms)` read at `resolution`: the requested one, or
/// else the smallest of the usual chart steps, widened so there are at most [`MAX_POINTS`]
/// points, and rounded up to a multiple of the resolution's width (at least one width).
pub fn series_step(
    from_ms: u64,
    to_ms: u64,
    resolution: Resolution,
    requested_step_ms: Option<u64>,
) -> u64 {
    let least = to_ms.saturating_sub(from_ms).div_ceil(MAX_POINTS);
    let step = match requested_step_ms {
        Some(step) => step.max(least),
        None => NICE_STEPS_MS
            .into_iter()
            .find(|&s| s >= least)
            .unwrap_or(least),
    };
    let width = resolution.width_ms();
    step.div_ceil(width).max(1) * width
}

/// One point of a series: the buckets whose start is in `[at_ms, at_ms + step)`, merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub at_ms: u64,
    /// Empty (`checks == 0`) where there was no data.
    pub bucket: Bucket,
}

/// Groups the buckets of `[from_ms, to_ms)` (of any nodes, in any order) into points every
/// `step_ms`, aligned on the epoch so points stay put as the window moves. Every step is
/// present, empty or not. A step too small for [`MAX_POINTS`] is widened like
/// [`series_step`] does.
pub fn series<'a>(
    buckets: impl IntoIterator<Item = &'a Bucket>,
    from_ms: u64,
    to_ms: u64,
    step_ms: u64,
) -> Vec<Point> {
    if to_ms <= from_ms {
        return Vec::new();
    }
    let step = step_ms.max(to_ms.saturating_sub(from_ms).div_ceil(MAX_POINTS));
    let first = from_ms - from_ms % step;
    let count = (to_ms - first).div_ceil(step);
    let mut points: Vec<Point> = (0..count)
        .map(|k| Point {
            at_ms: first + k * step,
            bucket: Bucket::new(first + k * step),
        })
        .collect();
    for bucket in buckets.into_iter().filter(|b| b.starts_in(from_ms, to_ms)) {
        let k = ((bucket.start_ms - first) / step) as usize;
        points[k].bucket.merge(bucket);
    }
    points
}

/// All `buckets` merged into one, starting at the earliest start (0 when there is none).
/// Filter with [`Bucket::starts_in`] for a window.
pub fn summarize<'a>(buckets: impl IntoIterator<Item = &'a Bucket>) -> Bucket {
    let mut buckets = buckets.into_iter();
    let Some(first) = buckets.next() else {
        return Bucket::new(0);
    };
    buckets.fold(first.clone(), |mut sum, b| {
        sum.merge(b);
        sum
    })
}

/// What a window's buckets say, for people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub checks: u32,
    pub ok: u32,
    /// `ok / checks`; `None` without checks.
    pub success_ratio: Option<f64>,
    /// Of the successful checks; `None` without any.
    pub latency: Option<Latency>,
}

/// Latency of successful checks in ms. Percentiles come from the sketch (within 2%), clamped
/// to the exact min and max.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    pub min_ms: u64,
    pub avg_ms: f64,
    pub p50_ms: u64,
    pub p95_ms: u64,
    pub p99_ms: u64,
    pub max_ms: u64,
}

impl Stats {
    pub fn of(bucket: &Bucket) -> Stats {
        let (min, max) = (bucket.latency_min_ms, bucket.latency_max_ms);
        let percentile = |q| bucket.sketch.quantile(q).unwrap_or(min).clamp(min, max);
        let latency = bucket.avg_ms().map(|avg_ms| Latency {
            min_ms: min,
            avg_ms,
            p50_ms: percentile(0.5),
            p95_ms: percentile(0.95),
            p99_ms: percentile(0.99),
            max_ms: max,
        });
        Stats {
            checks: bucket.checks,
            ok: bucket.ok,
            success_ratio: bucket.success_ratio(),
            latency,
        }
    }
}

/// Builders and strategies the rollup tests share.
#[cfg(test)]
mod test_support {
    use proptest::prelude::*;
    use ringwatch_proto::{ErrorKind, ProbeResult};

    use super::Bucket;

    /// One check: `None` latency means it failed, with that kind.
    pub type Check = (Option<u64>, Option<ErrorKind>);

    pub fn result(monitor_id: &str, at_ms: u64, check: Check) -> ProbeResult {
        let (latency, error_kind) = check;
        ProbeResult {
            monitor_id: monitor_id.into(),
            at_ms,
            ok: latency.is_some(),
            status_code: latency.map(|_| 200),
            latency_ms: latency.unwrap_or(10_000),
            error: None,
            error_kind: if latency.is_some() { None } else { error_kind },
            node: "n1".into(),
            tls_days_left: None,
            zone: String::new(),
        }
    }

    pub fn bucket_of(start_ms: u64, checks: &[Check]) -> Bucket {
        let mut bucket = Bucket::new(start_ms);
        for &check in checks {
            bucket.add(&result("m", start_ms, check));
        }
        bucket
    }

    /// Unix ms of a UTC date and time (days-from-civil, proleptic Gregorian).
    pub fn utc(y: i64, m: i64, d: i64, h: u64, min: u64, s: u64, ms: u64) -> u64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = (era * 146_097 + doe - 719_468) as u64;
        ((days * 24 + h) * 60 + min) * 60_000 + s * 1000 + ms
    }

    pub fn kind() -> impl Strategy<Value = ErrorKind> {
        prop_oneof![
            Just(ErrorKind::Dns),
            Just(ErrorKind::Refused),
            Just(ErrorKind::Timeout),
            Just(ErrorKind::Tls),
            Just(ErrorKind::Redirects),
            Just(ErrorKind::BadStatus),
            Just(ErrorKind::Assertion),
            Just(ErrorKind::Protocol),
            Just(ErrorKind::Other),
        ]
    }

    pub fn check() -> impl Strategy<Value = Check> {
        let latency = prop_oneof![
            4 => 1u64..400,
            1 => Just(0u64),
            1 => 400u64..60_000,
        ];
        prop_oneof![
            4 => latency.prop_map(|ms| (Some(ms), None)),
            1 => prop::option::of(kind()).prop_map(|k| (None, k)),
        ]
    }

    pub fn checks(max: usize) -> impl Strategy<Value = Vec<Check>> {
        prop::collection::vec(check(), 0..max)
    }

    /// A bucket made by adding checks, at one of a few minute starts.
    pub fn bucket() -> impl Strategy<Value = Bucket> {
        (0u64..5, checks(40)).prop_map(|(minute, checks)| bucket_of(minute * 60_000, &checks))
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{Check, bucket_of, checks, utc};
    use super::*;
    use proptest::prelude::*;
    use ringwatch_proto::{ErrorKind, encode};

    const MIN: u64 = MINUTE_MS;

    #[test]
    fn steps_are_utc_across_month_ends_and_leap_days() {
        use Resolution::{Day, Hour, Minute};
        let last_ms = utc(2026, 1, 31, 23, 59, 59, 999);
        let feb = utc(2026, 2, 1, 0, 0, 0, 0);
        assert_eq!(feb, 1_769_904_000_000);
        assert_eq!(last_ms + 1, feb);
        assert_eq!(Minute.floor(last_ms), utc(2026, 1, 31, 23, 59, 0, 0));
        assert_eq!(Hour.floor(last_ms), utc(2026, 1, 31, 23, 0, 0, 0));
        assert_eq!(Day.floor(last_ms), utc(2026, 1, 31, 0, 0, 0, 0));
        for res in Resolution::all() {
            assert_eq!(res.floor(feb), feb);
            assert_eq!(res.floor(feb + res.width_ms() - 1), feb);
        }
        // Minute blocks are UTC hours, hour blocks UTC days.
        assert_eq!(Minute.block_start(last_ms), utc(2026, 1, 31, 23, 0, 0, 0));
        assert_eq!(Hour.block_start(last_ms), utc(2026, 1, 31, 0, 0, 0, 0));
        assert_eq!(Hour.block_start(feb), feb);
        // Day blocks: 32-day spans from the epoch, not months.
        let day_block = Day.block_start(feb);
        assert_eq!(day_block, utc(2026, 1, 27, 0, 0, 0, 0));
        assert_eq!(day_block % (32 * DAY_MS), 0);
        assert_eq!(Day.block_start(last_ms), day_block);
        // 2028 is a leap year: Feb 29 is a day of its own.
        let leap = utc(2028, 2, 29, 12, 0, 0, 0);
        assert_eq!(Day.floor(leap), utc(2028, 2, 29, 0, 0, 0, 0));
        assert_eq!(Day.floor(leap) + DAY_MS, utc(2028, 3, 1, 0, 0, 0, 0));
        assert_eq!(
            utc(2028, 3, 1, 0, 0, 0, 0) - utc(2028, 2, 28, 0, 0, 0, 0),
            2 * DAY_MS
        );
        assert_eq!(Hour.block_start(leap), utc(2028, 2, 29, 0, 0, 0, 0));
    }

    #[test]
    fn codes_are_stable() {
        let codes: Vec<u8> = Resolution::all().iter().map(|r| r.code()).collect();
        assert_eq!(codes, b"mhd");
        for res in Resolution::all() {
            assert_eq!(Resolution::from_code(res.code()), Some(res));
        }
        assert_eq!(Resolution::from_code(0), None);
        assert_eq!(Resolution::Hour.block_ms(), DAY_MS);
    }

    #[test]
    fn retention_and_expiry() {
        let r = Retention::default();
        assert_eq!(r.of(Resolution::Minute), 48 * HOUR_MS);
        assert_eq!(r.of(Resolution::Hour), 400 * DAY_MS);
        assert_eq!(r.of(Resolution::Day), 1826 * DAY_MS);
        let start = 10 * DAY_MS;
        let gone_at = start + MIN + 48 * HOUR_MS;
        assert!(!expired(Resolution::Minute, start, gone_at - 1, &r));
        assert!(expired(Resolution::Minute, start, gone_at, &r));
        // A block goes when its last bucket does.
        assert!(!block_expired(Resolution::Minute, start, gone_at, &r));
        assert!(block_expired(
            Resolution::Minute,
            start,
            gone_at + 59 * MIN,
            &r
        ));
        assert!(!expired(Resolution::Day, 0, 0, &r));
    }

    #[test]
    fn picks_the_finest_resolution_that_fits() {
        let r = Retention::default();
        let pick = |ms| pick_resolution(ms, &r);
        assert_eq!(pick(HOUR_MS), Resolution::Minute);
        assert_eq!(pick(24 * HOUR_MS), Resolution::Minute);
        assert_eq!(
            pick(48 * HOUR_MS),
            Resolution::Hour,
            "2,880 minutes is too many"
        );
        assert_eq!(pick(7 * DAY_MS), Resolution::Hour);
        assert_eq!(pick(30 * DAY_MS), Resolution::Hour);
        assert_eq!(pick(90 * DAY_MS), Resolution::Day);
        assert_eq!(pick(365 * DAY_MS), Resolution::Day);
        assert_eq!(pick(10 * 365 * DAY_MS), Resolution::Day);
        let short = Retention {
            minute_ms: 6 * HOUR_MS,
            ..r
        };
        assert_eq!(pick_resolution(12 * HOUR_MS, &short), Resolution::Hour);
    }

    #[test]
    fn series_steps() {
        use Resolution::{Day, Hour, Minute};
        assert_eq!(series_step(0, 24 * HOUR_MS, Minute, None), 2 * MIN);
        assert_eq!(series_step(0, HOUR_MS, Minute, None), MIN);
        assert_eq!(series_step(0, 30 * DAY_MS, Hour, None), HOUR_MS);
        assert_eq!(series_step(0, 365 * DAY_MS, Day, None), DAY_MS);
        assert_eq!(series_step(0, 24 * HOUR_MS, Minute, Some(5 * MIN)), 5 * MIN);
        assert_eq!(series_step(0, 24 * HOUR_MS, Minute, Some(1_000)), 2 * MIN);
        assert_eq!(
            series_step(0, 24 * HOUR_MS, Hour, Some(90 * MIN)),
            2 * HOUR_MS
        );
        assert_eq!(series_step(5, 5, Minute, Some(0)), MIN);
    }

    #[test]
    fn series_groups_by_start_and_keeps_empty_steps() {
        let b = |minute: u64, checks: &[Check]| bucket_of(minute * MIN, checks);
        let ok: Check = (Some(50), None);
        let fail: Check = (None, Some(ErrorKind::Timeout));
        let buckets = [
            b(9, &[ok]),
            b(10, &[ok]),
            b(11, &[fail]),
            b(12, &[ok]),
            b(16, &[ok]),
        ];
        // From mid-bucket 9 (left out) to mid-bucket 16 (taken whole), by 3 minutes.
        let points = series(&buckets, 9 * MIN + 1, 16 * MIN + 1, 3 * MIN);
        let rows: Vec<(u64, u32, u32)> = points
            .iter()
            .map(|p| (p.at_ms / MIN, p.bucket.checks, p.bucket.ok))
            .collect();
        assert_eq!(rows, [(9, 2, 1), (12, 1, 1), (15, 1, 1)]);
        let points = series(&buckets, 0, 30 * MIN, 5 * MIN);
        assert_eq!(points.len(), 6);
        assert_eq!(points[0].bucket.checks, 0);
        assert_eq!(points[2].bucket.checks, 3);
        assert!(series(&buckets, 10, 10, MIN).is_empty());
        // A too small step is widened: at most MAX_POINTS + 1 points.
        assert!(series(&buckets, 0, 365 * DAY_MS, 1).len() <= 1001);
    }

    #[test]
    fn summarize_and_stats() {
        let latencies: Vec<Check> = (1..=100).map(|ms| (Some(ms * 10), None)).collect();
        let node_a = bucket_of(0, &latencies[..60]);
        let node_b = bucket_of(MIN, &latencies[60..]);
        let failing = bucket_of(MIN, &[(None, None); 25]);
        let sum = summarize([&node_a, &node_b, &failing]);
        assert_eq!(sum.start_ms, 0);
        let mut all = latencies.clone();
        all.extend([(None, None); 25]);
        assert_eq!(sum, bucket_of(0, &all));
        let stats = Stats::of(&sum);
        assert_eq!(
            (stats.checks, stats.ok, stats.success_ratio),
            (125, 100, Some(0.8))
        );
        let latency = stats.latency.unwrap();
        assert_eq!(
            (latency.min_ms, latency.max_ms, latency.avg_ms),
            (10, 1000, 505.0)
        );
        assert!(latency.p50_ms.abs_diff(500) <= 10, "{latency:?}");
        assert!(latency.p95_ms.abs_diff(950) <= 19, "{latency:?}");
        assert!(
            latency.p99_ms.abs_diff(990) <= 20 && latency.p99_ms <= 1000,
            "{latency:?}"
        );
        assert_eq!(Stats::of(&failing).latency, None);
        assert_eq!(summarize([]), Bucket::new(0));
    }

    /// Latency near 80..150 ms, as a steady monitor shows.
    fn steady(n: u64) -> Vec<Check> {
        (0..n).map(|k| (Some(80 + (k * 37) % 71), None)).collect()
    }

    #[test]
    fn encodings_are_compact() {
        let at = utc(2026, 5, 4, 13, 0, 0, 0);
        let hour = bucket_of(at, &steady(60));
        let mut hour_block = Block::new(Resolution::Hour, at);
        hour_block.upsert(&hour).unwrap();
        let minute = bucket_of(at, &steady(1));
        let mut minute_block = Block::new(Resolution::Minute, at);
        minute_block.upsert(&minute).unwrap();
        let empty_block = Block::new(Resolution::Minute, at).encode().len();
        let hour_in_block = hour_block.encode().len() - empty_block;
        let minute_in_block = minute_block.encode().len() - empty_block;
        // One version byte in front of the standalone encodings.
        let hour_alone = encode(&hour).len() - 1;
        let minute_alone = encode(&minute).len() - 1;
        let mut full_hour = Block::new(Resolution::Minute, at);
        for (k, check) in steady(60).into_iter().enumerate() {
            full_hour
                .upsert(&bucket_of(at + k as u64 * MIN, &[check]))
                .unwrap();
        }
        let mut full_day = Block::new(Resolution::Hour, at);
        for h in 0..24 {
            full_day
                .upsert(&bucket_of(
                    Resolution::Hour.block_start(at) + h * HOUR_MS,
                    &steady(60),
                ))
                .unwrap();
        }
        println!("empty block: {empty_block} bytes");
        println!("hour bucket, 60 checks: {hour_in_block} bytes in a block, {hour_alone} alone");
        println!(
            "minute bucket, 1 check: {minute_in_block} bytes in a block, {minute_alone} alone"
        );
        println!(
            "block of 60 one-check minutes: {} bytes",
            full_hour.encode().len()
        );
        println!(
            "block of 24 hours of 60 checks: {} bytes",
            full_day.encode().len()
        );
        assert!(hour_in_block < 100 && hour_alone < 100);
        assert!(minute_in_block < 20);
        assert!(minute_alone < 25);
    }

    proptest! {
        #[test]
        fn series_steps_fit(
            from in 0u64..2_000_000_000_000,
            span in 0u64..6 * 365 * DAY_MS,
            requested in prop::option::of(0u64..30 * DAY_MS),
            res in prop_oneof![Just(Resolution::Minute), Just(Resolution::Hour), Just(Resolution::Day)],
        ) {
            let step = series_step(from, from + span, res, requested);
            prop_assert_eq!(step % res.width_ms(), 0);
            prop_assert!(step > 0);
            prop_assert!(span.div_ceil(step) <= MAX_POINTS);
            if let Some(requested) = requested {
                prop_assert!(step >= requested);
            }
        }

        #[test]
        fn series_loses_nothing_in_the_window(
            buckets in prop::collection::vec((0u64..600, checks(5)), 0..40),
            from in 0u64..300 * MIN,
            span in 0u64..400 * MIN,
            step in 1u64..100 * MIN,
        ) {
            let buckets: Vec<Bucket> =
                buckets.iter().map(|(m, c)| bucket_of(m * MIN, c)).collect();
            let points = series(&buckets, from, from + span, step);
            let inside = buckets.iter().filter(|b| b.starts_in(from, from + span));
            let mut expected = summarize(inside);
            let mut got = summarize(points.iter().map(|p| &p.bucket));
            (expected.start_ms, got.start_ms) = (0, 0);
            prop_assert_eq!(got, expected);
            prop_assert!(points.len() as u64 <= MAX_POINTS + 1);
            let step = step.max(span.div_ceil(MAX_POINTS));
            for p in &points {
                prop_assert!(p.at_ms < from + span && p.at_ms + step > from);
                prop_assert_eq!(p.at_ms % step, 0);
            }
        }
    }
}
