//! Wall-clock readings and the hybrid logical clock that orders definition edits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

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
            let next = wall.max(last + 1);
            match self
                .last
                .compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    /// Moves the clock forward past a reading received from elsewhere.
    pub fn observe(&self, remote: u64) {
        self.last.fetch_max(remote, Ordering::Relaxed);
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
        c.observe(b + (1 << 40));
        assert!(c.now() > b + (1 << 40));
        assert!(hlc_millis(a) <= now_ms());
    }
}
