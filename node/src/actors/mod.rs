//! The actors of a node. See [`crate::node`] for the supervision tree.

pub mod coordinator;
pub mod http;
pub mod pool;
pub mod prober;
pub mod recorder;

pub use crate::links::STOP_TIMEOUT;
