//! Ringwatch node: a peer of a website-uptime monitoring cluster.
//!
//! [`node::Node`] starts the supervision tree (documented in [`node`]); [`cli`] is the
//! command line, [`api`] the HTTP API. Deterministic cores with no I/O — [`schedule`],
//! [`status`], [`alert::outbox`] — are driven by the actors in [`actors`] and [`alert`]. Only [`store`] knows the storage
//! engine.

pub mod actors;
pub mod alert;
pub mod api;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod context;
pub mod hash;
pub mod live;
pub mod metrics;
pub mod node;
pub mod probe;
pub mod schedule;
pub mod status;
pub mod store;

#[cfg(test)]
mod tests;
