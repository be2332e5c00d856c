//! The sled engine. The only file of the project that uses sled.
//!
//! sled 0.34 keeps a page cache of `cache_capacity` bytes (default 1 GiB: we set it lower) and
//! flushes its log every `FLUSH_EVERY`, which bounds what a SIGKILL can lose.
//!
//! sled 0.34.7 as published can hang for good when it truncates its file under write load
//! (the writer holds sled's segment accountant while it waits for a truncation queued behind
//! IO threads that wait for the accountant). The workspace builds a copy with the fix
//! upstream made after 0.34.7, a truncation thread of its own: `vendor/sled/RINGWATCH.md`.
//! Packed result blocks make the live data small next to the write rate, so sled truncates
//! often: `scripts/bench --history` runs at 4,000-10,000 results/s met the hang before.

use std::path::Path;

use super::{Kv, StoreError, StoreResult, Tree, Write};

/// How often sled makes writes durable in the background. A process killed with SIGKILL
/// loses at most this much of its latest writes.
const FLUSH_EVERY_MS: u64 = 500;

pub struct SledKv {
    db: sled::Db,
    monitors: sled::Tree,
    results: sled::Tree,
    states: sled::Tree,
    meta: sled::Tree,
    notifiers: sled::Tree,
    transitions: sled::Tree,
    deliveries: sled::Tree,
    definitions: sled::Tree,
    rollups: sled::Tree,
}

fn engine(e: sled::Error) -> StoreError {
    StoreError::Engine(e.to_string())
}

/// Directories 0700 and files 0600, from `dir` down (Unix; elsewhere nothing).
fn restrict(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                restrict(&entry.path())?;
            } else {
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
}

impl SledKv {
    pub fn open(dir: &Path, cache_bytes: u64) -> StoreResult<Self> {
        let open_err = |reason: String| StoreError::Open {
            path: dir.display().to_string(),
            reason,
        };
        std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        // The store holds secrets (monitor headers, webhook URLs, SMTP passwords): only the
        // node's user may enter the directory. Files sled creates later sit behind it.
        restrict(dir).map_err(|e| open_err(format!("cannot restrict permissions: {e}")))?;
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(FLUSH_EVERY_MS))
            .open()
            .map_err(|e| open_err(e.to_string()))?;
        restrict(dir).map_err(|e| open_err(format!("cannot restrict permissions: {e}")))?;
        let tree = |t: Tree| db.open_tree(t.name()).map_err(|e| open_err(e.to_string()));
        Ok(SledKv {
            monitors: tree(Tree::Monitors)?,
            results: tree(Tree::Results)?,
            states: tree(Tree::States)?,
            meta: tree(Tree::Meta)?,
            notifiers: tree(Tree::Notifiers)?,
            transitions: tree(Tree::Transitions)?,
            deliveries: tree(Tree::Deliveries)?,
            definitions: tree(Tree::Definitions)?,
            rollups: tree(Tree::Rollups)?,
            db,
        })
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        match tree {
            Tree::Monitors => &self.monitors,
            Tree::Results => &self.results,
            Tree::States => &self.states,
            Tree::Meta => &self.meta,
            Tree::Notifiers => &self.notifiers,
            Tree::Transitions => &self.transitions,
            Tree::Deliveries => &self.deliveries,
            Tree::Definitions => &self.definitions,
            Tree::Rollups => &self.rollups,
        }
    }
}

fn pair(item: sled::Result<(sled::IVec, sled::IVec)>) -> StoreResult<(Vec<u8>, Vec<u8>)> {
    let (k, v) = item.map_err(engine)?;
    Ok((k.to_vec(), v.to_vec()))
}

impl Kv for SledKv {
    fn get(&self, tree: Tree, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .tree(tree)
            .get(key)
            .map_err(engine)?
            .map(|v| v.to_vec()))
    }

    fn apply(&self, tree: Tree, writes: Vec<Write>) -> StoreResult<()> {
        let mut batch = sled::Batch::default();
        for (k, v) in writes {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        self.tree(tree).apply_batch(batch).map_err(engine)
    }

    fn range(
        &self,
        tree: Tree,
        from: &[u8],
        to: &[u8],
        reverse: bool,
        limit: usize,
    ) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>> {
        if from >= to {
            return Ok(Vec::new());
        }
        let r = self.tree(tree).range(from..to);
        if reverse {
            r.rev().take(limit).map(pair).collect()
        } else {
            r.take(limit).map(pair).collect()
        }
    }

    fn scan(&self, tree: Tree) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>> {
        self.tree(tree).iter().map(pair).collect()
    }

    fn scan_from(
        &self,
        tree: Tree,
        from: &[u8],
        limit: usize,
    ) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>> {
        self.tree(tree)
            .range(from..)
            .take(limit)
            .map(pair)
            .collect()
    }

    fn flush(&self) -> StoreResult<()> {
        self.db.flush().map(|_| ()).map_err(engine)
    }

    fn disk_bytes(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}
