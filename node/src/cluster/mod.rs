//! Clustering: membership, ownership and the peer transport.
//!
//! Design choice: **every node computes the same assignment from its own membership view**
//! (rendezvous hashing over the alive members, [`assign`]) instead of electing a coordinator.
//! There is nothing to elect, nothing to fail over and no window without a leader; a node that
//! sees the same members as its peers makes the same choice, and nodes that see different
//! members (a partition) each keep probing what they think is theirs: a monitor may be probed
//! twice during a partition, never by no one. When views converge (heartbeats every
//! [`peers::HEARTBEAT_EVERY`]), so does the assignment.

pub mod assign;
pub mod catchup;
pub mod flow;
pub mod membership;
pub mod peers;
pub mod transport;
