//! A strict reader of the two text formats `/metrics` speaks: the classic Prometheus format
//! 0.0.4 and OpenMetrics 1.0, for what a node writes (counters, gauges, histograms; no
//! exemplars, no timestamps). Anything it does not know is an error, so a test that reads a
//! scrape through it also checks the scrape's grammar.

use std::collections::{BTreeMap, BTreeSet};

/// The text format of a scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Classic,
    OpenMetrics,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }
}

/// A metric family: its HELP, TYPE and samples.
#[derive(Debug, Clone, Default)]
pub struct Family {
    pub help: String,
    pub kind: String,
    pub samples: Vec<Sample>,
}

/// A whole scrape, by family name (as its TYPE line names it).
#[derive(Debug, Clone, Default)]
pub struct Exposition {
    pub families: BTreeMap<String, Family>,
}

impl Exposition {
    /// Every sample of every family whose sample name is `name`.
    pub fn samples(&self, name: &str) -> Vec<&Sample> {
        self.families
            .values()
            .flat_map(|f| &f.samples)
            .filter(|s| s.name == name)
            .collect()
    }

    /// The names samples carry (`x_total`, `x_bucket`...), for checking queries against.
    pub fn sample_names(&self) -> BTreeSet<String> {
        self.families
            .values()
            .flat_map(|f| &f.samples)
            .map(|s| s.name.clone())
            .collect()
    }
}

/// Reads `text` in `format`, strictly: HELP then TYPE before each family's samples, each
/// family once and its samples together, sample names that fit the family's type (counters
/// `_total` in OpenMetrics, named so by HELP and TYPE in the classic format), valid names and
/// escapes, no series twice, and `# EOF` last in OpenMetrics only.
pub fn parse(text: &str, format: Format) -> Result<Exposition, String> {
    let mut out = Exposition::default();
    let mut current: Option<String> = None;
    let mut pending_help: Option<(String, String)> = None;
    let mut seen_series = BTreeSet::new();
    let mut eof = false;
    if !text.ends_with('\n') {
        return Err("the exposition does not end with a newline".into());
    }
    for (i, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", i + 1);
        if eof {
            return Err(at("text after # EOF".into()));
        }
        if line == "# EOF" {
            if format == Format::Classic {
                return Err(at("# EOF in the classic format".into()));
            }
            eof = true;
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest
                .split_once(' ')
                .ok_or_else(|| at("HELP without text".into()))?;
            check_name(name).map_err(at)?;
            if pending_help.is_some() {
                return Err(at("two HELP lines in a row".into()));
            }
            pending_help = Some((name.to_owned(), help.to_owned()));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .ok_or_else(|| at("TYPE without a type".into()))?;
            let Some((help_name, help)) = pending_help.take() else {
                return Err(at("TYPE without HELP before it".into()));
            };
            if help_name != name {
                return Err(at(format!("TYPE of {name} after HELP of {help_name}")));
            }
            if !["counter", "gauge", "histogram"].contains(&kind) {
                return Err(at(format!("unexpected type {kind}")));
            }
            if format == Format::Classic && kind == "counter" && !name.ends_with("_total") {
                return Err(at(
                    "a classic counter's TYPE must name its samples (_total)".into(),
                ));
            }
            if format == Format::OpenMetrics && kind == "counter" && name.ends_with("_total") {
                return Err(at(
                    "an OpenMetrics counter family is named without _total".into()
                ));
            }
            if out.families.contains_key(name) {
                return Err(at(format!("family {name} twice")));
            }
            out.families.insert(
                name.to_owned(),
                Family {
                    help,
                    kind: kind.to_owned(),
                    samples: Vec::new(),
                },
            );
            current = Some(name.to_owned());
            continue;
        }
        if line.starts_with('#') {
            return Err(at("an unexpected comment".into()));
        }
        if pending_help.is_some() {
            return Err(at("a sample between HELP and TYPE".into()));
        }
        let sample = parse_sample(line).map_err(at)?;
        let family_name = current
            .as_ref()
            .ok_or_else(|| at("a sample before any TYPE".into()))?;
        let family = out.families.get_mut(family_name).expect("current family");
        let fits = match (family.kind.as_str(), format) {
            ("counter", Format::OpenMetrics) => sample.name == format!("{family_name}_total"),
            ("counter", Format::Classic) | ("gauge", _) => sample.name == *family_name,
            ("histogram", _) => ["_bucket", "_sum", "_count"]
                .iter()
                .any(|s| sample.name == format!("{family_name}{s}")),
            _ => false,
        };
        if !fits {
            return Err(at(format!(
                "sample {} does not belong to the {} family {family_name}",
                sample.name, family.kind
            )));
        }
        if sample.name.ends_with("_bucket") != sample.labels.contains_key("le") {
            return Err(at(
                "le on a sample that is not a bucket, or a bucket without".into(),
            ));
        }
        let key = format!("{}{:?}", sample.name, sample.labels);
        if !seen_series.insert(key) {
            return Err(at("the same series twice".into()));
        }
        family.samples.push(sample);
    }
    if format == Format::OpenMetrics && !eof {
        return Err("OpenMetrics without # EOF".into());
    }
    if let Some((name, _)) = pending_help {
        return Err(format!("HELP of {name} without TYPE"));
    }
    Ok(out)
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(format!("bad metric name {name:?}"))
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| "a sample without a value".to_owned())?;
    let name = &line[..name_end];
    check_name(name)?;
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(body) = rest.strip_prefix('{') {
        rest = body;
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = rest.find('=').ok_or("a label without =")?;
            let label = &rest[..eq];
            let ok = label
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok {
                return Err(format!("bad label name {label:?}"));
            }
            rest = rest[eq + 1..]
                .strip_prefix('"')
                .ok_or("a label value without quotes")?;
            let mut value = String::new();
            let mut chars = rest.char_indices();
            let end = loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, '"')) => value.push('"'),
                        Some((_, 'n')) => value.push('\n'),
                        other => return Err(format!("bad escape {other:?}")),
                    },
                    Some((i, '"')) => break i,
                    Some((_, '\n')) | None => return Err("an unterminated label value".into()),
                    Some((_, c)) => value.push(c),
                }
            };
            if labels.insert(label.to_owned(), value).is_some() {
                return Err(format!("label {label} twice"));
            }
            rest = &rest[end + 1..];
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
            } else if !rest.starts_with('}') {
                return Err("labels not separated by commas".into());
            }
        }
    }
    let value = rest.strip_prefix(' ').ok_or("no space before the value")?;
    if value.contains(' ') {
        return Err("a timestamp or exemplar (the node writes neither)".into());
    }
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().map_err(|_| format!("bad value {v:?}"))?,
    };
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_exposition_reads_and_broken_ones_do_not() {
        let open = "# HELP a_checks Checks.\n# TYPE a_checks counter\n\
            a_checks_total{outcome=\"ok\",name=\"q\\\"\\\\\\n\"} 3\n# EOF\n";
        let read = parse(open, Format::OpenMetrics).unwrap();
        let sample = &read.samples("a_checks_total")[0];
        assert_eq!(sample.label("name"), Some("q\"\\\n"));
        assert_eq!(sample.value, 3.0);
        let classic = "# HELP a_checks_total Checks.\n# TYPE a_checks_total counter\n\
            a_checks_total 3\n";
        parse(classic, Format::Classic).unwrap();
        for (bad, format) in [
            (classic, Format::OpenMetrics),
            (open, Format::Classic),
            ("# TYPE a gauge\na 1\n", Format::Classic),
            ("# HELP a x\n# TYPE a gauge\na 1\na 2\n", Format::Classic),
            ("# HELP a x\n# TYPE a gauge\nb 1\n", Format::Classic),
            ("# HELP a x\n# TYPE a gauge\na{l=\"x} 1\n", Format::Classic),
            (
                "# HELP a x\n# TYPE a gauge\na{l=\"\\t\"} 1\n",
                Format::Classic,
            ),
            ("# HELP a x\n# TYPE a gauge\na one\n", Format::Classic),
            (
                "# HELP a x\n# TYPE a gauge\na 1 1700000000\n",
                Format::Classic,
            ),
            (
                "# HELP a_total x\n# TYPE a_total counter\na_total 1",
                Format::Classic,
            ),
        ] {
            assert!(parse(bad, format).is_err(), "{bad:?} read as {format:?}");
        }
    }
}
