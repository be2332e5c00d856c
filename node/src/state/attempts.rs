//! Where undelivered notifications stand: attempts so far and the last error, so an incident
//! shows a failing channel while it is being retried, not only once it is given up.
//!
//! The sending node notes each failed attempt here and shares it with its peers
//! ([`ringwatch_proto::PeerMsg::Attempts`]); every node forgets an entry once the delivery is
//! recorded. Kept in memory only: after a restart the count starts again with the next failure.

use std::collections::HashMap;
use std::sync::Mutex;

use ringwatch_proto::DeliveryAttempt;

use crate::domain::outbox::Key;

/// The attempts of every notification still being retried, on every node.
#[derive(Debug, Default)]
pub struct Attempts {
    by_key: Mutex<HashMap<Key, DeliveryAttempt>>,
}

fn key_of(a: &DeliveryAttempt) -> Key {
    (a.monitor_id.clone(), a.seq, a.channel.clone())
}

impl Attempts {
    /// Notes a failed attempt; an older report (fewer attempts) does not replace a newer one.
    pub fn note(&self, attempt: DeliveryAttempt) {
        let mut map = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&key_of(&attempt)) {
            Some(known) if known.attempts > attempt.attempts => {}
            _ => {
                map.insert(key_of(&attempt), attempt);
            }
        }
    }

    /// The notification was delivered or given up: its record says the rest.
    pub fn clear(&self, key: &Key) {
        let mut map = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }

    /// The attempts of one notification, if it has failed at least once and is still owed.
    pub fn get(&self, key: &Key) -> Option<DeliveryAttempt> {
        let map = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(attempts: u32, error: &str) -> DeliveryAttempt {
        DeliveryAttempt {
            monitor_id: "m".into(),
            seq: 2,
            channel: "hook".into(),
            attempts,
            last_error: error.into(),
            at_ms: u64::from(attempts) * 1_000,
            next_attempt_ms: u64::from(attempts) * 1_000 + 500,
            node: "n1".into(),
        }
    }

    #[test]
    fn keeps_the_newest_report_until_cleared() {
        let board = Attempts::default();
        let key: Key = ("m".into(), 2, "hook".into());
        assert_eq!(board.get(&key), None);
        board.note(attempt(2, "answered 500"));
        board.note(attempt(1, "late report of the first attempt"));
        assert_eq!(board.get(&key), Some(attempt(2, "answered 500")));
        board.note(attempt(3, "refused"));
        assert_eq!(board.get(&key).map(|a| a.attempts), Some(3));
        board.clear(&key);
        assert_eq!(board.get(&key), None);
    }
}
