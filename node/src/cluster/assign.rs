//! Which node probes which monitor: rendezvous (highest-random-weight) hashing.
//!
//! Every node computes the owner of a monitor from its own view of the live members, with no
//! coordination: `owner(id) = argmax over members n of hash(id, n)`. Nodes that see the same
//! members agree; a join or a loss moves only the monitors whose top choice changed (about
//! 1/N of them), and a node's loss moves only that node's monitors.

use crate::hash::{mix, stable_hash};

/// The weight of `node` for monitor `id`.
fn weight(id: &str, node: &str) -> u64 {
    mix(stable_hash(id.as_bytes()) ^ stable_hash(node.as_bytes()).rotate_left(17))
}

/// The member that should probe `id`, or `None` if there are no members. Ties (all but
/// impossible) go to the smaller name, so every node still agrees.
pub fn owner<'a>(id: &str, members: &'a [String]) -> Option<&'a str> {
    members
        .iter()
        .map(|n| (weight(id, n), std::cmp::Reverse(n.as_str())))
        .max()
        .map(|(_, std::cmp::Reverse(n))| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    fn ids() -> Vec<String> {
        (0..3_000).map(|i| format!("m-{i:016x}")).collect()
    }

    #[test]
    fn three_nodes_share_evenly() {
        let members = names(&["n1", "n2", "n3"]);
        for node in &members {
            let owned = ids()
                .iter()
                .filter(|id| owner(id, &members) == Some(node))
                .count();
            let share = owned as f64 / 3_000.0;
            assert!((0.28..=0.39).contains(&share), "{node} owns {share}");
        }
    }

    #[test]
    fn a_fourth_node_moves_at_most_30_percent() {
        let three = names(&["n1", "n2", "n3"]);
        let four = names(&["n1", "n2", "n3", "n4"]);
        let moved = ids()
            .iter()
            .filter(|id| owner(id, &three) != owner(id, &four))
            .count();
        assert!(moved as f64 / 3_000.0 <= 0.30, "moved {moved}");
        // Everything that moved went to the new node.
        assert!(
            ids().iter().all(|id| {
                owner(id, &three) == owner(id, &four) || owner(id, &four) == Some("n4")
            })
        );
    }

    #[test]
    fn removing_a_node_moves_only_its_monitors() {
        let three = names(&["n1", "n2", "n3"]);
        let two = names(&["n1", "n3"]);
        for id in ids() {
            let before = owner(&id, &three).unwrap();
            if before != "n2" {
                assert_eq!(owner(&id, &two), Some(before));
            }
        }
    }

    #[test]
    fn order_of_members_does_not_matter() {
        let a = names(&["n1", "n2", "n3"]);
        let b = names(&["n3", "n1", "n2"]);
        assert!(ids().iter().all(|id| owner(id, &a) == owner(id, &b)));
        assert_eq!(owner("x", &[]), None);
    }
}
