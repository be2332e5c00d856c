use ringwatch_proto::Status;

use super::*;

const NOW: u64 = 200 * DAY_MS + 12 * 3_600_000; // noon of a day

fn facts(id: &str, status: Status, changes: Vec<(u64, Status)>) -> MonitorFacts {
    MonitorFacts {
        id: id.into(),
        name: Some(format!("Service {id}")),
        url: format!("https://user:***@{id}.example/health"),
        status: ShownStatus::of(status, false),
        last_error: Some("connection refused by 10.0.0.7".into()),
        changes,
        outages: Vec::new(),
        maintenance: Vec::new(),
    }
}

fn group(monitors: Vec<MonitorFacts>) -> Vec<GroupFacts> {
    vec![GroupFacts {
        name: "Web".into(),
        monitors,
    }]
}

#[test]
fn overall_counts_only_up_and_down_and_a_majority_down_is_major() {
    use ShownStatus::*;
    assert_eq!(overall([]), Overall::Operational);
    assert_eq!(overall([Up, Pending, Paused]), Overall::Operational);
    assert_eq!(
        overall([Up, Maintenance, Maintenance]),
        Overall::Operational,
        "maintenance is no outage"
    );
    assert_eq!(overall([Up, Down]), Overall::PartialOutage);
    assert_eq!(overall([Up, Up, Down, Paused]), Overall::PartialOutage);
    assert_eq!(overall([Up, Down, Down]), Overall::MajorOutage);
    assert_eq!(overall([Down, Pending]), Overall::MajorOutage);
    assert_eq!(Overall::PartialOutage.text(), "Partial outage");
}

#[test]
fn bars_cover_ninety_utc_days_to_today_with_gaps_before_creation() {
    // Created 10 days ago at midnight, down for 6 hours 3 days ago.
    let created = NOW - NOW % DAY_MS - 10 * DAY_MS;
    let down_at = created + 7 * DAY_MS;
    let changes = vec![
        (created, Status::Up),
        (down_at, Status::Down),
        (down_at + 6 * 3_600_000, Status::Up),
    ];
    let model = build(&group(vec![facts("a", Status::Up, changes)]), false, NOW);
    let row = &model.groups[0].monitors[0];
    assert_eq!(row.days.len(), DAYS as usize);
    assert_eq!(
        row.days.last().unwrap().day_ms,
        NOW - NOW % DAY_MS,
        "today last"
    );
    assert_eq!(row.days[0].day_ms, NOW - NOW % DAY_MS - 89 * DAY_MS);
    let graded: Vec<&str> = row.days.iter().map(DayBar::grade).collect();
    assert!(
        graded[..79].iter().all(|g| *g == "none"),
        "before creation: no data"
    );
    assert_eq!(
        graded[79..],
        [
            "ok", "ok", "ok", "ok", "ok", "ok", "ok", "major", "ok", "ok", "ok"
        ]
    );
    let bad = &row.days[86];
    assert_eq!(
        (bad.uptime, bad.down_ms, bad.incidents),
        (Some(0.75), 6 * 3_600_000, 1)
    );
    // 6 hours down in 10.5 days observed.
    let expected = 1.0 - 6.0 / (10.5 * 24.0);
    assert!(
        (row.uptime_90d.unwrap() - expected).abs() < 1e-4,
        "{:?}",
        row.uptime_90d
    );
    assert_eq!(row.status, "up");
}

#[test]
fn incidents_of_the_last_14_days_newest_first_without_causes_unless_detailed() {
    let outage = |start_days_ago: u64, hours: Option<u64>| {
        let start = NOW - start_days_ago * DAY_MS;
        Outage {
            start_ms: start,
            end_ms: hours.map(|h| start + h * 3_600_000),
            duration_ms: hours.map_or(NOW - start, |h| h * 3_600_000),
            cause: "timeout after 10000 ms".into(),
        }
    };
    let mut a = facts("a", Status::Down, vec![(0, Status::Up)]);
    a.outages = vec![outage(0, None), outage(20, Some(1))];
    let mut b = facts("b", Status::Up, vec![(0, Status::Up)]);
    b.outages = vec![outage(3, Some(2)), outage(15, Some(24 * 2))];
    let groups = group(vec![a.clone(), b]);
    let model = build(&groups, false, NOW);
    let listed: Vec<(&str, u64)> = model
        .incidents
        .iter()
        .map(|i| (i.monitor_id.as_str(), (NOW - i.start_ms) / DAY_MS))
        .collect();
    // b's 2-day outage from 15 days ago ended 13 days ago: it overlaps the window.
    assert_eq!(listed, [("a", 0), ("b", 3), ("b", 15)]);
    assert_eq!(model.incidents[0].end_ms, None);
    assert!(model.incidents.iter().all(|i| i.cause.is_none()));
    assert_eq!(model.overall, Overall::PartialOutage);

    let detailed = build(&groups, true, NOW);
    assert_eq!(
        detailed.incidents[1].cause.as_deref(),
        Some("timeout after 10000 ms")
    );

    // The same monitor in two groups: shown twice, counted and listed once.
    let twice = vec![
        GroupFacts {
            name: "1".into(),
            monitors: vec![a.clone()],
        },
        GroupFacts {
            name: "2".into(),
            monitors: vec![a],
        },
    ];
    let model = build(&twice, false, NOW);
    assert_eq!(model.incidents.len(), 1);
    assert_eq!(model.groups[1].monitors.len(), 1);
    assert_eq!(model.overall, Overall::MajorOutage);
}

#[test]
fn urls_errors_and_url_names_show_only_with_details() {
    let mut unnamed = facts("m-1", Status::Down, vec![]);
    unnamed.name = None;
    let groups = group(vec![unnamed]);
    let plain = build(&groups, false, NOW);
    let row = &plain.groups[0].monitors[0];
    assert_eq!(row.name, "Monitor m-1");
    assert_eq!(
        (row.url.as_deref(), row.last_error.as_deref()),
        (None, None)
    );
    let json = serde_json::to_string(&plain.groups).unwrap();
    assert!(
        !json.contains("example") && !json.contains("10.0.0.7"),
        "{json}"
    );

    let detailed = build(&groups, true, NOW);
    let row = &detailed.groups[0].monitors[0];
    assert_eq!(row.name, "https://user:***@m-1.example/health");
    assert_eq!(
        row.last_error.as_deref(),
        Some("connection refused by 10.0.0.7")
    );
}

#[test]
fn maintenance_time_is_neither_up_nor_down_in_the_bars_and_the_ninety_days() {
    // Down for 6 hours yesterday, all of it inside a maintenance window.
    let created = NOW - NOW % DAY_MS - 10 * DAY_MS;
    let down_at = NOW - NOW % DAY_MS - DAY_MS + 3_600_000;
    let changes = vec![
        (created, Status::Up),
        (down_at, Status::Down),
        (down_at + 6 * 3_600_000, Status::Up),
    ];
    let mut m = facts("a", Status::Up, changes);
    let plain = build(&group(vec![m.clone()]), false, NOW);
    let row = &plain.groups[0].monitors[0];
    assert!(
        row.uptime_90d.unwrap() < 1.0,
        "without the window the outage counts"
    );
    m.maintenance = vec![Span {
        start_ms: down_at,
        end_ms: down_at + 6 * 3_600_000,
    }];
    let model = build(&group(vec![m]), false, NOW);
    let row = &model.groups[0].monitors[0];
    assert_eq!(row.uptime_90d, Some(1.0));
    let yesterday = &row.days[DAYS as usize - 2];
    assert_eq!((yesterday.uptime, yesterday.down_ms), (Some(1.0), 0));
}
