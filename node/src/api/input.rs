//! Request bodies: parsing with readable errors, and validation into definitions.
//!
//! Every check runs before anything is stored, so a refused request changes nothing.

use serde_json::value::RawValue;

pub use crate::domain::spec::{MonitorInput, MonitorPatch, StatusSpec};

use super::error::ApiError;

/// The body of `POST /api/monitors`: one monitor, or a non-empty array of them (bulk create,
/// all or nothing).
// Only the schema: `parse_create` reads the body (and says which element is wrong).
#[derive(Debug, utoipa::ToSchema)]
#[serde(untagged)]
pub enum CreateBody {
    One(Box<MonitorInput>),
    Bulk(Vec<MonitorInput>),
}

/// Parses the JSON `text` of one value as `T`; `at` prefixes the message of a refusal.
fn parse_json<T: serde::de::DeserializeOwned>(text: &str, at: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::bad_request(format!("{at}{e}")))
}

fn malformed(e: serde_json::Error) -> ApiError {
    ApiError::bad_request(format!("malformed JSON: {e}"))
}

/// Parses a create body: one object or an array of them. Each element is deserialized
/// straight from its text (no intermediate `serde_json::Value` tree: a bulk import of
/// thousands of monitors would build and drop one, and objects would lose their order).
pub fn parse_create(body: &[u8]) -> Result<(Vec<MonitorInput>, bool), ApiError> {
    let raw: &RawValue = serde_json::from_slice(body).map_err(malformed)?;
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(text).map_err(malformed)?;
            if items.is_empty() {
                return Err(ApiError::bad_request("the array of monitors is empty"));
            }
            let inputs = items
                .iter()
                .enumerate()
                .map(|(i, v)| parse_json(v.get(), &format!("monitor #{i}: ")))
                .collect::<Result<_, _>>()?;
            Ok((inputs, true))
        }
        Some(b'{') => Ok((vec![parse_json(text, "")?], false)),
        _ => Err(ApiError::bad_request(
            "expected a monitor object or an array of monitor objects",
        )),
    }
}

/// Parses a PATCH body.
pub fn parse_patch(body: &[u8]) -> Result<MonitorPatch, ApiError> {
    let raw: &RawValue = serde_json::from_slice(body).map_err(malformed)?;
    if !raw.get().starts_with('{') {
        return Err(ApiError::bad_request(
            "expected a JSON object of fields to change",
        ));
    }
    parse_json(raw.get(), "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::spec::{MAX_HEADERS, MAX_REQUEST_BODY_BYTES};
    use ringwatch_proto::Monitor;

    #[test]
    fn headers_keep_the_order_they_were_sent_in() {
        let body = br#"{"url": "http://x/", "headers": {"X-Good": "1", "Authorization": "t"}}"#;
        let (inputs, _) = parse_create(body).unwrap();
        let m = inputs.into_iter().next().unwrap().into_monitor().unwrap();
        let names: Vec<&str> = m.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["X-Good", "Authorization"]);
    }
    use ringwatch_proto::DEFAULT_INTERVAL_SECS;

    fn create(body: &str) -> Result<Vec<Monitor>, ApiError> {
        let (inputs, _) = parse_create(body.as_bytes())?;
        inputs
            .into_iter()
            .map(|i| i.into_monitor().map_err(ApiError::from))
            .collect()
    }

    #[test]
    fn accepts_good_input_with_defaults() {
        let m = create(r#"{"url":"https://example.com/x"}"#)
            .unwrap()
            .remove(0);
        assert_eq!(m.interval_secs, DEFAULT_INTERVAL_SECS);
        assert_eq!(m.name, "https://example.com/x");
        let m = create(r#"{"url":"http://a/","expect_status":[200,"300-302"]}"#).unwrap();
        assert_eq!(m[0].expect_status.len(), 2);
    }

    #[test]
    fn refuses_bad_input() {
        for body in [
            "{",
            "42",
            "[]",
            r#"{"url":5}"#,
            r#"{"url":"http://a/","interval_secs":"abc"}"#,
            r#"{"url":"http://a/","bogus":1}"#,
            r#"{"url":"ftp://a/"}"#,
            r#"{"url":"javascript:alert(1)"}"#,
            r#"{"url":"example.com"}"#,
            r#"{"url":"http://a/","interval_secs":0}"#,
            r#"{"url":"http://a/","timeout_ms":0}"#,
            r#"{"url":"http://a/","interval_secs":-5}"#,
            r#"{"url":"http://a/","failure_threshold":0}"#,
            r#"{"url":"http://a/","expect_status":["abc"]}"#,
            r#"{"url":"http://a/","expect_status":[700]}"#,
            r#"{"url":"http://a/","name":""}"#,
            r#"[{"url":"http://a/"},{"url":"nope"}]"#,
        ] {
            let e = create(body).expect_err(body);
            assert_eq!(e.status, 400, "{body}");
            assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn patch_applies_and_clears() {
        let m = create(r#"{"url":"http://a/","expect_body_contains":"x"}"#)
            .unwrap()
            .remove(0);
        let p = parse_patch(br#"{"interval_secs":5,"expect_body_contains":null}"#).unwrap();
        let m2 = p.apply(m.clone()).unwrap();
        assert_eq!(m2.interval_secs, 5);
        assert_eq!(m2.expect_body_contains, None);
        assert!(parse_patch(br#"{"id":"x"}"#).is_err());
        assert!(
            parse_patch(br#"{"interval_secs":0}"#)
                .unwrap()
                .apply(m)
                .is_err()
        );
    }

    #[test]
    fn accepts_assertions_and_request_fields() {
        let m = create(
            r#"{"url":"https://a/","method":"post","headers":{"X-Token":"t","Accept":"*/*"},
                "body":"{}","expect_body_not_contains":"error","max_response_ms":800,
                "tls_min_days":7,"tls_skip_verify":true,"notifiers":["ops","web"]}"#,
        )
        .unwrap()
        .remove(0);
        assert_eq!(m.method, "POST");
        assert_eq!(m.headers.len(), 2);
        assert!(m.headers.contains(&("X-Token".into(), "t".into())));
        assert_eq!(m.body.as_deref(), Some("{}"));
        assert_eq!(m.expect_body_not_contains.as_deref(), Some("error"));
        assert_eq!((m.max_response_ms, m.tls_min_days), (Some(800), Some(7)));
        assert!(m.tls_skip_verify);
        assert_eq!(m.notifiers, Some(vec!["ops".into(), "web".into()]));
        let m = create(r#"{"url":"tcp://db.local:5432","max_response_ms":100}"#).unwrap();
        assert!(m[0].is_tcp());
        let m = create(r#"{"url":"http://a/","notifiers":null}"#).unwrap();
        assert_eq!(m[0].notifiers, None);
    }

    #[test]
    fn refuses_bad_assertions_and_request_fields() {
        let too_many: String = (0..=MAX_HEADERS)
            .map(|i| format!(r#""X-{i}":"v","#))
            .collect();
        let big_body = "x".repeat(MAX_REQUEST_BODY_BYTES + 1);
        for body in [
            r#"{"url":"http://a/","method":"TRACE"}"#.to_owned(),
            r#"{"url":"http://a/","method":""}"#.into(),
            r#"{"url":"http://a/","headers":{"bad name":"v"}}"#.into(),
            r#"{"url":"http://a/","headers":{"":"v"}}"#.into(),
            r#"{"url":"http://a/","headers":{"X-A":"line
break"}}"#
                .into(),
            r#"{"url":"http://a/","headers":{"X-A":5}}"#.into(),
            r#"{"url":"http://a/","headers":["X-A: v"]}"#.into(),
            r#"{"url":"http://a/","headers":{"Content-Length":"5"}}"#.into(),
            r#"{"url":"http://a/","headers":{"X-A":"1","x-a":"2"}}"#.into(),
            format!(r#"{{"url":"http://a/","headers":{{{}"X":"v"}}}}"#, too_many),
            format!(r#"{{"url":"http://a/","body":"{big_body}"}}"#),
            r#"{"url":"http://a/","max_response_ms":0}"#.into(),
            r#"{"url":"http://a/","max_response_ms":300001}"#.into(),
            r#"{"url":"https://a/","tls_min_days":3651}"#.into(),
            r#"{"url":"https://a/","tls_min_days":-1}"#.into(),
            r#"{"url":"http://a/","tls_min_days":7}"#.into(),
            r#"{"url":"http://a/","tls_skip_verify":"yes"}"#.into(),
            r#"{"url":"http://a/","expect_body_not_contains":""}"#.into(),
            r#"{"url":"http://a/","notifiers":[""]}"#.into(),
            r#"{"url":"http://a/","notifiers":"ops"}"#.into(),
            format!(
                r#"{{"url":"http://a/","notifiers":["{}"]}}"#,
                "n".repeat(101)
            ),
            r#"{"url":"tcp://db.local"}"#.into(),
            r#"{"url":"tcp://db.local:0"}"#.into(),
            r#"{"url":"tcp://db.local:5432/path"}"#.into(),
            r#"{"url":"tcp://db.local:5432?q=1"}"#.into(),
            r#"{"url":"tcp://:5432"}"#.into(),
            r#"{"url":"TCP://db.local:5432"}"#.into(),
            r#"{"url":"tcp://db.local:5432","expect_body_contains":"x"}"#.into(),
            r#"{"url":"tcp://db.local:5432","method":"POST"}"#.into(),
            r#"{"url":"http://a/","repeat_every":"often"}"#.into(),
            r#"{"url":"http://a/","repeat_every":"0s"}"#.into(),
            r#"{"url":"http://a/","repeat_every":"1500ms"}"#.into(),
            r#"{"url":"http://a/","repeat_every":"31d"}"#.into(),
            r#"{"url":"http://a/","repeat_every":3600}"#.into(),
            r#"{"url":"http://a/","public_badges":"yes"}"#.into(),
        ] {
            let e = create(&body).expect_err(&body);
            assert_eq!(e.status, 400, "{body}");
            assert!(!e.message.is_empty());
        }
        let e = create(r#"{"url":"tcp://db.local"}"#).unwrap_err();
        assert!(e.message.contains("needs a port"), "{}", e.message);
        let e = create(r#"{"url":"http://a/","method":"TRACE"}"#).unwrap_err();
        assert!(e.message.contains("GET, HEAD, POST"), "{}", e.message);
    }

    #[test]
    fn patch_sets_and_clears_new_fields() {
        let m = create(r#"{"url":"https://a/","headers":{"X-A":"1"},"tls_min_days":3}"#)
            .unwrap()
            .remove(0);
        let p = parse_patch(
            br#"{"method":"delete","headers":null,"tls_min_days":null,"notifiers":[]}"#,
        )
        .unwrap();
        let m2 = p.apply(m.clone()).unwrap();
        assert_eq!(m2.method, "DELETE");
        assert!(m2.headers.is_empty());
        assert_eq!(m2.tls_min_days, None);
        assert_eq!(m2.notifiers, Some(vec![]));
        let p = parse_patch(br#"{"repeat_every":"1h 30m","public_badges":true}"#).unwrap();
        let m3 = p.apply(m2.clone()).unwrap();
        assert_eq!((m3.repeat_every_secs, m3.public_badges), (Some(5400), true));
        assert_eq!(crate::domain::spec::repeat_every_text(5400), "1h 30m");
        let cleared = parse_patch(br#"{"repeat_every":null}"#).unwrap();
        assert_eq!(cleared.apply(m3).unwrap().repeat_every_secs, None);
        let to_tcp = parse_patch(br#"{"url":"tcp://a:22"}"#).unwrap();
        assert!(
            to_tcp.apply(m).is_err(),
            "headers do not apply to tcp checks"
        );
    }
}
