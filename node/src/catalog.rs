//! Monitor definitions: create, change and delete, the one path every edit takes
//! (from the API, and from peers through [`merge`]).
//!
//! An edit is durable in the store before it is acknowledged, then applied to the live view,
//! handed to the coordinator (which starts, re-times or stops probing) and published as an
//! event. Deletes leave a tombstone carrying the deleting revision.

use std::sync::Arc;

use ringwatch_proto::{Monitor, PeerMsg, Rev};

use crate::actors::coordinator::CoordinatorMessage;
use crate::clock::hlc_millis;
use crate::context::{Ctx, Event};
use crate::store::StoreError;

fn next_rev(ctx: &Ctx) -> Rev {
    Rev {
        hlc: ctx.hlc.now(),
        node: ctx.name.clone(),
    }
}

/// Makes a fresh monitor id: `m-` and 16 hex digits.
pub fn new_id() -> String {
    format!("m-{:016x}", rand::random::<u64>())
}

/// Stores new monitors (all or none) and starts probing them. Ids, timestamps and revisions
/// are set here.
pub fn create(ctx: &Ctx, mut monitors: Vec<Monitor>) -> Result<Vec<Arc<Monitor>>, StoreError> {
    for m in &mut monitors {
        m.id = new_id();
        m.rev = next_rev(ctx);
        m.created_ms = hlc_millis(m.rev.hlc);
        m.deleted = false;
    }
    ctx.store.put_monitors(&monitors)?;
    ctx.broadcast(PeerMsg::Definitions(monitors.clone()));
    let created: Vec<_> = monitors.into_iter().map(Arc::new).collect();
    for m in &created {
        apply(ctx, m.clone(), true);
    }
    Ok(created)
}

/// Stores a changed definition and applies it. `retimed` asks for a probe right away.
pub fn update(ctx: &Ctx, mut m: Monitor) -> Result<Arc<Monitor>, StoreError> {
    m.rev = next_rev(ctx);
    ctx.store.put_monitor(&m)?;
    ctx.broadcast(PeerMsg::Definitions(vec![m.clone()]));
    let m = Arc::new(m);
    apply(ctx, m.clone(), false);
    Ok(m)
}

fn apply(ctx: &Ctx, m: Arc<Monitor>, fresh: bool) {
    if let Some(state) = ctx.live.upsert(m.clone())
        && let Err(e) = ctx.store.put_states(&[(m.id.clone(), state)])
    {
        tracing::warn!(error = %e, "could not persist a reset monitor state");
    }
    if let Some(c) = ctx.coordinator() {
        let _ = c.cast(CoordinatorMessage::Upsert {
            monitor: m.clone(),
            fresh,
        });
    }
    ctx.publish(|| Event::Monitor(m));
}

/// Deletes a monitor everywhere: tombstone, stop probing, drop its results and state.
/// Returns false if it did not exist.
pub fn delete(ctx: &Ctx, id: &str) -> Result<bool, StoreError> {
    let Some(entry) = ctx.live.get(id) else {
        return Ok(false);
    };
    let mut tomb = (*entry.monitor).clone();
    tomb.deleted = true;
    tomb.active = false;
    tomb.rev = next_rev(ctx);
    ctx.store.put_monitor(&tomb)?;
    ctx.broadcast(PeerMsg::Definitions(vec![tomb]));
    forget(ctx, id);
    Ok(true)
}

/// Removes a deleted monitor from this node: stop probing, drop its results and state.
fn forget(ctx: &Ctx, id: &str) {
    ctx.live.remove(id);
    if let Some(c) = ctx.coordinator() {
        let _ = c.cast(CoordinatorMessage::Remove(id.to_owned()));
    }
    if let Err(e) = ctx.store.delete_state(id) {
        tracing::warn!(monitor = %id, error = %e, "could not delete a monitor's state");
    }
    let store = ctx.store.clone();
    let owned = id.to_owned();
    // Old results can go in the background; they are unreachable once the monitor is gone.
    tokio::task::spawn_blocking(move || {
        if let Err(e) = store.prune_results(&owned, u64::MAX) {
            tracing::warn!(monitor = %owned, error = %e, "could not delete results");
        }
    });
    ctx.publish(|| Event::Deleted(id.to_owned()));
}

/// Merges definitions received from a peer: each replaces ours only if its revision is
/// higher (last writer wins, ties broken by node name), so applying the same definitions in
/// any order, any number of times, gives the same state. Tombstones win over older edits,
/// and an older edit cannot bring a deleted monitor back.
pub fn merge(ctx: &Ctx, incoming: Vec<Monitor>) {
    let mut newer = Vec::new();
    for m in incoming {
        ctx.hlc.observe(m.rev.hlc);
        match ctx.store.get_monitor(&m.id) {
            Ok(Some(current)) if current.rev >= m.rev => {}
            Ok(_) => newer.push(m),
            Err(e) => tracing::error!(error = %e, "cannot read a definition to merge"),
        }
    }
    if newer.is_empty() {
        return;
    }
    if let Err(e) = ctx.store.put_monitors(&newer) {
        tracing::error!(error = %e, "cannot store definitions from a peer");
        return;
    }
    for m in newer {
        if m.deleted {
            if ctx.live.contains(&m.id) {
                forget(ctx, &m.id);
            }
        } else {
            apply(ctx, Arc::new(m), false);
        }
    }
}
