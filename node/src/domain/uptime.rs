//! Availability: how long a monitor was up and down in a window, from its confirmed status
//! changes (the stored transitions), not from probe counts. A pure core: callers pass the
//! changes and `now_ms`.
//!
//! The status before the first change is `Pending`. Time spent `Pending` or `Paused` is
//! neither up nor down: it is left out of the observed time. Nothing after `now_ms` counts:
//! the current status lasts until now, not until the end of a window that reaches past it.
//!
//! Time in a maintenance window (the `excluded` spans of [`availability_outside`]) is neither
//! up nor down either: it is left out of the observed time and counted apart.

use ringwatch_proto::Status;
use serde::Serialize;

use super::maintenance::Span;

/// One UTC day.
pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// Up and down time of one monitor in one window.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Availability {
    /// Time spent up or down in the window (ms).
    pub observed_ms: u64,
    /// Time spent down in the window (ms).
    pub down_ms: u64,
    /// Time spent paused in the window (ms), not part of `observed_ms`.
    pub paused_ms: u64,
    /// Time up or down that a maintenance window covered (ms), not part of `observed_ms`.
    pub maintenance_ms: u64,
    /// Down periods overlapping the window, also ones that began before it. A down period
    /// runs until the status is something else than down for a while (so a repeated change
    /// to down does not start another); a pause in an outage ends it.
    pub incidents: u32,
    /// `1 - down / observed`; `None` when nothing was observed.
    pub uptime: Option<f64>,
}

/// Availability in `[from_ms, min(to_ms, now_ms))`. `changes` are `(at_ms, new status)`
/// sorted by time; a change out of order counts at the time of the one before it. Of several
/// changes at one instant, the last one holds.
pub fn availability(
    changes: &[(u64, Status)],
    from_ms: u64,
    to_ms: u64,
    now_ms: u64,
) -> Availability {
    availability_outside(changes, from_ms, to_ms, now_ms, &[])
}

/// [`availability`] with the time inside `excluded` (sorted, disjoint spans: maintenance)
/// left out: counted as `maintenance_ms` instead of up or down. Paused time stays paused.
pub fn availability_outside(
    changes: &[(u64, Status)],
    from_ms: u64,
    to_ms: u64,
    now_ms: u64,
    excluded: &[Span],
) -> Availability {
    let end = to_ms.min(now_ms);
    let mut tally = Tally {
        excluded,
        ..Tally::default()
    };
    if end <= from_ms {
        return tally.finish();
    }
    // The status at from_ms: set by the last change at or before it.
    let first = changes.partition_point(|&(at, _)| at <= from_ms);
    let mut status = first
        .checked_sub(1)
        .map_or(Status::Pending, |i| changes[i].1);
    let mut since = from_ms;
    for &(at, next) in changes[first..].iter().take_while(|&&(at, _)| at < end) {
        let at = at.max(since);
        tally.add(status, since, at);
        (since, status) = (at, next);
    }
    tally.add(status, since, end);
    tally.finish()
}

/// How much of `[from, to)` the sorted, disjoint `spans` cover.
fn covered_ms(spans: &[Span], from: u64, to: u64) -> u64 {
    let first = spans.partition_point(|s| s.end_ms <= from);
    spans[first..]
        .iter()
        .take_while(|s| s.start_ms < to)
        .map(|s| s.end_ms.min(to).saturating_sub(s.start_ms.max(from)))
        .sum()
}

/// Availability of each of `days` consecutive days from `from_day_ms` (pass a UTC midnight
/// for calendar days). Days after `now_ms` have nothing observed; today counts until now.
/// Maintenance time (`excluded`) counts neither as up nor as down, as in
/// [`availability_outside`].
pub fn daily(
    changes: &[(u64, Status)],
    from_day_ms: u64,
    days: u32,
    now_ms: u64,
    excluded: &[Span],
) -> Vec<Availability> {
    (0..u64::from(days))
        .map(|d| {
            let start = from_day_ms.saturating_add(d * DAY_MS);
            let end = start.saturating_add(DAY_MS);
            availability_outside(changes, start, end, now_ms, excluded)
        })
        .collect()
}

/// Adds up the periods of a window in time order.
#[derive(Default)]
struct Tally<'a> {
    /// Maintenance: time in these is neither up nor down.
    excluded: &'a [Span],
    up_ms: u64,
    down_ms: u64,
    paused_ms: u64,
    maintenance_ms: u64,
    incidents: u32,
    /// The status of the last period that lasted, to join down periods split by changes of
    /// no duration.
    last: Option<Status>,
}

impl Tally<'_> {
    fn add(&mut self, status: Status, from: u64, to: u64) {
        let mut ms = to.saturating_sub(from);
        if matches!(status, Status::Up | Status::Down) && !self.excluded.is_empty() {
            let inside = covered_ms(self.excluded, from, to);
            self.maintenance_ms += inside;
            ms -= inside;
        }
        if ms == 0 {
            return;
        }
        match status {
            Status::Up => self.up_ms += ms,
            Status::Down => {
                if self.last != Some(Status::Down) {
                    self.incidents += 1;
                }
                self.down_ms += ms;
            }
            Status::Paused => self.paused_ms += ms,
            Status::Pending => {}
        }
        self.last = Some(status);
    }

    fn finish(self) -> Availability {
        let observed_ms = self.up_ms + self.down_ms;
        Availability {
            observed_ms,
            down_ms: self.down_ms,
            paused_ms: self.paused_ms,
            maintenance_ms: self.maintenance_ms,
            incidents: self.incidents,
            uptime: (observed_ms > 0).then(|| 1.0 - self.down_ms as f64 / observed_ms as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::{Down, Paused, Pending, Up};
    use proptest::prelude::*;

    const HOUR: u64 = 3_600_000;
    const MIN: u64 = 60_000;
    /// 2026-03-01T00:00:00Z.
    const T0: u64 = 1_772_323_200_000;

    #[test]
    fn twenty_seconds_down_in_a_day() {
        let changes = [
            (T0 - HOUR, Up),
            (T0 + 5 * HOUR, Down),
            (T0 + 5 * HOUR + 20_000, Up),
        ];
        let a = availability(&changes, T0, T0 + DAY_MS, T0 + 2 * DAY_MS);
        assert_eq!(a.observed_ms, DAY_MS);
        assert_eq!(a.down_ms, 20_000);
        assert_eq!(a.incidents, 1);
        assert_eq!(a.paused_ms, 0);
        let expected = 1.0 - 20_000.0 / DAY_MS as f64;
        assert!((a.uptime.unwrap() - expected).abs() < 1e-12);
        assert!(a.uptime.unwrap() > 0.9997 && a.uptime.unwrap() < 0.9998);
    }

    #[test]
    fn pauses_and_pending_are_left_out() {
        let changes = [
            (T0, Pending),
            (T0 + MIN, Up),
            (T0 + 2 * HOUR, Paused),
            (T0 + 4 * HOUR, Pending),
            (T0 + 4 * HOUR + MIN, Up),
            (T0 + 6 * HOUR, Down),
            (T0 + 7 * HOUR, Paused),
        ];
        let a = availability(&changes, T0, T0 + DAY_MS, T0 + DAY_MS);
        assert_eq!(a.paused_ms, 2 * HOUR + (DAY_MS - 7 * HOUR));
        assert_eq!(a.observed_ms, (2 * HOUR - MIN) + (2 * HOUR - MIN) + HOUR);
        assert_eq!(a.down_ms, HOUR);
        assert_eq!(a.incidents, 1);
    }

    #[test]
    fn a_window_cutting_an_incident_counts_its_part() {
        let changes = [(T0 - DAY_MS, Up), (T0 - HOUR, Down), (T0 + 2 * HOUR, Up)];
        let before = availability(&changes, T0 - DAY_MS, T0, T0 + DAY_MS);
        let after = availability(&changes, T0, T0 + DAY_MS, T0 + DAY_MS);
        assert_eq!((before.down_ms, before.incidents), (HOUR, 1));
        assert_eq!((after.down_ms, after.incidents), (2 * HOUR, 1));
        assert_eq!(after.observed_ms, DAY_MS);
    }

    #[test]
    fn no_data_means_no_uptime() {
        let a = availability(&[], T0, T0 + DAY_MS, T0 + DAY_MS);
        assert_eq!(a, Availability::default());
        assert_eq!(a.uptime, None);
        // Only pending and paused.
        let changes = [(T0, Paused), (T0 + HOUR, Pending)];
        let a = availability(&changes, T0, T0 + DAY_MS, T0 + DAY_MS);
        assert_eq!((a.observed_ms, a.paused_ms, a.uptime), (0, HOUR, None));
        // A window in the future, or empty.
        let up = [(T0, Up)];
        assert_eq!(
            availability(&up, T0 + HOUR, T0 + 2 * HOUR, T0 + HOUR).uptime,
            None
        );
        assert_eq!(
            availability(&up, T0 + HOUR, T0 + HOUR, T0 + DAY_MS).uptime,
            None
        );
    }

    #[test]
    fn nothing_after_now_counts() {
        let changes = [(T0, Up), (T0 + 5 * HOUR, Down)];
        let a = availability(&changes, T0, T0 + DAY_MS, T0 + 6 * HOUR);
        assert_eq!((a.observed_ms, a.down_ms), (6 * HOUR, HOUR));
        // A change recorded after now (clock skew between nodes) is not counted yet.
        let a = availability(&changes, T0, T0 + DAY_MS, T0 + 4 * HOUR);
        assert_eq!((a.observed_ms, a.down_ms, a.incidents), (4 * HOUR, 0, 0));
    }

    #[test]
    fn incidents_are_down_periods_overlapping_the_window() {
        let from = T0;
        let to = T0 + DAY_MS;
        let changes = [
            (from - HOUR, Down), // ends exactly at `from`: not in the window
            (from, Up),
            (from + HOUR, Down), // 1, with a repeated change to down inside
            (from + HOUR + MIN, Down),
            (from + 2 * HOUR, Up),
            (from + 3 * HOUR, Down), // 2: down, a zero-length pending, down again
            (from + 4 * HOUR, Pending),
            (from + 4 * HOUR, Down),
            (from + 5 * HOUR, Up),
            (from + 6 * HOUR, Down), // 3: down, paused, down after the resume
            (from + 7 * HOUR, Paused),
            (from + 8 * HOUR, Pending),
            (from + 8 * HOUR + MIN, Down), // 4
            (from + 9 * HOUR, Up),
            (to, Down), // starts exactly at `to`: not in the window
        ];
        let a = availability(&changes, from, to, to + DAY_MS);
        assert_eq!(a.incidents, 4);
        assert_eq!(a.down_ms, HOUR + 2 * HOUR + HOUR + (HOUR - MIN));
        assert_eq!(a.paused_ms, HOUR);
    }

    #[test]
    fn daily_bars_add_up_and_stop_at_now() {
        let changes = [
            (T0, Up),
            (T0 + DAY_MS - HOUR, Down),
            (T0 + DAY_MS + HOUR, Up),
        ];
        let now = T0 + 2 * DAY_MS + 12 * HOUR;
        let days = daily(&changes, T0, 4, now, &[]);
        assert_eq!(days.len(), 4);
        assert_eq!((days[0].down_ms, days[0].incidents), (HOUR, 1));
        assert_eq!((days[1].down_ms, days[1].incidents), (HOUR, 1));
        assert_eq!(days[1].observed_ms, DAY_MS);
        assert_eq!(
            (days[2].observed_ms, days[2].uptime),
            (12 * HOUR, Some(1.0))
        );
        assert_eq!(days[3], Availability::default());
        let whole = availability(&changes, T0, T0 + 4 * DAY_MS, now);
        let observed: u64 = days.iter().map(|d| d.observed_ms).sum();
        assert_eq!((whole.observed_ms, whole.down_ms), (observed, 2 * HOUR));
        assert_eq!(whole.incidents, 1);
    }

    #[test]
    fn maintenance_is_neither_up_nor_down() {
        let span = |a, b| Span {
            start_ms: T0 + a,
            end_ms: T0 + b,
        };
        // Up, then down from 2 h to 5 h; a window from 1 h to 3 h and one from 4 h to 4.5 h.
        let changes = [(T0, Up), (T0 + 2 * HOUR, Down), (T0 + 5 * HOUR, Up)];
        let windows = [span(HOUR, 3 * HOUR), span(4 * HOUR, 4 * HOUR + HOUR / 2)];
        let a = availability_outside(&changes, T0, T0 + 6 * HOUR, T0 + DAY_MS, &windows);
        assert_eq!(a.maintenance_ms, 2 * HOUR + HOUR / 2);
        assert_eq!(
            a.down_ms,
            HOUR + HOUR / 2,
            "down 3 h, 1.5 h of it in windows"
        );
        assert_eq!(a.observed_ms, 6 * HOUR - a.maintenance_ms);
        assert_eq!(a.incidents, 1);
        // A monitor that failed only inside its window keeps 100 %.
        let inside = [(T0, Up), (T0 + HOUR, Down), (T0 + 2 * HOUR, Up)];
        let a = availability_outside(
            &inside,
            T0,
            T0 + DAY_MS,
            T0 + DAY_MS,
            &[span(HOUR, 2 * HOUR)],
        );
        assert_eq!((a.uptime, a.down_ms, a.incidents), (Some(1.0), 0, 0));
        // Paused time stays paused, and a window reaching past now counts until now.
        let paused = [(T0, Paused)];
        let a = availability_outside(&paused, T0, T0 + DAY_MS, T0 + HOUR, &[span(0, DAY_MS)]);
        assert_eq!((a.paused_ms, a.maintenance_ms), (HOUR, 0));
        let a = availability_outside(&[(T0, Up)], T0, T0 + DAY_MS, T0 + HOUR, &[span(0, DAY_MS)]);
        assert_eq!((a.maintenance_ms, a.observed_ms, a.uptime), (HOUR, 0, None));
    }

    #[test]
    fn unsorted_changes_do_not_panic() {
        let changes = [(T0 + HOUR, Up), (T0, Down), (T0 + 2 * HOUR, Up)];
        let a = availability(&changes, T0 - HOUR, T0 + DAY_MS, T0 + DAY_MS);
        assert!(a.observed_ms <= DAY_MS + HOUR);
    }

    fn status() -> impl Strategy<Value = Status> {
        prop_oneof![Just(Up), Just(Down), Just(Paused), Just(Pending)]
    }

    /// The status at each millisecond, the slow way.
    fn status_at(changes: &[(u64, Status)], t: u64) -> Status {
        changes
            .iter()
            .rev()
            .find(|&&(at, _)| at <= t)
            .map_or(Pending, |&(_, s)| s)
    }

    proptest! {
        #[test]
        fn matches_a_millisecond_by_millisecond_count(
            mut changes in prop::collection::vec((0u64..400, status()), 0..12),
            from in 0u64..400,
            len in 0u64..400,
            now in 0u64..500,
        ) {
            changes.sort_by_key(|&(at, _)| at);
            let a = availability(&changes, from, from + len, now);
            let (mut up, mut down, mut paused, mut incidents) = (0, 0, 0, 0);
            let mut previous = None;
            for t in from..(from + len).min(now) {
                let s = status_at(&changes, t);
                match s {
                    Up => up += 1,
                    Down => down += 1,
                    Paused => paused += 1,
                    Pending => {}
                }
                if s == Down && previous != Some(Down) {
                    incidents += 1;
                }
                previous = Some(s);
            }
            prop_assert_eq!(a.observed_ms, up + down);
            prop_assert_eq!(a.down_ms, down);
            prop_assert_eq!(a.paused_ms, paused);
            prop_assert_eq!(a.incidents, incidents);
            prop_assert_eq!(a.uptime.is_some(), up + down > 0);
        }

        #[test]
        fn maintenance_matches_a_millisecond_by_millisecond_count(
            mut changes in prop::collection::vec((0u64..400, status()), 0..12),
            mut cuts in prop::collection::vec(0u64..450, 0..8),
            from in 0u64..400,
            len in 0u64..400,
        ) {
            changes.sort_by_key(|&(at, _)| at);
            cuts.sort_unstable();
            cuts.dedup();
            let spans: Vec<Span> = cuts
                .chunks_exact(2)
                .map(|c| Span { start_ms: c[0], end_ms: c[1] })
                .collect();
            let a = availability_outside(&changes, from, from + len, 1_000, &spans);
            let (mut up, mut down, mut maintenance) = (0, 0, 0);
            for t in from..from + len {
                let s = status_at(&changes, t);
                let inside = spans.iter().any(|w| w.contains(t));
                match s {
                    Up | Down if inside => maintenance += 1,
                    Up => up += 1,
                    Down => down += 1,
                    _ => {}
                }
            }
            prop_assert_eq!(a.observed_ms, up + down);
            prop_assert_eq!(a.down_ms, down);
            prop_assert_eq!(a.maintenance_ms, maintenance);
        }

        #[test]
        fn days_add_up_to_the_window(
            mut changes in prop::collection::vec((0u64..5 * DAY_MS, status()), 0..20),
            days in 1u32..5,
            now in 0u64..6 * DAY_MS,
        ) {
            changes.sort_by_key(|&(at, _)| at);
            let bars = daily(&changes, 0, days, now, &[]);
            let whole = availability(&changes, 0, u64::from(days) * DAY_MS, now);
            prop_assert_eq!(bars.iter().map(|d| d.observed_ms).sum::<u64>(), whole.observed_ms);
            prop_assert_eq!(bars.iter().map(|d| d.down_ms).sum::<u64>(), whole.down_ms);
            prop_assert_eq!(bars.iter().map(|d| d.paused_ms).sum::<u64>(), whole.paused_ms);
            // An incident spanning midnight shows on both days.
            prop_assert!(bars.iter().map(|d| d.incidents).sum::<u32>() >= whole.incidents);
        }
    }
}
