//! The in-memory twin of the sled engine, for tests: same ordering, no durability.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use super::{Kv, StoreResult, Tree, Write};

/// One ordered map per tree.
type Trees = HashMap<Tree, BTreeMap<Vec<u8>, Vec<u8>>>;

#[derive(Default)]
pub struct MemoryKv {
    trees: RwLock<Trees>,
}

impl Kv for MemoryKv {
    fn get(&self, tree: Tree, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let trees = self.trees.read().unwrap_or_else(|p| p.into_inner());
        Ok(trees.get(&tree).and_then(|t| t.get(key).cloned()))
    }

    fn apply(&self, tree: Tree, writes: Vec<Write>) -> StoreResult<()> {
        let mut trees = self.trees.write().unwrap_or_else(|p| p.into_inner());
        let t = trees.entry(tree).or_default();
        for (k, v) in writes {
            match v {
                Some(v) => t.insert(k, v),
                None => t.remove(&k),
            };
        }
        Ok(())
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
        let trees = self.trees.read().unwrap_or_else(|p| p.into_inner());
        let Some(t) = trees.get(&tree) else {
            return Ok(Vec::new());
        };
        let r = t.range(from.to_vec()..to.to_vec());
        let clone = |(k, v): (&Vec<u8>, &Vec<u8>)| (k.clone(), v.clone());
        Ok(if reverse {
            r.rev().take(limit).map(clone).collect()
        } else {
            r.take(limit).map(clone).collect()
        })
    }

    fn scan(&self, tree: Tree) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let trees = self.trees.read().unwrap_or_else(|p| p.into_inner());
        Ok(trees
            .get(&tree)
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }

    fn scan_from(
        &self,
        tree: Tree,
        from: &[u8],
        limit: usize,
    ) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let trees = self.trees.read().unwrap_or_else(|p| p.into_inner());
        Ok(trees
            .get(&tree)
            .map(|t| {
                t.range(from.to_vec()..)
                    .take(limit)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn flush(&self) -> StoreResult<()> {
        Ok(())
    }

    fn disk_bytes(&self) -> u64 {
        0
    }
}
