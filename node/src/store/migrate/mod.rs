//! Store format migrations, run when a store opens.
//!
//! Every stored record starts with its version byte ([`RECORD_VERSION`] for what this build
//! writes), and the `meta` tree holds the store's format marker under [`MARKER_KEY`]: the
//! record version every record of the store has been brought to. When the marker is this
//! build's version, opening costs one read. Otherwise (a store from before markers, one left
//! by an older build, a migration cut short, or a newer build's store) the record trees are
//! walked in batches of [`MIGRATION_BATCH_RECORDS`]:
//! - a record older than its tree's current layout ([`layout_since`]) is decoded with that
//!   version's frozen type ([`v1`], [`v2`], [`v3`], [`v4`]) and rewritten in the current one, one atomic
//!   batch per page; a record of an older version whose layout is still the current one
//!   stays as it is (reads accept it: [`ringwatch_proto::Record`]);
//! - a record of a newer version is counted and left exactly as it is;
//! - a record no step can read is counted and left as it is (reads skip and count it).
//!
//! The marker is set to [`MARKER_IN_PROGRESS`] before the first rewrite and to this build's
//! version after the last one (and a flush), so a crash mid-way makes the next open walk the
//! trees again; records already rewritten carry the new version byte and are passed over.
//! Nothing is ever deleted. Counts of newer records are kept under `future/<tree>`, so every
//! later start can report them without walking the trees.
//!
//! A store whose marker is an older version this build knows holds no record older than that
//! version, so a tree whose layout has not changed since then is not walked at all (unless the
//! older build counted newer records in it, which may be this build's): an upgrade reads and
//! rewrites the monitors, not years of results.

pub mod v1;
pub mod v2;
pub mod v3;
pub mod v4;

use ringwatch_proto::{
    DecodeError, Monitor, OLDEST_CURRENT_LAYOUT, RECORD_VERSION, Record, Transition, version_of,
};

use super::{Kv, StoreResult, Tree};

/// The `meta` key of the store format marker: one byte, a record version.
pub const MARKER_KEY: &[u8] = b"format";
/// The marker while a migration runs: any build that finds it walks every tree.
pub const MARKER_IN_PROGRESS: u8 = 0;
/// Records read (and at most rewritten) per atomic batch of a migration.
pub const MIGRATION_BATCH_RECORDS: usize = 1_000;
/// `meta` key prefix of the per-tree counts (be u64) of records of a newer version.
const FUTURE_PREFIX: &str = "future/";

/// Every tree whose values are versioned records. `meta` holds fixed-width integers whose
/// layout belongs to the store format (the marker), not to a record version.
pub const RECORD_TREES: [Tree; 8] = [
    Tree::Monitors,
    Tree::Results,
    Tree::States,
    Tree::Notifiers,
    Tree::Transitions,
    Tree::Deliveries,
    Tree::Definitions,
    Tree::Rollups,
];

/// Turns a record of one version into the same record one version later.
type Step = fn(&[u8]) -> Result<Vec<u8>, DecodeError>;

/// The first record version laid out like the records `tree` holds today: records of that
/// version or later (up to [`RECORD_VERSION`]) need no rewrite.
pub fn layout_since(tree: Tree) -> u8 {
    match tree {
        Tree::Monitors => Monitor::LAYOUT_SINCE,
        Tree::Transitions => Transition::LAYOUT_SINCE,
        _ => OLDEST_CURRENT_LAYOUT,
    }
}

/// Whether a record of version `v` in `tree` has the current layout.
fn is_current(tree: Tree, v: u8) -> bool {
    (layout_since(tree)..=RECORD_VERSION).contains(&v)
}

/// The step that brings a record of `tree` from version `from` to `from + 1`; `None` when
/// the tree did not exist in that version.
fn step(tree: Tree, from: u8) -> Option<Step> {
    match (from, tree) {
        (v1::VERSION, Tree::Monitors) => Some(v1::monitor),
        (v1::VERSION, Tree::Results) => Some(v1::result),
        (v1::VERSION, Tree::States) => Some(v1::state),
        (v2::VERSION, Tree::Monitors) => Some(v2::monitor),
        (v3::VERSION, Tree::Monitors) => Some(v3::monitor),
        (v4::VERSION, Tree::Monitors) => Some(v4::monitor),
        // One transition layout from version 2 to 3: one step reads both.
        (v2::VERSION | v3::VERSION, Tree::Transitions) => Some(v3::transition),
        _ => None,
    }
}

/// Brings one older record up to its tree's current layout, step by step.
fn upgrade(tree: Tree, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut bytes = bytes.to_vec();
    loop {
        match version_of(&bytes) {
            None => return Err("empty record".into()),
            Some(v) if is_current(tree, v) => return Ok(bytes),
            Some(v) => {
                let step = step(tree, v).ok_or_else(|| {
                    format!("no migration from version {v} for the {} tree", tree.name())
                })?;
                bytes = step(&bytes).map_err(|e| e.to_string())?;
            }
        }
    }
}

/// What one tree held, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeCounts {
    /// Records rewritten from an older version.
    pub migrated: u64,
    /// Records of a newer version, kept untouched.
    pub future: u64,
    /// Older records no step could read, kept untouched.
    pub unreadable: u64,
}

/// What opening found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// The marker found (`None`: a new store, or one written before markers existed).
    pub found_format: Option<u8>,
    /// Whether record trees were walked (the marker was not this build's version).
    pub walked: bool,
    /// The trees walked record by record; the others were known to be current.
    pub walked_trees: Vec<Tree>,
    /// Per record tree, in [`RECORD_TREES`] order.
    pub trees: Vec<(Tree, TreeCounts)>,
}

impl OpenReport {
    /// Records of a newer version in all trees.
    pub fn future_records(&self) -> u64 {
        self.trees.iter().map(|(_, c)| c.future).sum()
    }

    /// Records rewritten in all trees.
    pub fn migrated_records(&self) -> u64 {
        self.trees.iter().map(|(_, c)| c.migrated).sum()
    }
}

/// Brings the store to [`RECORD_VERSION`] if it is not there yet, and reports (once, in the
/// log) records it keeps but cannot read.
pub fn run(kv: &dyn Kv) -> StoreResult<OpenReport> {
    let found_format = kv
        .get(Tree::Meta, MARKER_KEY)?
        .and_then(|v| <[u8; 1]>::try_from(v.as_slice()).ok())
        .map(|[v]| v);
    let mut report = OpenReport {
        found_format,
        ..OpenReport::default()
    };
    if found_format == Some(RECORD_VERSION) {
        for tree in RECORD_TREES {
            let counts = TreeCounts {
                future: stored_future_count(kv, tree)?,
                ..TreeCounts::default()
            };
            report.trees.push((tree, counts));
        }
    } else {
        walk(kv, &mut report)?;
    }
    log(&report);
    Ok(report)
}

/// The count of newer records of `tree` the last walk left under `future/<tree>`.
fn stored_future_count(kv: &dyn Kv, tree: Tree) -> StoreResult<u64> {
    Ok(kv
        .get(Tree::Meta, future_key(tree).as_bytes())?
        .and_then(|v| Some(u64::from_be_bytes(v.as_slice().try_into().ok()?)))
        .unwrap_or(0))
}

/// Whether `tree` must be walked in a store whose marker is `found`: always, unless the
/// marker is an older version this build knows (every record is at least that version) and
/// the tree's layout has not changed since.
fn needs_walk(tree: Tree, found: Option<u8>) -> bool {
    match found {
        Some(f) if (OLDEST_CURRENT_LAYOUT..RECORD_VERSION).contains(&f) => layout_since(tree) > f,
        _ => true,
    }
}

fn walk(kv: &dyn Kv, report: &mut OpenReport) -> StoreResult<()> {
    tracing::info!(
        found = ?report.found_format,
        version = RECORD_VERSION,
        "checking the version of every stored record"
    );
    report.walked = true;
    set_marker(kv, MARKER_IN_PROGRESS)?;
    for tree in RECORD_TREES {
        // A tree the older build saw newer records in is walked anyway: those may be of this
        // build's version (a rollback, then this build again), current here, not newer.
        if !needs_walk(tree, report.found_format) && stored_future_count(kv, tree)? == 0 {
            report.trees.push((tree, TreeCounts::default()));
            continue;
        }
        report.walked_trees.push(tree);
        let counts = walk_tree(kv, tree)?;
        let key = future_key(tree).into_bytes();
        let value = (counts.future > 0).then(|| counts.future.to_be_bytes().to_vec());
        kv.apply(Tree::Meta, vec![(key, value)])?;
        report.trees.push((tree, counts));
    }
    set_marker(kv, RECORD_VERSION)
}

/// Writes the marker after making every earlier write durable, then makes it durable.
fn set_marker(kv: &dyn Kv, version: u8) -> StoreResult<()> {
    kv.flush()?;
    kv.apply(Tree::Meta, vec![(MARKER_KEY.to_vec(), Some(vec![version]))])?;
    kv.flush()
}

fn walk_tree(kv: &dyn Kv, tree: Tree) -> StoreResult<TreeCounts> {
    let mut counts = TreeCounts::default();
    let mut cursor = Vec::new();
    loop {
        let rows = kv.scan_from(tree, &cursor, MIGRATION_BATCH_RECORDS)?;
        let Some((last, _)) = rows.last() else {
            return Ok(counts);
        };
        // The smallest key after `last`.
        cursor = last.clone();
        cursor.push(0);
        let full = rows.len() == MIGRATION_BATCH_RECORDS;
        let mut writes = Vec::new();
        for (key, value) in rows {
            match version_of(&value) {
                Some(v) if is_current(tree, v) => {}
                Some(v) if v > RECORD_VERSION => counts.future += 1,
                _ => match upgrade(tree, &value) {
                    Ok(bytes) => writes.push((key, Some(bytes))),
                    Err(error) => {
                        counts.unreadable += 1;
                        tracing::debug!(tree = tree.name(), %error, "record kept unmigrated");
                    }
                },
            }
        }
        counts.migrated += writes.len() as u64;
        kv.apply(tree, writes)?;
        if !full {
            return Ok(counts);
        }
    }
}

fn future_key(tree: Tree) -> String {
    format!("{FUTURE_PREFIX}{}", tree.name())
}

/// One line per tree with something to say, once per open.
fn log(report: &OpenReport) {
    for (tree, c) in &report.trees {
        if c.migrated > 0 {
            tracing::info!(
                tree = tree.name(),
                records = c.migrated,
                version = RECORD_VERSION,
                "migrated stored records to the current version"
            );
        }
        if c.future > 0 {
            tracing::warn!(
                tree = tree.name(),
                records = c.future,
                "the store holds records written by a newer ringwatch (record version above \
                 {RECORD_VERSION}); they stay on disk untouched and are skipped until that \
                 version runs again"
            );
        }
        if c.unreadable > 0 {
            tracing::warn!(
                tree = tree.name(),
                records = c.unreadable,
                "stored records of an older version could not be migrated; they stay on \
                 disk untouched and are skipped"
            );
        }
    }
}

#[cfg(test)]
mod tests;
