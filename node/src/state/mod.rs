//! Replicated state of a node: the definitions every node holds a full copy of.
//!
//! [`attempts`] holds where undelivered notifications stand, shared by every node.
//!
//! [`table`] is the one replicated table (last writer wins by revision, tombstones, merge,
//! full sync, seeding), written once for every kind; each kind is a type plus its
//! [`table::Definition`] impl in a file of its own: [`monitors`], [`notifiers`], [`tokens`],
//! [`maintenance`], [`status_pages`].
//! What a change of a kind does beyond the table (probing a monitor, for one) belongs to the
//! caller, which gets the changed records back from every table operation.

pub mod attempts;
pub mod maintenance;
pub mod monitors;
pub mod notifiers;
pub mod status_pages;
pub mod table;
pub mod tokens;

pub use table::{ById, Definition, Merged, Stored, Table};
