//! Result keys: `len(id) id at_ms(be u64) node_hash(be u32)`.
//!
//! The length prefix keeps one monitor's keys from interleaving with another whose id has it
//! as a prefix; big-endian time keeps them in time order.

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
    k.extend_from_slice(&(stable_hash(node.as_bytes()) as u32).to_be_bytes());
    k
}

/// `(first key at or after since_ms, first key past every result of the monitor)`.
pub fn result_range(id: &str, since_ms: u64) -> (Vec<u8>, Vec<u8>) {
    let mut from = result_prefix(id);
    from.extend_from_slice(&since_ms.to_be_bytes());
    let mut to = result_prefix(id);
    to.extend_from_slice(&[0xff; 13]);
    (from, to)
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
    fn prefix_end_is_the_first_key_past_the_prefix() {
        assert_eq!(prefix_end(b"ab\0"), Some(b"ab\x01".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
        assert_eq!(prefix_end(b""), None);
    }
}
