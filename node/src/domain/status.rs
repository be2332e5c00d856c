//! The up/down decision: a deterministic core applied to each probe result.
//!
//! Counting and deciding are split. Every node counts: [`observe`] updates the consecutive
//! failure and success counters of a monitor from each result it stores, whoever probed, so
//! the counts survive an owner change. Only the monitor's owner turns a count into a status
//! change ([`due`] says which one is due; the alerter may first ask another node for a second
//! opinion), and the change then reaches every node as a replicated transition that
//! [`commit`] applies. A status is therefore never decided twice for one change. (A pending
//! monitor's first success is the exception: it alerts nobody, so every node applies it
//! without a transition: see `LiveView::apply_results` in the live view.)
//!
//! `failure_threshold` consecutive failures make a monitor down, `recovery_threshold`
//! consecutive successes make a down monitor up again; a pending monitor goes up on its first
//! success. Counters saturate at their threshold so a steady monitor's state stops changing
//! (and stops being rewritten to disk).

use ringwatch_proto::{Monitor, MonitorState, Status};

/// Applies one probe outcome to the counters. Returns whether the state changed.
pub fn observe(state: &mut MonitorState, monitor: &Monitor, ok: bool) -> bool {
    count(&mut state.failures, &mut state.successes, monitor, ok)
}

/// Counts one outcome in consecutive `failures` and `successes`, each saturating at its
/// threshold. Returns whether either changed.
pub fn count(failures: &mut u32, successes: &mut u32, monitor: &Monitor, ok: bool) -> bool {
    let before = (*failures, *successes);
    if ok {
        *failures = 0;
        *successes = (*successes + 1).min(monitor.recovery_threshold.max(1));
    } else {
        *successes = 0;
        *failures = (*failures + 1).min(monitor.failure_threshold.max(1));
    }
    (*failures, *successes) != before
}

/// The status change the counters call for, if any.
pub fn due(state: &MonitorState, monitor: &Monitor) -> Option<Status> {
    let from = state.status;
    if state.failures > 0 {
        (from != Status::Down && state.failures >= monitor.failure_threshold)
            .then_some(Status::Down)
    } else if state.successes > 0 {
        let recovered = from != Status::Down || state.successes >= monitor.recovery_threshold;
        (from != Status::Up && recovered).then_some(Status::Up)
    } else {
        None
    }
}

/// Applies the status change numbered `seq`. Changes arrive at most once each but not
/// necessarily in order: an older one than the state holds is ignored. A reminder (down to
/// down, see [`super::reminders`]) takes its number but keeps the time the monitor went down.
/// Returns whether the state changed.
pub fn commit(state: &mut MonitorState, to: Status, seq: u64, at_ms: u64) -> bool {
    if seq <= state.seq {
        return false;
    }
    if !(to == Status::Down && state.status == Status::Down) {
        state.since_ms = at_ms;
    }
    state.status = to;
    state.seq = seq;
    true
}

/// Whether a change from `from` to `to` is news worth a notification: a down, or the
/// recovery from one. A new monitor going up for the first time is not.
pub fn notifies(from: Status, to: Status) -> bool {
    to == Status::Down || (from == Status::Down && to == Status::Up)
}

/// A monitor's status as the API shows it: the decided [`Status`], plus `maintenance`, which
/// is derived from the maintenance windows at the time of asking and never decided or stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = MonitorStatus)]
pub enum ShownStatus {
    Pending,
    Up,
    Down,
    Paused,
    /// A maintenance window covers it: probed and recorded, never notified.
    Maintenance,
}

impl ShownStatus {
    /// The status named `text`, as the list's filter takes it.
    pub fn parse(text: &str) -> Option<ShownStatus> {
        Some(match text {
            "pending" => ShownStatus::Pending,
            "up" => ShownStatus::Up,
            "down" => ShownStatus::Down,
            "paused" => ShownStatus::Paused,
            "maintenance" => ShownStatus::Maintenance,
            _ => return None,
        })
    }

    /// The status shown for a decided one (`paused` for an inactive monitor), in maintenance
    /// or not: a paused monitor stays `paused`.
    pub fn of(status: Status, in_maintenance: bool) -> ShownStatus {
        match status {
            Status::Paused => ShownStatus::Paused,
            _ if in_maintenance => ShownStatus::Maintenance,
            Status::Pending => ShownStatus::Pending,
            Status::Up => ShownStatus::Up,
            Status::Down => ShownStatus::Down,
        }
    }
}

impl ShownStatus {
    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ShownStatus::Pending => "pending",
            ShownStatus::Up => "up",
            ShownStatus::Down => "down",
            ShownStatus::Paused => "paused",
            ShownStatus::Maintenance => "maintenance",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monitor(fail: u32, recover: u32) -> Monitor {
        let mut m = Monitor::new("m".into(), "http://x/".into());
        m.failure_threshold = fail;
        m.recovery_threshold = recover;
        m
    }

    /// Feeds outcomes as a sole owner would: count, and commit whatever is due at once.
    fn feed(m: &Monitor, outcomes: &[bool]) -> (MonitorState, Vec<(Status, Status)>) {
        let mut s = MonitorState::default();
        let mut ts = Vec::new();
        for (i, ok) in outcomes.iter().enumerate() {
            observe(&mut s, m, *ok);
            if let Some(to) = due(&s, m) {
                ts.push((s.status, to));
                let seq = s.seq + 1;
                assert!(commit(&mut s, to, seq, i as u64));
            }
        }
        (s, ts)
    }

    #[test]
    fn confirms_downs_and_recoveries() {
        let m = monitor(3, 2);
        let (s, ts) = feed(&m, &[true, false, false, true, false, false, false]);
        assert_eq!(s.status, Status::Down);
        assert_eq!(
            ts,
            [(Status::Pending, Status::Up), (Status::Up, Status::Down)]
        );
        assert_eq!((s.since_ms, s.seq), (6, 2));
        let (s, ts) = feed(&m, &[false, false, false, true, false, true, true]);
        assert_eq!(s.status, Status::Up);
        assert_eq!(ts.last(), Some(&(Status::Down, Status::Up)));
    }

    #[test]
    fn pending_goes_up_on_first_success_and_counters_saturate() {
        let m = monitor(2, 1);
        let mut s = MonitorState::default();
        assert!(observe(&mut s, &m, true));
        assert_eq!(due(&s, &m), Some(Status::Up));
        commit(&mut s, Status::Up, 1, 1);
        assert!(!observe(&mut s, &m, true));
        assert_eq!(due(&s, &m), None);
    }

    #[test]
    fn single_blip_does_not_go_down() {
        let (s, ts) = feed(&monitor(2, 1), &[true, false, true, false, true]);
        assert_eq!(s.status, Status::Up);
        assert_eq!(ts.len(), 1);
    }

    #[test]
    fn a_new_owner_continues_the_count_and_does_not_repeat_a_change() {
        let m = monitor(3, 1);
        // The old owner counted two failures and a peer saw them replicated.
        let mut s = MonitorState::default();
        observe(&mut s, &m, true);
        commit(&mut s, Status::Up, 1, 0);
        observe(&mut s, &m, false);
        observe(&mut s, &m, false);
        assert_eq!(due(&s, &m), None);
        // The new owner's first failure is the third.
        observe(&mut s, &m, false);
        assert_eq!(due(&s, &m), Some(Status::Down));
        // The old owner's decision arrives first: applied once, the repeat is ignored.
        assert!(commit(&mut s, Status::Down, 2, 5));
        assert!(!commit(&mut s, Status::Down, 2, 5));
        assert_eq!(due(&s, &m), None);
        assert!(
            !commit(&mut s, Status::Up, 1, 9),
            "an older change is ignored"
        );
    }

    #[test]
    fn only_downs_and_recoveries_notify() {
        assert!(notifies(Status::Up, Status::Down));
        assert!(notifies(Status::Pending, Status::Down));
        assert!(notifies(Status::Down, Status::Up));
        assert!(!notifies(Status::Pending, Status::Up));
        assert!(notifies(Status::Down, Status::Down), "a reminder");
    }

    #[test]
    fn a_reminder_takes_its_number_and_keeps_the_down_time() {
        let mut s = MonitorState::default();
        assert!(commit(&mut s, Status::Down, 1, 1_000));
        assert!(commit(&mut s, Status::Down, 2, 61_000));
        assert_eq!((s.status, s.seq, s.since_ms), (Status::Down, 2, 1_000));
        assert!(commit(&mut s, Status::Up, 3, 70_000));
        assert_eq!((s.status, s.since_ms), (Status::Up, 70_000));
    }
}
