//! Clusters of `ringwatch node` processes: n1 first, the others joined through it
//! ([`Cluster`]); each node's view of the membership from `GET /api/cluster`
//! ([`ClusterView`]); and probes counted per monitor at a [`Target`], where every monitor of a
//! test gets its own path (`/m/0`, `/m/1`, ...) so that the target tells monitors apart.
//!
//! A node that is killed or SIGSTOPped through the cluster is *down*: the helpers never ask it
//! anything (a stopped process would hold a request until the client times out).

use crate::api::{Api, Definition, Monitor, ProbeResult};
use crate::node::{NodeProc, TestDir};
use crate::target::Target;
use crate::{measurement_window_until, now_ms, secs, wait_for};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long [`Cluster::start`] waits for every node to list every other one alive: far above
/// what a healthy cluster needs (the SPEC-level bound, 5 s, is asserted by the tests).
pub const CONVERGE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a killed node may take to be reaped.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// A node's view of the cluster, `GET /api/cluster`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClusterView {
    /// The answering node.
    pub node: String,
    /// Names of the alive members, sorted, the answering node included.
    pub alive: Vec<String>,
    pub nodes: Vec<MemberView>,
}

/// One member in a [`ClusterView`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MemberView {
    pub name: String,
    pub http: String,
    pub cluster: String,
    pub alive: bool,
    #[serde(rename = "self")]
    pub is_self: bool,
    pub last_heard_ms: u64,
    pub monitors_owned: usize,
}

impl ClusterView {
    pub fn member(&self, name: &str) -> Option<&MemberView> {
        self.nodes.iter().find(|m| m.name == name)
    }
}

impl Api {
    /// `GET /api/cluster`; asserts 200.
    pub async fn cluster_view(&self) -> ClusterView {
        self.get("/api/cluster").await.expect_status(200).json()
    }

    /// `POST /api/debug/partition {"block": names}` (nodes started with
    /// `--allow-fault-injection`); asserts a 2xx answer.
    pub async fn block_peers(&self, names: &[&str]) {
        let resp = self
            .post_json("/api/debug/partition", &json!({ "block": names }))
            .await;
        assert!(
            (200..300).contains(&resp.status),
            "partition refused: {}",
            resp.describe()
        );
    }
}

/// `/m/0` .. `/m/{n-1}`: one target path per monitor.
pub fn monitor_paths(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("/m/{i}")).collect()
}

/// The target path a monitor probes (its URL without scheme and authority).
pub fn path_of(monitor: &Monitor) -> String {
    let rest = monitor
        .url
        .split_once("://")
        .map_or(monitor.url.as_str(), |(_, rest)| rest);
    rest.find('/')
        .map_or("/".to_owned(), |i| rest[i..].to_owned())
}

/// Nodes `n1`, `n2`, ... of one test, sharing one [`TestDir`].
pub struct Cluster {
    dir: Arc<TestDir>,
    /// Arguments every node gets, before its `--join`s.
    args: Vec<String>,
    nodes: Vec<NodeProc>,
    /// Killed or stopped: never asked anything.
    down: BTreeSet<String>,
    /// The token [`Cluster::api`] sends, for nodes with auth on.
    token: Option<String>,
}

impl Cluster {
    /// Starts `n` nodes (n1, then n2.. joined through n1) and waits until every node lists
    /// all of them alive.
    pub async fn start(n: usize) -> Cluster {
        Cluster::start_with(n, &[]).await
    }

    /// [`Cluster::start`] with `args` for every node (e.g. `--heartbeat-timeout 2s`); `{name}`
    /// in an argument stands for the node's name.
    pub async fn start_with(n: usize, args: &[&str]) -> Cluster {
        let cluster = Cluster::launch(n, args).await;
        cluster.wait_converged(CONVERGE_TIMEOUT).await;
        cluster
    }

    /// Starts `n` nodes like [`Cluster::start_with`] but returns as soon as each serves
    /// HTTP, without waiting for them to find each other.
    pub async fn launch(n: usize, args: &[&str]) -> Cluster {
        Cluster::launch_as(n, args, None).await
    }

    /// [`Cluster::start_with`] for nodes with auth on: every API call of the cluster's own
    /// (and [`Cluster::api`]) sends `token`.
    pub async fn start_authenticated(n: usize, args: &[&str], token: &str) -> Cluster {
        let cluster = Cluster::launch_as(n, args, Some(token)).await;
        cluster.wait_converged(CONVERGE_TIMEOUT).await;
        cluster
    }

    /// `n` nodes with auth on, each given `admin` in a file as a cluster is bootstrapped (and
    /// `args`); [`Cluster::api`] sends it. The file's directory lives as long as the cluster.
    pub async fn start_with_admin(
        n: usize,
        args: &[&str],
        admin: &str,
    ) -> (Cluster, tempfile::TempDir) {
        let files = tempfile::tempdir().expect("a directory for the admin token");
        let path = files.path().join("admin-token");
        std::fs::write(&path, format!("{admin}\n")).expect("write the admin token");
        let path = path.display().to_string();
        let mut all = vec!["--auth", "on", "--admin-token-file", path.as_str()];
        all.extend_from_slice(args);
        (Cluster::start_authenticated(n, &all, admin).await, files)
    }

    async fn launch_as(n: usize, args: &[&str], token: Option<&str>) -> Cluster {
        assert!(n >= 1, "a cluster has at least one node");
        let mut cluster = Cluster {
            dir: TestDir::new(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            nodes: Vec::new(),
            down: BTreeSet::new(),
            token: token.map(str::to_owned),
        };
        cluster.add("n1", &[]).await;
        for i in 2..=n {
            cluster.add(&format!("n{i}"), &["n1"]).await;
        }
        cluster
    }

    /// Starts a node named `name` joined through the nodes `through` (their cluster addresses)
    /// and returns when it serves HTTP.
    pub async fn add(&mut self, name: &str, through: &[&str]) -> &NodeProc {
        assert!(
            self.nodes.iter().all(|n| n.name() != name),
            "node {name} exists already"
        );
        let args = self.args_joining(name, through);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let node = NodeProc::start_in(&self.dir, name, &args).await;
        self.nodes.push(node);
        self.nodes.last().expect("just pushed")
    }

    pub fn node(&self, name: &str) -> &NodeProc {
        self.nodes
            .iter()
            .find(|n| n.name() == name)
            .unwrap_or_else(|| panic!("no node {name} in this cluster"))
    }

    fn node_mut(&mut self, name: &str) -> &mut NodeProc {
        self.nodes
            .iter_mut()
            .find(|n| n.name() == name)
            .unwrap_or_else(|| panic!("no node {name} in this cluster"))
    }

    /// The API of node `name` (with the cluster's token, if it has one).
    pub fn api(&self, name: &str) -> Api {
        let api = self.node(name).api();
        match &self.token {
            Some(token) => api.with_token(token),
            None => api,
        }
    }

    /// The API of node `name` without any token.
    pub fn anonymous_api(&self, name: &str) -> Api {
        self.node(name).api()
    }

    /// Names of all nodes ever started, in start order.
    pub fn names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name().to_owned()).collect()
    }

    /// Names of the nodes neither killed nor stopped, sorted (as `alive` lists them).
    pub fn up(&self) -> Vec<String> {
        let mut up: Vec<String> = self
            .names()
            .into_iter()
            .filter(|n| !self.down.contains(n))
            .collect();
        up.sort();
        up
    }

    /// kill -9 of `name`; returns the instant just before the signal, once the process has
    /// been reaped.
    pub async fn kill(&mut self, name: &str) -> Instant {
        let node = self.node_mut(name);
        let at = Instant::now();
        node.sigkill();
        node.wait_exit(EXIT_TIMEOUT)
            .await
            .unwrap_or_else(|| panic!("{name} still running {EXIT_TIMEOUT:?} after kill -9"));
        self.down.insert(name.to_owned());
        at
    }

    /// SIGSTOP of `name`; returns the instant just before the signal.
    pub fn pause(&mut self, name: &str) -> Instant {
        let at = Instant::now();
        self.node_mut(name).sigstop();
        self.down.insert(name.to_owned());
        at
    }

    /// SIGCONT of a paused `name`.
    pub fn resume(&mut self, name: &str) {
        self.node_mut(name).sigcont();
        self.down.remove(name);
    }

    /// Restarts `name` with its data dir (new ports), joined through every other up node, and
    /// returns when it serves HTTP.
    pub async fn restart(&mut self, name: &str) {
        let others: Vec<String> = self.up().into_iter().filter(|n| n != name).collect();
        let others: Vec<&str> = others.iter().map(String::as_str).collect();
        let args = self.args_joining(name, &others);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.node_mut(name).restart_with(&args).await;
        self.down.remove(name);
    }

    /// The cluster's arguments for node `name` (each `{name}` in them replaced by it, e.g.
    /// `--tls-cert-file DIR/{name}.crt`), then a `--join` per node of `through`.
    fn args_joining(&self, name: &str, through: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = self
            .args
            .iter()
            .map(|a| a.replace("{name}", name))
            .collect();
        for name in through {
            args.push("--join".to_owned());
            args.push(self.node(name).cluster_addr().to_string());
        }
        args
    }

    /// Every up node's view.
    pub async fn views(&self) -> Vec<ClusterView> {
        let mut views = Vec::new();
        for name in self.up() {
            views.push(self.api(&name).cluster_view().await);
        }
        views
    }

    /// Waits until every up node lists exactly the up nodes alive.
    pub async fn wait_converged(&self, timeout: Duration) {
        let up = self.up();
        wait_for(
            &format!("every up node to list exactly {up:?} alive"),
            timeout,
            async || {
                let views = self.views().await;
                if views.iter().all(|v| v.alive == up) {
                    Ok(())
                } else {
                    Err(describe_views(&views))
                }
            },
        )
        .await;
    }

    /// Waits until each `(node, alive)` of `expect` holds: that node lists exactly `alive`
    /// (sorted) alive. For partitions, where the sides disagree.
    pub async fn wait_views(&self, expect: &[(&str, &[&str])], timeout: Duration) {
        wait_for(&format!("views {expect:?}"), timeout, async || {
            let mut seen = Vec::new();
            for (name, alive) in expect {
                let view = self.api(name).cluster_view().await;
                if view.alive != *alive {
                    seen.push(view);
                }
            }
            if seen.is_empty() {
                Ok(())
            } else {
                Err(describe_views(&seen))
            }
        })
        .await;
    }

    /// Creates monitors on `on`, one per path of `target`, probed every `interval_secs`;
    /// returns them in the order of `paths`.
    pub async fn create_monitors(
        &self,
        on: &str,
        target: &Target,
        paths: &[String],
        interval_secs: u64,
    ) -> Vec<Monitor> {
        let bodies: Vec<Value> = paths
            .iter()
            .map(|p| json!({ "url": target.url(p), "interval_secs": interval_secs, "name": p }))
            .collect();
        let created = self.api(on).create_monitors(&bodies).await;
        assert_eq!(
            created.len(),
            paths.len(),
            "bulk create answered {created:?}"
        );
        created
    }

    /// `monitor id -> owner` as node `on` lists it (`None` for a monitor without owner).
    pub async fn owners(&self, on: &str) -> BTreeMap<String, Option<String>> {
        self.api(on)
            .list_monitors()
            .await
            .into_iter()
            .map(|m| (m.id, m.owner))
            .collect()
    }

    /// Waits until every up node lists the monitors `ids`, each owned by an up node, with the
    /// same owner everywhere; returns `id -> owner`.
    pub async fn wait_owners_agree(
        &self,
        ids: &[String],
        timeout: Duration,
    ) -> BTreeMap<String, String> {
        let up = self.up();
        wait_for(
            &format!(
                "every up node of {up:?} to agree on the owners of {} monitors, all up",
                ids.len()
            ),
            timeout,
            async || {
                let mut agreed: Option<BTreeMap<String, String>> = None;
                for name in &up {
                    let owners = self.owners(name).await;
                    let mut mine = BTreeMap::new();
                    for id in ids {
                        match owners.get(id) {
                            Some(Some(owner)) if up.contains(owner) => {
                                mine.insert(id.clone(), owner.clone());
                            }
                            other => {
                                return Err(format!("{name} lists {id} with owner {other:?}"));
                            }
                        }
                    }
                    match &agreed {
                        Some(first) if *first != mine => {
                            return Err(format!(
                                "{name} disagrees: {:?} vs {:?}",
                                count_by_owner(&mine),
                                count_by_owner(first)
                            ));
                        }
                        Some(_) => {}
                        None => agreed = Some(mine),
                    }
                }
                agreed.ok_or_else(|| "no node is up".to_owned())
            },
        )
        .await
    }

    /// Node `name`'s `POST /api/debug/partition`.
    pub async fn block(&self, name: &str, peers: &[&str]) {
        self.api(name).block_peers(peers).await;
    }

    /// Cuts all traffic between the nodes of `a` and those of `b`, both ways.
    pub async fn partition(&self, a: &[&str], b: &[&str]) {
        for name in a {
            self.block(name, b).await;
        }
        for name in b {
            self.block(name, a).await;
        }
    }

    /// Lifts every block on every up node.
    pub async fn heal(&self) {
        for name in self.up() {
            self.block(&name, &[]).await;
        }
    }
}

/// `owner -> monitors owned`.
pub fn count_by_owner(owners: &BTreeMap<String, String>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for owner in owners.values() {
        *counts.entry(owner.clone()).or_insert(0) += 1;
    }
    counts
}

/// The owner of the most monitors (the smaller name on a tie).
pub fn busiest(owners: &BTreeMap<String, String>) -> String {
    let counts = count_by_owner(owners);
    let most = counts.values().copied().max().expect("some owner");
    counts
        .into_iter()
        .find(|(_, n)| *n == most)
        .map(|(name, _)| name)
        .expect("the max is someone's")
}

/// The paths of the monitors `node` owns; `ids` and `paths` are parallel.
pub fn paths_owned_by(
    owners: &BTreeMap<String, String>,
    ids: &[String],
    paths: &[String],
    node: &str,
) -> Vec<String> {
    ids.iter()
        .zip(paths)
        .filter(|(id, _)| owners.get(*id).is_some_and(|o| o == node))
        .map(|(_, path)| path.clone())
        .collect()
}

/// One line per view: who answers, who it sees alive.
pub fn describe_views(views: &[ClusterView]) -> String {
    views
        .iter()
        .map(|v| format!("{} sees {:?}", v.node, v.alive))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Waits until every path of `paths` has a request at `target` at or after `from`; returns
/// the first such arrival of each path.
pub async fn wait_all_probed_since(
    target: &Target,
    paths: &[String],
    from: Instant,
    timeout: Duration,
) -> BTreeMap<String, Instant> {
    wait_for(
        &format!("a probe of each of {} paths", paths.len()),
        timeout,
        async || {
            let mut firsts = BTreeMap::new();
            let mut missing = Vec::new();
            for path in paths {
                match target.first_hit_since(path, from) {
                    Some(at) => {
                        firsts.insert(path.clone(), at);
                    }
                    None => missing.push(path.as_str()),
                }
            }
            if missing.is_empty() {
                Ok(firsts)
            } else {
                Err(format!("not probed yet: {missing:?}"))
            }
        },
    )
    .await
}

/// Probe counts a window of `window` allows at `min_per_s..=max_per_s` probes per second,
/// rounded inwards (never tighter than the rates).
pub fn allowed_probes(window: Duration, min_per_s: f64, max_per_s: f64) -> (usize, usize) {
    // Rates in milli-probes per second, so that 0.8 * 5 s is exactly 4.
    let window_ms = window.as_millis();
    let per_ms = |rate: f64| (rate * 1000.0).round() as u128 * window_ms;
    let lo = per_ms(min_per_s).div_ceil(1_000_000);
    let hi = per_ms(max_per_s) / 1_000_000;
    (lo as usize, hi as usize)
}

/// Lets the window `[from, from + window)` pass, then asserts that every path got between
/// `min_per_s` and `max_per_s` probes per second in it (`None`: no lower bound).
pub async fn assert_probe_rates(
    target: &Target,
    paths: &[String],
    from: Instant,
    window: Duration,
    min_per_s: Option<f64>,
    max_per_s: f64,
) {
    let to = from + window;
    measurement_window_until(to).await;
    let (lo, hi) = allowed_probes(window, min_per_s.unwrap_or(0.0), max_per_s);
    let counts: Vec<(&String, usize)> = paths
        .iter()
        .map(|p| (p, target.hits_between(p, from, to)))
        .collect();
    let wrong: Vec<String> = counts
        .iter()
        .filter(|(_, n)| !(lo..=hi).contains(n))
        .map(|(p, n)| format!("{p}: {n}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "probes in a {window:?} window must be {lo}..={hi} per monitor \
         ({min_per_s:?}..={max_per_s} per second); off: {wrong:?}; all: {counts:?}"
    );
}

/// Waits until node `on` stores, for each monitor of `ids`, a result probed by one of
/// `probers` that started at or after `since_ms` (unix ms).
pub async fn wait_results_by(
    on: &Api,
    probers: &[&str],
    ids: &[String],
    since_ms: u64,
    timeout: Duration,
) {
    wait_for(
        &format!(
            "results by {probers:?} of each of {} monitors on {}",
            ids.len(),
            on.base()
        ),
        timeout,
        async || {
            let mut missing = Vec::new();
            for id in ids {
                let results = on.results(id, Some(since_ms), None).await;
                let by_them = |r: &ProbeResult| probers.contains(&r.node.as_str());
                if !results.iter().any(|r| by_them(r) && r.at_ms >= since_ms) {
                    missing.push(id.as_str());
                }
            }
            if missing.is_empty() {
                Ok(())
            } else {
                Err(format!("none yet for {missing:?}"))
            }
        },
    )
    .await;
}

/// Asserts that each path in `firsts` was probed within `bound` of `from`; the message lists
/// every late one.
pub fn assert_probed_within(firsts: &BTreeMap<String, Instant>, from: Instant, bound: Duration) {
    let slowest = firsts.values().map(|at| at.duration_since(from)).max();
    eprintln!(
        "slowest of {} monitors first probed {slowest:?} after the event",
        firsts.len()
    );
    let late: Vec<String> = firsts
        .iter()
        .filter(|(_, at)| at.duration_since(from) > bound)
        .map(|(path, at)| format!("{path} after {:?}", at.duration_since(from)))
        .collect();
    assert!(
        late.is_empty(),
        "every monitor must be probed within {bound:?}; late: {late:?}"
    );
}

/// A result's identity across nodes: who probed, and when the probe started.
pub type ResultKey = (String, u64);

/// The keys of node `on`'s results for monitor `id` that started in `[from_ms, to_ms)`.
pub async fn result_keys(on: &Api, id: &str, from_ms: u64, to_ms: u64) -> BTreeSet<ResultKey> {
    on.results(id, Some(from_ms), None)
        .await
        .into_iter()
        .filter(|r| (from_ms..to_ms).contains(&r.at_ms))
        .map(|r| (r.node, r.at_ms))
        .collect()
}

/// Node `on`'s monitor definitions, sorted by id.
pub async fn definitions(on: &Api) -> Vec<Definition> {
    let mut defs: Vec<Definition> = on
        .list_monitors()
        .await
        .iter()
        .map(Monitor::definition)
        .collect();
    defs.sort_by(|a, b| a.id.cmp(&b.id));
    defs
}

/// A 3-node cluster (fault layer on, 2 s heartbeat timeout) with monitors at 1 s that every
/// node agrees on and that have all been probed, then split into {n1, n2} | {n3}.
pub struct Split {
    pub cluster: Cluster,
    pub target: Target,
    pub paths: Vec<String>,
    pub ids: Vec<String>,
    /// Unix ms once both sides saw the split.
    pub split_ms: u64,
}

impl Split {
    /// The sides of every split.
    pub const LEFT: &'static [&'static str] = &["n1", "n2"];

    pub async fn start(monitors: usize) -> Split {
        let args = ["--allow-fault-injection", "--heartbeat-timeout", "2s"];
        let cluster = Cluster::start_with(3, &args).await;
        let target = Target::start().await;
        let paths = monitor_paths(monitors);
        let created_at = Instant::now();
        let made = cluster.create_monitors("n1", &target, &paths, 1).await;
        let ids: Vec<String> = made.iter().map(|m| m.id.clone()).collect();
        cluster.wait_owners_agree(&ids, secs(5)).await;
        wait_all_probed_since(&target, &paths, created_at, secs(5)).await;
        cluster.partition(Self::LEFT, &["n3"]).await;
        cluster
            .wait_views(
                &[("n1", Self::LEFT), ("n2", Self::LEFT), ("n3", &["n3"])],
                secs(10),
            )
            .await;
        Split {
            cluster,
            target,
            paths,
            ids,
            split_ms: now_ms(),
        }
    }
}
