//! Alerting: status decisions with a second opinion, and exactly one notification per status
//! change and channel, cluster-wide.
//!
//! How one change travels:
//! 1. Every node counts every result it stores ([`crate::domain::status::observe`]); the counts
//!    therefore survive an owner change. After a result it probed itself, the owner learns
//!    from the live view that a change is due and tells its [`Alerter`].
//! 2. A due *down* with a peer alive is first re-checked by another node
//!    ([`ringwatch_proto::PeerMsg::Confirm`]). Only if that probe fails too (or the peer does
//!    not answer in time) does the monitor go down; a good answer cancels it.
//! 3. The owner numbers the change (`seq`, per monitor), stores it, applies it and sends it to
//!    every peer as a [`ringwatch_proto::Transition`]. Every node keeps the notifications it
//!    calls for in its [`crate::domain::outbox::Outbox`], so a dead owner's alerts are not lost.
//! 4. The current owner sends each notification ([`notify`]), retrying with backoff, and
//!    records and replicates a [`ringwatch_proto::Delivery`] when the channel accepted it;
//!    every node then drops it from its outbox. Sending happens in spawned tasks: a slow or
//!    failing channel never delays probing or the alerter itself.
//!
//! What "exactly once" rests on, and where it can break: a change is decided once because
//! only the owner decides and the number it takes is replicated before any notification is
//! sent; a notification is sent once because only the owner sends and a delivery is
//! replicated the moment the channel accepts it. An owner killed in the instant between the
//! channel's answer and that delivery record leaving the node makes the next owner send
//! again; the `event_id` (also the `Idempotency-Key` header) lets a receiver drop the repeat.
//! During a network partition each side owns its share and decides for it alone.

mod alerter;
pub mod incidents;
pub mod notifiers;
pub mod notify;

pub use alerter::Alerter;

#[cfg(test)]
mod tests;
