//! Monitor definitions: create, change and delete, the one path every edit takes (from the
//! API, from peers through [`merged`], and from the config file through [`seed`]).
//!
//! The definitions are the replicated table `ctx.monitors` ([`crate::state::table`]: revisions,
//! last writer wins, tombstones, merge and full sync, written once for every kind). An edit is
//! durable in the store before it is acknowledged, then sent to peers, applied to the live
//! view, handed to the coordinator (which starts, re-times or stops probing) and published as
//! an event. Deletes leave a tombstone carrying the deleting revision.

use std::sync::Arc;

use ringwatch_proto::Monitor;

use crate::clock::hlc_millis;
use crate::context::{Ctx, Event};
use crate::domain::spec::MonitorSeed;
use crate::links::{AlerterMessage, CoordinatorMessage};
use crate::live::LiveView;
use crate::state::Table;
use crate::store::StoreError;

/// Monitors created together that are probed at once. A larger bulk import starts on each
/// monitor's interval phase instead, spread evenly, rather than as one burst of checks.
pub const IMMEDIATE_PROBE_MAX: usize = 100;

/// Makes a fresh monitor id: `m-` and 16 hex digits.
pub fn new_id() -> String {
    format!("m-{:016x}", rand::random::<u64>())
}

/// Stores new monitors (all or none) and starts probing them. Ids, timestamps and revisions
/// are set here.
pub fn create(ctx: &Ctx, mut monitors: Vec<Monitor>) -> Result<Vec<Arc<Monitor>>, StoreError> {
    for m in &mut monitors {
        m.id = new_id();
        m.deleted = false;
    }
    let created = ctx.monitors.put_with(monitors, &ctx.hlc, |m| {
        m.created_ms = hlc_millis(m.rev.hlc);
    })?;
    ctx.broadcast_all(|| Table::messages(&created));
    let at_once = created.len() <= IMMEDIATE_PROBE_MAX;
    for m in &created {
        apply(ctx, m.clone(), at_once);
    }
    Ok(created)
}

/// Stores a changed definition and applies it.
pub fn update(ctx: &Ctx, m: Monitor) -> Result<Arc<Monitor>, StoreError> {
    let m = ctx.monitors.put_one(m, &ctx.hlc)?;
    ctx.broadcast(|| Table::message(std::slice::from_ref(&m)));
    apply(ctx, m.clone(), false);
    Ok(m)
}

fn apply(ctx: &Ctx, m: Arc<Monitor>, fresh: bool) {
    let upserted = ctx.live.upsert(m.clone());
    if let Some(state) = upserted.reset
        && let Err(e) = ctx.store.put_states(&[(m.id.clone(), state)])
    {
        tracing::warn!(error = %e, "could not persist a reset monitor state");
    }
    // A pause, a resume or a new URL is part of the monitor's status timeline (uptime leaves
    // paused time out); its owner records it, as it does every status change.
    if let Some(to) = upserted.became
        && ctx.ownership().is_mine(&m.id)
    {
        ctx.alert(AlerterMessage::Timeline {
            monitor_id: m.id.clone(),
            to,
        });
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
    let Some(tomb) = ctx.monitors.delete(id, &ctx.hlc)? else {
        return Ok(false);
    };
    ctx.broadcast(|| Table::message(&[tomb]));
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

/// The change hook of definitions merged from a peer (what `ctx.monitors` took): a live one is
/// applied (live view, coordinator, event), a tombstone stops and forgets the monitor here.
pub fn merged(ctx: &Ctx, changed: Vec<Arc<Monitor>>) {
    for m in changed {
        if m.deleted {
            if ctx.live.contains(&m.id) {
                forget(ctx, &m.id);
            }
        } else {
            apply(ctx, m, false);
        }
    }
}

/// Adds the config file's monitors that the table does not hold (not even as a tombstone:
/// a monitor deleted through the API stays deleted). Runs before the actors start, which
/// then pick the monitors up from the live view; peers get them in the first full sync.
pub fn seed(
    table: &Table<Monitor>,
    live: &LiveView,
    seeds: &[MonitorSeed],
) -> Result<usize, String> {
    let monitors = seeds
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.to_monitor()
                .map_err(|e| format!("monitors[{i}] ({}): {e}", s.id))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let fresh = table.seed(monitors).map_err(|e| e.to_string())?;
    for m in &fresh {
        live.upsert(m.clone());
    }
    Ok(fresh.len())
}
