//! The actors of a node. See [`crate::node`] for the supervision tree.

use std::time::Duration;

pub mod coordinator;
pub mod http;
pub mod pool;
pub mod prober;
pub mod recorder;

/// How long a stopping actor waits for its children before moving on.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(3);
