//! A mergeable latency histogram with bounded relative error (DDSketch-style log bins).
//!
//! A value `x >= 1` ms falls in bin `i = ceil(log_γ x)`, which covers `(γ^(i-1), γ^i]`, with
//! `γ = (1 + ALPHA) / (1 - ALPHA)`. Answering a quantile with the bin's midpoint
//! `2γ^i / (γ + 1)` is then within `ALPHA` of any value in the bin. Zero-ms values are counted
//! exactly on the side. Bins are sparse and sorted; merging adds counts, so it is associative
//! and commutative and two sketches of the same values are equal field for field.

use std::cmp::Ordering;

use serde::de::Error as _;
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Relative accuracy of [`Sketch::quantile`] before rounding to whole milliseconds.
pub const ALPHA: f64 = 0.02;

/// Ratio between the upper bounds of two adjacent bins.
const GAMMA: f64 = (1.0 + ALPHA) / (1.0 - ALPHA);

/// The bin of `u64::MAX` ms; bins above it cannot hold a value and are refused when decoding.
pub const MAX_INDEX: u16 = 1109;

/// The upper bound of bin `i`: every value in it is `<= upper(i)` and `> upper(i - 1)`.
fn upper(i: i32) -> f64 {
    GAMMA.powi(i)
}

/// The bin of `ms >= 1`, consistent with [`upper`] at the edges where `ln` rounds.
fn index_of(ms: u64) -> u16 {
    let x = ms as f64;
    let mut i = (x.ln() / GAMMA.ln()).ceil().max(0.0) as i32;
    while upper(i) < x {
        i += 1;
    }
    while i > 0 && upper(i - 1) >= x {
        i -= 1;
    }
    i as u16
}

/// The value reported for bin `i`: its midpoint in relative terms, rounded, and kept within
/// the whole milliseconds the bin can hold (so bins below ~25 ms, which hold one integer
/// each, are exact).
fn value_of(i: u16) -> u64 {
    let hi = upper(i32::from(i));
    let lo = upper(i32::from(i) - 1);
    let mid = 2.0 * hi / (GAMMA + 1.0);
    let smallest = lo.floor() as u64 + 1;
    let largest = (hi.floor() as u64).max(smallest);
    (mid.round() as u64).clamp(smallest, largest)
}

/// The 1-based nearest rank of quantile `q` among `n` sorted values: `ceil(q * n)`, at least 1.
/// `q` is clamped to `[0, 1]` (NaN counts as 0). This is the definition [`Sketch::quantile`]
/// estimates: the "lower" quantile, always one of the samples, never an interpolation.
pub fn nearest_rank(q: f64, n: u64) -> u64 {
    let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
    // The small slack keeps e.g. 0.95 * 100 at rank 95 although 0.95 is not exact in binary.
    let rank = (q * n as f64 - 1e-9).ceil() as u64;
    rank.clamp(1, n.max(1))
}

/// A latency histogram of whole milliseconds. About 16 bins cover 80..150 ms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sketch {
    /// How many values were exactly 0 ms.
    zeros: u32,
    /// `(bin index, count)`, sorted by index, counts > 0.
    bins: Vec<(u16, u32)>,
}

impl Sketch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one value.
    pub fn add(&mut self, ms: u64) {
        self.add_n(ms, 1);
    }

    /// Counts `n` values of `ms` each.
    pub fn add_n(&mut self, ms: u64, n: u32) {
        if n == 0 {
            return;
        }
        if ms == 0 {
            self.zeros = self.zeros.saturating_add(n);
            return;
        }
        let index = index_of(ms);
        match self.bins.binary_search_by_key(&index, |&(i, _)| i) {
            Ok(at) => self.bins[at].1 = self.bins[at].1.saturating_add(n),
            Err(at) => self.bins.insert(at, (index, n)),
        }
    }

    /// Adds the values counted by `other`.
    pub fn merge(&mut self, other: &Sketch) {
        self.zeros = self.zeros.saturating_add(other.zeros);
        if other.bins.is_empty() {
            return;
        }
        let (a, b) = (&self.bins, &other.bins);
        let mut merged = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                Ordering::Less => {
                    merged.push(a[i]);
                    i += 1;
                }
                Ordering::Greater => {
                    merged.push(b[j]);
                    j += 1;
                }
                Ordering::Equal => {
                    merged.push((a[i].0, a[i].1.saturating_add(b[j].1)));
                    i += 1;
                    j += 1;
                }
            }
        }
        merged.extend_from_slice(&a[i..]);
        merged.extend_from_slice(&b[j..]);
        self.bins = merged;
    }

    /// How many values were counted.
    pub fn count(&self) -> u64 {
        u64::from(self.zeros) + self.bins.iter().map(|&(_, n)| u64::from(n)).sum::<u64>()
    }

    pub fn is_empty(&self) -> bool {
        self.zeros == 0 && self.bins.is_empty()
    }

    /// How many bins are in use (the size of the sketch).
    pub fn bin_count(&self) -> usize {
        self.bins.len()
    }

    /// The value at [`nearest_rank`]`(q, count)`, in whole ms, within `ALPHA` of the true
    /// sample plus half a millisecond of rounding. `None` when the sketch is empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.is_empty() {
            return None;
        }
        let rank = nearest_rank(q, self.count());
        let mut seen = u64::from(self.zeros);
        if seen >= rank {
            return Some(0);
        }
        for &(index, n) in &self.bins {
            seen += u64::from(n);
            if seen >= rank {
                return Some(value_of(index));
            }
        }
        // Unreachable: the rank is at most the count.
        self.bins.last().map(|&(index, _)| value_of(index))
    }
}

/// On the wire: `(zeros, [(gap, count)...])` where the first gap is the first bin's index
/// and each next one the distance to the previous bin, so that with postcard's varints a bin
/// usually costs two bytes.
impl Serialize for Sketch {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (self.zeros, DeltaBins(&self.bins)).serialize(serializer)
    }
}

struct DeltaBins<'a>(&'a [(u16, u32)]);

impl Serialize for DeltaBins<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        let mut previous = 0;
        for &(index, count) in self.0 {
            seq.serialize_element(&(index - previous, count))?;
            previous = index;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Sketch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (zeros, deltas): (u32, Vec<(u16, u32)>) = Deserialize::deserialize(deserializer)?;
        let mut bins = Vec::with_capacity(deltas.len());
        let mut index: u16 = 0;
        for (k, (gap, count)) in deltas.into_iter().enumerate() {
            if k > 0 && gap == 0 {
                return Err(D::Error::custom("sketch bins not increasing"));
            }
            index = index
                .checked_add(gap)
                .filter(|&i| i <= MAX_INDEX)
                .ok_or_else(|| D::Error::custom("sketch bin out of range"))?;
            if count == 0 {
                return Err(D::Error::custom("empty sketch bin"));
            }
            bins.push((index, count));
        }
        Ok(Sketch { zeros, bins })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ringwatch_proto::{decode, encode};

    fn sketch_of(values: &[u64]) -> Sketch {
        let mut s = Sketch::new();
        values.iter().for_each(|&v| s.add(v));
        s
    }

    /// The reference the sketch estimates: the nearest-rank sample.
    fn true_quantile(sorted: &[u64], q: f64) -> u64 {
        sorted[nearest_rank(q, sorted.len() as u64) as usize - 1]
    }

    fn assert_within_bound(values: &[u64]) -> Result<(), TestCaseError> {
        let sketch = sketch_of(values);
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        for q in [0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0] {
            let truth = true_quantile(&sorted, q);
            let estimate = sketch.quantile(q).unwrap();
            let error = estimate.abs_diff(truth) as f64;
            prop_assert!(
                error <= ALPHA * truth as f64 + 0.5,
                "q={q} true={truth} estimate={estimate}"
            );
        }
        Ok(())
    }

    #[test]
    fn bins_are_consistent_with_their_bounds() {
        for ms in (1..5_000).chain([u64::MAX / 2, u64::MAX]) {
            let i = index_of(ms);
            assert!(upper(i32::from(i)) >= ms as f64, "{ms}");
            assert!(upper(i32::from(i) - 1) < ms as f64, "{ms}");
        }
        assert_eq!(index_of(u64::MAX), MAX_INDEX);
    }

    #[test]
    fn small_values_are_exact() {
        for ms in 0..=25 {
            assert_eq!(sketch_of(&[ms]).quantile(0.5), Some(ms));
        }
    }

    #[test]
    fn quantile_uses_nearest_rank() {
        let s = sketch_of(&[0, 0, 10, 20]);
        assert_eq!(s.quantile(0.0), Some(0));
        assert_eq!(s.quantile(0.5), Some(0));
        assert_eq!(s.quantile(0.51), Some(10));
        assert_eq!(s.quantile(0.75), Some(10));
        assert_eq!(s.quantile(1.0), Some(20));
        assert_eq!(Sketch::new().quantile(0.5), None);
        assert_eq!(nearest_rank(0.95, 100), 95);
        assert_eq!(nearest_rank(0.0, 0), 1);
    }

    #[test]
    fn ten_adjacent_bins_encode_in_about_25_bytes() {
        let values: Vec<u64> = (0..10).map(|k| value_of(index_of(100) + k)).collect();
        let s = sketch_of(&values);
        assert_eq!(s.bin_count(), 10);
        let bytes = encode(&s);
        println!("sketch of 10 adjacent bins: {} bytes", bytes.len() - 1);
        assert!(bytes.len() - 1 <= 25, "{} bytes", bytes.len() - 1);
    }

    #[test]
    fn refuses_bad_bins() {
        // (zeros 0, 2 bins: index 5 count 1, gap 0 count 1)
        assert!(decode::<Sketch>(&[ringwatch_proto::WIRE_VERSION, 0, 2, 5, 1, 0, 1]).is_err());
        // a zero count
        assert!(decode::<Sketch>(&[ringwatch_proto::WIRE_VERSION, 0, 1, 5, 0]).is_err());
        // an index past MAX_INDEX: 0xFF 0x0F = 2047
        assert!(decode::<Sketch>(&[ringwatch_proto::WIRE_VERSION, 0, 1, 0xFF, 0x0F, 1]).is_err());
    }

    fn values() -> impl Strategy<Value = Vec<u64>> {
        prop_oneof![
            prop::collection::vec(1u64..10_000, 1..400),
            // log-normal-ish: e^(sum of uniforms), from a few ms to minutes
            prop::collection::vec(
                prop::collection::vec(0.0f64..2.0, 6)
                    .prop_map(|u| u.iter().sum::<f64>().exp() as u64),
                1..400
            ),
            (0u64..100_000, 1usize..300).prop_map(|(v, n)| vec![v; n]),
            prop::collection::vec(prop_oneof![20u64..40, 2_000u64..3_000, Just(0)], 1..400),
        ]
    }

    proptest! {
        #[test]
        fn quantiles_within_relative_accuracy(values in values()) {
            assert_within_bound(&values)?;
        }

        #[test]
        fn merge_is_commutative_and_associative(
            a in values(), b in values(), c in values()
        ) {
            let (a, b, c) = (sketch_of(&a), sketch_of(&b), sketch_of(&c));
            let mut ab = a.clone();
            ab.merge(&b);
            let mut ba = b.clone();
            ba.merge(&a);
            prop_assert_eq!(&ab, &ba);
            let mut ab_c = ab.clone();
            ab_c.merge(&c);
            let mut bc = b.clone();
            bc.merge(&c);
            let mut a_bc = a.clone();
            a_bc.merge(&bc);
            prop_assert_eq!(ab_c, a_bc);
        }

        #[test]
        fn merge_equals_adding_everything(a in values(), b in values()) {
            let mut merged = sketch_of(&a);
            merged.merge(&sketch_of(&b));
            let all: Vec<u64> = a.iter().chain(&b).copied().collect();
            prop_assert_eq!(merged, sketch_of(&all));
        }

        #[test]
        fn round_trips(values in values()) {
            let s = sketch_of(&values);
            prop_assert_eq!(decode::<Sketch>(&encode(&s)), Ok(s));
        }
    }
}
