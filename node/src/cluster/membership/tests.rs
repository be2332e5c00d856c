//! Scripted partitions, heals, restarts and clocks against the membership core.

use super::*;

fn info(name: &str, inc: u64) -> MemberInfo {
    MemberInfo {
        name: name.into(),
        incarnation: inc,
        cluster: format!("{name}:1"),
        http: format!("{name}:2"),
        zone: "default".into(),
    }
}

fn core(seeds: &[&str]) -> Membership {
    Membership::new(
        info("n1", 1),
        seeds.iter().map(|s| s.to_string()).collect(),
        Timing::default(),
    )
}

fn dials(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Dial { addr, .. } => Some(addr.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn join_learns_the_mesh_from_one_seed() {
    let mut m = core(&["n2:1"]);
    assert_eq!(dials(&m.tick(0)), ["n2:1"]);
    let a = m.heard(
        &info("n2", 1),
        &[info("n2", 1), info("n3", 1), info("n1", 1)],
        10,
    );
    assert!(a.contains(&Action::Changed));
    assert_eq!(dials(&a), ["n3:1"]);
    assert_eq!(m.alive(), ["n1", "n2"]); // n3 not alive until heard
    m.heard(&info("n3", 1), &[], 20);
    assert_eq!(m.alive(), ["n1", "n2", "n3"]);
    // The seed is alive now: no more seed dials.
    assert!(dials(&m.tick(2_000)).is_empty());
}

#[test]
fn kill_is_detected_by_a_failed_redial() {
    let mut m = core(&[]);
    m.heard(&info("n2", 1), &[], 0);
    let a = m.session_closed("n2", 100);
    assert_eq!(dials(&a), ["n2:1"]);
    assert_eq!(m.alive(), ["n1", "n2"]); // suspect still counts
    assert_eq!(m.dial_failed("n2", 105), [Action::Changed]);
    assert_eq!(m.alive(), ["n1"]);
}

#[test]
fn silence_is_detected_by_timeout() {
    let mut m = core(&[]);
    m.heard(&info("n2", 1), &[], 0);
    for t in (0..=3_000).step_by(500) {
        assert!(!m.tick(t).contains(&Action::Changed));
    }
    let a = m.tick(3_500);
    assert!(a.contains(&Action::Changed));
    assert!(a.contains(&Action::Drop { name: "n2".into() }));
    assert_eq!(m.alive(), ["n1"]);
    // Dead members are redialled with growing backoff.
    let first = dials(&m.tick(3_760)).len();
    assert_eq!(first, 1);
    assert!(dials(&m.tick(3_800)).is_empty());
    // It comes back.
    assert_eq!(m.heard(&info("n2", 1), &[], 4_000), [Action::Changed]);
}

#[test]
fn our_own_pause_is_not_their_death() {
    let mut m = core(&[]);
    m.heard(&info("n2", 1), &[], 0);
    m.tick(500);
    // We were stopped for 20 s.
    assert!(!m.tick(20_500).contains(&Action::Changed));
    assert_eq!(m.alive(), ["n1", "n2"]);
}

#[test]
fn restarts_replace_older_incarnations_and_stale_ones_are_ignored() {
    let mut m = core(&[]);
    m.heard(&info("n2", 5), &[], 0);
    m.dial_failed("n2", 10);
    assert_eq!(m.heard(&info("n2", 4), &[], 20), []);
    assert_eq!(m.alive(), ["n1"]);
    assert_eq!(m.heard(&info("n2", 6), &[], 30), [Action::Changed]);
    assert_eq!(m.get("n2").unwrap().info.incarnation, 6);
}

#[test]
fn partitions_heal_and_long_dead_members_are_forgotten() {
    let timing = Timing {
        forget_after_ms: 10_000,
        ..Timing::default()
    };
    let mut m = Membership::new(info("n1", 1), vec![], timing);
    m.heard(&info("n2", 1), &[], 0);
    m.heard(&info("n3", 1), &[], 0);
    // n3 is cut off: only n2 is heard.
    for t in (500..=4_000).step_by(500) {
        m.tick(t);
        m.heard(&info("n2", 1), &[], t);
    }
    assert_eq!(m.alive(), ["n1", "n2"]);
    // Heal.
    m.heard(&info("n3", 1), &[], 4_500);
    assert_eq!(m.alive(), ["n1", "n2", "n3"]);
    // n2 goes for good and is forgotten after 10 s.
    m.left("n2", 5_000);
    for t in (5_500..=16_000).step_by(500) {
        m.tick(t);
        m.heard(&info("n3", 1), &[], t);
    }
    assert!(m.get("n2").is_none());
}

#[test]
fn members_named_second_hand_are_dialled_but_not_adopted() {
    let mut m = core(&[]);
    m.heard(&info("n2", 1), &[], 0);
    // n2 (or someone speaking as n2) names members nobody has heard.
    let invented: Vec<MemberInfo> = (0..200).map(|i| info(&format!("ghost{i}"), 1)).collect();
    let a = m.heard(&info("n2", 1), &invented, 10);
    assert_eq!(dials(&a).len(), MAX_CANDIDATES, "hints are bounded");
    assert_eq!(m.take_dropped_hints(), (200 - MAX_CANDIDATES) as u64);
    assert!(!a.contains(&Action::Changed));
    assert_eq!(m.alive(), ["n1", "n2"]);
    assert_eq!(m.members().count(), 1, "none of them is a member");
    // Naming them again dials nothing new at once.
    assert!(dials(&m.heard(&info("n2", 1), &invented, 20)).is_empty());
    // Failed dials back off; once no heartbeat names them, they are dropped for good.
    for g in m.candidates().map(str::to_owned).collect::<Vec<_>>() {
        m.dial_failed(&g, 30);
    }
    let mut t = 30;
    while t < 30 + CANDIDATE_TTL_MS + 1_000 {
        t += 500;
        m.tick(t);
        m.heard(&info("n2", 1), &[], t);
    }
    assert_eq!(m.candidates().count(), 0);
    // Named again at 20 ms (136 past the bound again), then the 64 pending ones expired.
    assert_eq!(m.take_dropped_hints(), 200);
    assert!(dials(&m.tick(t + 500)).is_empty());
    assert_eq!(m.alive(), ["n1", "n2"]);
}

#[test]
fn second_hand_news_never_changes_what_we_know_of_a_member() {
    let mut m = core(&[]);
    m.heard(&info("n2", 1), &[], 0);
    m.heard(&info("n3", 1), &[], 0);
    // n2 claims n3 restarted at an address of its choosing.
    let mut moved = info("n3", 9);
    moved.cluster = "attacker:1".into();
    let a = m.heard(&info("n2", 1), &[moved.clone()], 10);
    assert!(
        dials(&a).is_empty(),
        "n3 is alive and heard: nothing to dial"
    );
    assert_eq!(m.get("n3").unwrap().info, info("n3", 1));
    // Once n3 is dead, the hint is worth a dial, still without touching n3's entry.
    m.dial_failed("n3", 20);
    let a = m.heard(&info("n2", 1), &[moved], 30);
    assert_eq!(dials(&a), ["attacker:1"]);
    assert_eq!(m.get("n3").unwrap().info, info("n3", 1));
    assert_eq!(m.alive(), ["n1", "n2"]);
    // n3 itself, heard first-hand at its new start, replaces it.
    m.heard(&info("n3", 9), &[], 40);
    assert_eq!(m.get("n3").unwrap().info.incarnation, 9);
    assert_eq!(m.candidates().count(), 0);
}
