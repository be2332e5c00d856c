//! Cluster membership: who is in the cluster and who is alive. A deterministic core driven by
//! [`Membership::heard`], [`Membership::session_closed`], [`Membership::dial_failed`] and
//! [`Membership::tick`]; the `Peers` actor does the I/O its outputs ask for.
//!
//! Rules:
//! - A member is alive while we hear its heartbeats; silence longer than
//!   `heartbeat_timeout` (a hung or partitioned process) makes it dead and asks to drop its
//!   session.
//! - A closed session makes the member *suspect* (still alive) and asks to redial at once. A
//!   redial that fails to connect (the process is gone: kill -9) makes it dead within
//!   milliseconds; one that connects must deliver a heartbeat within the timeout.
//! - Dead members are redialled with exponential backoff, and forgotten after `forget_after`.
//! - A higher incarnation of a name (the node restarted) replaces the lower one at once.
//! - Heartbeats carry the sender's alive members; unknown ones are dialled, which builds and
//!   keeps a full mesh (ractor_cluster relays nothing). What a heartbeat says of others is
//!   only ever a hint of where to dial: a member is adopted (listed, counted alive, owning
//!   monitors) only once it is heard first-hand, over its own authenticated session, and a
//!   second-hand entry never changes what we know of a member (its address, its process
//!   start). Hints are bounded ([`MAX_CANDIDATES`]) and dropped once no heartbeat names them
//!   for [`CANDIDATE_TTL_MS`], so a peer that invents members gets some failed dials, nothing
//!   more.
//! - If our own ticks stop for longer than the timeout (this process was paused), everyone
//!   gets a fresh grace period instead of being declared dead by us.

use std::collections::BTreeMap;

use ringwatch_proto::MemberInfo;

/// Members heard of second-hand (and not yet first-hand) kept at most; hints past it are
/// ignored until some are dropped.
pub const MAX_CANDIDATES: usize = 64;
/// A hint no heartbeat has named for this long is dropped (and no longer dialled).
pub const CANDIDATE_TTL_MS: u64 = 60_000;

/// Timing of failure detection and redials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Silence after which a member is declared dead.
    pub heartbeat_timeout_ms: u64,
    /// First redial delay of a dead member; doubles up to `max_backoff_ms`.
    pub min_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// A member dead this long is forgotten (its name no longer listed).
    pub forget_after_ms: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            heartbeat_timeout_ms: 3_000,
            min_backoff_ms: 250,
            max_backoff_ms: 5_000,
            forget_after_ms: 24 * 3600 * 1000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    Alive,
    /// Session lost, redial under way; still counted alive.
    Suspect,
    Dead {
        since_ms: u64,
    },
}

#[derive(Debug, Clone)]
pub struct Member {
    pub info: MemberInfo,
    pub liveness: Liveness,
    pub last_heard_ms: u64,
    next_dial_ms: u64,
    backoff_ms: u64,
}

impl Member {
    pub fn is_alive(&self) -> bool {
        !matches!(self.liveness, Liveness::Dead { .. })
    }
}

/// What the actor should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open a session to this cluster address (for the named member, if known).
    Dial { addr: String, name: Option<String> },
    /// Close any session with this member.
    Drop { name: String },
    /// The set of alive members changed: recompute ownership.
    Changed,
}

/// A member heard of second-hand: dialled, not a member until heard first-hand.
#[derive(Debug, Clone)]
struct Candidate {
    info: MemberInfo,
    /// Last time a heartbeat named it.
    named_ms: u64,
    next_dial_ms: u64,
    backoff_ms: u64,
}

#[derive(Debug)]
pub struct Membership {
    me: MemberInfo,
    timing: Timing,
    members: BTreeMap<String, Member>,
    /// Heard of second-hand only, by name.
    candidates: BTreeMap<String, Candidate>,
    /// Hints dropped since last asked ([`Membership::take_dropped_hints`]): named while
    /// [`MAX_CANDIDATES`] were pending, or never heard first-hand before they expired.
    dropped_hints: u64,
    /// Join addresses; dialled until some member at that address is alive.
    seeds: Vec<(String, u64)>,
    last_tick_ms: Option<u64>,
}

impl Membership {
    pub fn new(me: MemberInfo, seeds: Vec<String>, timing: Timing) -> Self {
        let seeds = seeds
            .into_iter()
            .filter(|s| *s != me.cluster)
            .map(|s| (s, 0))
            .collect();
        Membership {
            me,
            timing,
            members: BTreeMap::new(),
            candidates: BTreeMap::new(),
            dropped_hints: 0,
            seeds,
            last_tick_ms: None,
        }
    }

    pub fn me(&self) -> &MemberInfo {
        &self.me
    }

    /// Every known member but us.
    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    pub fn get(&self, name: &str) -> Option<&Member> {
        self.members.get(name)
    }

    /// Names of the alive members, us included, sorted.
    pub fn alive(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .members
            .values()
            .filter(|m| m.is_alive())
            .map(|m| m.info.name.clone())
            .chain(std::iter::once(self.me.name.clone()))
            .collect();
        v.sort();
        v
    }

    /// Infos of the alive members, us included (what our heartbeats carry).
    pub fn alive_infos(&self) -> Vec<MemberInfo> {
        self.members
            .values()
            .filter(|m| m.is_alive())
            .map(|m| m.info.clone())
            .chain(std::iter::once(self.me.clone()))
            .collect()
    }

    /// A heartbeat (or any frame) from `from`, which sees `known` alive.
    pub fn heard(&mut self, from: &MemberInfo, known: &[MemberInfo], now_ms: u64) -> Vec<Action> {
        let mut out = Vec::new();
        if from.name == self.me.name {
            return out;
        }
        let min_backoff = self.timing.min_backoff_ms;
        if self
            .candidates
            .get(&from.name)
            .is_some_and(|c| c.info.incarnation <= from.incarnation)
        {
            self.candidates.remove(&from.name);
        }
        match self.members.get_mut(&from.name) {
            Some(m) if from.incarnation < m.info.incarnation => return out,
            Some(m) => {
                let was_alive = m.is_alive();
                m.info = from.clone();
                m.liveness = Liveness::Alive;
                m.last_heard_ms = now_ms;
                m.backoff_ms = min_backoff;
                if !was_alive {
                    out.push(Action::Changed);
                }
            }
            None => {
                self.members.insert(
                    from.name.clone(),
                    Member {
                        info: from.clone(),
                        liveness: Liveness::Alive,
                        last_heard_ms: now_ms,
                        next_dial_ms: now_ms,
                        backoff_ms: min_backoff,
                    },
                );
                out.push(Action::Changed);
            }
        }
        for k in known {
            out.extend(self.hint(k, now_ms));
        }
        out
    }

    /// A heartbeat names `k` alive. Worth a dial if it is not a member we hear (or know at
    /// that process start): it becomes a member only once heard first-hand.
    fn hint(&mut self, k: &MemberInfo, now_ms: u64) -> Option<Action> {
        if k.name == self.me.name {
            return None;
        }
        if let Some(m) = self.members.get(&k.name)
            && (m.is_alive() || k.incarnation <= m.info.incarnation)
        {
            return None;
        }
        if let Some(c) = self.candidates.get_mut(&k.name) {
            c.named_ms = now_ms;
            if k.incarnation > c.info.incarnation {
                c.info = k.clone();
            }
            return None;
        }
        if self.candidates.len() >= MAX_CANDIDATES {
            self.dropped_hints += 1;
            return None;
        }
        let min_backoff = self.timing.min_backoff_ms;
        self.candidates.insert(
            k.name.clone(),
            Candidate {
                info: k.clone(),
                named_ms: now_ms,
                next_dial_ms: now_ms + min_backoff,
                backoff_ms: min_backoff,
            },
        );
        Some(Action::Dial {
            addr: k.cluster.clone(),
            name: Some(k.name.clone()),
        })
    }

    /// How many second-hand members were dropped unheard since the last call: past the
    /// bound, or expired. Members that do exist are heard first-hand long before either.
    pub fn take_dropped_hints(&mut self) -> u64 {
        std::mem::take(&mut self.dropped_hints)
    }

    /// Names of the members heard of second-hand only (dialled, not members).
    pub fn candidates(&self) -> impl Iterator<Item = &str> {
        self.candidates.keys().map(String::as_str)
    }

    /// The session with `name` closed. It stays alive as suspect while we redial once.
    pub fn session_closed(&mut self, name: &str, now_ms: u64) -> Vec<Action> {
        let Some(m) = self.members.get_mut(name) else {
            return Vec::new();
        };
        if m.liveness != Liveness::Alive {
            return Vec::new();
        }
        m.liveness = Liveness::Suspect;
        m.next_dial_ms = now_ms + m.backoff_ms;
        vec![Action::Dial {
            addr: m.info.cluster.clone(),
            name: Some(name.to_owned()),
        }]
    }

    /// A dial to `name` could not even connect: the process is not there.
    pub fn dial_failed(&mut self, name: &str, now_ms: u64) -> Vec<Action> {
        if let Some(c) = self.candidates.get_mut(name) {
            c.next_dial_ms = now_ms + c.backoff_ms;
            c.backoff_ms = (c.backoff_ms * 2).min(self.timing.max_backoff_ms);
        }
        let Some(m) = self.members.get_mut(name) else {
            return Vec::new();
        };
        m.next_dial_ms = now_ms + m.backoff_ms;
        m.backoff_ms = (m.backoff_ms * 2).min(self.timing.max_backoff_ms);
        if m.is_alive() {
            m.liveness = Liveness::Dead { since_ms: now_ms };
            return vec![Action::Changed];
        }
        Vec::new()
    }

    /// The member left on purpose.
    pub fn left(&mut self, name: &str, now_ms: u64) -> Vec<Action> {
        match self.members.get_mut(name) {
            Some(m) if m.is_alive() => {
                m.liveness = Liveness::Dead { since_ms: now_ms };
                m.next_dial_ms = now_ms + self.timing.max_backoff_ms;
                vec![Action::Changed, Action::Drop { name: name.into() }]
            }
            _ => Vec::new(),
        }
    }

    /// Detects silence, schedules redials and forgets long-dead members.
    pub fn tick(&mut self, now_ms: u64) -> Vec<Action> {
        let mut out = Vec::new();
        let t = self.timing;
        if self
            .last_tick_ms
            .is_some_and(|last| now_ms.saturating_sub(last) > t.heartbeat_timeout_ms)
        {
            // We were not running (paused, or starved): nobody's silence is their fault.
            for m in self.members.values_mut() {
                m.last_heard_ms = m.last_heard_ms.max(now_ms);
            }
        }
        self.last_tick_ms = Some(now_ms);
        let mut changed = false;
        let mut forget = Vec::new();
        for (name, m) in self.members.iter_mut() {
            let silent = now_ms.saturating_sub(m.last_heard_ms) > t.heartbeat_timeout_ms;
            if m.is_alive() && silent {
                m.liveness = Liveness::Dead { since_ms: now_ms };
                m.next_dial_ms = now_ms + m.backoff_ms;
                changed = true;
                out.push(Action::Drop { name: name.clone() });
            }
            match m.liveness {
                Liveness::Dead { since_ms } if now_ms - since_ms > t.forget_after_ms => {
                    forget.push(name.clone());
                }
                Liveness::Dead { .. } | Liveness::Suspect if m.next_dial_ms <= now_ms => {
                    m.next_dial_ms = now_ms + m.backoff_ms;
                    m.backoff_ms = (m.backoff_ms * 2).min(t.max_backoff_ms);
                    out.push(Action::Dial {
                        addr: m.info.cluster.clone(),
                        name: Some(name.clone()),
                    });
                }
                _ => {}
            }
        }
        for name in forget {
            self.members.remove(&name);
        }
        let before = self.candidates.len();
        self.candidates
            .retain(|_, c| now_ms.saturating_sub(c.named_ms) <= CANDIDATE_TTL_MS);
        self.dropped_hints += (before - self.candidates.len()) as u64;
        for (name, c) in &mut self.candidates {
            if c.next_dial_ms <= now_ms {
                c.next_dial_ms = now_ms + c.backoff_ms;
                c.backoff_ms = (c.backoff_ms * 2).min(t.max_backoff_ms);
                out.push(Action::Dial {
                    addr: c.info.cluster.clone(),
                    name: Some(name.clone()),
                });
            }
        }
        let alive_addrs: Vec<String> = self
            .members
            .values()
            .filter(|m| m.is_alive())
            .map(|m| m.info.cluster.clone())
            .collect();
        for (addr, next) in &mut self.seeds {
            if !alive_addrs.contains(addr) && *next <= now_ms {
                *next = now_ms + t.max_backoff_ms.min(1_000);
                out.push(Action::Dial {
                    addr: addr.clone(),
                    name: None,
                });
            }
        }
        if changed {
            out.push(Action::Changed);
        }
        out
    }
}

#[cfg(test)]
mod tests;
