//! Second opinions: a peer about to declare a monitor down asks us to probe it too
//! ([`PeerMsg::Confirm`]); we probe off the actor's thread and answer with the result
//! ([`PeerMsg::Confirmed`]), which the asker's alerter weighs. Promises: our probe is recorded
//! (and so replicated) like any other result; a monitor we do not know yet gets no answer
//! (the asker then decides alone, in time).

use ractor::ActorRef;
use ringwatch_proto::{PeerMsg, ProbeResult};

use super::peers::PeersMessage;
use crate::context::Ctx;
use crate::links::AlerterMessage;

/// Probes `monitor_id` for `peer` and sends it the result through `peers`.
pub fn give(
    ctx: &Ctx,
    peers: &ActorRef<PeersMessage>,
    peer: String,
    monitor_id: String,
    token: u64,
) {
    tracing::debug!(peer = %peer, monitor = %monitor_id, "second opinion asked");
    let Some(entry) = ctx.live.get(&monitor_id) else {
        return; // unknown here (not replicated yet): the asker decides alone in time
    };
    let ctx = ctx.clone();
    let peers = peers.clone();
    tokio::spawn(async move {
        let result = crate::probe::check(&ctx.clients, &entry.monitor, &ctx.name).await;
        ctx.record(result.clone());
        tracing::debug!(peer = %peer, token, ok = result.ok, "second opinion given");
        let body = PeerMsg::Confirmed {
            token,
            result: Box::new(result),
        };
        let _ = peers.cast(PeersMessage::SendToName { name: peer, body });
    });
}

/// A peer's answer to our request `token`: for the alerter.
pub fn received(ctx: &Ctx, peer: &str, token: u64, result: ProbeResult) {
    tracing::debug!(peer = %peer, token, ok = result.ok, "second opinion received");
    ctx.alert(AlerterMessage::Confirmed { token, result });
}
