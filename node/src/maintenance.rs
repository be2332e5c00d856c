//! Maintenance windows: the one path every create, change and delete of a window takes (the
//! API's and the config file's), each sent to every peer at once.
//!
//! Windows are a replicated kind ([`crate::state::maintenance`]); what a window does is asked
//! where it matters, always from the replicated table and the clock of the moment
//! (`NodeContext::maintenance_windows`): the API shows covered monitors as `maintenance`, the
//! alerter takes no status decision for them, history leaves their time out of uptime.

use std::sync::Arc;

use ringwatch_proto::{Maintenance, MaintenanceScope};

use crate::clock::now_ms;
use crate::context::Ctx;
use crate::domain::maintenance::{MaintenanceInput, MaintenanceSeed};
use crate::state::Table;
use crate::store::StoreError;

/// Why a change of a window was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// Bad input: 400.
    #[error("{0}")]
    Invalid(String),
    /// No live window with this id: 404.
    #[error("maintenance window {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A fresh window id.
pub fn new_id() -> String {
    format!("w-{:016x}", rand::random::<u64>())
}

/// Makes a window from a user's input and sends it to every peer.
pub fn create(ctx: &Ctx, input: MaintenanceInput) -> Result<Arc<Maintenance>, ChangeError> {
    let mut m = input.into_maintenance().map_err(ChangeError::Invalid)?;
    known_monitors(ctx, &m.monitors, None)?;
    m.id = new_id();
    m.created_ms = now_ms();
    let made = ctx.maintenance.put_one(m, &ctx.hlc)?;
    ctx.broadcast(|| Table::message(std::slice::from_ref(&made)));
    tracing::info!(id = %made.id, title = %made.title, "maintenance window created");
    Ok(made)
}

/// Changes a window: `patch` is a JSON object merged over the window's fields (a `null`
/// removes one, so `{"start_ms": null, "end_ms": null, "cron": ...}` turns a one-off window
/// into a recurring one), then validated whole.
pub fn patch(
    ctx: &Ctx,
    id: &str,
    patch: serde_json::Map<String, serde_json::Value>,
) -> Result<Arc<Maintenance>, ChangeError> {
    let current = ctx
        .maintenance
        .get_live(id)
        .ok_or_else(|| ChangeError::NotFound(id.to_owned()))?;
    let mut fields = match serde_json::to_value(MaintenanceInput::of(&current)) {
        Ok(serde_json::Value::Object(fields)) => fields,
        _ => return Err(ChangeError::Invalid("the window cannot be edited".into())),
    };
    for (key, value) in patch {
        if value.is_null() {
            fields.remove(&key);
        } else {
            fields.insert(key, value);
        }
    }
    let input: MaintenanceInput = serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| ChangeError::Invalid(format!("malformed maintenance window: {e}")))?;
    let mut m = input.into_maintenance().map_err(ChangeError::Invalid)?;
    known_monitors(ctx, &m.monitors, Some(&current.monitors))?;
    m.id = current.id.clone();
    m.created_ms = current.created_ms;
    let changed = ctx.maintenance.put_one(m, &ctx.hlc)?;
    ctx.broadcast(|| Table::message(std::slice::from_ref(&changed)));
    tracing::info!(%id, "maintenance window changed");
    Ok(changed)
}

/// Deletes a window everywhere (a tombstone). Returns false if there was none.
pub fn delete(ctx: &Ctx, id: &str) -> Result<bool, StoreError> {
    let Some(tomb) = ctx.maintenance.delete(id, &ctx.hlc)? else {
        return Ok(false);
    };
    ctx.broadcast(|| Table::message(&[tomb]));
    tracing::info!(%id, "maintenance window deleted");
    Ok(true)
}

/// The live windows, oldest first.
pub fn live(ctx: &Ctx) -> Vec<Arc<Maintenance>> {
    let mut v = ctx.maintenance.live();
    v.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    v
}

/// Adds the config file's windows this node does not hold yet (not even deleted).
pub fn seed(table: &Table<Maintenance>, seeds: &[MaintenanceSeed]) -> Result<usize, String> {
    let windows = seeds
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.to_maintenance()
                .map_err(|e| format!("maintenance[{i}] ({}): {e}", s.id))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(table.seed(windows).map_err(|e| e.to_string())?.len())
}

/// Refuses monitor ids this node does not know, except those the window listed already
/// (a monitor deleted since does not make the window uneditable).
fn known_monitors(
    ctx: &Ctx,
    scope: &MaintenanceScope,
    before: Option<&MaintenanceScope>,
) -> Result<(), ChangeError> {
    let MaintenanceScope::Only(ids) = scope else {
        return Ok(());
    };
    let listed =
        |id: &String| matches!(before, Some(MaintenanceScope::Only(old)) if old.contains(id));
    match ids.iter().find(|id| !listed(id) && !ctx.live.contains(id)) {
        Some(unknown) => Err(ChangeError::Invalid(format!(
            "no monitor with id {unknown:?}"
        ))),
        None => Ok(()),
    }
}
