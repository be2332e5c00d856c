//! Status page definitions: create, change and delete, the one path every edit takes (from
//! the API, and from the config file through [`seed`]; peers' pages are merged by the
//! table, `cluster::inbox`), and the questions asked of them: which page a slug names, and
//! whether a monitor's badges are public.
//!
//! Rules that need the cluster's state, so are checked here and not by the spec:
//! - **Slugs are unique among live pages.** A create or change to a slug another live page
//!   has is refused (400). Two nodes may still accept the same slug at once before hearing
//!   of each other; then the slug names the oldest page (creation time, then id) on every
//!   node, and the other is reachable by its id only until its slug is changed.
//! - **Monitors must exist when a page names them** (400 otherwise, to catch typos). A
//!   monitor deleted later just leaves the page; the page is not changed.

use std::sync::Arc;

use ringwatch_proto::{Monitor, StatusPage};

use crate::clock::hlc_millis;
use crate::context::Ctx;
use crate::domain::status_page::{PageError, StatusPageInput, StatusPageSeed};
use crate::state::Table;
use crate::store::StoreError;

/// Why a change to a page is refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// Bad input, or a slug taken, or a monitor unknown: 400.
    #[error(transparent)]
    Invalid(#[from] PageError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes a fresh status page id: `p-` and 16 hex digits.
pub fn new_id() -> String {
    format!("p-{:016x}", rand::random::<u64>())
}

/// The live pages, oldest first.
pub fn live(ctx: &Ctx) -> Vec<Arc<StatusPage>> {
    let mut v = ctx.status_pages.live();
    v.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    v
}

/// The live page a slug names: the oldest if several have it (module doc).
pub fn by_slug(ctx: &Ctx, slug: &str) -> Option<Arc<StatusPage>> {
    ctx.status_pages
        .live()
        .into_iter()
        .filter(|p| p.slug == slug)
        .min_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)))
}

/// Whether a monitor's badges load without a token: it says so (`public_badges`), or it is on
/// a public page.
pub fn badges_public(ctx: &Ctx, monitor: &Monitor) -> bool {
    monitor.public_badges
        || ctx
            .status_pages
            .live()
            .iter()
            .any(|p| p.public && p.shows(&monitor.id))
}

/// Checks what needs the cluster's state (module doc); `id` is the page being changed.
fn check_against_cluster(ctx: &Ctx, input: &StatusPageInput, id: &str) -> Result<(), PageError> {
    if let Some(other) = ctx
        .status_pages
        .live()
        .iter()
        .find(|p| p.slug == input.slug && p.id != id)
    {
        return Err(PageError(format!(
            "the slug {:?} is taken by the status page {:?}",
            input.slug, other.id
        )));
    }
    if let Some(unknown) = input
        .monitor_ids()
        .into_iter()
        .find(|m| !ctx.live.contains(m))
    {
        return Err(PageError(format!("there is no monitor {unknown:?}")));
    }
    Ok(())
}

/// Stores a new page and sends it to peers.
pub fn create(ctx: &Ctx, input: StatusPageInput) -> Result<Arc<StatusPage>, EditError> {
    let id = new_id();
    check_against_cluster(ctx, &input, &id)?;
    let page = input.into_page(id)?;
    let mut made = ctx.status_pages.put_with(vec![page], &ctx.hlc, |p| {
        p.created_ms = hlc_millis(p.rev.hlc);
    })?;
    let made = made.remove(0);
    ctx.broadcast(|| Table::message(std::slice::from_ref(&made)));
    tracing::info!(id = %made.id, slug = %made.slug, "status page created");
    Ok(made)
}

/// Replaces the fields of the live page `current` by `input`.
pub fn update(
    ctx: &Ctx,
    current: &StatusPage,
    input: StatusPageInput,
) -> Result<Arc<StatusPage>, EditError> {
    check_against_cluster(ctx, &input, &current.id)?;
    let mut page = input.into_page(current.id.clone())?;
    page.created_ms = current.created_ms;
    let changed = ctx.status_pages.put_one(page, &ctx.hlc)?;
    ctx.broadcast(|| Table::message(std::slice::from_ref(&changed)));
    Ok(changed)
}

/// Deletes a page everywhere (a tombstone). Returns false if it did not exist.
pub fn delete(ctx: &Ctx, id: &str) -> Result<bool, StoreError> {
    let Some(tomb) = ctx.status_pages.delete(id, &ctx.hlc)? else {
        return Ok(false);
    };
    ctx.broadcast(|| Table::message(&[tomb]));
    tracing::info!(%id, "status page deleted");
    Ok(true)
}

/// Adds the config file's pages that this node does not hold yet, not even as a tombstone.
pub fn seed(table: &Table<StatusPage>, seeds: &[StatusPageSeed]) -> Result<usize, String> {
    let pages = seeds
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.to_page()
                .map_err(|e| format!("status_pages[{i}] ({}): {e}", s.id))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(table.seed(pages).map_err(|e| e.to_string())?.len())
}
