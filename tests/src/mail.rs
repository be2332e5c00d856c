//! A message as [`SmtpSink`](crate::SmtpSink) stored it, and just enough MIME to read it in
//! an assertion: unfolded headers, RFC 2047 encoded words in them (`=?utf-8?b?...?=`), and a
//! body decoded from quoted-printable or base64, taking the `text/plain` part of a multipart
//! message. Character sets other than UTF-8 (what lettre writes) are read as UTF-8.
//!
//! The decoders are lenient: what they cannot decode they return as it came, so a failing
//! assertion shows the text the node really sent.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::time::Instant;

/// One message the SMTP sink stored.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope sender (`MAIL FROM`), without angle brackets; empty for `<>`.
    pub from: String,
    /// The envelope recipients (`RCPT TO`), in order, without angle brackets.
    pub to: Vec<String>,
    /// The message data as received (headers and body), dot-stuffing undone, lines ending in
    /// CRLF, invalid UTF-8 replaced.
    pub data: String,
    /// The user name the connection authenticated as, if it did.
    pub auth_user: Option<String>,
    /// The password it authenticated with, if it did.
    pub auth_password: Option<String>,
    /// When the sink had read the whole message.
    pub at: Instant,
}

impl Mail {
    /// The first header `name` (any case), unfolded and trimmed, not decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        header_in(split_entity(&self.data).0, name)
    }

    /// The `Subject:` header, with encoded words decoded.
    pub fn subject(&self) -> Option<String> {
        self.header("subject")
            .map(|subject| decode_encoded_words(&subject))
    }

    /// The body: the text after the first blank line, decoded per its
    /// `Content-Transfer-Encoding` (the first `text/plain` part, for a multipart message),
    /// with line endings as `\n` and trailing line breaks removed.
    pub fn body(&self) -> String {
        let (head, body) = split_entity(&self.data);
        let text = decode_entity(head, body).replace("\r\n", "\n");
        text.trim_end_matches('\n').to_owned()
    }
}

/// Splits an entity (a message or a MIME part) into its header block and its body.
fn split_entity(entity: &str) -> (&str, &str) {
    if let Some(body) = entity.strip_prefix("\r\n") {
        return ("", body);
    }
    match entity.split_once("\r\n\r\n") {
        Some((head, body)) => (head, body),
        None => (entity, ""),
    }
}

/// The first header `name` in `head`, with folded continuation lines joined.
fn header_in(head: &str, name: &str) -> Option<String> {
    let mut found: Option<String> = None;
    for line in head.split("\r\n") {
        let continues = line.starts_with([' ', '\t']);
        match (&mut found, continues) {
            (Some(value), true) => value.push_str(line),
            (Some(_), false) => break,
            (None, true) => {}
            (None, false) => {
                if let Some((field, value)) = line.split_once(':')
                    && field.trim().eq_ignore_ascii_case(name)
                {
                    found = Some(value.to_owned());
                }
            }
        }
    }
    found.map(|value| value.trim().to_owned())
}

/// The text of an entity's body: the preferred part of a multipart body, else the body
/// decoded per the entity's transfer encoding.
fn decode_entity(head: &str, body: &str) -> String {
    let content_type = header_in(head, "content-type").unwrap_or_default();
    if let Some(part) = multipart_boundary(&content_type).and_then(|b| text_part(body, &b)) {
        let (part_head, part_body) = split_entity(part);
        return decode_entity(part_head, part_body);
    }
    let encoding = header_in(head, "content-transfer-encoding").unwrap_or_default();
    let decoded = match encoding.to_ascii_lowercase().as_str() {
        "base64" => {
            let compact: String = body.split_ascii_whitespace().collect();
            BASE64.decode(compact).ok()
        }
        "quoted-printable" => Some(decode_quoted_printable(body, false)),
        _ => None,
    };
    match decoded {
        Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        None => body.to_owned(),
    }
}

/// The `boundary` parameter of a `multipart/*` content type.
fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut fields = content_type.split(';');
    let media_type = fields.next()?.trim();
    if !media_type.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    fields.find_map(|param| {
        let (name, value) = param.split_once('=')?;
        let boundary = name.trim().eq_ignore_ascii_case("boundary");
        boundary.then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// The first `text/plain` part (a part without a content type is one) of a multipart body,
/// else its first part.
fn text_part<'a>(body: &'a str, boundary: &str) -> Option<&'a str> {
    let delimiter = format!("--{boundary}");
    let parts: Vec<&str> = body
        .split(delimiter.as_str())
        .skip(1) // the preamble
        .take_while(|part| !part.starts_with("--")) // the closing delimiter and epilogue
        .map(|part| part.strip_prefix("\r\n").unwrap_or(part))
        .map(|part| part.strip_suffix("\r\n").unwrap_or(part))
        .collect();
    let is_plain_text = |part: &&str| {
        header_in(split_entity(part).0, "content-type")
            .is_none_or(|content_type| content_type.to_ascii_lowercase().starts_with("text/plain"))
    };
    parts
        .iter()
        .copied()
        .find(is_plain_text)
        .or(parts.first().copied())
}

/// Decodes quoted-printable `text` (RFC 2045), or with `underscore_is_space` the `Q`
/// encoding of encoded words (RFC 2047). A `=` not followed by two hex digits stays as is.
fn decode_quoted_printable(text: &str, underscore_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i + 1..];
        match bytes[i] {
            // A soft line break: the line goes on.
            b'=' if rest.starts_with(b"\r\n") => i += 3,
            b'=' if rest.starts_with(b"\n") => i += 2,
            b'=' if rest.len() >= 2 && rest[..2].iter().all(u8::is_ascii_hexdigit) => {
                out.push(hex_digit(rest[0]) << 4 | hex_digit(rest[1]));
                i += 3;
            }
            b'_' if underscore_is_space => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

fn hex_digit(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit.to_ascii_uppercase() - b'A' + 10,
    }
}

/// Decodes the RFC 2047 encoded words in a header value; whitespace between two adjacent
/// encoded words is dropped, as the RFC says.
fn decode_encoded_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, candidate) = rest.split_at(start);
        match decode_encoded_word(candidate) {
            Some((text, len)) => {
                if !(after_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&text);
                rest = &candidate[len..];
                after_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = &candidate[2..];
                after_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes the encoded word `=?charset?B|Q?text?=` at the start of `candidate`; returns its
/// text and its length in `candidate`.
fn decode_encoded_word(candidate: &str) -> Option<(String, usize)> {
    let inner = candidate.strip_prefix("=?")?;
    let (_charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let encoded = &inner[..end];
    let bytes = match encoding {
        "B" | "b" => BASE64.decode(encoded).ok()?,
        "Q" | "q" => decode_quoted_printable(encoded, true),
        _ => return None,
    };
    let len = candidate.len() - inner.len() + end + "?=".len();
    Some((String::from_utf8_lossy(&bytes).into_owned(), len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(data: &str) -> Mail {
        Mail {
            from: "a@b".to_owned(),
            to: vec!["c@d".to_owned()],
            data: data.to_owned(),
            auth_user: None,
            auth_password: None,
            at: Instant::now(),
        }
    }

    #[test]
    fn folded_and_encoded_subject_decodes() {
        let m = mail(
            "From: a@b\r\nSubject: =?utf-8?b?wqthcGnCuyBp?=\r\n =?utf-8?q?s_DOWN_=E2=9C=97?= now\r\n\r\nx\r\n",
        );
        assert_eq!(m.subject().as_deref(), Some("«api» is DOWN ✗ now"));
        assert_eq!(m.header("FROM").as_deref(), Some("a@b"));
        assert_eq!(m.header("to"), None);
    }

    #[test]
    fn multipart_body_decodes_the_plain_text_part() {
        let m = mail(concat!(
            "Content-Type: multipart/alternative; boundary=\"XyZ\"\r\n\r\n",
            "preamble\r\n--XyZ\r\nContent-Type: text/html\r\n\r\n<p>no</p>\r\n",
            "--XyZ\r\nContent-Type: text/plain; charset=utf-8\r\n",
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
            "caf=C3=A9 is =\r\ndown=3D1\r\n\r\n--XyZ--\r\nepilogue\r\n",
        ));
        assert_eq!(m.body(), "café is down=1");
    }

    #[test]
    fn base64_body_and_stray_equals_sign() {
        let m = mail("Content-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG8K\r\n");
        assert_eq!(m.body(), "hello");
        assert_eq!(decode_quoted_printable("a=zz=4", false), b"a=zz=4");
        assert_eq!(m.subject(), None);
    }
}
