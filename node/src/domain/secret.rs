//! What counts as a secret in a definition, and how it is shown: the one redaction rule that
//! the API views, the events stream, the CLI (which prints what the API answers), the
//! notifications and the logs all ask. Nothing here does I/O.
//!
//! Secrets are stored and replicated as written (probes and notifications need them); they
//! are replaced by [`REDACTED`] wherever a definition is shown:
//! - request headers named `Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`,
//!   or whose name contains `token`, `secret`, `key`, `password`, `passwd`, `auth`,
//!   `session`, `credential` or `signature` (so `X-Api-Key`, `X-Auth-Token`...), and the
//!   headers the monitor's `secret_headers` names: the value;
//! - the request body of a monitor with `secret_body`;
//! - a URL's user-info password (`https://user:***@host/`) and the values of query
//!   parameters with such names (`?api_key=***`);
//! - webhook URLs (Slack, Discord, generic), whose path is their secret: only
//!   `scheme://host[:port]/***` is shown;
//! - the SMTP password: never shown at all.
//!
//! A client that sends a redacted value back (the dashboard's edit form does) keeps the stored
//! secret: see [`restore_url`] and [`restore_headers`].

use std::borrow::Cow;

use ringwatch_proto::Monitor;

/// What a redacted value is shown as.
pub const REDACTED: &str = "***";

/// Parts of a header or query parameter name that mark its value as secret (compared
/// case-insensitively). `key` covers `api-key`, `apikey`, `x-api-key`.
const SECRET_NAME_PARTS: [&str; 9] = [
    "token",
    "secret",
    "key",
    "password",
    "passwd",
    "auth",
    "session",
    "credential",
    "signature",
];

/// Header names that always carry secrets.
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// Whether a header (or query parameter) of this name carries a secret.
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_HEADERS.contains(&lower.as_str()) || SECRET_NAME_PARTS.iter().any(|p| lower.contains(p))
}

/// Whether the header `name` of a monitor that marks `marked` secret carries a secret: a
/// secret name ([`is_secret_name`]) or one the user marked (names compared
/// case-insensitively).
pub fn is_secret_header(name: &str, marked: &[String]) -> bool {
    is_secret_name(name) || marked.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// `value`, or [`REDACTED`] when the header `name` is secret.
pub fn header_value<'a>(name: &str, value: &'a str, marked: &[String]) -> &'a str {
    if is_secret_header(name, marked) {
        REDACTED
    } else {
        value
    }
}

/// A monitor's request body as shown: [`REDACTED`] when it is marked secret.
pub fn body(m: &Monitor) -> Option<&str> {
    match m.body.as_deref() {
        Some(_) if m.secret_body => Some(REDACTED),
        other => other,
    }
}

/// A monitor URL as shown: the user-info password and secret query values redacted. A URL
/// without either is returned as written (no normalisation).
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        // Not a URL (only seen in refused input): hide anything that looks like user-info.
        return match url.find('@') {
            Some(at) if url[..at].contains("://") => {
                let start = url.find("://").map_or(0, |i| i + 3);
                Cow::Owned(format!("{}{REDACTED}{}", &url[..start], &url[at..]))
            }
            _ => Cow::Borrowed(url),
        };
    };
    let mut changed = false;
    if parsed.password().is_some() {
        changed |= parsed.set_password(Some(REDACTED)).is_ok();
    }
    if parsed.query_pairs().any(|(k, _)| is_secret_name(&k)) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_name(&k) {
                    REDACTED.into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
        changed = true;
    }
    if changed {
        Cow::Owned(parsed.to_string())
    } else {
        Cow::Borrowed(url)
    }
}

/// A webhook URL as shown: its path, query and user-info are the secret (Slack's
/// `https://hooks.slack.com/services/T0/B0/XXXX`), so only `scheme://host[:port]/***`.
pub fn redact_webhook(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!(
                "{}://{}{port}/{REDACTED}",
                u.scheme(),
                u.host_str().unwrap_or_default()
            )
        }
        Err(_) => REDACTED.to_owned(),
    }
}

/// The secret values of a monitor: secret header values, a secret body, the URL password and
/// secret query values. Used to scrub texts that may quote them (a name defaulted from the URL).
pub fn monitor_secrets(m: &Monitor) -> Vec<String> {
    let mut found: Vec<String> = m
        .headers
        .iter()
        .filter(|(n, _)| is_secret_header(n, &m.secret_headers))
        .map(|(_, v)| v.clone())
        .collect();
    found.extend(m.body.clone().filter(|_| m.secret_body));
    if let Ok(u) = reqwest::Url::parse(&m.url) {
        found.extend(u.password().map(str::to_owned));
        found.extend(
            u.query_pairs()
                .filter(|(k, _)| is_secret_name(k))
                .map(|(_, v)| v.into_owned()),
        );
    }
    // Too short a value would redact unrelated text; such a secret protects nothing anyway.
    found.retain(|s| s.len() >= 4 && s != REDACTED);
    found
}

/// `text` with every occurrence of each secret (and its percent-encoded form) replaced by
/// [`REDACTED`].
pub fn scrub<'a>(text: &'a str, secrets: &[String]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for s in secrets {
        let encoded: String =
            url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        for needle in [s.as_str(), encoded.as_str()] {
            if !needle.is_empty() && out.contains(needle) {
                out = Cow::Owned(out.replace(needle, REDACTED));
            }
        }
    }
    out
}

/// A monitor's name as shown (a name defaulted from the URL carries its password).
pub fn monitor_name<'a>(m: &'a Monitor, secrets: &[String]) -> Cow<'a, str> {
    match scrub(&m.name, secrets) {
        Cow::Borrowed(_) if m.name == m.url => redact_url(&m.name),
        other => other,
    }
}

/// A monitor's name and URL as shown, for records that leave the definition (status changes
/// and the notifications made of them).
pub fn shown_name_and_url(m: &Monitor) -> (String, String) {
    let secrets = monitor_secrets(m);
    (
        monitor_name(m, &secrets).into_owned(),
        redact_url(&m.url).into_owned(),
    )
}

/// A status change's name and URL as sent. Changes are recorded with the monitor as shown
/// ([`shown_name_and_url`]); this also covers those recorded by builds from before secrets
/// were redacted, still on disk or waiting for a retry: their URL's password and secret
/// query values, and a name that is the URL, are redacted here (redacting twice changes
/// nothing).
pub fn shown_transition(t: &ringwatch_proto::Transition) -> (String, String) {
    let url = redact_url(&t.url).into_owned();
    let name = if t.name == t.url {
        url.clone()
    } else {
        t.name.clone()
    };
    (name, url)
}

/// The URL a patch writes: where `new` carries [`REDACTED`] as its password or as a secret
/// query value, the stored URL's value is kept.
pub fn restore_url(new: &str, stored: &str) -> String {
    if !new.contains(REDACTED) {
        return new.to_owned();
    }
    let (Ok(mut n), Ok(s)) = (reqwest::Url::parse(new), reqwest::Url::parse(stored)) else {
        return new.to_owned();
    };
    if n.password() == Some(REDACTED)
        && let Some(p) = s.password()
    {
        let _ = n.set_password(Some(p));
    }
    if n.query_pairs()
        .any(|(k, v)| is_secret_name(&k) && v == REDACTED)
    {
        let pairs: Vec<(String, String)> = n
            .query_pairs()
            .map(|(k, v)| {
                let kept = (is_secret_name(&k) && v == REDACTED)
                    .then(|| s.query_pairs().find(|(sk, _)| *sk == k).map(|(_, sv)| sv))
                    .flatten();
                (k.into_owned(), kept.unwrap_or(v).into_owned())
            })
            .collect();
        n.query_pairs_mut().clear().extend_pairs(pairs);
    }
    n.to_string()
}

/// The headers a patch writes: a header whose value is [`REDACTED`] keeps the stored value of
/// the header of the same name (names compared case-insensitively).
pub fn restore_headers(
    new: Vec<(String, String)>,
    stored: &[(String, String)],
) -> Vec<(String, String)> {
    new.into_iter()
        .map(|(name, value)| {
            if value != REDACTED {
                return (name, value);
            }
            let kept = stored
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                .map(|(_, v)| v.clone());
            (name, kept.unwrap_or(value))
        })
        .collect()
}

/// The body a patch writes: [`REDACTED`] sent back for a stored secret body keeps it.
pub fn restore_body(new: Option<String>, stored: &Monitor) -> Option<String> {
    match new {
        Some(b) if b == REDACTED && stored.secret_body && stored.body.is_some() => {
            stored.body.clone()
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_header_names() {
        for n in [
            "Authorization",
            "proxy-authorization",
            "Cookie",
            "X-Api-Key",
            "apikey",
            "X-Auth-Token",
            "X-Client-Secret",
            "db_password",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in ["Accept", "User-Agent", "X-Request-Id", "Content-Type"] {
            assert!(!is_secret_name(n), "{n}");
        }
        assert_eq!(header_value("Authorization", "Bearer s1", &[]), REDACTED);
        assert_eq!(header_value("Accept", "text/html", &[]), "text/html");
        // A header the user marks is secret too, whatever its name's case.
        let marked = ["x-tenant".to_owned()];
        assert_eq!(header_value("X-Tenant", "acme-42", &marked), REDACTED);
        assert_eq!(header_value("X-Other", "plain", &marked), "plain");
        assert!(is_secret_header("X-TENANT", &marked));
    }

    #[test]
    fn urls_hide_their_password_and_secret_query_values() {
        assert_eq!(
            redact_url("https://user:s2@example.com/x"),
            "https://user:***@example.com/x"
        );
        assert_eq!(
            redact_url("https://example.com/x?a=1&api_key=s3"),
            "https://example.com/x?a=1&api_key=***"
        );
        // Nothing secret: returned as written, not normalised.
        assert!(matches!(redact_url("http://example.com"), Cow::Borrowed(_)));
        assert_eq!(redact_url("tcp://db:5432"), "tcp://db:5432");
        assert_eq!(redact_url("https://u:pw@exa mple"), "https://***@exa mple");
    }

    #[test]
    fn webhooks_show_only_scheme_and_host() {
        assert_eq!(
            redact_webhook("https://hooks.slack.com/services/T0/B0/XXXX"),
            "https://hooks.slack.com/***"
        );
        assert_eq!(
            redact_webhook("http://u:p@127.0.0.1:9000/hook?k=1"),
            "http://127.0.0.1:9000/***"
        );
        assert_eq!(redact_webhook("not a url"), REDACTED);
    }

    #[test]
    fn a_redacted_value_sent_back_keeps_the_secret() {
        let stored = "https://user:s2@example.com/x?api_key=k1&a=1";
        let shown = redact_url(stored).into_owned();
        assert_eq!(restore_url(&shown, stored), stored);
        // Another path keeps the password; a new password replaces it.
        assert_eq!(
            restore_url("https://user:***@example.com/y", stored),
            "https://user:s2@example.com/y"
        );
        assert_eq!(
            restore_url("https://user:new@example.com/x", stored),
            "https://user:new@example.com/x"
        );
        let headers = vec![("Authorization".to_owned(), "Bearer s1".to_owned())];
        let back = vec![
            ("authorization".to_owned(), REDACTED.to_owned()),
            ("Accept".to_owned(), "*/*".to_owned()),
        ];
        assert_eq!(
            restore_headers(back, &headers),
            vec![
                ("authorization".to_owned(), "Bearer s1".to_owned()),
                ("Accept".to_owned(), "*/*".to_owned()),
            ]
        );
    }

    #[test]
    fn names_and_texts_are_scrubbed() {
        let mut m = Monitor::new(String::new(), "https://user:s2secret@example.com/".into());
        m.headers = vec![("Authorization".into(), "Bearer s1secret".into())];
        let secrets = monitor_secrets(&m);
        assert_eq!(monitor_name(&m, &secrets), "https://user:***@example.com/");
        assert_eq!(
            scrub("sent Bearer s1secret to user:s2secret@", &secrets),
            "sent *** to user:***@"
        );
        m.name = "shop".into();
        assert_eq!(monitor_name(&m, &secrets), "shop");
    }

    #[test]
    fn changes_recorded_before_redaction_are_sent_redacted() {
        let t = ringwatch_proto::Transition {
            monitor_id: "m-1".into(),
            name: "https://u:old-s9@example.com/?token=t9".into(),
            url: "https://u:old-s9@example.com/?token=t9".into(),
            seq: 1,
            from: ringwatch_proto::Status::Up,
            to: ringwatch_proto::Status::Down,
            at_ms: 1,
            reason: "status 503".into(),
            node: "n1".into(),
            confirmed_by: None,
            last_result: None,
            channels: Vec::new(),
            zones_down: Vec::new(),
            zones_reachable: 0,
        };
        let shown = "https://u:***@example.com/?token=***";
        assert_eq!(shown_transition(&t), (shown.to_owned(), shown.to_owned()));
        // A change recorded as shown is sent as it is.
        let again = ringwatch_proto::Transition {
            name: "shop".into(),
            url: shown.into(),
            ..t
        };
        assert_eq!(
            shown_transition(&again),
            ("shop".to_owned(), shown.to_owned())
        );
    }

    #[test]
    fn marked_headers_and_a_secret_body_are_secrets() {
        let mut m = Monitor::new(String::new(), "https://example.com/".into());
        m.headers = vec![
            ("X-Tenant".into(), "tenant-s5".into()),
            ("Accept".into(), "text/plain".into()),
        ];
        m.body = Some("{\"pin\":\"body-s6\"}".into());
        assert_eq!(monitor_secrets(&m), Vec::<String>::new());
        assert_eq!(body(&m), m.body.as_deref());
        m.secret_headers = vec!["x-tenant".into()];
        m.secret_body = true;
        assert_eq!(monitor_secrets(&m), ["tenant-s5", "{\"pin\":\"body-s6\"}"]);
        assert_eq!(body(&m), Some(REDACTED));
        // The body sent back redacted keeps the stored one; a new body replaces it.
        assert_eq!(restore_body(Some(REDACTED.into()), &m), m.body);
        assert_eq!(restore_body(Some("new".into()), &m).as_deref(), Some("new"));
        assert_eq!(restore_body(None, &m), None);
        // `***` is an ordinary body where the stored one is not secret.
        m.secret_body = false;
        assert_eq!(
            restore_body(Some(REDACTED.into()), &m).as_deref(),
            Some(REDACTED)
        );
    }
}
