//! The maintenance core with a fake clock: plain unix ms. Expected instants are written out
//! in UTC (computed apart from the code under test), so a wrong time zone rule shows.

use super::*;

const MIN: u64 = 60_000;
const HOUR: u64 = 60 * MIN;
const DAY: u64 = 24 * HOUR;
/// 2026-03-22T01:30Z: Sunday 02:30 in Berlin (CET, UTC+1), the week before summer time.
const BERLIN_0322: u64 = 1_774_143_000_000;
/// 2026-03-29T01:00Z: Sunday 03:00 CEST. The clock jumps from 02:00 to 03:00 at 01:00Z, so
/// 02:30 does not exist that day: the window starts right after the gap.
const BERLIN_0329: u64 = 1_774_746_000_000;
/// 2026-04-05T00:30Z: Sunday 02:30 CEST (UTC+2).
const BERLIN_0405: u64 = 1_775_349_000_000;
/// 2026-10-18T00:30Z: Sunday 02:30 CEST.
const BERLIN_1018: u64 = 1_792_283_400_000;
/// 2026-10-25T00:30Z: Sunday 02:30 CEST, the first of the two 02:30s of that night (the clock
/// goes back from 03:00 CEST to 02:00 CET at 01:00Z).
const BERLIN_1025_FIRST: u64 = 1_792_888_200_000;
/// 2026-10-25T01:30Z: the second 02:30 (CET): no window starts then.
const BERLIN_1025_SECOND: u64 = 1_792_891_800_000;
/// 2026-11-01T01:30Z: Sunday 02:30 CET.
const BERLIN_1101: u64 = 1_793_496_600_000;

fn recurring(id: &str, cron: &str, duration_secs: u64, tz: &str, monitors: &[&str]) -> Maintenance {
    MaintenanceInput {
        title: format!("window {id}"),
        monitors: if monitors.is_empty() {
            "all".into()
        } else {
            monitors
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .into()
        },
        cron: Some(cron.into()),
        duration_secs: Some(duration_secs),
        timezone: Some(tz.into()),
        ..Default::default()
    }
    .into_maintenance()
    .map(|mut m| {
        m.id = id.into();
        m
    })
    .unwrap()
}

fn once(id: &str, start_ms: u64, end_ms: u64, monitors: &[&str]) -> Maintenance {
    let mut m = recurring(id, "0 3 * * *", 60, "UTC", monitors);
    m.schedule = MaintenanceSchedule::Once { start_ms, end_ms };
    m
}

fn window(m: &Maintenance) -> Window {
    Window::of(m).unwrap()
}

#[test]
fn a_sunday_window_in_berlin_starts_at_the_right_instant_across_both_dst_changes() {
    let w = window(&recurring("w", "30 2 * * SUN", 3600, "Europe/Berlin", &[]));
    let mut starts = Vec::new();
    let mut t = BERLIN_0322 - DAY;
    for _ in 0..7 {
        let next = w.next_after(t).unwrap();
        assert_eq!(
            next.end_ms - next.start_ms,
            HOUR,
            "elapsed time, whatever the clock"
        );
        starts.push(next.start_ms);
        t = next.start_ms;
    }
    // Spring: CET 01:30Z, the gap day 01:00Z (03:00 CEST), then CEST 00:30Z.
    assert_eq!(&starts[..3], &[BERLIN_0322, BERLIN_0329, BERLIN_0405]);
    // Autumn, from the week before: the repeated 02:30 starts one window, the first one.
    let autumn: Vec<u64> = std::iter::successors(w.next_after(BERLIN_1018 - DAY), |s| {
        w.next_after(s.start_ms)
    })
    .take(3)
    .map(|s| s.start_ms)
    .collect();
    assert_eq!(autumn, [BERLIN_1018, BERLIN_1025_FIRST, BERLIN_1101]);

    // What covers an instant: the gap day's window runs 01:00Z-02:00Z.
    assert_eq!(w.covering(BERLIN_0329 - 1), None);
    assert_eq!(w.covering(BERLIN_0329).unwrap().start_ms, BERLIN_0329);
    assert_eq!(
        w.covering(BERLIN_0329 + HOUR - 1).unwrap().end_ms,
        BERLIN_0329 + HOUR
    );
    assert_eq!(w.covering(BERLIN_0329 + HOUR), None);
    // The second 02:30 of October lies in no window (the first ran 00:30Z-01:30Z).
    assert!(w.covering(BERLIN_1025_FIRST + HOUR / 2).is_some());
    assert_eq!(w.covering(BERLIN_1025_SECOND), None);
    assert_eq!(w.covering(BERLIN_1025_SECOND + 10 * MIN), None);
    // Between windows, current_or_next is the next one.
    assert_eq!(
        w.current_or_next(BERLIN_0405 + 2 * HOUR).unwrap().start_ms,
        BERLIN_0405 + 7 * DAY
    );
}

#[test]
fn a_daily_window_in_utc_and_its_spans_over_a_range() {
    let w = window(&recurring("w", "0 3 * * *", 1800, "UTC", &[]));
    // 2026-03-01T00:00Z.
    let day0 = 1_772_323_200_000;
    let spans = w.spans(day0, day0 + 3 * DAY);
    assert_eq!(spans.len(), 3);
    assert_eq!(
        spans[0],
        Span {
            start_ms: day0 + 3 * HOUR,
            end_ms: day0 + 3 * HOUR + 30 * MIN
        }
    );
    // A range starting inside an occurrence includes it.
    let inside = w.spans(day0 + 3 * HOUR + MIN, day0 + 4 * HOUR);
    assert_eq!(inside, vec![spans[0]]);
    assert!(w.spans(day0 + 4 * HOUR, day0 + 5 * HOUR).is_empty());
    // Occurrences longer than the period overlap: the range's time is covered whole.
    let (ws, _) = Windows::new(&[recurring("w", "0 * * * *", 2 * 3600, "UTC", &[])]);
    let covered = ws.spans_of("m", day0 + HOUR / 2, day0 + 5 * HOUR);
    assert_eq!(
        covered,
        vec![Span {
            start_ms: day0 + HOUR / 2,
            end_ms: day0 + 5 * HOUR
        }]
    );
}

#[test]
fn which_monitors_are_in_maintenance() {
    let t0 = 1_800_000_000_000;
    let (ws, bad) = Windows::new(&[
        once("a", t0, t0 + HOUR, &["m1", "m2"]),
        once("b", t0 + HOUR / 2, t0 + 2 * HOUR, &["m3"]),
    ]);
    assert!(bad.is_empty());
    assert_eq!(ws.at(t0 - 1), Covered::Nothing);
    assert!(ws.covers("m1", t0) && !ws.covers("m3", t0));
    let mid = ws.at(t0 + HOUR / 2);
    assert!(["m1", "m2", "m3"].iter().all(|m| mid.contains(m)) && !mid.contains("m4"));
    assert!(!ws.covers("m1", t0 + HOUR), "the end is excluded");
    // "all" covers monitors made later too; an inactive or deleted window covers nothing.
    let mut all = once("c", t0, t0 + HOUR, &[]);
    let mut off = all.clone();
    off.active = false;
    let (ws, _) = Windows::new(&[off.clone()]);
    assert!(ws.is_empty());
    all.deleted = true;
    assert!(Windows::new(&[all]).0.is_empty());
    off.active = true;
    assert_eq!(Windows::new(&[off]).0.at(t0), Covered::All);
}

#[test]
fn spans_of_a_monitor_are_merged_and_clipped() {
    let t0 = 1_800_000_000_000;
    let (ws, _) = Windows::new(&[
        once("a", t0, t0 + HOUR, &["m"]),
        once("b", t0 + HOUR / 2, t0 + 2 * HOUR, &[]),
        once("c", t0 + 5 * HOUR, t0 + 6 * HOUR, &["other"]),
    ]);
    assert_eq!(
        ws.spans_of("m", t0 + MIN, t0 + DAY),
        vec![Span {
            start_ms: t0 + MIN,
            end_ms: t0 + 2 * HOUR
        }]
    );
    assert!(ws.spans_of("m", t0 + 3 * HOUR, t0 + DAY).is_empty());
}

fn refused(json: serde_json::Value) -> String {
    match serde_json::from_value::<MaintenanceInput>(json) {
        Err(e) => e.to_string(),
        Ok(input) => input.into_maintenance().unwrap_err(),
    }
}

#[test]
fn bad_windows_are_refused_with_a_reason() {
    use serde_json::json;
    let cases = [
        (
            json!({"title": "x", "monitors": "all", "cron": "0 3 * *", "duration_secs": 60}),
            "5 fields",
        ),
        (
            json!({"title": "x", "monitors": "all", "cron": "0 3 * * * *", "duration_secs": 60}),
            "5 fields",
        ),
        (
            json!({"title": "x", "monitors": "all", "cron": "61 3 * * *", "duration_secs": 60}),
            "not valid",
        ),
        (
            json!({"title": "x", "monitors": "all", "cron": "0 0 30 2 *", "duration_secs": 60}),
            "never matches",
        ),
        (
            json!({"title": "x", "monitors": "all", "cron": "0 3 * * *", "duration_secs": 60, "timezone": "Mars/Olympus"}),
            "unknown time zone",
        ),
        (
            json!({"title": "x", "monitors": "all", "cron": "0 3 * * *", "duration_secs": 0}),
            "at least 1",
        ),
        (
            json!({"title": "x", "monitors": "all", "cron": "0 3 * * *", "duration_secs": 32 * 86_400}),
            "at most 31 days",
        ),
        (
            json!({"title": "x", "monitors": "all", "cron": "0 3 * * *"}),
            "both cron and duration_secs",
        ),
        (
            json!({"title": "x", "monitors": "all", "start_ms": 2000, "end_ms": 1000}),
            "end_ms must be after",
        ),
        (
            json!({"title": "x", "monitors": "all", "start_ms": 1000, "end_ms": 1000}),
            "end_ms must be after",
        ),
        (
            json!({"title": "x", "monitors": "all", "start_ms": 1000}),
            "both start_ms and end_ms",
        ),
        (
            json!({"title": "x", "monitors": "all", "start_ms": 1, "end_ms": 2, "cron": "0 3 * * *"}),
            "not both",
        ),
        (
            json!({"title": "x", "monitors": "all"}),
            "needs start_ms and end_ms",
        ),
        (
            json!({"title": "", "monitors": "all", "start_ms": 1, "end_ms": 2}),
            "title",
        ),
        (
            json!({"title": "x", "monitors": [], "start_ms": 1, "end_ms": 2}),
            "at least one",
        ),
        (
            json!({"title": "x", "monitors": "some", "start_ms": 1, "end_ms": 2}),
            "\"all\" or a list",
        ),
        (
            json!({"title": "x", "monitors": [1], "start_ms": 1, "end_ms": 2}),
            "\"all\" or a list",
        ),
        (
            json!({"title": "x", "monitors": "all", "start_ms": 1, "end_ms": 2, "colour": "red"}),
            "unknown field",
        ),
    ];
    for (json, why) in cases {
        let text = json.to_string();
        let error = refused(json);
        assert!(error.contains(why), "{text}: {error:?} should say {why:?}");
    }
}

#[test]
fn a_valid_input_round_trips_through_the_record() {
    let m = recurring(
        "w",
        " 0 3 * * SUN ",
        7200,
        "Europe/Berlin",
        &["b", "a", "a"],
    );
    assert_eq!(
        m.monitors,
        MaintenanceScope::Only(vec!["a".into(), "b".into()])
    );
    assert!(m.active);
    let again = MaintenanceInput::of(&m).into_maintenance().unwrap();
    assert_eq!(
        (again.schedule, again.monitors),
        (m.schedule.clone(), m.monitors.clone())
    );
    let defaulted = MaintenanceInput {
        title: "t".into(),
        monitors: "all".into(),
        cron: Some("0 3 * * *".into()),
        duration_secs: Some(60),
        ..Default::default()
    }
    .into_maintenance()
    .unwrap();
    assert!(
        matches!(defaulted.schedule, MaintenanceSchedule::Recurring { timezone, .. } if timezone == "UTC")
    );
}
