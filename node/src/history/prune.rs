//! Retention of history: rollup blocks past their resolution's retention, and status changes
//! (with their deliveries) older than the day rollups' retention. Runs with the raw-results
//! prune, in the background, in bounded store calls per monitor, so writes and probing go on.

use crate::context::Ctx;
use crate::domain::rollup::Resolution;
use crate::store::StoreResult;

/// What one pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub blocks: usize,
    pub transitions: usize,
}

/// Prunes every monitor's history as of `now_ms`. Blocking.
pub fn prune(ctx: &Ctx, now_ms: u64) -> StoreResult<Pruned> {
    let retention = ctx.config.history_retention();
    let mut pruned = Pruned::default();
    for id in ctx.live.ids() {
        for res in Resolution::all() {
            let before = now_ms.saturating_sub(retention.of(res));
            pruned.blocks += ctx.store.prune_rollups(&id, res, before)?;
        }
        let before = now_ms.saturating_sub(retention.day_ms);
        pruned.transitions += ctx.store.prune_transitions(&id, before)?;
    }
    Ok(pruned)
}
