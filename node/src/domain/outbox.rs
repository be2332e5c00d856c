//! The outbox: notifications not yet delivered, a deterministic core.
//!
//! Every node holds every pending notification (they come with the replicated transitions),
//! but only the monitor's current owner sends them, so an owner that dies mid-outage leaves
//! its unsent alerts to the next owner. Per monitor and channel, notifications go out in
//! order: a DOWN is not overtaken by its UP. A failed send is retried with exponential
//! backoff; after [`GIVE_UP_AFTER`] the notification is given up (and that is recorded and
//! replicated like a delivery).

use std::collections::BTreeMap;
use std::time::Duration;

use ringwatch_proto::{MonitorId, NotifierId, Transition};

/// First retry delay after a failed send; doubles per failure.
pub const RETRY_FIRST: Duration = Duration::from_millis(500);
/// Longest delay between two attempts.
pub const RETRY_MAX: Duration = Duration::from_secs(300);
/// A notification still failing this long after its transition is given up.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);

/// `(monitor, transition seq, channel)`.
pub type Key = (MonitorId, u64, NotifierId);

#[derive(Debug, Clone)]
struct Entry {
    /// When the transition happened (unix ms).
    at_ms: u64,
    attempts: u32,
    /// Not sent before this time (unix ms).
    next_ms: u64,
    in_flight: bool,
    last_error: Option<String>,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    /// Retry at this time (unix ms).
    RetryAt(u64),
    /// Stop: record a failed delivery with this many attempts.
    GiveUp { attempts: u32 },
}

#[derive(Debug, Default)]
pub struct Outbox {
    entries: BTreeMap<Key, Entry>,
}

impl Outbox {
    /// Adds the notifications of a transition, not before `not_before_ms`.
    pub fn add(&mut self, t: &Transition, not_before_ms: u64) {
        for channel in &t.channels {
            let key = (t.monitor_id.clone(), t.seq, channel.clone());
            self.entries.entry(key).or_insert(Entry {
                at_ms: t.at_ms,
                attempts: 0,
                next_ms: not_before_ms,
                in_flight: false,
                last_error: None,
            });
        }
    }

    /// A notification was delivered (or given up) by someone: forget it.
    pub fn done(&mut self, key: &Key) {
        self.entries.remove(key);
    }

    /// Drops every notification of a monitor or of a channel that no longer exists.
    pub fn retain(&mut self, mut keep: impl FnMut(&Key) -> bool) {
        self.entries.retain(|k, _| keep(k));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The notifications to send now, marked in flight: per (monitor, channel) only the
    /// oldest pending one, only for monitors `owns` says are ours, and only when due.
    pub fn take_due(&mut self, now_ms: u64, owns: impl Fn(&str) -> bool) -> Vec<Key> {
        let mut out = Vec::new();
        let mut monitor: Option<&str> = None;
        let mut seen: Vec<&str> = Vec::new();
        for (key, e) in &self.entries {
            if monitor != Some(key.0.as_str()) {
                monitor = Some(&key.0);
                seen.clear();
            }
            if seen.contains(&key.2.as_str()) {
                continue; // an older notification of this pair is still pending
            }
            seen.push(&key.2);
            if !e.in_flight && e.next_ms <= now_ms && owns(&key.0) {
                out.push(key.clone());
            }
        }
        for key in &out {
            if let Some(e) = self.entries.get_mut(key) {
                e.in_flight = true;
                e.attempts += 1;
            }
        }
        out
    }

    /// A send failed: schedule the retry, or give up.
    pub fn failed(&mut self, key: &Key, now_ms: u64, error: String) -> Option<AfterFailure> {
        let e = self.entries.get_mut(key)?;
        e.in_flight = false;
        e.last_error = Some(error);
        if now_ms.saturating_sub(e.at_ms) >= GIVE_UP_AFTER.as_millis() as u64 {
            let attempts = e.attempts;
            self.entries.remove(key);
            return Some(AfterFailure::GiveUp { attempts });
        }
        let shift = e.attempts.saturating_sub(1).min(20);
        let delay = (RETRY_FIRST.as_millis() as u64)
            .saturating_mul(1 << shift)
            .min(RETRY_MAX.as_millis() as u64);
        e.next_ms = now_ms + delay;
        Some(AfterFailure::RetryAt(e.next_ms))
    }

    /// A send succeeded: forget it, and say how many attempts it took.
    pub fn succeeded(&mut self, key: &Key) -> Option<u32> {
        self.entries.remove(key).map(|e| e.attempts)
    }

    /// The last error of a pending notification, for logs.
    pub fn last_error(&self, key: &Key) -> Option<&str> {
        self.entries.get(key)?.last_error.as_deref()
    }

    /// Attempts made so far.
    pub fn attempts(&self, key: &Key) -> u32 {
        self.entries.get(key).map_or(0, |e| e.attempts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringwatch_proto::Status;

    fn t(monitor: &str, seq: u64, at_ms: u64, channels: &[&str]) -> Transition {
        Transition {
            monitor_id: monitor.into(),
            name: monitor.into(),
            url: "http://x/".into(),
            seq,
            from: Status::Up,
            to: Status::Down,
            at_ms,
            reason: String::new(),
            node: "n1".into(),
            confirmed_by: None,
            last_result: None,
            channels: channels.iter().map(|c| c.to_string()).collect(),
            zones_down: Vec::new(),
            zones_reachable: 0,
        }
    }

    fn key(m: &str, seq: u64, c: &str) -> Key {
        (m.into(), seq, c.into())
    }

    #[test]
    fn sends_in_order_per_monitor_and_channel_and_only_what_we_own() {
        let mut o = Outbox::default();
        o.add(&t("a", 1, 0, &["hook", "mail"]), 0);
        o.add(&t("a", 2, 5, &["hook"]), 0);
        o.add(&t("b", 1, 0, &["hook"]), 0);
        let due = o.take_due(10, |m| m == "a");
        assert_eq!(due, vec![key("a", 1, "hook"), key("a", 1, "mail")]);
        // In flight: nothing more for those pairs, and the UP waits for the DOWN.
        assert!(o.take_due(10, |m| m == "a").is_empty());
        assert_eq!(o.succeeded(&key("a", 1, "hook")), Some(1));
        assert_eq!(o.take_due(10, |m| m == "a"), vec![key("a", 2, "hook")]);
        // A new owner of "b" sends it.
        assert_eq!(o.take_due(10, |_| true), vec![key("b", 1, "hook")]);
    }

    #[test]
    fn failures_back_off_then_give_up() {
        let mut o = Outbox::default();
        o.add(&t("a", 1, 0, &["hook"]), 0);
        let k = key("a", 1, "hook");
        let mut now = 0;
        let mut delays = Vec::new();
        for _ in 0..4 {
            assert_eq!(o.take_due(now, |_| true), vec![k.clone()]);
            let Some(AfterFailure::RetryAt(at)) = o.failed(&k, now, "500".into()) else {
                panic!("gave up too early");
            };
            assert!(
                o.take_due(at - 1, |_| true).is_empty(),
                "not before the retry time"
            );
            delays.push(at - now);
            now = at;
        }
        assert_eq!(delays, [500, 1000, 2000, 4000]);
        assert_eq!(o.last_error(&k), Some("500"));
        let late = GIVE_UP_AFTER.as_millis() as u64;
        o.take_due(late, |_| true);
        assert_eq!(
            o.failed(&k, late, "500".into()),
            Some(AfterFailure::GiveUp { attempts: 5 })
        );
        assert!(o.is_empty());
    }

    #[test]
    fn a_delivery_seen_elsewhere_removes_it_and_not_before_is_kept() {
        let mut o = Outbox::default();
        o.add(&t("a", 1, 0, &["hook"]), 1_000);
        assert!(o.take_due(999, |_| true).is_empty());
        o.done(&key("a", 1, "hook"));
        assert!(o.take_due(1_000, |_| true).is_empty());
        assert_eq!(o.attempts(&key("a", 1, "hook")), 0);
    }
}
