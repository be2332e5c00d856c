//! Flow control of result gossip: how far a peer may fall behind before we stop sending it
//! results (it then repairs the gap by catch-up). A deterministic core.
//!
//! Results frames are numbered per process start. Per peer we keep the last number *sent to
//! it* and the last it *acknowledged* (heartbeats carry acks; they only move forward). A peer
//! with more than [`RESULTS_WINDOW`] frames unacknowledged is skipped; it keeps acknowledging
//! what it got, so its backlog drains to zero, sending resumes, and the receiver, seeing the
//! numbers skipped, asks for a catch-up. A new session starts with nothing outstanding.

use std::collections::HashMap;

/// Result frames a peer may leave unacknowledged (about 4 s of gossip) before we stop
/// sending it results. Bounds what a slow peer can make us buffer.
pub const RESULTS_WINDOW: u64 = 40;

#[derive(Debug, Default)]
pub struct ResultsFlow {
    seq: u64,
    sent: HashMap<String, u64>,
    acked: HashMap<String, u64>,
}

impl ResultsFlow {
    /// Numbers the next frame.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// A new session with `peer`: nothing outstanding (what came before is catch-up's).
    pub fn session_ready(&mut self, peer: &str) {
        self.sent.insert(peer.to_owned(), self.seq);
        self.acked.insert(peer.to_owned(), self.seq);
    }

    /// `peer` says it has received our frames up to `seq`.
    pub fn ack(&mut self, peer: &str, seq: u64) {
        let acked = self.acked.entry(peer.to_owned()).or_default();
        *acked = (*acked).max(seq);
    }

    /// Whether frame `seq` should go to `peer`; records it as sent if so.
    pub fn send(&mut self, peer: &str, seq: u64) -> bool {
        let sent = self.sent.get(peer).copied().unwrap_or(0);
        let acked = self.acked.get(peer).copied().unwrap_or(0);
        if sent.saturating_sub(acked) > RESULTS_WINDOW {
            return false;
        }
        self.sent.insert(peer.to_owned(), seq);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_peer_is_skipped_then_resumes_with_a_gap() {
        let mut f = ResultsFlow::default();
        f.session_ready("p");
        let mut delivered = Vec::new();
        for _ in 0..100 {
            let seq = f.next_seq();
            if f.send("p", seq) {
                delivered.push(seq);
            }
        }
        // It never acked: at most the window (plus the frame that crossed it) went out.
        assert_eq!(delivered.len() as u64, RESULTS_WINDOW + 1);
        // It catches up on what it got; sending resumes, with a gap it will notice.
        f.ack("p", *delivered.last().unwrap());
        let seq = f.next_seq();
        assert!(f.send("p", seq));
        assert!(seq > delivered.last().unwrap() + 1);
    }

    #[test]
    fn stale_acks_after_a_partition_do_not_block_a_new_session() {
        let mut f = ResultsFlow::default();
        f.session_ready("p");
        for _ in 0..10 {
            let seq = f.next_seq();
            assert!(f.send("p", seq));
        }
        f.ack("p", 10);
        // Partition: 200 frames go nowhere (the peer is not connected).
        for _ in 0..200 {
            f.next_seq();
        }
        // Heal: a new session, then the peer's heartbeat still reports its old ack.
        f.session_ready("p");
        f.ack("p", 10);
        for _ in 0..100 {
            let seq = f.next_seq();
            assert!(f.send("p", seq), "frame {seq} held back after the heal");
            f.ack("p", seq);
        }
    }
}
