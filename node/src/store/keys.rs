//! Result keys. A monitor's results are held in two kinds of record of the `results` tree:
//! - a row (one result): `len(id) id at_ms(be u64) node_hash(be u32)`;
//! - a block (many results, [`super::blocks`]): `0x00 len(id) id last_ms(be u64)`, keyed by
//!   the time of its newest result.
//!
//! The length prefix keeps one monitor's keys from interleaving with another whose id has it
//! as a prefix; big-endian time keeps them in time order. Ids are never empty, so no row key
//! starts with `0x00`: every block sorts before every row. That keeps rows, which change all
//! the time, and blocks, which are written once and mostly left alone, in separate nodes of
//! the engine's tree, so rewriting a node of rows never rewrites blocks with it.

use crate::domain::hash::stable_hash;

/// The key prefix shared by all results of one monitor.
pub fn result_prefix(id: &str) -> Vec<u8> {
    // Ids are made by the server and validated to be short; clamp defensively.
    let id = &id.as_bytes()[..id.len().min(255)];
    let mut k = Vec::with_capacity(1 + id.len() + 12);
    k.push(id.len() as u8);
    k.extend_from_slice(id);
    k
}

/// The key of one result.
pub fn result_key(id: &str, at_ms: u64, node: &str) -> Vec<u8> {
    let mut k = result_prefix(id);
    k.extend_from_slice(&at_ms.to_be_bytes());
    k.extend_from_slice(&node_hash(node).to_be_bytes());
    k
}

/// The node part of a row key: results of one monitor at one millisecond are told apart by it.
pub fn node_hash(node: &str) -> u32 {
    stable_hash(node.as_bytes()) as u32
}

/// `(first key at or after since_ms, first key past every result of the monitor)`.
pub fn result_range(id: &str, since_ms: u64) -> (Vec<u8>, Vec<u8>) {
    let mut from = result_prefix(id);
    from.extend_from_slice(&since_ms.to_be_bytes());
    let mut to = result_prefix(id);
    to.extend_from_slice(&[0xff; 13]);
    (from, to)
}

/// The first byte of every block key: an empty id's length, which no row key has.
const BLOCK_MARK: u8 = 0x00;

/// The key prefix shared by all blocks of one monitor.
pub fn block_prefix(id: &str) -> Vec<u8> {
    let mut k = vec![BLOCK_MARK];
    k.extend_from_slice(&result_prefix(id));
    k
}

/// The key of a block of monitor `id` whose newest result is at `last_ms`.
pub fn block_key(id: &str, last_ms: u64) -> Vec<u8> {
    let mut k = block_prefix(id);
    k.extend_from_slice(&last_ms.to_be_bytes());
    k
}

/// `(key of a block ending at since_ms, first key past every block of the monitor)`.
pub fn block_range(id: &str, since_ms: u64) -> (Vec<u8>, Vec<u8>) {
    let mut to = block_prefix(id);
    to.extend_from_slice(&[0xff; 9]);
    (block_key(id, since_ms), to)
}

/// The newest time of a block key whose monitor's block prefix is `prefix_len` bytes long
/// (`None` for a key of another shape).
pub fn block_time(key: &[u8], prefix_len: usize) -> Option<u64> {
    let time = key.get(prefix_len..).filter(|t| t.len() == 8)?;
    Some(u64::from_be_bytes(time.try_into().ok()?))
}

/// The key of a monitor's status change number `seq`.
pub fn transition_key(id: &str, seq: u64) -> Vec<u8> {
    let mut k = result_prefix(id);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The key of the delivery of change `seq` of monitor `id` to `channel`.
pub fn delivery_key(id: &str, seq: u64, channel: &str) -> Vec<u8> {
    let mut k = transition_key(id, seq);
    k.extend_from_slice(channel.as_bytes());
    k
}

/// `(first key, first key past)` of everything keyed under monitor `id`.
pub fn prefix_range(id: &str) -> (Vec<u8>, Vec<u8>) {
    let from = result_prefix(id);
    let mut to = from.clone();
    to.push(0xff);
    to.extend_from_slice(&[0xff; 8]);
    (from, to)
}

/// The first key past every key that starts with `prefix`; `None` when there is none (the
/// prefix is all `0xff`, or empty).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_monitor_then_time() {
        assert!(result_key("a", 1, "n") < result_key("a", 2, "n"));
        assert!(result_key("a", u64::MAX, "n") < result_range("a", 0).1);
        // "ab" does not fall inside "a"'s range.
        let (from, to) = result_range("a", 0);
        let other = result_key("ab", 0, "n");
        assert!(!(from <= other && other < to));
    }

    #[test]
    fn blocks_sort_before_every_row_and_by_their_last_time() {
        let (id, other) = ("a", "ab");
        let (blocks_from, blocks_to) = block_range(id, 0);
        for last in [0, 5, 1_700_000_000_000, u64::MAX] {
            let block = block_key(id, last);
            assert!(blocks_from <= block && block < blocks_to, "{last}");
            assert_eq!(block_time(&block, block_prefix(id).len()), Some(last));
            for row in [result_key(id, 0, "n"), result_key(other, u64::MAX, "n")] {
                assert!(block < row);
            }
        }
        assert!(block_key(id, 5) < block_key(id, 6));
        assert!(block_range(id, 6).0 > block_key(id, 5));
        assert_eq!(
            block_time(&result_key(id, 7, "n"), block_prefix(id).len()),
            None
        );
        // Another monitor's blocks are outside the range.
        let theirs = block_key(other, 0);
        assert!(!(blocks_from <= theirs && theirs < blocks_to));
    }

    #[test]
    fn prefix_end_is_the_first_key_past_the_prefix() {
        assert_eq!(prefix_end(b"ab\0"), Some(b"ab\x01".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
        assert_eq!(prefix_end(b""), None);
    }
}
