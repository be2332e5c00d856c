//! Buckets, what one node's checks of one monitor added up to over one resolution step, and
//! blocks, the stored group of such buckets (one monitor, node, resolution and block span).
//!
//! Replication is "one writer, full state": only the node that probed writes its buckets, and
//! it ships a bucket's whole state each time. A receiver keeps the state with more checks
//! ([`Bucket::supersedes`]); as a writer's states only grow, repeated, late or reordered
//! deliveries leave the same result.

use ringwatch_proto::{
    DecodeError, ErrorKind, ProbeResult, RECORD_VERSION, Record, decode_record, encode_record,
};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Resolution;
use super::sketch::Sketch;

/// The checks of one monitor by one node whose start falls in one resolution step.
///
/// Latency figures (`latency_*`, `sketch`) count successful checks only: a failed check's
/// latency is mostly its timeout and says little about the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Unix ms where the step starts, a multiple of the resolution's width. A merge of
    /// several buckets has the earliest start.
    pub start_ms: u64,
    pub checks: u32,
    /// Successful checks.
    pub ok: u32,
    /// Failed checks per kind, sorted in `ErrorKind` declaration order, counts above 0,
    /// adding up to `checks - ok`. A failure without a kind counts as `Other`.
    pub failures: Vec<(ErrorKind, u32)>,
    pub latency_sum_ms: u64,
    /// Meaningless (0) while `ok == 0`.
    pub latency_min_ms: u64,
    /// Meaningless (0) while `ok == 0`.
    pub latency_max_ms: u64,
    /// Latencies of the successful checks, for percentiles.
    pub sketch: Sketch,
}

/// The order failures are kept in; naming every kind makes a new one a compile error here.
fn kind_rank(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Dns => 0,
        ErrorKind::Refused => 1,
        ErrorKind::Timeout => 2,
        ErrorKind::Tls => 3,
        ErrorKind::Redirects => 4,
        ErrorKind::BadStatus => 5,
        ErrorKind::Assertion => 6,
        ErrorKind::Protocol => 7,
        ErrorKind::Other => 8,
    }
}

impl Bucket {
    pub fn new(start_ms: u64) -> Self {
        Bucket {
            start_ms,
            checks: 0,
            ok: 0,
            failures: Vec::new(),
            latency_sum_ms: 0,
            latency_min_ms: 0,
            latency_max_ms: 0,
            sketch: Sketch::new(),
        }
    }

    /// Counts one check. The caller picks the bucket; its time is not checked here.
    pub fn add(&mut self, result: &ProbeResult) {
        self.checks = self.checks.saturating_add(1);
        if result.ok {
            let ms = result.latency_ms;
            self.add_latency(ms, ms, ms, 1);
            self.sketch.add(ms);
        } else {
            self.add_failures(result.error_kind.unwrap_or(ErrorKind::Other), 1);
        }
    }

    /// Adds the checks counted by `other` (buckets of a window, or of several nodes).
    pub fn merge(&mut self, other: &Bucket) {
        self.start_ms = self.start_ms.min(other.start_ms);
        self.checks = self.checks.saturating_add(other.checks);
        for &(kind, n) in &other.failures {
            self.add_failures(kind, n);
        }
        if other.ok > 0 {
            self.add_latency(
                other.latency_sum_ms,
                other.latency_min_ms,
                other.latency_max_ms,
                other.ok,
            );
        }
        self.sketch.merge(&other.sketch);
    }

    fn add_latency(&mut self, sum_ms: u64, min_ms: u64, max_ms: u64, ok: u32) {
        if self.ok == 0 {
            (self.latency_min_ms, self.latency_max_ms) = (min_ms, max_ms);
        } else {
            self.latency_min_ms = self.latency_min_ms.min(min_ms);
            self.latency_max_ms = self.latency_max_ms.max(max_ms);
        }
        self.ok = self.ok.saturating_add(ok);
        self.latency_sum_ms = self.latency_sum_ms.saturating_add(sum_ms);
    }

    fn add_failures(&mut self, kind: ErrorKind, n: u32) {
        let rank = kind_rank(kind);
        match self
            .failures
            .binary_search_by_key(&rank, |&(k, _)| kind_rank(k))
        {
            Ok(at) => self.failures[at].1 = self.failures[at].1.saturating_add(n),
            Err(at) => self.failures.insert(at, (kind, n)),
        }
    }

    /// Failed checks.
    pub fn failed(&self) -> u32 {
        self.checks.saturating_sub(self.ok)
    }

    /// Mean latency of the successful checks; `None` without any.
    pub fn avg_ms(&self) -> Option<f64> {
        (self.ok > 0).then(|| self.latency_sum_ms as f64 / f64::from(self.ok))
    }

    /// Successful checks / checks; `None` without checks.
    pub fn success_ratio(&self) -> Option<f64> {
        (self.checks > 0).then(|| f64::from(self.ok) / f64::from(self.checks))
    }

    /// Whether the bucket counts in the window `[from_ms, to_ms)`: its start lies in it.
    pub fn starts_in(&self, from_ms: u64, to_ms: u64) -> bool {
        (from_ms..to_ms).contains(&self.start_ms)
    }

    /// Whether a receiver holding `existing` (same monitor, node, resolution and start) must
    /// replace it by `self`: only a state with more checks wins; on a tie it keeps what it has.
    pub fn supersedes(&self, existing: &Bucket) -> bool {
        self.checks > existing.checks
    }

    /// The fields after `start_ms`, borrowed for encoding.
    fn body(&self) -> BodyRef<'_> {
        BodyRef {
            checks: self.checks,
            ok: self.ok,
            failures: &self.failures,
            latency: (self.ok > 0).then_some(LatencyRef {
                sum_ms: self.latency_sum_ms,
                min_ms: self.latency_min_ms,
                spread_ms: self.latency_max_ms.saturating_sub(self.latency_min_ms),
                sketch: &self.sketch,
            }),
        }
    }
}

/// The encoded fields of a bucket after its start. The max is stored as its distance to the
/// min (smaller varint), and the latency fields only when there was a success.
#[derive(Serialize)]
struct BodyRef<'a> {
    checks: u32,
    ok: u32,
    failures: &'a [(ErrorKind, u32)],
    latency: Option<LatencyRef<'a>>,
}

#[derive(Serialize)]
struct LatencyRef<'a> {
    sum_ms: u64,
    min_ms: u64,
    spread_ms: u64,
    sketch: &'a Sketch,
}

/// What [`BodyRef`] decodes to; checked by [`Body::into_bucket`].
#[derive(Deserialize)]
struct Body {
    checks: u32,
    ok: u32,
    failures: Vec<(ErrorKind, u32)>,
    latency: Option<LatencyBody>,
}

#[derive(Deserialize)]
struct LatencyBody {
    sum_ms: u64,
    min_ms: u64,
    spread_ms: u64,
    sketch: Sketch,
}

impl Body {
    /// The bucket, if the decoded figures are consistent with one made by [`Bucket::add`].
    fn into_bucket(self, start_ms: u64) -> Result<Bucket, &'static str> {
        if self.ok > self.checks {
            return Err("more successes than checks");
        }
        let ranks_increase = self
            .failures
            .windows(2)
            .all(|w| kind_rank(w[0].0) < kind_rank(w[1].0));
        let failed: u64 = self.failures.iter().map(|&(_, n)| u64::from(n)).sum();
        if !ranks_increase || self.failures.iter().any(|&(_, n)| n == 0) {
            return Err("failures not sorted or empty");
        }
        if failed != u64::from(self.checks - self.ok) {
            return Err("failures do not add up");
        }
        let mut bucket = Bucket::new(start_ms);
        (bucket.checks, bucket.ok, bucket.failures) = (self.checks, self.ok, self.failures);
        match self.latency {
            None if self.ok == 0 => Ok(bucket),
            Some(l) if self.ok > 0 => {
                let max_ms = l
                    .min_ms
                    .checked_add(l.spread_ms)
                    .ok_or("latency overflow")?;
                let ok = u128::from(self.ok);
                let sum = u128::from(l.sum_ms);
                let sum_fits = u128::from(l.min_ms) * ok <= sum && sum <= u128::from(max_ms) * ok;
                if !sum_fits || l.sketch.count() != u64::from(self.ok) {
                    return Err("latency figures do not add up");
                }
                bucket.latency_sum_ms = l.sum_ms;
                (bucket.latency_min_ms, bucket.latency_max_ms) = (l.min_ms, max_ms);
                bucket.sketch = l.sketch;
                Ok(bucket)
            }
            _ => Err("latency figures without successes or the reverse"),
        }
    }
}

/// A bucket on its own (shipped to peers): `(start_ms, body)`.
/// Stored (inside blocks) and shipped between nodes; laid out the same since record version 2.
impl Record for Bucket {}

impl Serialize for Bucket {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (self.start_ms, self.body()).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Bucket {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (start_ms, body): (u64, Body) = Deserialize::deserialize(deserializer)?;
        body.into_bucket(start_ms).map_err(D::Error::custom)
    }
}

/// A bucket that does not belong in the block it was given to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bucket at {start_ms} is not a {resolution:?} step of the block at {block_ms}")]
pub struct Misplaced {
    pub resolution: Resolution,
    pub block_ms: u64,
    pub start_ms: u64,
}

/// The buckets of one monitor, one node and one resolution within one block span
/// ([`Resolution::block_ms`]): the unit stored under one key. Buckets are sorted by start, at
/// most one per step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    resolution: Resolution,
    start_ms: u64,
    buckets: Vec<Bucket>,
}

impl Block {
    /// The empty block of `resolution` that holds time `at_ms`.
    pub fn new(resolution: Resolution, at_ms: u64) -> Self {
        Block {
            resolution,
            start_ms: resolution.block_start(at_ms),
            buckets: Vec::new(),
        }
    }

    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    pub fn start_ms(&self) -> u64 {
        self.start_ms
    }

    /// Sorted by start.
    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }

    pub fn into_buckets(self) -> Vec<Bucket> {
        self.buckets
    }

    pub fn get(&self, start_ms: u64) -> Option<&Bucket> {
        let at = self.buckets.binary_search_by_key(&start_ms, |b| b.start_ms);
        at.ok().map(|at| &self.buckets[at])
    }

    /// Stores `bucket` unless the block holds a state of it that it does not
    /// [supersede](Bucket::supersedes). Returns whether the block changed.
    pub fn upsert(&mut self, bucket: &Bucket) -> Result<bool, Misplaced> {
        let res = self.resolution;
        if res.floor(bucket.start_ms) != bucket.start_ms
            || res.block_start(bucket.start_ms) != self.start_ms
        {
            return Err(Misplaced {
                resolution: res,
                block_ms: self.start_ms,
                start_ms: bucket.start_ms,
            });
        }
        match self
            .buckets
            .binary_search_by_key(&bucket.start_ms, |b| b.start_ms)
        {
            Ok(at) if bucket.supersedes(&self.buckets[at]) => self.buckets[at] = bucket.clone(),
            Ok(_) => return Ok(false),
            Err(at) => self.buckets.insert(at, bucket.clone()),
        }
        Ok(true)
    }

    /// The stored record: `[RECORD_VERSION, codec, payload]`. The body is the postcard of
    /// `(resolution code, start_ms, [(step offset, body)...])`, a bucket's start stored as its
    /// step number within the block, so its header is one or two bytes. Codec `0`: the body
    /// as is (minute blocks, rewritten every few seconds while their hour lasts); codec `1`:
    /// the body deflated (hour and day blocks, which hold most of a monitor's history: about
    /// 40 % smaller, at a few tens of µs per write).
    pub fn encode(&self) -> Vec<u8> {
        let record = encode_record(self);
        let body = &record[1..];
        let mut out = Vec::with_capacity(record.len() + 1);
        out.push(RECORD_VERSION);
        if self.resolution == Resolution::Minute {
            out.push(CODEC_PLAIN);
            out.extend_from_slice(body);
        } else {
            out.push(CODEC_DEFLATE);
            out.extend(miniz_oxide::deflate::compress_to_vec(body, DEFLATE_LEVEL));
        }
        out
    }

    /// Decodes and checks a record made by [`Block::encode`]; bad bytes are an error, never
    /// a panic or a block that breaks the invariants (a deflated body may not inflate past
    /// `MAX_BLOCK_BYTES`, 1 MiB; bytes after the end of its deflate stream are ignored).
    pub fn decode(bytes: &[u8]) -> Result<Block, DecodeError> {
        let (&version, rest) = bytes.split_first().ok_or(DecodeError::Empty)?;
        if !(<Block as Record>::LAYOUT_SINCE..=RECORD_VERSION).contains(&version) {
            return Err(DecodeError::Version {
                found: version,
                expected: RECORD_VERSION,
            });
        }
        let (&codec, payload) = rest
            .split_first()
            .ok_or_else(|| DecodeError::Malformed("a block without its codec".into()))?;
        let mut record = vec![RECORD_VERSION];
        match codec {
            CODEC_PLAIN => record.extend_from_slice(payload),
            CODEC_DEFLATE => record.extend(
                miniz_oxide::inflate::decompress_to_vec_with_limit(payload, MAX_BLOCK_BYTES)
                    .map_err(|e| DecodeError::Malformed(format!("a deflated block: {e}")))?,
            ),
            other => {
                return Err(DecodeError::Malformed(format!("block codec {other}")));
            }
        }
        decode_record(&record)
    }
}

/// A block's body, stored as is.
const CODEC_PLAIN: u8 = 0;
/// A block's body, deflated.
const CODEC_DEFLATE: u8 = 1;
/// miniz's level: 6 is its default balance of size and time.
const DEFLATE_LEVEL: u8 = 6;
/// Largest body a stored block may inflate to: far above a real one (32 day buckets of a
/// wide latency spread are a few KiB), small enough that a hostile record costs little.
pub const MAX_BLOCK_BYTES: usize = 1 << 20;

/// Laid out the same since record version 2.
impl Record for Block {}

impl Serialize for Block {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (self.resolution.code(), self.start_ms, Entries(self)).serialize(serializer)
    }
}

/// A block's buckets as `(step offset, body)` pairs.
struct Entries<'a>(&'a Block);

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Block {
            resolution,
            start_ms,
            buckets,
        } = self.0;
        let width = resolution.width_ms();
        // Offsets are below buckets_per_block (<= 60): they fit u32.
        serializer.collect_seq(
            buckets
                .iter()
                .map(|b| (((b.start_ms - start_ms) / width) as u32, b.body())),
        )
    }
}

impl<'de> Deserialize<'de> for Block {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (code, start_ms, entries): (u8, u64, Vec<(u32, Body)>) =
            Deserialize::deserialize(deserializer)?;
        let resolution =
            Resolution::from_code(code).ok_or_else(|| D::Error::custom("unknown resolution"))?;
        if resolution.block_start(start_ms) != start_ms {
            return Err(D::Error::custom("block start not aligned"));
        }
        let mut buckets: Vec<Bucket> = Vec::with_capacity(entries.len());
        let mut last = None;
        for (offset, body) in entries {
            if u64::from(offset) >= resolution.buckets_per_block()
                || last.is_some_and(|l| l >= offset)
            {
                return Err(D::Error::custom("bucket offsets out of order or range"));
            }
            last = Some(offset);
            let bucket_start = start_ms + u64::from(offset) * resolution.width_ms();
            buckets.push(body.into_bucket(bucket_start).map_err(D::Error::custom)?);
        }
        Ok(Block {
            resolution,
            start_ms,
            buckets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{Check, bucket, bucket_of, check, checks, result};
    use super::*;
    use proptest::prelude::*;
    use ringwatch_proto::{WIRE_VERSION, decode, encode};

    const MIN: u64 = 60_000;

    #[test]
    fn counts_latency_of_successes_only() {
        let b = bucket_of(
            0,
            &[
                (Some(100), None),
                (None, Some(ErrorKind::Timeout)),
                (Some(300), None),
                (None, None),
                (None, Some(ErrorKind::Dns)),
                (None, Some(ErrorKind::Timeout)),
            ],
        );
        assert_eq!((b.checks, b.ok, b.failed()), (6, 2, 4));
        let failures = [
            (ErrorKind::Dns, 1),
            (ErrorKind::Timeout, 2),
            (ErrorKind::Other, 1),
        ];
        assert_eq!(b.failures, failures);
        assert_eq!(
            (b.latency_min_ms, b.latency_max_ms, b.latency_sum_ms),
            (100, 300, 400)
        );
        assert_eq!(b.avg_ms(), Some(200.0));
        assert_eq!(b.success_ratio(), Some(2.0 / 6.0));
        assert_eq!(b.sketch.count(), 2);
        let empty = Bucket::new(0);
        assert_eq!((empty.avg_ms(), empty.success_ratio()), (None, None));
    }

    #[test]
    fn refuses_inconsistent_buckets() {
        let good = bucket_of(0, &[(Some(120), None), (None, Some(ErrorKind::Tls))]);
        assert_eq!(decode::<Bucket>(&encode(&good)), Ok(good.clone()));
        let tampered: [fn(&mut Bucket); 6] = [
            |b| b.ok = 3,
            |b| b.checks = 5,
            |b| b.failures = vec![(ErrorKind::Tls, 1), (ErrorKind::Dns, 0)],
            |b| b.latency_sum_ms = 500,
            |b| b.sketch.add(5),
            |b| b.failures = vec![(ErrorKind::Tls, 2)],
        ];
        for tamper in tampered {
            let mut bad = good.clone();
            tamper(&mut bad);
            assert!(decode::<Bucket>(&encode(&bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn upsert_keeps_the_state_with_more_checks() {
        let mut block = Block::new(Resolution::Minute, 7 * MIN);
        let one = bucket_of(5 * MIN, &[(Some(10), None)]);
        let two = bucket_of(5 * MIN, &[(Some(10), None), (Some(20), None)]);
        let other_two = bucket_of(5 * MIN, &[(None, None), (None, None)]);
        assert_eq!(block.upsert(&one), Ok(true));
        assert_eq!(block.upsert(&two), Ok(true));
        assert_eq!(block.upsert(&one), Ok(false));
        assert_eq!(
            block.upsert(&other_two),
            Ok(false),
            "ties keep the existing state"
        );
        assert_eq!(block.get(5 * MIN), Some(&two));
        assert_eq!(block.upsert(&bucket_of(0, &[])), Ok(true));
        let starts: Vec<u64> = block.buckets().iter().map(|b| b.start_ms).collect();
        assert_eq!(starts, [0, 5 * MIN]);
        // Not a minute step, or in the next hour's block.
        assert!(block.upsert(&bucket_of(5 * MIN + 1, &[])).is_err());
        assert!(block.upsert(&bucket_of(60 * MIN, &[])).is_err());
    }

    #[test]
    fn decode_refuses_bad_blocks() {
        let mut block = Block::new(Resolution::Hour, 0);
        block
            .upsert(&bucket_of(3_600_000, &[(Some(1), None)]))
            .unwrap();
        let bytes = block.encode();
        assert_eq!(Block::decode(&bytes), Ok(block));
        assert!(matches!(Block::decode(&[]), Err(DecodeError::Empty)));
        let mut wrong_version = bytes.clone();
        wrong_version[0] = 99;
        assert!(matches!(
            Block::decode(&wrong_version),
            Err(DecodeError::Version { .. })
        ));
        // A plain (minute) block with a byte too many is refused; a deflated one ends where its
        // stream ends.
        let mut minutes = Block::new(Resolution::Minute, 0);
        minutes
            .upsert(&bucket_of(60_000, &[(Some(1), None)]))
            .unwrap();
        let mut trailing = minutes.encode();
        trailing.push(0);
        assert!(Block::decode(&trailing).is_err());
        assert!(
            Block::decode(&[bytes[0], 7, 0]).is_err(),
            "an unknown codec"
        );
        assert!(
            Block::decode(&[bytes[0], 1, 0xff, 0xff]).is_err(),
            "not deflate"
        );
        // [version, plain, code, start, one entry at offset 24 (past the day)], [.., 'x' code]
        let body = [1, 1, 0, 1, 1, 0, 1, 1, 1];
        for head in [[b'h', 0, 1, 24], [b'x', 0, 1, 0], [b'h', 1, 1, 0]] {
            let bad: Vec<u8> = [bytes[0], CODEC_PLAIN]
                .iter()
                .chain(&head)
                .chain(&body)
                .copied()
                .collect();
            assert!(Block::decode(&bad).is_err(), "{bad:?}");
        }
    }

    /// The states a writer ships for one bucket, growing one check at a time.
    fn states(start_ms: u64, checks: &[Check]) -> Vec<Bucket> {
        let mut bucket = Bucket::new(start_ms);
        let mut states = vec![bucket.clone()];
        for &c in checks {
            bucket.add(&result("m", start_ms, c));
            states.push(bucket.clone());
        }
        states
    }

    fn block_of(buckets: &[Bucket]) -> Block {
        let mut block = Block::new(Resolution::Minute, 0);
        for b in buckets {
            block.upsert(b).unwrap();
        }
        block
    }

    /// Deliveries of a block's states: several buckets, each state possibly several times.
    fn deliveries() -> impl Strategy<Value = (Vec<Bucket>, Vec<Bucket>)> {
        // One writer per bucket: distinct minutes.
        let spec = prop::collection::btree_map(0u64..60, (checks(8), 1usize..3), 1..6);
        spec.prop_flat_map(|spec| {
            let mut finals = Vec::new();
            let mut all = Vec::new();
            for (minute, (checks, copies)) in spec {
                let states = states(minute * MIN, &checks);
                finals.extend(states.last().cloned());
                for _ in 0..copies {
                    all.extend(states.iter().cloned());
                }
            }
            (Just(finals), Just(all).prop_shuffle())
        })
    }

    proptest! {
        #[test]
        fn merge_is_commutative_and_associative(a in bucket(), b in bucket(), c in bucket()) {
            let merged = |x: &Bucket, y: &Bucket| {
                let mut m = x.clone();
                m.merge(y);
                m
            };
            prop_assert_eq!(merged(&a, &b), merged(&b, &a));
            prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
        }

        #[test]
        fn merge_equals_counting_everything(a in checks(40), b in checks(40)) {
            let mut merged = bucket_of(0, &a);
            merged.merge(&bucket_of(0, &b));
            let all: Vec<Check> = a.iter().chain(&b).copied().collect();
            prop_assert_eq!(merged, bucket_of(0, &all));
        }

        #[test]
        fn repeated_and_reordered_deliveries_change_nothing((finals, shuffled) in deliveries()) {
            let in_order = block_of(&finals);
            let mut block = Block::new(Resolution::Minute, 0);
            for b in &shuffled {
                block.upsert(b).unwrap();
            }
            prop_assert_eq!(&block, &in_order);
            for b in &shuffled {
                prop_assert_eq!(block.upsert(b), Ok(false));
            }
            prop_assert_eq!(block, in_order);
        }

        #[test]
        fn round_trips(buckets in prop::collection::vec((0u64..60, checks(30)), 0..8)) {
            let buckets: Vec<Bucket> =
                buckets.iter().map(|(m, c)| bucket_of(m * MIN, c)).collect();
            let block = block_of(&buckets);
            prop_assert_eq!(Block::decode(&block.encode()), Ok(block));
            for b in buckets {
                prop_assert_eq!(decode::<Bucket>(&encode(&b)), Ok(b));
            }
        }

        #[test]
        fn hostile_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = Block::decode(&bytes);
            let mut versioned = vec![ringwatch_proto::RECORD_VERSION];
            versioned.extend(&bytes);
            let _ = Block::decode(&versioned);
            versioned[0] = WIRE_VERSION;
            let _ = decode::<Bucket>(&versioned);
        }

        #[test]
        fn damaged_blocks_fail_or_decode_to_valid_blocks(
            checks in prop::collection::vec(check(), 1..30),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        ) {
            let block = block_of(&[bucket_of(3 * MIN, &checks), bucket_of(9 * MIN, &checks)]);
            let mut bytes = block.encode();
            for (at, value) in flips {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            if let Ok(decoded) = Block::decode(&bytes) {
                // Whatever decodes is a block our own code could have made.
                prop_assert_eq!(Block::decode(&decoded.encode()), Ok(decoded.clone()));
                for b in decoded.buckets() {
                    let total: u32 = b.failures.iter().map(|f| f.1).sum();
                    prop_assert_eq!(total, b.failed());
                    prop_assert_eq!(b.sketch.count(), u64::from(b.ok));
                }
            }
        }
    }
}
