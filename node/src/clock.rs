//! Wall-clock readings and the hybrid logical clock that orders definition edits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How far ahead of this node's wall clock a time from a peer may be: a definition's revision,
/// a result's `at_ms`, a status change, a rollup bucket. Anything further ahead is refused.
/// Clocks of a healthy cluster agree within seconds; a time from far in the future would win
/// over every edit made until then (revisions), stay the newest result until then (a forged
/// result pinning `last_result` and the watermarks), or drag this node's clock along.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// The latest time from a peer accepted at wall-clock time `wall_ms`: [`MAX_CLOCK_SKEW`] ahead.
pub fn latest_accepted_ms(wall_ms: u64) -> u64 {
    wall_ms.saturating_add(MAX_CLOCK_SKEW.as_millis() as u64)
}

/// Unix time in milliseconds. A clock before 1970 reads as 0 rather than panicking.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Bits of a hybrid-logical-clock reading that hold the logical counter.
const HLC_COUNTER_BITS: u32 = 16;

/// A hybrid logical clock: readings are unix milliseconds shifted left 16 bits plus a counter,
/// strictly increasing on this node and never behind any reading it has observed, so an edit
/// made after seeing another edit always orders after it even across skewed clocks.
///
/// It never overflows: it observes only readings at most [`MAX_CLOCK_SKEW`] ahead of the wall
/// clock (further ones are ignored), and its counter saturates rather than wrapping.
#[derive(Debug, Default)]
pub struct Hlc {
    last: AtomicU64,
}

impl Hlc {
    /// A fresh reading, greater than every earlier reading and every observed one.
    pub fn now(&self) -> u64 {
        let wall = now_ms() << HLC_COUNTER_BITS;
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = wall.max(last.saturating_add(1));
            match self
                .last
                .compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    /// Moves the clock forward past a reading received from elsewhere, unless that reading is
    /// more than [`MAX_CLOCK_SKEW`] ahead of the wall clock (then it is ignored: false).
    pub fn observe(&self, remote: u64) -> bool {
        if hlc_millis(remote) > latest_accepted_ms(now_ms()) {
            return false;
        }
        self.last.fetch_max(remote, Ordering::Relaxed);
        true
    }
}

/// The unix-millisecond part of an HLC reading.
pub fn hlc_millis(hlc: u64) -> u64 {
    hlc >> HLC_COUNTER_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hlc_is_monotonic_and_follows_observed() {
        let c = Hlc::default();
        let a = c.now();
        let b = c.now();
        assert!(b > a);
        // 60 s ahead (1 << 16 readings per millisecond) is within the skew: followed.
        let ahead = b + (60_000 << HLC_COUNTER_BITS);
        assert!(c.observe(ahead));
        assert!(c.now() > ahead);
        assert!(hlc_millis(a) <= now_ms());
    }

    #[test]
    fn hlc_ignores_readings_past_the_skew_and_never_overflows() {
        let c = Hlc::default();
        let before = c.now();
        let skew_ms = MAX_CLOCK_SKEW.as_millis() as u64;
        let too_far = (now_ms() + skew_ms + 60_000) << HLC_COUNTER_BITS;
        for remote in [too_far, u64::MAX, u64::MAX - 1] {
            assert!(!c.observe(remote), "{remote} was observed");
        }
        let after = c.now();
        assert!(after > before && hlc_millis(after) <= now_ms() + 1_000);
        // A clock that somehow reached the top stays there instead of wrapping to zero.
        let top = Hlc {
            last: AtomicU64::new(u64::MAX),
        };
        assert_eq!(top.now(), u64::MAX);
        assert_eq!(top.now(), u64::MAX);
    }
}
