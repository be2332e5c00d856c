use ringwatch_proto::{Announcement, Severity, Status};

use super::*;
use crate::domain::page_model::{self, GroupFacts, MonitorFacts, Outage};

const EVIL: &str = "<script>alert('x')</script>&\"";

fn data(show_details: bool) -> PageData {
    let now = 100 * uptime_day() + 3 * 3_600_000;
    let m = MonitorFacts {
        id: "m-1".into(),
        name: Some(format!("API {EVIL}")),
        url: "https://api.example/<b>".into(),
        status: crate::domain::status::ShownStatus::Down,
        last_error: Some(format!("refused {EVIL}")),
        changes: vec![(0, Status::Up), (now - 7_200_000, Status::Down)],
        outages: vec![Outage {
            start_ms: now - 7_200_000,
            end_ms: None,
            duration_ms: 7_200_000,
            cause: format!("cause {EVIL}"),
        }],
        maintenance: Vec::new(),
    };
    let model = page_model::build(
        &[GroupFacts {
            name: format!("Group {EVIL}"),
            monitors: vec![m],
        }],
        show_details,
        now,
    );
    PageData {
        slug: "acme".into(),
        title: format!("Title {EVIL}"),
        description: format!("About {EVIL}"),
        overall: model.overall,
        overall_text: model.overall.text(),
        announcement: Some(Announcement {
            title: format!("Notice {EVIL}"),
            text: format!("Text {EVIL}"),
            severity: Severity::Critical,
            start_ms: None,
            end_ms: None,
        }),
        groups: model.groups,
        incidents: model.incidents,
        generated_ms: now,
        show_details,
    }
}

fn uptime_day() -> u64 {
    crate::domain::uptime::DAY_MS
}

#[test]
fn escape_covers_the_five_characters() {
    assert_eq!(
        escape(EVIL),
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
    );
    assert_eq!(escape("plain été"), "plain été");
}

#[test]
fn every_user_text_is_escaped_and_details_show_only_when_asked() {
    for details in [false, true] {
        let html = render(&data(details));
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("'x'"));
        let escaped = escape(EVIL);
        for shown in ["Title ", "About ", "Group ", "API ", "Notice ", "Text "] {
            assert!(
                html.contains(&format!("{shown}{escaped}")),
                "{shown} missing"
            );
        }
        assert_eq!(html.contains("api.example"), details);
        assert_eq!(html.contains("refused "), details);
        assert_eq!(html.contains("cause "), details);
    }
}

#[test]
fn the_page_has_its_state_bars_with_hover_details_and_the_incident() {
    let html = render(&data(false));
    assert!(html.contains("<div class=\"overall major_outage\" id=\"overall\">Major outage</div>"));
    assert!(html.contains("<span class=\"state st-down\">Down</span>"));
    assert_eq!(html.matches("<i class=").count(), page_model::DAYS as usize);
    assert!(
        html.contains("title=\"1970-04-11: 33.33% up, down 2h (1 incident)\""),
        "{html}"
    );
    assert!(html.contains("<td>1970-04-11 01:00 UTC</td><td>ongoing</td><td>2h</td>"));
    assert!(html.contains("<meta http-equiv=\"refresh\" content=\"60\">"));
    assert!(html.contains("class=\"ann critical\""));
}

#[test]
fn the_policy_allows_exactly_the_page_style() {
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"f"), "Zg==");
    let hash = base64(&sha2::Sha256::digest(STYLE.as_bytes()));
    assert!(CSP.contains(&format!("style-src 'sha256-{hash}'")));
    assert!(CSP.starts_with("default-src 'none'"));
    assert!(!CSP.contains("unsafe"));
}

#[test]
fn state_labels_are_generic() {
    assert_eq!(state_label("maintenance"), "Maintenance");
    assert_eq!(state_label("up"), "Up");
    assert_eq!(duration(59_000), "59s");
    assert_eq!(duration(3_725_000), "1h 2m");
}
