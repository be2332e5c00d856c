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
use crate::domain::spec::MonitorSeed;
use crate::store::StoreError;

/// A revision for a write made on this node now.
pub(crate) fn next_rev(ctx: &Ctx) -> Rev {
    Rev {
        hlc: ctx.hlc.now(),
        node: ctx.name.clone(),
    }
}

/// The merge rule: whether `incoming` replaces `current`. Highest revision wins (clock, then
/// node name); equal revisions are the same write. A total order, so merging any set of
/// writes in any order, any number of times, ends in the same state.
pub fn supersedes(incoming: &Monitor, current: Option<&Monitor>) -> bool {
    current.is_none_or(|c| incoming.rev > c.rev)
}

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
        m.rev = next_rev(ctx);
        m.created_ms = hlc_millis(m.rev.hlc);
        m.deleted = false;
    }
    ctx.store.put_monitors(&monitors)?;
    ctx.broadcast(|| PeerMsg::Definitions(monitors.clone()));
    let created: Vec<_> = monitors.into_iter().map(Arc::new).collect();
    let at_once = created.len() <= IMMEDIATE_PROBE_MAX;
    for m in &created {
        apply(ctx, m.clone(), at_once);
    }
    Ok(created)
}

/// Stores a changed definition and applies it. `retimed` asks for a probe right away.
pub fn update(ctx: &Ctx, mut m: Monitor) -> Result<Arc<Monitor>, StoreError> {
    m.rev = next_rev(ctx);
    ctx.store.put_monitor(&m)?;
    ctx.broadcast(|| PeerMsg::Definitions(vec![m.clone()]));
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
    ctx.broadcast(|| PeerMsg::Definitions(vec![tomb]));
    forget(ctx, id);
    Ok(true)
}

/// Tombstones are kept for good: they are one small record per deleted monitor, and keeping
/// them is what stops a node returning from any absence from resurrecting the monitor. (A
/// collection rule, e.g. dropping tombstones older than the member forget time, would have to
/// refuse definitions from members that were away longer than that.)
///
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
            Ok(current) if supersedes(&m, current.as_ref()) => newer.push(m),
            Ok(_) => {}
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

/// Adds the config file's monitors that the store does not hold (not even as a tombstone:
/// a monitor deleted through the API stays deleted). Runs before the actors start, which
/// then pick the monitors up from the live view; peers get them in the first full sync.
pub fn seed(
    store: &crate::store::Store,
    live: &crate::live::LiveView,
    seeds: &[MonitorSeed],
) -> Result<usize, String> {
    let mut fresh = Vec::new();
    for (i, s) in seeds.iter().enumerate() {
        let m = s
            .to_monitor()
            .map_err(|e| format!("monitors[{i}] ({}): {e}", s.id))?;
        if store
            .get_monitor(&m.id)
            .map_err(|e| e.to_string())?
            .is_none()
        {
            fresh.push(m);
        }
    }
    store.put_monitors(&fresh).map_err(|e| e.to_string())?;
    for m in &fresh {
        live.upsert(Arc::new(m.clone()));
    }
    Ok(fresh.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng, rngs::StdRng};
    use std::collections::BTreeMap;

    /// Applies writes with the merge rule to a map, as every node does.
    fn replay(writes: &[Monitor]) -> BTreeMap<String, Monitor> {
        let mut state: BTreeMap<String, Monitor> = BTreeMap::new();
        for w in writes {
            if supersedes(w, state.get(&w.id)) {
                state.insert(w.id.clone(), w.clone());
            }
        }
        state
    }

    fn write(id: &str, hlc: u64, node: &str, interval: u64, deleted: bool) -> Monitor {
        let mut m = Monitor::new(id.into(), "http://x/".into());
        m.interval_secs = interval;
        m.deleted = deleted;
        m.rev = Rev {
            hlc,
            node: node.into(),
        };
        m
    }

    #[test]
    fn merge_is_commutative_and_idempotent() {
        let mut rng = StdRng::seed_from_u64(42);
        for _ in 0..200 {
            let writes: Vec<Monitor> = (0..30)
                .map(|_| {
                    write(
                        ["a", "b", "c"][rng.random_range(0..3)],
                        rng.random_range(0..10),
                        ["n1", "n2", "n3"][rng.random_range(0..3)],
                        rng.random_range(1..100),
                        rng.random_bool(0.2),
                    )
                })
                .collect();
            // Same revision means the same write everywhere: keep one body per revision.
            let mut canonical: BTreeMap<(String, Rev), Monitor> = BTreeMap::new();
            for w in &writes {
                canonical
                    .entry((w.id.clone(), w.rev.clone()))
                    .or_insert_with(|| w.clone());
            }
            let writes: Vec<Monitor> = canonical.into_values().collect();
            let expected = replay(&writes);
            for _ in 0..5 {
                let mut shuffled = writes.clone();
                shuffled.extend(
                    writes
                        .iter()
                        .take(rng.random_range(0..writes.len()))
                        .cloned(),
                );
                shuffled.shuffle(&mut rng);
                assert_eq!(replay(&shuffled), expected);
            }
        }
    }

    #[test]
    fn concurrent_edit_and_delete_resolve_the_same_everywhere() {
        // n1 edits and n2 deletes at the same clock reading: the node name breaks the tie.
        let edit = write("a", 7, "n1", 5, false);
        let delete = write("a", 7, "n2", 30, true);
        assert!(replay(&[edit.clone(), delete.clone()])["a"].deleted);
        assert!(replay(&[delete.clone(), edit.clone()])["a"].deleted);
        // An older edit arriving after a delete cannot resurrect the monitor.
        let old_edit = write("a", 3, "n3", 9, false);
        assert!(replay(&[delete, old_edit])["a"].deleted);
    }
}
