//! Repeat alerts: while a monitor with `repeat_every` stays down, a reminder goes out once per
//! period, cluster-wide. A deterministic core: the alerter asks it on every tick.
//!
//! A reminder is a status change from `down` to `down` with the next transition number, so it
//! travels, is stored and is notified exactly like the down itself (same outbox, same
//! delivery records, same "only the owner sends"). Its time is the period boundary it stands
//! for, not the moment it was decided: the `k`-th reminder of a monitor down since `since`
//! is dated `since + k × period` however late a tick or a new owner saw it. So a new owner
//! that takes over mid-outage continues from the last reminder it holds, and a node that was
//! away for several periods sends one reminder for the latest period, not a burst.

/// The instant of the reminder to make now, if one is due: the newest period boundary after
/// `last_ms` (the down or the last reminder) that is not after `now_ms`; `None` before the
/// next boundary.
pub fn due(last_ms: u64, period_ms: u64, now_ms: u64) -> Option<u64> {
    if period_ms == 0 || now_ms < last_ms.saturating_add(period_ms) {
        return None;
    }
    let periods = (now_ms - last_ms) / period_ms;
    Some(last_ms + periods * period_ms)
}

/// Which reminder (1, 2...) one dated `at_ms` is, for a monitor down since `since_ms`.
pub fn number(since_ms: u64, at_ms: u64, period_ms: u64) -> u64 {
    if period_ms == 0 {
        return 0;
    }
    (at_ms.saturating_sub(since_ms) + period_ms / 2) / period_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ticks every 250 ms from `from` to `to`, making each due reminder; returns their times.
    fn run(last: &mut u64, period: u64, from: u64, to: u64) -> Vec<u64> {
        let mut made = Vec::new();
        let mut now = from;
        while now < to {
            if let Some(at) = due(*last, period, now) {
                made.push(at);
                *last = at;
            }
            now += 250;
        }
        made
    }

    #[test]
    fn three_and_a_half_periods_down_make_three_reminders_on_the_boundaries() {
        let (since, period) = (10_000, 4_000);
        let mut last = since;
        let made = run(&mut last, period, since, since + 14_000);
        assert_eq!(made, [14_000, 18_000, 22_000]);
        let numbers: Vec<u64> = made.iter().map(|at| number(since, *at, period)).collect();
        assert_eq!(numbers, [1, 2, 3]);
    }

    #[test]
    fn a_new_owner_continues_from_the_last_reminder_it_holds() {
        let (since, period) = (0, 4_000);
        let mut last = since;
        // The first owner makes the first reminder, then dies at 5.1 s; the next owner
        // (holding the replicated reminder) takes over at 9.3 s, after the second boundary.
        let first = run(&mut last, period, 0, 5_100);
        let second = run(&mut last, period, 9_300, 14_000);
        assert_eq!(first, [4_000]);
        assert_eq!(second, [8_000, 12_000], "late, but for its own period");
    }

    #[test]
    fn a_long_absence_makes_one_reminder_for_the_latest_period() {
        assert_eq!(due(0, 1_000, 999), None);
        assert_eq!(due(0, 1_000, 1_000), Some(1_000));
        assert_eq!(due(0, 1_000, 5_500), Some(5_000));
        assert_eq!(number(0, 5_000, 1_000), 5);
        assert_eq!(due(0, 0, 5_000), None, "no period, no reminders");
    }
}
