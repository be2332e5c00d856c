//! The live view: every monitor of the cluster with its current status and last result, in
//! memory, so listing 100,000 monitors never touches the disk.
//!
//! It is rebuilt from the store at start-up and kept current by the catalog (definitions) and
//! the recorder (results). The store stays the source of truth.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use ringwatch_proto::{Monitor, MonitorId, MonitorState, ProbeResult, Status};

use crate::domain::status;
use crate::store::{Store, StoreResult};

/// One monitor as the API shows it.
#[derive(Debug, Clone)]
pub struct LiveEntry {
    pub monitor: Arc<Monitor>,
    pub state: MonitorState,
    pub last: Option<ProbeResult>,
    /// History figures for the list, refreshed in the background (`history::query`).
    pub figures: Figures,
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
    /// The status users see: `paused` for inactive monitors, else the decided status.
    pub fn status(&self) -> Status {
        if self.monitor.active {
            self.state.status
        } else {
            Status::Paused
        }
    }
}

/// Counts of monitors by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub total: usize,
    pub up: usize,
    pub down: usize,
    pub pending: usize,
    pub paused: usize,
}

/// What listing asks for: a text filter, a status filter and a page.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub text: Option<String>,
    pub status: Option<Status>,
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

/// A status change the counters call for, after a result probed by this node.
#[derive(Debug, Clone)]
pub struct Due {
    pub monitor: Arc<Monitor>,
    pub to: Status,
    pub result: ProbeResult,
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

    /// Every monitor definition that should be probed.
    pub fn probed(&self) -> Vec<Arc<Monitor>> {
        self.read()
            .values()
            .filter(|e| e.monitor.is_probed())
            .map(|e| e.monitor.clone())
            .collect()
    }

    /// Monitors matching `q`, ordered by creation time then id, and the count before paging.
    pub fn list(&self, q: &Query) -> (Vec<LiveEntry>, usize) {
        let needle = q.text.as_ref().map(|t| t.to_lowercase());
        let entries = self.read();
        let mut hits: Vec<&LiveEntry> = entries
            .values()
            .filter(|e| q.status.is_none_or(|s| e.status() == s))
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

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for e in self.read().values() {
            s.total += 1;
            match e.status() {
                Status::Up => s.up += 1,
                Status::Down => s.down += 1,
                Status::Pending => s.pending += 1,
                Status::Paused => s.paused += 1,
            }
        }
        s
    }

    /// Applies results to the monitors they belong to: counts them on every node. Results of
    /// unknown (deleted) monitors are dropped from `results`.
    ///
    /// A pending monitor's first good result makes it up on every node at once: that change
    /// alerts nobody, so it needs no decision. Every other change is only reported as due,
    /// after results probed by `me`; the owner decides those.
    pub fn apply_results(&self, results: &mut Vec<ProbeResult>, me: &str) -> Applied {
        let mut entries = self.write();
        let mut out = Applied::default();
        results.retain(|r| entries.contains_key(&r.monitor_id));
        for r in results.iter() {
            let Some(e) = entries.get_mut(&r.monitor_id) else {
                continue;
            };
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
        }
    }

    #[test]
    fn lists_filters_and_pages() {
        let v = LiveView::default();
        for i in 0..10 {
            v.upsert(monitor(&format!("m{i}"), i));
        }
        let (page, total) = v.list(&Query {
            offset: 2,
            limit: Some(3),
            ..Default::default()
        });
        assert_eq!(total, 10);
        assert_eq!(
            page.iter()
                .map(|e| e.monitor.id.as_str())
                .collect::<Vec<_>>(),
            ["m2", "m3", "m4"]
        );
        let (page, total) = v.list(&Query {
            text: Some("M7.TEST".into()),
            ..Default::default()
        });
        assert_eq!((page.len(), total), (1, 1));
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
        let applied = v.apply_results(&mut rs, "n");
        assert_eq!(rs.len(), 2);
        assert_eq!(applied.states.len(), 2);
        assert_eq!(applied.dues.len(), 1, "the second failure calls for a down");
        assert_eq!(applied.dues[0].to, Status::Down);
        let other = v.apply_results(&mut vec![result("a", 3, false)], "other");
        assert!(
            other.dues.is_empty(),
            "only results we probed ask us to decide"
        );
        assert!(v.commit("a", Status::Down, 1, 2).is_some());
        assert!(v.commit("a", Status::Down, 1, 2).is_none());
        assert_eq!(v.summary().down, 1);
        // A recovery is due, not applied: the owner decides it.
        let applied = v.apply_results(&mut vec![result("a", 4, true)], "n");
        assert_eq!(applied.dues[0].to, Status::Up);
        assert_eq!(v.get("a").unwrap().status(), Status::Down);
        // Changing the URL starts over; a pending monitor goes up by itself.
        let mut m = (*v.get("a").unwrap().monitor).clone();
        m.url = "http://b.test/".into();
        assert!(v.upsert(Arc::new(m)).reset.is_some());
        assert_eq!(v.get("a").unwrap().status(), Status::Pending);
        let applied = v.apply_results(&mut vec![result("a", 5, true)], "other");
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
