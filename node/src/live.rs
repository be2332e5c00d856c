//! The live view: every monitor of the cluster with its current status and last result, in
//! memory, so listing 100,000 monitors never touches the disk.
//!
//! It is rebuilt from the store at start-up and kept current by the catalog (definitions) and
//! the recorder (results). The store stays the source of truth.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use ringwatch_proto::{Monitor, MonitorId, MonitorState, ProbeResult, Status};

use crate::domain::maintenance::Covered;
use crate::domain::status;
pub use crate::domain::status::ShownStatus;
use crate::domain::zones::{self, Judgement, ZoneCount};
use crate::store::{Store, StoreResult};

/// One monitor as the API shows it.
#[derive(Debug, Clone)]
pub struct LiveEntry {
    pub monitor: Arc<Monitor>,
    pub state: MonitorState,
    pub last: Option<ProbeResult>,
    /// History figures for the list, refreshed in the background (`history::query`).
    pub figures: Figures,
    /// For a monitor with `zones`: each zone's counts and verdict, from the results this node
    /// has seen since it started (not stored: a restart counts afresh).
    pub zones: BTreeMap<String, ZoneCount>,
}

/// The zones of the cluster as one node sees them now: the input of a zoned monitor's
/// verdicts.
#[derive(Debug, Clone, Default)]
pub struct ZoneSight {
    /// Zones with a live node.
    pub alive: Arc<BTreeSet<String>>,
    /// Every zone of the cluster.
    pub known: Arc<BTreeSet<String>>,
}

impl ZoneSight {
    /// The zones as `ownership` sees them.
    pub fn of(ownership: &crate::domain::ownership::Ownership) -> Self {
        ZoneSight {
            alive: ownership.alive_zones().clone(),
            known: ownership.known_zones().clone(),
        }
    }

    /// What a zoned monitor's zones say together; `None` for a monitor without zones.
    pub fn judge(&self, e: &LiveEntry) -> Option<Judgement> {
        let z = e.monitor.zones.as_ref()?;
        let names = zones::of_monitor(z, &self.known);
        Some(zones::judge(&e.monitor, &names, &e.zones, &self.alive))
    }

    /// Each of a zoned monitor's zones with its state (`up`, `down`, `pending`,
    /// `unreachable`); `None` for a monitor without zones.
    pub fn statuses(&self, e: &LiveEntry) -> Option<BTreeMap<String, &'static str>> {
        let z = e.monitor.zones.as_ref()?;
        let names = zones::of_monitor(z, &self.known);
        Some(zones::statuses(&e.monitor, &names, &e.zones, &self.alive))
    }
}

/// Uptime over 24 h and 30 d and p95 latency over 24 h, as the monitor list shows them:
/// the watched and down time of each window as of `at_ms`, which the list extends to the
/// moment it is asked by the monitor's current status, so a monitor that just went down
/// does not show 100 % until the next refresh. 28 bytes per monitor, in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    at_ms: u64,
    /// Seconds watched and down within the last 24 h and 30 d, as of `at_ms`.
    day: (u32, u32),
    month: (u32, u32),
    /// `u32::MAX`: no successful check in 24 h.
    p95_ms_24h: u32,
}

impl Default for Figures {
    fn default() -> Self {
        Figures {
            at_ms: 0,
            day: (0, 0),
            month: (0, 0),
            p95_ms_24h: u32::MAX,
        }
    }
}

impl Figures {
    /// `day` and `month`: (watched, down) milliseconds of each window ending at `at_ms`.
    /// Down time is kept in whole seconds rounded up, so an outage shorter than a second still
    /// shows below 100 %.
    pub fn new(at_ms: u64, day: (u64, u64), month: (u64, u64), p95_ms_24h: Option<u64>) -> Self {
        let secs = |ms: u64| ms.min(u64::from(u32::MAX) * 1000);
        let window = |(watched, down): (u64, u64)| {
            let down = secs(down).div_ceil(1000) as u32;
            ((secs(watched) / 1000).max(u64::from(down)) as u32, down)
        };
        Figures {
            at_ms,
            day: window(day),
            month: window(month),
            p95_ms_24h: p95_ms_24h.map_or(u32::MAX, |p| p.min(u64::from(u32::MAX - 1)) as u32),
        }
    }

    /// Uptime over (watched, down) of a window as of `now_ms`, for a monitor in `status`:
    /// the time since `at_ms` counts as the current status.
    fn uptime(&self, (watched, down): (u32, u32), status: Status, now_ms: u64) -> Option<f64> {
        if self.at_ms == 0 {
            return None;
        }
        let since = now_ms.saturating_sub(self.at_ms) as f64 / 1000.0;
        let (mut watched, mut down) = (f64::from(watched), f64::from(down));
        match status {
            Status::Paused => {}
            Status::Down => {
                watched += since;
                down += since;
            }
            Status::Up | Status::Pending => watched += since,
        }
        (watched > 0.0).then(|| 1.0 - (down / watched).min(1.0))
    }

    pub fn uptime_24h(&self, status: Status, now_ms: u64) -> Option<f64> {
        self.uptime(self.day, status, now_ms)
    }

    pub fn uptime_30d(&self, status: Status, now_ms: u64) -> Option<f64> {
        self.uptime(self.month, status, now_ms)
    }

    pub fn p95_ms_24h(&self) -> Option<u64> {
        (self.p95_ms_24h != u32::MAX).then_some(u64::from(self.p95_ms_24h))
    }
}

impl LiveEntry {
    /// The decided status, or `paused` for inactive monitors: what alerting and uptime go by.
    pub fn status(&self) -> Status {
        if self.monitor.active {
            self.state.status
        } else {
            Status::Paused
        }
    }

    /// The status users see: `paused` for inactive monitors, `maintenance` while a window
    /// covers the monitor (`covered`: the monitors in maintenance now), else the decided
    /// status. Derived when asked, never stored: every node with the same windows and clock
    /// shows the same.
    pub fn shown(&self, covered: &Covered) -> ShownStatus {
        ShownStatus::of(self.status(), covered.contains(&self.monitor.id))
    }
}

/// Counts of monitors by shown status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub total: usize,
    pub up: usize,
    pub down: usize,
    pub pending: usize,
    pub paused: usize,
    pub maintenance: usize,
}

/// What listing asks for: a text filter, a status filter and a page.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub text: Option<String>,
    pub status: Option<ShownStatus>,
    pub offset: usize,
    pub limit: Option<usize>,
}

/// What applying a batch of results did.
#[derive(Debug, Default)]
pub struct Applied {
    /// States that changed, to persist.
    pub states: Vec<(MonitorId, MonitorState)>,
    /// Status changes for the owner to decide.
    pub dues: Vec<Due>,
    /// Pending monitors that went up, with the time.
    pub ups: Vec<(MonitorId, u64)>,
}

/// What replacing a definition did to the monitor's status.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Upserted {
    /// The state, started over as pending, to persist (a changed URL, a resumed monitor).
    pub reset: Option<MonitorState>,
    /// The status the change puts the monitor in, for its timeline: `Paused` when it was
    /// paused, `Pending` when it started over. The owner records it as a transition.
    pub became: Option<Status>,
}

/// A status change the counters call for, after a result probed by this node (or, for a
/// monitor with zones, after any result: its owner decides from every zone's verdict).
#[derive(Debug, Clone)]
pub struct Due {
    pub monitor: Arc<Monitor>,
    pub to: Status,
    pub result: ProbeResult,
    /// For a monitor with zones: what its zones said.
    pub zones: Option<Judgement>,
}

#[derive(Debug, Default)]
pub struct LiveView {
    entries: RwLock<HashMap<MonitorId, LiveEntry>>,
}

impl LiveView {
    /// The view of `monitors` (the live ones of the monitors' table, shared with it, not
    /// copied), each with its stored state and newest result.
    pub fn load(store: &Store, monitors: Vec<Arc<Monitor>>) -> StoreResult<LiveView> {
        let mut states: HashMap<_, _> = store.states()?.into_iter().collect();
        let mut entries = HashMap::new();
        for m in monitors.into_iter().filter(|m| !m.deleted) {
            let last = store.latest_results(&m.id, 1)?.pop();
            let state = states.remove(&m.id).unwrap_or_default();
            entries.insert(
                m.id.clone(),
                LiveEntry {
                    monitor: m,
                    state,
                    last,
                    figures: Figures::default(),
                    zones: BTreeMap::new(),
                },
            );
        }
        Ok(LiveView {
            entries: RwLock::new(entries),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<MonitorId, LiveEntry>> {
        self.entries.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<MonitorId, LiveEntry>> {
        self.entries.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds or replaces a definition. A changed URL, or a monitor resumed from pause, starts
    /// over as pending. Says what the change means for the monitor's status timeline.
    pub fn upsert(&self, m: Arc<Monitor>) -> Upserted {
        let mut entries = self.write();
        match entries.get_mut(&m.id) {
            Some(e) => {
                let paused = e.monitor.active && !m.active;
                let reset = e.monitor.url != m.url || (!e.monitor.active && m.active);
                if reset || e.monitor.zones != m.zones {
                    e.zones.clear();
                }
                e.monitor = m;
                let reset = reset.then(|| {
                    // The numbering of status changes goes on: a change must never reuse
                    // a number another node may already hold.
                    e.state = MonitorState {
                        seq: e.state.seq,
                        ..MonitorState::default()
                    };
                    e.state.clone()
                });
                let became = if paused {
                    Some(Status::Paused)
                } else {
                    reset.as_ref().map(|_| Status::Pending)
                };
                Upserted { reset, became }
            }
            None => {
                // Watched from its creation, nothing down yet: the list's figures hold without
                // a store read (a bulk import adds thousands at once).
                let figures = Figures::new(m.created_ms, (0, 0), (0, 0), None);
                entries.insert(
                    m.id.clone(),
                    LiveEntry {
                        monitor: m,
                        state: MonitorState::default(),
                        last: None,
                        figures,
                        zones: BTreeMap::new(),
                    },
                );
                Upserted::default()
            }
        }
    }

    pub fn remove(&self, id: &str) -> bool {
        self.write().remove(id).is_some()
    }

    pub fn get(&self, id: &str) -> Option<LiveEntry> {
        self.read().get(id).cloned()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.read().contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Ids of every monitor.
    pub fn ids(&self) -> Vec<MonitorId> {
        self.read().keys().cloned().collect()
    }

    /// The monitors that are down now, with their states.
    pub fn down(&self) -> Vec<(MonitorId, MonitorState)> {
        self.read()
            .iter()
            .filter(|(_, e)| e.state.status == Status::Down)
            .map(|(id, e)| (id.clone(), e.state.clone()))
            .collect()
    }

    /// Every monitor definition that should be probed.
    pub fn probed(&self) -> Vec<Arc<Monitor>> {
        self.read()
            .values()
            .filter(|e| e.monitor.is_probed())
            .map(|e| e.monitor.clone())
            .collect()
    }

    /// Monitors matching `q` (`covered`: the monitors in maintenance now), ordered by creation
    /// time then id, and the count before paging.
    pub fn list(&self, q: &Query, covered: &Covered) -> (Vec<LiveEntry>, usize) {
        let needle = q.text.as_ref().map(|t| t.to_lowercase());
        let entries = self.read();
        let mut hits: Vec<&LiveEntry> = entries
            .values()
            .filter(|e| q.status.is_none_or(|s| e.shown(covered) == s))
            .filter(|e| {
                needle.as_ref().is_none_or(|n| {
                    e.monitor.name.to_lowercase().contains(n)
                        || e.monitor.url.to_lowercase().contains(n)
                        || e.monitor.id.contains(n.as_str())
                })
            })
            .collect();
        let total = hits.len();
        hits.sort_unstable_by(|a, b| {
            (a.monitor.created_ms, &a.monitor.id).cmp(&(b.monitor.created_ms, &b.monitor.id))
        });
        let page = hits
            .into_iter()
            .skip(q.offset)
            .take(q.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect();
        (page, total)
    }

    /// Calls `f` with every monitor, under the read lock: `f` must be quick and must not
    /// call back into the view.
    pub fn each(&self, mut f: impl FnMut(&LiveEntry)) {
        for e in self.read().values() {
            f(e);
        }
    }

    /// Counts by the status shown (`covered`: the monitors in maintenance now).
    pub fn summary(&self, covered: &Covered) -> Summary {
        let mut s = Summary::default();
        for e in self.read().values() {
            s.total += 1;
            match e.shown(covered) {
                ShownStatus::Up => s.up += 1,
                ShownStatus::Down => s.down += 1,
                ShownStatus::Pending => s.pending += 1,
                ShownStatus::Paused => s.paused += 1,
                ShownStatus::Maintenance => s.maintenance += 1,
            }
        }
        s
    }

    /// Applies results to the monitors they belong to: counts them on every node. Results of
    /// unknown (deleted) monitors are dropped from `results`.
    ///
    /// A pending monitor's first good result makes it up on every node at once: that change
    /// alerts nobody, so it needs no decision. Every other change is only reported as due,
    /// after results probed by `me`; the owner decides those. A monitor with zones counts
    /// each zone apart and reports what its zones call for (`sight`: the zones as this node
    /// sees them) after any result.
    pub fn apply_results(
        &self,
        results: &mut Vec<ProbeResult>,
        me: &str,
        sight: &ZoneSight,
    ) -> Applied {
        let mut entries = self.write();
        let mut out = Applied::default();
        results.retain(|r| entries.contains_key(&r.monitor_id));
        for r in results.iter() {
            let Some(e) = entries.get_mut(&r.monitor_id) else {
                continue;
            };
            if e.monitor.zones.is_some() {
                apply_zoned(e, r, sight, &mut out);
                continue;
            }
            if e.last.as_ref().is_some_and(|l| l.at_ms > r.at_ms) {
                continue; // an older result arriving late does not move the counts
            }
            let mut dirty = status::observe(&mut e.state, &e.monitor, r.ok);
            e.last = Some(r.clone());
            match status::due(&e.state, &e.monitor) {
                Some(Status::Up) if e.state.status == Status::Pending => {
                    e.state.status = Status::Up;
                    e.state.since_ms = r.at_ms;
                    dirty = true;
                    out.ups.push((r.monitor_id.clone(), r.at_ms));
                }
                Some(to) if r.node == me && e.monitor.is_probed() => out.dues.push(Due {
                    monitor: e.monitor.clone(),
                    to,
                    result: r.clone(),
                    zones: None,
                }),
                _ => {}
            }
            if dirty {
                out.states.push((r.monitor_id.clone(), e.state.clone()));
            }
        }
        out
    }

    /// Every live monitor's definition.
    pub fn monitors(&self) -> Vec<Arc<Monitor>> {
        self.read().values().map(|e| e.monitor.clone()).collect()
    }

    /// Sets a monitor's list figures.
    pub fn set_figures(&self, id: &str, figures: Figures) {
        if let Some(e) = self.write().get_mut(id) {
            e.figures = figures;
        }
    }

    /// The state of a monitor, if it exists.
    pub fn state(&self, id: &str) -> Option<MonitorState> {
        self.read().get(id).map(|e| e.state.clone())
    }

    /// Applies a decided status change. Returns the state to persist and the status before,
    /// if it changed anything.
    pub fn commit(
        &self,
        id: &str,
        to: Status,
        seq: u64,
        at_ms: u64,
    ) -> Option<(MonitorState, Status)> {
        let mut entries = self.write();
        let e = entries.get_mut(id)?;
        let before = e.state.status;
        status::commit(&mut e.state, to, seq, at_ms).then(|| (e.state.clone(), before))
    }
}

/// Counts one result of a monitor with zones in its zone, and reports what the zones call for.
/// A result of a zone no newer than the zone's newest is not counted (late, or delivered
/// twice).
fn apply_zoned(e: &mut LiveEntry, r: &ProbeResult, sight: &ZoneSight, out: &mut Applied) {
    if r.zone.is_empty() {
        return; // from a build before zones: no zone to count it in
    }
    let count = e.zones.entry(r.zone.clone()).or_default();
    if count.last_ms >= r.at_ms {
        return; // a late or repeated result of this zone
    }
    count.observe(&e.monitor, r.ok, r.at_ms);
    if e.last.as_ref().is_none_or(|l| l.at_ms <= r.at_ms) {
        e.last = Some(r.clone());
    }
    let Some(j) = sight.judge(e) else {
        return;
    };
    match j.status {
        Some(Status::Up) if e.state.status == Status::Pending => {
            e.state.status = Status::Up;
            e.state.since_ms = r.at_ms;
            out.ups.push((r.monitor_id.clone(), r.at_ms));
            out.states.push((r.monitor_id.clone(), e.state.clone()));
        }
        Some(to) if to != e.state.status && e.monitor.is_probed() => out.dues.push(Due {
            monitor: e.monitor.clone(),
            to,
            result: r.clone(),
            zones: Some(j),
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monitor(id: &str, created: u64) -> Arc<Monitor> {
        let mut m = Monitor::new(id.into(), format!("http://{id}.test/"));
        m.created_ms = created;
        Arc::new(m)
    }

    fn result(id: &str, at_ms: u64, ok: bool) -> ProbeResult {
        ProbeResult {
            monitor_id: id.into(),
            at_ms,
            ok,
            status_code: None,
            latency_ms: 1,
            error: None,
            error_kind: None,
            node: "n".into(),
            tls_days_left: None,
            zone: String::new(),
        }
    }

    #[test]
    fn lists_filters_and_pages() {
        let v = LiveView::default();
        for i in 0..10 {
            v.upsert(monitor(&format!("m{i}"), i));
        }
        let (page, total) = v.list(
            &Query {
                offset: 2,
                limit: Some(3),
                ..Default::default()
            },
            &Covered::Nothing,
        );
        assert_eq!(total, 10);
        assert_eq!(
            page.iter()
                .map(|e| e.monitor.id.as_str())
                .collect::<Vec<_>>(),
            ["m2", "m3", "m4"]
        );
        let (page, total) = v.list(
            &Query {
                text: Some("M7.TEST".into()),
                ..Default::default()
            },
            &Covered::Nothing,
        );
        assert_eq!((page.len(), total), (1, 1));
        // Monitors in maintenance show, filter and count as such; a paused one stays paused.
        let mut paused = (*v.get("m3").unwrap().monitor).clone();
        paused.active = false;
        v.upsert(Arc::new(paused));
        let covered = Covered::Only(["m2", "m3"].map(str::to_owned).into());
        let maintenance = Query {
            status: Some(ShownStatus::Maintenance),
            ..Default::default()
        };
        let (page, total) = v.list(&maintenance, &covered);
        assert_eq!((page[0].monitor.id.as_str(), total), ("m2", 1));
        let s = v.summary(&covered);
        assert_eq!((s.maintenance, s.paused, s.pending), (1, 1, 8));
        assert_eq!(v.summary(&Covered::All).maintenance, 9);
    }

    #[test]
    fn a_zoned_monitor_counts_each_zone_and_calls_for_a_quorum() {
        let v = LiveView::default();
        let mut m = (*monitor("z", 0)).clone();
        m.zones = Some(ringwatch_proto::Zones::All);
        m.failure_threshold = 1;
        v.upsert(Arc::new(m));
        let sight = ZoneSight {
            alive: Arc::new(["a", "b", "c"].map(str::to_owned).into()),
            known: Arc::new(["a", "b", "c"].map(str::to_owned).into()),
        };
        let zoned = |at, ok, zone: &str| ProbeResult {
            zone: zone.into(),
            node: format!("{zone}1"),
            ..result("z", at, ok)
        };
        // Every zone up: the pending monitor is up on every node, no decision needed.
        let mut rs = vec![
            zoned(1, true, "a"),
            zoned(1, true, "b"),
            zoned(1, true, "c"),
        ];
        let applied = v.apply_results(&mut rs, "x", &sight);
        assert_eq!(applied.ups.len(), 1);
        assert!(applied.dues.is_empty());
        // a fails: one zone of three is not a quorum.
        let applied = v.apply_results(&mut vec![zoned(2, false, "a")], "x", &sight);
        assert!(applied.dues.is_empty());
        let e = v.get("z").unwrap();
        assert_eq!(sight.statuses(&e).unwrap()["a"], "down");
        // A repeat of b's last result is not counted again; b's next failure makes two of
        // three: down is due, whoever probed.
        let applied = v.apply_results(&mut vec![zoned(1, false, "b")], "x", &sight);
        assert!(
            applied.dues.is_empty(),
            "no newer than b's newest: not counted"
        );
        let applied = v.apply_results(&mut vec![zoned(2, false, "b")], "x", &sight);
        assert_eq!(applied.dues.len(), 1);
        let j = applied.dues[0].zones.clone().unwrap();
        assert_eq!(
            (applied.dues[0].to, j.down),
            (Status::Down, vec!["a".into(), "b".into()])
        );
        // A result without a zone (an older build's) is not counted in any.
        let applied = v.apply_results(&mut vec![zoned(3, true, "")], "x", &sight);
        assert!(applied.dues.is_empty() && applied.ups.is_empty());
    }

    #[test]
    fn results_drive_status_and_unknown_ones_are_dropped() {
        let v = LiveView::default();
        v.upsert(monitor("a", 0));
        let mut rs = vec![
            result("a", 1, false),
            result("a", 2, false),
            result("zz", 3, true),
        ];
        let applied = v.apply_results(&mut rs, "n", &ZoneSight::default());
        assert_eq!(rs.len(), 2);
        assert_eq!(applied.states.len(), 2);
        assert_eq!(applied.dues.len(), 1, "the second failure calls for a down");
        assert_eq!(applied.dues[0].to, Status::Down);
        let other = v.apply_results(
            &mut vec![result("a", 3, false)],
            "other",
            &ZoneSight::default(),
        );
        assert!(
            other.dues.is_empty(),
            "only results we probed ask us to decide"
        );
        assert!(v.commit("a", Status::Down, 1, 2).is_some());
        assert!(v.commit("a", Status::Down, 1, 2).is_none());
        assert_eq!(v.summary(&Covered::Nothing).down, 1);
        // A recovery is due, not applied: the owner decides it.
        let applied = v.apply_results(&mut vec![result("a", 4, true)], "n", &ZoneSight::default());
        assert_eq!(applied.dues[0].to, Status::Up);
        assert_eq!(v.get("a").unwrap().status(), Status::Down);
        // Changing the URL starts over; a pending monitor goes up by itself.
        let mut m = (*v.get("a").unwrap().monitor).clone();
        m.url = "http://b.test/".into();
        assert!(v.upsert(Arc::new(m)).reset.is_some());
        assert_eq!(v.get("a").unwrap().status(), Status::Pending);
        let applied = v.apply_results(
            &mut vec![result("a", 5, true)],
            "other",
            &ZoneSight::default(),
        );
        assert_eq!(applied.ups, vec![("a".to_string(), 5)]);
        assert_eq!(v.get("a").unwrap().status(), Status::Up);
        assert_eq!(v.get("a").unwrap().state.seq, 1, "the numbering goes on");
    }

    #[test]
    fn list_figures_carry_the_current_status_forward() {
        let f = Figures::new(10_000, (9_000, 0), (9_000, 3_000), Some(42));
        assert_eq!(f.uptime_24h(Status::Up, 10_000), Some(1.0));
        // Down for 1 s since they were computed: 1 of 10 s watched.
        let day = f.uptime_24h(Status::Down, 11_000).unwrap();
        assert!((day - 0.9).abs() < 1e-9, "{day}");
        let month = f.uptime_30d(Status::Down, 11_000).unwrap();
        assert!((month - 0.6).abs() < 1e-9, "{month}");
        // Paused time is not watched.
        assert_eq!(
            f.uptime_30d(Status::Paused, 99_000),
            f.uptime_30d(Status::Up, 10_000)
        );
        assert_eq!(f.p95_ms_24h(), Some(42));
        // A 300 ms outage in 6 s watched is not rounded away.
        let brief = Figures::new(10_000, (6_000, 300), (6_000, 300), None);
        let day = brief.uptime_24h(Status::Up, 10_000).unwrap();
        assert!((day - 5.0 / 6.0).abs() < 1e-9, "{day}");
        // Nor can down time exceed the time watched.
        let all = Figures::new(10_000, (400, 400), (400, 400), None);
        assert_eq!(all.uptime_24h(Status::Up, 10_000), Some(0.0));
        assert_eq!(Figures::default().uptime_24h(Status::Up, 5), None);
        assert_eq!(Figures::default().p95_ms_24h(), None);
    }
}
