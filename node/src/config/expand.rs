//! Secrets kept out of the config file: before the file is read into a [`super::Config`],
//! every string's `${VAR}` is replaced by that environment variable (one that is not set is an
//! error naming the key), and each secret key also takes a `<key>_file` form whose value is a
//! file holding the secret (surrounding whitespace ignored): `cookie_file`, and in
//! `[[notifiers]]` `url_file` and `smtp_password_file`. (`admin_token_file` is a key of its
//! own, also a flag.)

use std::path::Path;

use toml::{Table, Value};

use super::ConfigError;

/// Secret keys that also take a `_file` form.
pub const FILE_KEYS: [&str; 3] = ["cookie", "url", "smtp_password"];

/// Expands `${VAR}` in every string of `table` and reads the `_file` forms of secret keys.
/// `at` is the table's key path, for error texts.
pub fn expand(table: &mut Table, at: &str) -> Result<(), ConfigError> {
    let keys: Vec<String> = table.keys().cloned().collect();
    for key in keys {
        let path = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        if let Some(value) = table.get_mut(&key) {
            expand_value(value, &path)?;
        }
        let Some(base) = key.strip_suffix("_file").filter(|b| FILE_KEYS.contains(b)) else {
            continue;
        };
        if table.contains_key(base) {
            return Err(ConfigError::Invalid(format!(
                "{path}: set {base} or {key}, not both"
            )));
        }
        let Some(Value::String(file)) = table.remove(&key) else {
            return Err(ConfigError::Invalid(format!("{path} must be a file path")));
        };
        let text = std::fs::read_to_string(Path::new(&file))
            .map_err(|e| ConfigError::Invalid(format!("{path}: cannot read {file}: {e}")))?;
        table.insert(base.to_owned(), Value::String(text.trim().to_owned()));
    }
    Ok(())
}

fn expand_value(value: &mut Value, path: &str) -> Result<(), ConfigError> {
    match value {
        Value::String(s) => *s = expand_vars(s, path)?,
        Value::Table(t) => expand(t, path)?,
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                expand_value(item, &format!("{path}[{i}]"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `text` with each `${NAME}` (letters, digits, `_`) replaced by the variable's value.
fn expand_vars(text: &str, path: &str) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        let plain = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        out.push_str(&rest[..start]);
        if plain {
            let value = std::env::var(name).map_err(|_| {
                ConfigError::Invalid(format!("{path}: environment variable {name} is not set"))
            })?;
            out.push_str(&value);
        } else {
            out.push_str(&rest[start..start + 3 + end]);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expanded(text: &str) -> Result<Table, ConfigError> {
        let mut t: Table = toml::from_str(text).unwrap();
        expand(&mut t, "")?;
        Ok(t)
    }

    #[test]
    fn variables_are_replaced_and_a_missing_one_names_its_key() {
        // PATH is set in every environment the tests run in.
        let path = std::env::var("PATH").unwrap();
        let t = expanded("cookie = \"c-${PATH}-${not a var}\"").unwrap();
        assert_eq!(
            t["cookie"].as_str().unwrap(),
            format!("c-{path}-${{not a var}}")
        );
        let err = expanded("[[notifiers]]\nsmtp_password = \"${RINGWATCH_TEST_UNSET_9F2}\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("notifiers[0].smtp_password") && err.contains("RINGWATCH_TEST_UNSET_9F2"),
            "{err}"
        );
    }

    #[test]
    fn file_forms_read_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\n").unwrap();
        let text = format!(
            "cookie_file = {:?}\n[[notifiers]]\nsmtp_password_file = {:?}\n",
            file, file
        );
        let t = expanded(&text).unwrap();
        assert_eq!(t["cookie"].as_str(), Some("s3cret"));
        assert_eq!(t["notifiers"][0]["smtp_password"].as_str(), Some("s3cret"));
        assert!(!t.contains_key("cookie_file"));
        let both = format!("cookie = \"x\"\ncookie_file = {file:?}\n");
        assert!(
            expanded(&both)
                .unwrap_err()
                .to_string()
                .contains("not both")
        );
        let missing = expanded("cookie_file = \"/nonexistent/c\"")
            .unwrap_err()
            .to_string();
        assert!(missing.contains("cookie_file"), "{missing}");
    }
}
