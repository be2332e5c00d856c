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
//!   keeps a full mesh (ractor_cluster relays nothing).
//! - If our own ticks stop for longer than the timeout (this process was paused), everyone
//!   gets a fresh grace period instead of being declared dead by us.

use std::collections::BTreeMap;

use ringwatch_proto::MemberInfo;

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

#[derive(Debug)]
pub struct Membership {
    me: MemberInfo,
    timing: Timing,
    members: BTreeMap<String, Member>,
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
            if k.name == self.me.name {
                continue;
            }
            let newer = self
                .members
                .get(&k.name)
                .is_none_or(|m| k.incarnation > m.info.incarnation);
            if newer && !self.members.contains_key(&k.name) {
                // Learned second-hand: dial it, but it is not alive until we hear it.
                self.members.insert(
                    k.name.clone(),
                    Member {
                        info: k.clone(),
                        liveness: Liveness::Dead { since_ms: now_ms },
                        last_heard_ms: 0,
                        next_dial_ms: now_ms,
                        backoff_ms: min_backoff,
                    },
                );
                out.push(Action::Dial {
                    addr: k.cluster.clone(),
                    name: Some(k.name.clone()),
                });
            } else if newer && let Some(m) = self.members.get_mut(&k.name) {
                m.info = k.clone();
            }
        }
        out
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
