//! Which node probes which monitor, and who gives the second opinion: the one place these are
//! decided. Everything else asks an [`Ownership`].
//!
//! Rendezvous (highest-random-weight) hashing: every node computes the owner of a monitor
//! from its own view of the live members, with no coordination: `owner(id) = argmax over
//! members n of hash(id, n)`. Nodes that see the same members agree; a join or a loss moves
//! only the monitors whose top choice changed (about 1/N of them), and a node's loss moves
//! only that node's monitors.
//!
//! The second opinion before a monitor goes down comes from another zone when a live node of
//! another zone exists: a failure seen from two locations is not one location's network.
//!
//! A monitor with `zones` is probed once in each of its zones, by the top node among that
//! zone's live nodes. Its status is still decided (from the zones' verdicts, see
//! [`crate::domain::zones`]) by its owner among all live nodes, and only on a side of the
//! cluster that sees a majority of the zones ([`Ownership::decides`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use ringwatch_proto::Monitor;

use crate::domain::hash::{mix, stable_hash};
use crate::domain::zones;

/// The weight of `node` for monitor `id`.
fn weight(id: &str, node: &str) -> u64 {
    mix(stable_hash(id.as_bytes()) ^ stable_hash(node.as_bytes()).rotate_left(17))
}

/// The member that should probe `id`, or `None` if there are no members. Ties (all but
/// impossible) go to the smaller name, so every node still agrees.
fn owner<'a>(id: &str, members: &'a [String]) -> Option<&'a str> {
    top(id, members.iter().map(String::as_str))
}

fn top<'a>(id: &str, members: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    members
        .map(|n| (weight(id, n), std::cmp::Reverse(n)))
        .max()
        .map(|(_, std::cmp::Reverse(n))| n)
}

/// The zones as one node sees them: its own, each alive member's, which have a live node, every
/// zone of the cluster, and whether this side of the cluster decides. Made once per membership
/// change; cheap to clone.
#[derive(Debug, Clone)]
pub struct ZoneView {
    my_zone: Arc<str>,
    /// The zone of each alive member, by name (empty when not known).
    zones: Arc<BTreeMap<String, String>>,
    /// The zones with a live node, this node's included.
    alive_zones: Arc<BTreeSet<String>>,
    /// Every zone of the cluster, alive or not, this node's included.
    known_zones: Arc<BTreeSet<String>>,
    /// [`zones::decides`] of the two.
    decides: bool,
}

impl ZoneView {
    /// The view of a node of `my_zone` whose alive members have `zones` (by name) and whose
    /// cluster also has the zones `known` (of members known dead).
    pub fn new(my_zone: &str, zones: BTreeMap<String, String>, known: BTreeSet<String>) -> Self {
        let mut alive: BTreeSet<String> = zones.values().cloned().collect();
        alive.insert(my_zone.to_owned());
        let mut all = alive.clone();
        all.extend(known);
        ZoneView {
            my_zone: my_zone.into(),
            zones: Arc::new(zones),
            decides: zones::decides(&alive, &all),
            alive_zones: Arc::new(alive),
            known_zones: Arc::new(all),
        }
    }
}

impl Default for ZoneView {
    /// A lone node of the default zone.
    fn default() -> Self {
        ZoneView::new(zones::DEFAULT_ZONE, BTreeMap::new(), BTreeSet::new())
    }
}

/// One node's view of who owns what: the alive members (itself included), its own name, and
/// whether it has settled (a node that joins probes nothing until it has heard the cluster,
/// rather than everything).
#[derive(Debug, Clone)]
pub struct Ownership {
    alive: Arc<Vec<String>>,
    zones: ZoneView,
    me: String,
    settled: bool,
}

impl Ownership {
    pub fn new(alive: Arc<Vec<String>>, me: impl Into<String>, settled: bool) -> Self {
        Ownership {
            alive,
            zones: ZoneView::default(),
            me: me.into(),
            settled,
        }
    }

    /// The same view, knowing the zones.
    pub fn with_zones(mut self, zones: ZoneView) -> Self {
        self.zones = zones;
        self
    }

    /// The zones with a live node, this node's included.
    pub fn alive_zones(&self) -> &Arc<BTreeSet<String>> {
        &self.zones.alive_zones
    }

    /// Every zone of the cluster, alive or not, this node's included.
    pub fn known_zones(&self) -> &Arc<BTreeSet<String>> {
        &self.zones.known_zones
    }

    /// Whether this side of the cluster decides status changes and sends notifications: it
    /// sees a majority of the cluster's zones (see [`zones::decides`]).
    pub fn decides(&self) -> bool {
        self.zones.decides
    }

    /// The node of `zone` that probes monitor `id` there, if `zone` has a live node.
    pub fn zone_owner(&self, id: &str, zone: &str) -> Option<&str> {
        let members = self
            .alive
            .iter()
            .map(String::as_str)
            .filter(|n| self.zone_of(n) == zone);
        top(id, members)
    }

    /// The zone of alive member `name` (this node's own zone for itself).
    fn zone_of(&self, name: &str) -> &str {
        if name == self.me {
            return &self.zones.my_zone;
        }
        self.zones
            .zones
            .get(name)
            .map_or(zones::DEFAULT_ZONE, String::as_str)
    }

    /// The alive members, sorted, this node included.
    pub fn alive(&self) -> &[String] {
        &self.alive
    }

    /// Whether this node has heard the cluster (or had no one to wait for): before that it
    /// neither probes nor sends.
    pub fn settled(&self) -> bool {
        self.settled
    }

    /// The node that probes monitor `id` now, if any node is alive.
    pub fn owner(&self, id: &str) -> Option<&str> {
        owner(id, &self.alive)
    }

    /// Whether this node decides monitor `id`'s status and sends its notifications: it owns
    /// it and its side of the cluster decides ([`Ownership::decides`]).
    pub fn is_mine(&self, id: &str) -> bool {
        self.owner(id) == Some(self.me.as_str()) && self.decides()
    }

    /// Whether this node should run `m`'s checks now: settled, the monitor is probed at all,
    /// and it is ours (or no member is known yet: a lone node probes everything). A monitor
    /// with `zones` is ours when our zone is one of them and we are our zone's top node.
    pub fn probes(&self, m: &Monitor) -> bool {
        if !self.settled || !m.is_probed() {
            return false;
        }
        match &m.zones {
            None => self.owner(&m.id).is_none_or(|o| o == self.me),
            Some(z) => {
                z.includes(&self.zones.my_zone)
                    && self
                        .zone_owner(&m.id, &self.zones.my_zone)
                        .is_none_or(|o| o == self.me)
            }
        }
    }

    /// The node to re-check monitor `id` before it goes down: among the live nodes of other
    /// zones if there are any, else among the other nodes, the one that would own it if this
    /// node were gone, so it is stable and spreads the work. `None` when alone.
    pub fn second_opinion(&self, id: &str) -> Option<&str> {
        let others = || {
            self.alive
                .iter()
                .map(String::as_str)
                .filter(|n| *n != self.me)
        };
        let zone_of = |n: &str| self.zones.zones.get(n);
        let mine = zone_of(&self.me);
        let elsewhere = others().filter(|n| mine.is_some_and(|z| zone_of(n) != Some(z)));
        top(id, elsewhere).or_else(|| top(id, others()))
    }

    /// How many of `ids` each alive member owns, in the order of [`Ownership::alive`].
    pub fn counts<'a>(&self, ids: impl Iterator<Item = &'a str>) -> Vec<usize> {
        let mut counts = vec![0; self.alive.len()];
        for id in ids {
            if let Some(o) = self.owner(id)
                && let Ok(i) = self.alive.binary_search_by(|n| n.as_str().cmp(o))
            {
                counts[i] += 1;
            }
        }
        counts
    }
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

    fn view(members: &[&str], me: &str) -> Ownership {
        let mut alive = names(members);
        alive.sort();
        Ownership::new(Arc::new(alive), me, true)
    }

    #[test]
    fn one_owner_per_monitor_and_the_second_opinion_is_someone_else() {
        let n1 = view(&["n1", "n2", "n3"], "n1");
        let n2 = view(&["n1", "n2", "n3"], "n2");
        for id in ids().iter().take(300) {
            assert_eq!(n1.owner(id), n2.owner(id), "views agree");
            assert!(!(n1.is_mine(id) && n2.is_mine(id)));
            let second = n1.second_opinion(id).expect("two others");
            assert_ne!(second, "n1");
            if n1.is_mine(id) {
                // The peer asked is the one that would own it without us.
                assert_eq!(Some(second), owner(id, &names(&["n2", "n3"])));
            }
        }
        assert_eq!(view(&["n1"], "n1").second_opinion("m"), None);
    }

    fn zone_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(n, z)| (n.to_string(), z.to_string()))
            .collect()
    }

    #[test]
    fn a_zoned_monitor_is_probed_once_in_each_of_its_zones() {
        // Zones a (a1, a2), b (b1), c (c1): every node sees all four.
        let pairs = [("a1", "a"), ("a2", "a"), ("b1", "b"), ("c1", "c")];
        let members = ["a1", "a2", "b1", "c1"];
        let known = BTreeSet::from(["a", "b", "c"].map(str::to_owned));
        let node = |me: &str, alive: &[&str]| {
            let zones: Vec<_> = pairs
                .iter()
                .filter(|(n, _)| alive.contains(n))
                .copied()
                .collect();
            let zone = pairs.iter().find(|(n, _)| *n == me).unwrap().1;
            view(alive, me).with_zones(ZoneView::new(zone, zone_map(&zones), known.clone()))
        };
        let mut all = Monitor::new("m".into(), "http://x/".into());
        all.zones = Some(ringwatch_proto::Zones::All);
        let mut only_b = all.clone();
        only_b.zones = Some(ringwatch_proto::Zones::Only(vec!["b".into()]));
        for id in ids().iter().take(200) {
            all.id = id.clone();
            only_b.id = id.clone();
            let probing = |m: &Monitor, alive: &[&str]| -> Vec<String> {
                alive
                    .iter()
                    .filter(|me| node(me, alive).probes(m))
                    .map(|s| s.to_string())
                    .collect()
            };
            let p = probing(&all, &members);
            assert_eq!(p.len(), 3, "one per zone: {p:?}");
            assert!(p.contains(&"b1".into()) && p.contains(&"c1".into()));
            assert_eq!(probing(&only_b, &members), ["b1"]);
            // a's prober dies: the other node of a takes over; the others stay.
            let dead = if p.contains(&"a1".into()) { "a1" } else { "a2" };
            let left: Vec<&str> = members.iter().copied().filter(|n| *n != dead).collect();
            let q = probing(&all, &left);
            assert_eq!(q.len(), 3, "{q:?}");
            assert!(q.iter().all(|n| n != dead));
            // c's only node dies: a and b still probe, nobody probes for c.
            let no_c: Vec<&str> = members.iter().copied().filter(|n| *n != "c1").collect();
            assert_eq!(probing(&all, &no_c).len(), 2);
        }
        // The decider is the global owner, on the side that sees most zones only.
        let cut_c = node("c1", &["c1"]);
        assert!(
            !cut_c.decides() && !cut_c.is_mine("m-1"),
            "c alone: 1 of 3 zones"
        );
        let ab = ["a1", "a2", "b1"];
        let deciders = ab.iter().filter(|me| node(me, &ab).is_mine("m-1")).count();
        assert_eq!(deciders, 1);
    }

    #[test]
    fn the_second_opinion_comes_from_another_zone_when_there_is_one() {
        let eu2_us1 = zone_map(&[("n1", "eu"), ("n2", "eu"), ("n3", "us")]);
        let known = BTreeSet::from(["eu".to_owned(), "us".to_owned()]);
        let n1 = view(&["n1", "n2", "n3"], "n1").with_zones(ZoneView::new(
            "eu",
            eu2_us1.clone(),
            known.clone(),
        ));
        let n3 =
            view(&["n1", "n2", "n3"], "n3").with_zones(ZoneView::new("us", eu2_us1, known.clone()));
        for id in ids().iter().take(300) {
            assert_eq!(n1.second_opinion(id), Some("n3"), "eu asks us");
            let asked = n3.second_opinion(id).expect("two others");
            assert!(["n1", "n2"].contains(&asked), "us asks eu");
        }
        // Alone in its zone's view of others (the other zone dead): another node of its own.
        let eu_only = zone_map(&[("n1", "eu"), ("n2", "eu")]);
        let n1 = view(&["n1", "n2"], "n1").with_zones(ZoneView::new("eu", eu_only, known));
        assert_eq!(n1.second_opinion("m-1"), Some("n2"));
        // No zones known: as before.
        let plain = view(&["n1", "n2", "n3"], "n1");
        for id in ids().iter().take(300) {
            assert_eq!(plain.second_opinion(id), owner(id, &names(&["n2", "n3"])));
        }
    }

    #[test]
    fn probes_only_its_own_active_monitors_once_settled() {
        let mut m = Monitor::new("m-1".into(), "http://x/".into());
        let me = view(&["n1", "n2"], "n1");
        let theirs = view(&["n1", "n2"], "n2");
        assert_ne!(
            me.probes(&m),
            theirs.probes(&m),
            "exactly one of two probes it"
        );
        let lone = Ownership::new(Arc::new(Vec::new()), "n1", true);
        assert!(lone.probes(&m), "no member known yet: probe");
        let unsettled = Ownership::new(Arc::new(names(&["n1"])), "n1", false);
        assert!(!unsettled.probes(&m));
        m.active = false;
        assert!(!lone.probes(&m), "a paused monitor is probed by nobody");
        let all = ids();
        let counts = view(&["n1", "n2", "n3"], "n1").counts(all.iter().map(String::as_str));
        assert_eq!(counts.iter().sum::<usize>(), all.len());
    }
}
