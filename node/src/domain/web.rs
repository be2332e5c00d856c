//! What a browser may make this node do, decided before any token is looked at: which `Host`
//! and `Origin` values belong to the node ([`Site`]: DNS rebinding and cross-site requests),
//! which content type a change must have ([`is_json`]: cross-site forms and `text/plain`
//! fetches), and the dashboard's session cookie ([`session_cookie`], [`session_secret`]).
//!
//! Why these rules are enough against a page on another origin:
//! - A browser sends a page's request with the `Host` of the name the page was loaded from.
//!   A DNS-rebinding page has its own name in `Host`; only the node's own addresses and the
//!   configured public URLs are answered, so it is refused before it can read anything.
//! - Without a CORS preflight (which this node never grants), another origin can only send
//!   GET, HEAD and POST, and a POST body only as a form or `text/plain`: a change with a body
//!   or a content type must be `application/json`, so no such body gets through. A change
//!   with neither (a DELETE, `POST .../check`) carries nothing to forge; DELETE needs a
//!   preflight anyway, and for a POST the next rule holds.
//! - Browsers send `Origin` on every cross-origin request and every POST, PUT, PATCH and
//!   DELETE; one that is not the node's own is refused, and a change made with the session
//!   cookie must carry one.
//! - The session cookie is `HttpOnly` (no script reads it) and `SameSite=Strict` (no other
//!   site's page sends it).

use std::net::{IpAddr, SocketAddr};

use url::Url;

/// Name of the dashboard session cookie.
pub const SESSION_COOKIE: &str = "ringwatch_session";

/// One origin the node answers as: scheme, lower-case host (IPv6 in brackets) and port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    https: bool,
    host: String,
    port: u16,
}

impl Origin {
    fn default_port(&self) -> u16 {
        if self.https { 443 } else { 80 }
    }
}

/// The origins a node answers as: its own HTTP address (and the `localhost` forms of a
/// loopback or unspecified one) and the configured public URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    origins: Vec<Origin>,
    /// With an unspecified listen address (`0.0.0.0`, `::`) the node's own IPs are not known:
    /// any IP literal on this port counts as the node's (a literal cannot be rebound).
    any_ip_on: Option<u16>,
}

impl Site {
    /// The site of a node listening on `listen`, also reachable as each of `public_urls`
    /// (checked by [`parse_public_url`]; ones that do not parse are ignored here).
    pub fn new(listen: SocketAddr, public_urls: &[String]) -> Site {
        let ip = listen.ip();
        let port = listen.port();
        let http = |host: String| Origin {
            https: false,
            host,
            port,
        };
        let mut origins = Vec::new();
        if !ip.is_unspecified() {
            origins.push(http(ip_host(ip)));
        }
        if ip.is_loopback() || ip.is_unspecified() {
            for host in ["127.0.0.1", "localhost", "[::1]"] {
                if !origins.iter().any(|o| o.host == host) {
                    origins.push(http(host.to_owned()));
                }
            }
        }
        origins.extend(public_urls.iter().filter_map(|u| parse_origin(u).ok()));
        Site {
            origins,
            any_ip_on: ip.is_unspecified().then_some(port),
        }
    }

    /// Whether a `Host` header value names this node.
    pub fn allows_host(&self, host: &str) -> bool {
        let Some((name, port)) = split_host(host) else {
            return false;
        };
        let listed = self.origins.iter().any(|o| {
            o.host == name
                && match port {
                    Some(p) => p == o.port,
                    None => o.port == o.default_port(),
                }
        });
        listed
            || self.any_ip_on.is_some_and(|own| {
                port == Some(own) && name.trim_matches(['[', ']']).parse::<IpAddr>().is_ok()
            })
    }

    /// Whether an `Origin` header value is this node's own (`null` never is).
    pub fn allows_origin(&self, origin: &str) -> bool {
        let Ok(o) = parse_origin(origin) else {
            return false;
        };
        self.origins.contains(&o)
            || self.any_ip_on.is_some_and(|own| {
                !o.https
                    && o.port == own
                    && o.host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok()
            })
    }

    /// Whether the site is reached over `https` as `origin` (the session cookie is then
    /// `Secure`).
    pub fn is_https(origin: &str) -> bool {
        parse_origin(origin).is_ok_and(|o| o.https)
    }
}

fn ip_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// `host[:port]` of a `Host` header, the host in lower case without a trailing dot.
fn split_host(value: &str) -> Option<(String, Option<u16>)> {
    let value = value.trim();
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        let end = rest.find(']')?;
        let after = &rest[end + 1..];
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (&value[..end + 2], port)
    } else {
        match value.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (value, None),
        }
    };
    let port = match port {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse().ok()?),
        Some(_) => return None,
        None => None,
    };
    let host = host.to_ascii_lowercase();
    if host.is_empty() || host.contains(['/', '@', ' ']) {
        return None;
    }
    Some((host, port))
}

/// An origin (`scheme://host[:port]`) of http or https.
fn parse_origin(text: &str) -> Result<Origin, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    let https = match url.scheme() {
        "http" => false,
        "https" => true,
        other => {
            return Err(format!(
                "{text:?}: the scheme must be http or https, not {other}"
            ));
        }
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("{text:?} has no host"))?
        .to_ascii_lowercase();
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{text:?} must not hold a user name or password"));
    }
    let port = url
        .port_or_known_default()
        .unwrap_or(if https { 443 } else { 80 });
    Ok(Origin { https, host, port })
}

/// Checks a `public_urls` entry: an http(s) URL with a host and no user info, e.g.
/// `https://status.example.com`. Only its origin (scheme, host, port) is used.
pub fn parse_public_url(text: &str) -> Result<(), String> {
    parse_origin(text).map(|_| ())
}

/// Whether a `Content-Type` value is JSON (`application/json`, parameters allowed).
pub fn is_json(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    media.eq_ignore_ascii_case("application/json")
}

/// Whether a method changes something (everything but GET, HEAD and OPTIONS).
pub fn is_change(method: &str) -> bool {
    !["GET", "HEAD", "OPTIONS"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
}

/// What a change request must carry: `None` if it may go on, else why not. A change that has
/// a body or a content type must be `application/json`; one with neither (a DELETE, a POST
/// to `/check`) carries nothing a form could forge, and browsers send `Origin` with it.
pub fn change_content_problem(
    method: &str,
    content_type: Option<&str>,
    has_body: bool,
) -> Option<String> {
    if !is_change(method) {
        return None;
    }
    match content_type {
        Some(ct) if is_json(ct) => None,
        None if !has_body => None,
        Some(ct) => Some(format!(
            "a {method} must be sent as Content-Type: application/json, not {ct:?}"
        )),
        None => Some(format!(
            "a {method} with a body must be sent as Content-Type: application/json"
        )),
    }
}

/// The `Set-Cookie` value that starts a dashboard session holding `secret` (hex-encoded, so
/// any admin token fits a cookie). `HttpOnly`: no script reads it; `SameSite=Strict`: no other
/// site's page sends it; `Secure` when the dashboard is reached over https.
pub fn session_cookie(secret: &str, secure: bool) -> String {
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={hex}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// The `Set-Cookie` value that ends a session.
pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The secret of the session cookie in a `Cookie` header, if there is a well-formed one.
pub fn session_secret(cookie_header: &str) -> Option<String> {
    let value = cookie_header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == SESSION_COOKIE).then_some(value.trim())
    })?;
    if value.is_empty() || value.len() % 2 != 0 || value.len() > 1024 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..value.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(value.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(listen: &str, public: &[&str]) -> Site {
        let public: Vec<String> = public.iter().map(|s| s.to_string()).collect();
        Site::new(listen.parse().unwrap(), &public)
    }

    #[test]
    fn a_loopback_node_answers_its_address_and_localhost_forms_only() {
        let s = site("127.0.0.1:8080", &[]);
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "[::1]:8080",
        ] {
            assert!(s.allows_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "127.0.0.1:8081",
            "localhost",
            "127.0.0.1",
            "10.0.0.1:8080",
            "",
            "127.0.0.1:80x",
            "user@127.0.0.1:8080",
            "localhost.:8080",
        ] {
            assert!(!s.allows_host(bad), "{bad}");
        }
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://[::1]:8080",
        ] {
            assert!(s.allows_origin(ok), "{ok}");
        }
        for bad in [
            "null",
            "http://127.0.0.1:3000",
            "https://127.0.0.1:8080",
            "http://evil.example:8080",
            "file://",
        ] {
            assert!(!s.allows_origin(bad), "{bad}");
        }
    }

    #[test]
    fn public_urls_add_their_origins_with_default_ports() {
        let s = site(
            "10.0.0.5:8080",
            &["https://Status.Example.com", "http://mon.example:9000/x"],
        );
        assert!(s.allows_host("10.0.0.5:8080"));
        assert!(
            !s.allows_host("localhost:8080"),
            "not loopback: no localhost"
        );
        assert!(s.allows_host("status.example.com"));
        assert!(s.allows_host("status.example.com:443"));
        assert!(!s.allows_host("status.example.com:8443"));
        assert!(s.allows_host("mon.example:9000"));
        assert!(!s.allows_host("mon.example"));
        assert!(s.allows_origin("https://status.example.com"));
        assert!(!s.allows_origin("http://status.example.com"));
        assert!(s.allows_origin("http://mon.example:9000"));
        assert!(Site::is_https("https://status.example.com"));
        assert!(!Site::is_https("http://mon.example:9000"));
    }

    #[test]
    fn an_unspecified_address_answers_any_ip_literal_on_its_port_but_no_name() {
        let s = site("0.0.0.0:8080", &[]);
        assert!(s.allows_host("192.168.1.20:8080"));
        assert!(s.allows_host("[fe80::1]:8080"));
        assert!(s.allows_host("localhost:8080"));
        assert!(!s.allows_host("192.168.1.20:9999"));
        assert!(!s.allows_host("rebound.example:8080"));
        assert!(s.allows_origin("http://192.168.1.20:8080"));
        assert!(!s.allows_origin("http://rebound.example:8080"));
    }

    #[test]
    fn public_url_checks() {
        assert!(parse_public_url("https://status.example.com").is_ok());
        for bad in [
            "ftp://x",
            "status.example.com",
            "https://u:p@x.example",
            "http://",
        ] {
            assert!(parse_public_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn changes_with_a_body_or_a_type_must_be_json() {
        assert_eq!(change_content_problem("GET", None, false), None);
        assert_eq!(
            change_content_problem("GET", Some("text/plain"), true),
            None
        );
        assert_eq!(change_content_problem("POST", None, false), None);
        assert_eq!(
            change_content_problem("POST", Some("application/json"), true),
            None
        );
        assert_eq!(
            change_content_problem("POST", Some("Application/JSON; charset=utf-8"), true),
            None
        );
        assert_eq!(change_content_problem("DELETE", None, false), None);
        for (method, ct, body) in [
            ("POST", Some("text/plain"), true),
            ("POST", Some("application/x-www-form-urlencoded"), true),
            ("POST", Some("multipart/form-data; boundary=x"), true),
            ("POST", Some("text/plain"), false),
            ("PATCH", None, true),
            ("PUT", Some("application/jsonx"), true),
            ("DELETE", Some("text/plain"), true),
            ("DELETE", None, true),
        ] {
            assert!(
                change_content_problem(method, ct, body).is_some(),
                "{method} {ct:?}"
            );
        }
    }

    #[test]
    fn session_cookie_round_trip() {
        let secret = format!("rw_{}_{}", "a".repeat(16), "b".repeat(64));
        let set = session_cookie(&secret, false);
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
        assert!(!set.contains("Secure"));
        assert!(
            !set.contains(&secret),
            "the raw secret is not in the cookie as is"
        );
        assert!(session_cookie("x", true).ends_with("; Secure"));
        let value = set.split(';').next().unwrap();
        let header = format!("other=1; {value}; last=2");
        assert_eq!(session_secret(&header).as_deref(), Some(secret.as_str()));
        assert_eq!(session_secret("ringwatch_session=; a=b"), None);
        assert_eq!(session_secret("ringwatch_session=zz"), None);
        assert_eq!(session_secret("ringwatch_session=abc"), None);
        assert_eq!(session_secret("other=6162"), None);
    }
}
