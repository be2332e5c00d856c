//! The up/down decision: a deterministic core applied to each probe result.
//!
//! `failure_threshold` consecutive failures make a monitor down, `recovery_threshold`
//! consecutive successes make a down monitor up again; a pending monitor goes up on its first
//! success. Counters saturate at their threshold so a steady monitor's state stops changing
//! (and stops being rewritten to disk).

use ringwatch_proto::{Monitor, MonitorState, Status};

/// A status change decided by [`apply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: Status,
    pub to: Status,
}

/// Applies one probe outcome. Returns whether the state changed at all, and the status
/// transition if there was one.
pub fn apply(
    state: &mut MonitorState,
    monitor: &Monitor,
    ok: bool,
    at_ms: u64,
) -> (bool, Option<Transition>) {
    let before = state.clone();
    let from = state.status;
    if ok {
        state.failures = 0;
        state.successes = (state.successes + 1).min(monitor.recovery_threshold.max(1));
        let recovered = from != Status::Down || state.successes >= monitor.recovery_threshold;
        if from != Status::Up && recovered {
            state.status = Status::Up;
        }
    } else {
        state.successes = 0;
        state.failures = (state.failures + 1).min(monitor.failure_threshold.max(1));
        if from != Status::Down && state.failures >= monitor.failure_threshold {
            state.status = Status::Down;
        }
    }
    let transition = (state.status != from).then(|| {
        state.since_ms = at_ms;
        Transition {
            from,
            to: state.status,
        }
    });
    (*state != before, transition)
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

    fn feed(m: &Monitor, outcomes: &[bool]) -> (MonitorState, Vec<Transition>) {
        let mut s = MonitorState::default();
        let mut ts = Vec::new();
        for (i, ok) in outcomes.iter().enumerate() {
            if let (_, Some(t)) = apply(&mut s, m, *ok, i as u64) {
                ts.push(t);
            }
        }
        (s, ts)
    }

    #[test]
    fn confirms_downs_and_recoveries() {
        let m = monitor(3, 2);
        let (s, ts) = feed(&m, &[true, false, false, true, false, false, false]);
        assert_eq!(s.status, Status::Down);
        assert_eq!(ts.len(), 2, "{ts:?}");
        assert_eq!(ts[1].to, Status::Down);
        assert_eq!(s.since_ms, 6);
        let (s, ts) = feed(&m, &[false, false, false, true, false, true, true]);
        assert_eq!(s.status, Status::Up);
        assert_eq!(ts.last().unwrap().from, Status::Down);
    }

    #[test]
    fn pending_goes_up_on_first_success_and_counters_saturate() {
        let m = monitor(2, 1);
        let mut s = MonitorState::default();
        assert!(apply(&mut s, &m, true, 1).1.is_some());
        assert_eq!(apply(&mut s, &m, true, 2), (false, None));
        assert_eq!(apply(&mut s, &m, true, 3), (false, None));
    }

    #[test]
    fn single_blip_does_not_go_down() {
        let (s, ts) = feed(&monitor(2, 1), &[true, false, true, false, true]);
        assert_eq!(s.status, Status::Up);
        assert_eq!(ts.len(), 1);
    }
}
