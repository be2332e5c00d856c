//! A monitor of the config file (`[[monitors]]`): a fixed id plus the spec's fields.

use ringwatch_proto::{Monitor, Rev};
use serde::Deserialize;

use super::MonitorInput;
use crate::domain::names::{PLAIN_NAME_RULE, is_plain_name};

/// A monitor of the config file: a fixed id, then the fields `POST /api/monitors` takes (the
/// same [`MonitorInput`], so the file is checked exactly as the API checks a request).
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSeed {
    pub id: String,
    pub spec: MonitorInput,
}

impl<'de> Deserialize<'de> for MonitorSeed {
    /// `id` plus the spec's fields in one table. Not `#[serde(flatten)]`: serde cannot refuse
    /// unknown fields through a flatten, and a misspelt key must not be ignored.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (id, spec) = id_and_rest(d, "monitor")?;
        Ok(MonitorSeed { id, spec })
    }
}

/// A config-file table of `kind` split into its `id` (text, required) and the rest as `T`,
/// whose own deserializer refuses unknown keys; errors name the kind and the id.
pub fn id_and_rest<'de, D, T>(d: D, kind: &str) -> Result<(String, T), D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    let mut fields = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    let id = match fields.remove("id") {
        Some(serde_json::Value::String(id)) => id,
        Some(other) => return Err(D::Error::custom(format!("id must be text, got {other}"))),
        None => return Err(D::Error::missing_field("id")),
    };
    let rest = T::deserialize(serde_json::Value::Object(fields))
        .map_err(|e| D::Error::custom(format!("{kind} {id:?}: {e}")))?;
    Ok((id, rest))
}

impl MonitorSeed {
    /// The definition, validated like an API request. It carries revision zero and creation
    /// time zero, so every node's copy of the file yields the same record, and any edit made
    /// later through the API (a later revision) wins over the file.
    pub fn to_monitor(&self) -> Result<Monitor, String> {
        if !is_plain_name(&self.id) {
            let rule = PLAIN_NAME_RULE;
            return Err(format!("needs an id of {rule}"));
        }
        let mut m = self
            .spec
            .clone()
            .into_monitor()
            .map_err(|e| e.to_string())?;
        m.id = self.id.clone();
        m.rev = Rev::default();
        m.created_ms = 0;
        Ok(m)
    }
}
