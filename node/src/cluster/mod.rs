//! Clustering: membership, ownership and the peer transport.
//!
//! Design choice: **every node computes the same assignment from its own membership view**
//! (rendezvous hashing over the alive members, [`crate::domain::ownership`]) instead of electing a coordinator.
//! There is nothing to elect, nothing to fail over and no window without a leader; a node that
//! sees the same members as its peers makes the same choice, and nodes that see different
//! members (a partition) each keep probing what they think is theirs: a monitor may be probed
//! twice during a partition, never by no one. When views converge (heartbeats every
//! [`members::HEARTBEAT_EVERY`]), so does the assignment.
//!
//! The [`peers`] actor is the one local actor between a node and its peers; its state is
//! composed of [`transport`], [`members`] and [`sync`], and [`inbox`] routes what peers send.

pub mod catchup;
pub mod endpoint;
pub mod flow;
pub mod gate;
pub mod guard;
pub mod inbox;
pub mod listener;
pub mod members;
pub mod membership;
pub mod peers;
pub mod second_opinion;
pub mod sync;
pub mod tls;
pub mod transport;
