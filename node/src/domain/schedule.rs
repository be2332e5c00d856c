//! The probe schedule: which monitor is due when. A deterministic core, driven by `tick(now)`.
//!
//! Each monitor probes on a fixed wall-clock phase: at times `t` with
//! `t % interval == phase(id)`, where the phase is a stable hash of the monitor id. This
//! spreads 10,000 monitors at 60 s evenly over the minute instead of firing them together,
//! and any node (after a restart or an owner change) continues the same cadence without
//! coordination. A new or re-timed monitor may ask to be probed at once.
//!
//! Memory per monitor is one map entry and one heap entry; removal is lazy (a generation
//! number invalidates stale heap entries), so every operation is O(log n).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use crate::domain::hash::stable_hash;

/// A monitor id shared between the schedule and its owner without copying.
pub type Key = Arc<str>;

#[derive(Debug)]
struct Entry {
    interval_ms: u64,
    phase_ms: u64,
    generation: u64,
}

/// A probe that has come due: the monitor and the time it was planned for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub key: Key,
    pub planned_ms: u64,
}

/// Due times of a set of monitors.
#[derive(Debug, Default)]
pub struct Schedule {
    entries: HashMap<Key, Entry>,
    heap: BinaryHeap<Reverse<(u64, u64, Key)>>,
    next_generation: u64,
}

impl Schedule {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// Adds a monitor or changes its interval. With `immediately` its next probe is due at
    /// `now_ms`; otherwise at its next phase slot after `now_ms`.
    pub fn upsert(&mut self, key: Key, interval_ms: u64, now_ms: u64, immediately: bool) {
        let interval_ms = interval_ms.max(1);
        let phase_ms = stable_hash(key.as_bytes()) % interval_ms;
        self.next_generation += 1;
        let generation = self.next_generation;
        let due = if immediately {
            now_ms
        } else {
            next_slot(now_ms, interval_ms, phase_ms)
        };
        self.entries.insert(
            key.clone(),
            Entry {
                interval_ms,
                phase_ms,
                generation,
            },
        );
        self.heap.push(Reverse((due, generation, key)));
    }

    /// Stops scheduling a monitor. Returns whether it was scheduled.
    pub fn remove(&mut self, key: &str) -> bool {
        let removed = self.entries.remove(key).is_some();
        if self.heap.len() > 64 && self.heap.len() > 2 * self.entries.len() {
            self.compact();
        }
        removed
    }

    /// Time of the earliest due probe, if any.
    pub fn next_due(&mut self) -> Option<u64> {
        self.drop_stale_top();
        self.heap.peek().map(|Reverse((due, _, _))| *due)
    }

    /// Pops every probe due at or before `now_ms` and schedules each monitor's next slot.
    /// A monitor whose slots were missed (a stalled process) is probed once, not in a burst.
    pub fn tick(&mut self, now_ms: u64, out: &mut Vec<Due>) {
        while let Some(Reverse((due, generation, _))) = self.heap.peek() {
            if *due > now_ms {
                break;
            }
            let (due, generation) = (*due, *generation);
            let Some(Reverse((_, _, key))) = self.heap.pop() else {
                break;
            };
            let Some(entry) = self.entries.get(&key) else {
                continue;
            };
            if entry.generation != generation {
                continue;
            }
            let next = next_slot(now_ms, entry.interval_ms, entry.phase_ms);
            self.heap.push(Reverse((next, generation, key.clone())));
            out.push(Due {
                key,
                planned_ms: due,
            });
        }
    }

    fn drop_stale_top(&mut self) {
        while let Some(Reverse((_, generation, key))) = self.heap.peek() {
            match self.entries.get(key) {
                Some(e) if e.generation == *generation => return,
                _ => {
                    self.heap.pop();
                }
            }
        }
    }

    fn compact(&mut self) {
        let entries = &self.entries;
        self.heap
            .retain(|Reverse((_, g, k))| entries.get(k).is_some_and(|e| e.generation == *g));
    }
}

/// The first time strictly after `now_ms` that is congruent to `phase_ms` modulo `interval_ms`.
fn next_slot(now_ms: u64, interval_ms: u64, phase_ms: u64) -> u64 {
    let base = now_ms - now_ms % interval_ms + phase_ms;
    if base > now_ms {
        base
    } else {
        base + interval_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        Arc::from(s)
    }

    fn run(s: &mut Schedule, from: u64, to: u64, step: u64) -> Vec<Due> {
        let mut out = Vec::new();
        let mut t = from;
        while t <= to {
            s.tick(t, &mut out);
            t += step;
        }
        out
    }

    #[test]
    fn probes_once_per_interval_on_a_fixed_phase() {
        let mut s = Schedule::new();
        s.upsert(key("a"), 1_000, 0, false);
        let due = run(&mut s, 0, 10_000, 10);
        assert_eq!(due.len(), 10);
        let phase = due[0].planned_ms % 1_000;
        assert!(due.iter().all(|d| d.planned_ms % 1_000 == phase));
    }

    #[test]
    fn immediate_then_phase_aligned() {
        let mut s = Schedule::new();
        s.upsert(key("a"), 60_000, 5, true);
        let mut out = Vec::new();
        s.tick(5, &mut out);
        assert_eq!(out.len(), 1);
        assert!(s.next_due().unwrap() > 5);
    }

    #[test]
    fn spreads_many_monitors_over_the_interval() {
        let mut s = Schedule::new();
        for i in 0..10_000 {
            s.upsert(key(&format!("m-{i}")), 60_000, 0, false);
        }
        // Count probes per second of the first minute: none gets more than 3x the mean (166).
        let mut per_sec = [0u32; 60];
        for d in run(&mut s, 0, 60_000, 100) {
            per_sec[((d.planned_ms - 1) / 1_000) as usize % 60] += 1;
        }
        let max = per_sec.iter().max().unwrap();
        assert!(*max < 500, "{per_sec:?}");
        assert_eq!(per_sec.iter().sum::<u32>(), 10_000);
    }

    #[test]
    fn removal_and_interval_change() {
        let mut s = Schedule::new();
        s.upsert(key("a"), 60_000, 0, false);
        s.upsert(key("b"), 1_000, 0, false);
        assert!(s.remove("b"));
        assert!(!s.remove("b"));
        // A re-timed monitor takes its new interval at the next probe.
        s.upsert(key("a"), 1_000, 0, false);
        let due = run(&mut s, 0, 5_000, 10);
        assert_eq!(due.len(), 5);
        assert!(due.iter().all(|d| &*d.key == "a"));
    }

    #[test]
    fn a_stall_gives_one_probe_not_a_burst() {
        let mut s = Schedule::new();
        s.upsert(key("a"), 1_000, 0, false);
        let mut out = Vec::new();
        s.tick(10_500, &mut out);
        assert_eq!(out.len(), 1);
        assert!(s.next_due().unwrap() > 10_500);
    }

    #[test]
    fn compaction_keeps_live_entries() {
        let mut s = Schedule::new();
        for i in 0..1_000 {
            s.upsert(key(&format!("m-{i}")), 1_000, 0, false);
        }
        for i in 0..900 {
            s.remove(&format!("m-{i}"));
        }
        assert_eq!(s.len(), 100);
        assert_eq!(run(&mut s, 0, 999, 1).len(), 100);
    }
}
