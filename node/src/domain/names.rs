//! Names that appear unquoted in URLs, file paths and log lines: node names and the fixed ids
//! of config-file monitors and notifiers.

/// What node names and config-file ids may be, for messages.
pub const PLAIN_NAME_RULE: &str = "1-64 characters of letters, digits, '-', '_' or '.'";

/// Whether `s` is a node name or config-file id: [`PLAIN_NAME_RULE`].
pub fn is_plain_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}
