//! Ringwatch node: a peer of a website-uptime monitoring cluster.
//!
//! [`node::Node`] starts the supervision tree (documented in [`node`]); [`cli`] is the
//! command line, [`api`] the HTTP API. The rules live in [`domain`] — the monitor spec and
//! its validation, the schedule, the up/down rule, the outbox — as deterministic code with no
//! I/O, driven by the actors in [`actors`] and [`alert`]. Only [`store`] knows the storage
//! engine.

pub mod access;
pub mod actors;
pub mod alert;
pub mod api;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod context;
pub mod domain;
pub mod history;
pub mod links;
pub mod live;
pub mod maintenance;
pub mod metrics;
pub mod node;
pub mod pages;
pub mod probe;
pub mod state;
pub mod store;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
