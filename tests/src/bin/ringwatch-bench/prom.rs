//! Reading the node's `/metrics` (Prometheus text format): counters summed over labels and
//! histogram quantiles over a measurement window (the difference of two scrapes), for one
//! node or summed over the nodes of a cluster ([`Scrape::combined`]).

/// One sample line: `name{label="value",...} number`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

/// One scrape of `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    samples: Vec<Sample>,
}

impl Scrape {
    /// Parses the text format; comment lines and lines that are not samples are skipped.
    pub fn parse(text: &str) -> Scrape {
        let samples = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(parse_sample)
            .collect();
        Scrape { samples }
    }

    /// The scrapes of several nodes as one: counters and gauges sum over the nodes, histogram
    /// buckets add up per bound.
    pub fn combined<'a>(scrapes: impl IntoIterator<Item = &'a Scrape>) -> Scrape {
        let samples = scrapes
            .into_iter()
            .flat_map(|s| s.samples.iter().cloned())
            .collect();
        Scrape { samples }
    }

    /// True when any sample of metric `name` exists.
    pub fn has(&self, name: &str) -> bool {
        self.samples.iter().any(|s| s.name == name)
    }

    /// The samples of metric `name`.
    pub fn samples<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }

    /// Sum of metric `name` over the samples whose labels pass `keep`.
    pub fn sum_where(&self, name: &str, keep: impl Fn(&Sample) -> bool) -> f64 {
        self.samples(name)
            .filter(|s| keep(s))
            .map(|s| s.value)
            .sum()
    }

    /// Sum of metric `name` over all its labels.
    pub fn sum(&self, name: &str) -> f64 {
        self.sum_where(name, |_| true)
    }

    /// Cumulative buckets `(le, count)` of histogram `name` (without the `_bucket` suffix),
    /// ordered by `le`; the `+Inf` bucket has `le = f64::INFINITY`. Samples with the same
    /// bound (other labels, or several nodes' scrapes combined) add up.
    pub fn buckets(&self, name: &str) -> Vec<(f64, f64)> {
        let bucket = format!("{name}_bucket");
        let mut out: Vec<(f64, f64)> = self
            .samples(&bucket)
            .filter_map(|s| Some((parse_le(s.label("le")?)?, s.value)))
            .collect();
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 += later.1;
            }
            same
        });
        out
    }
}

impl Sample {
    /// The value of label `key`, if the sample has it.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn parse_le(le: &str) -> Option<f64> {
    match le {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        _ => le.parse().ok(),
    }
}

fn parse_sample(line: &str) -> Option<Sample> {
    let (series, rest) = match line.find('{') {
        Some(open) => {
            let close = open + line[open..].find('}')?;
            (&line[..close + 1], &line[close + 1..])
        }
        None => line.split_at(line.find(char::is_whitespace)?),
    };
    // After the value there may be a timestamp; the value is the first field.
    let value = rest.split_whitespace().next()?.parse().ok()?;
    let (name, labels) = match series.find('{') {
        Some(open) => (
            &series[..open],
            parse_labels(&series[open + 1..series.len() - 1]),
        ),
        None => (series, Vec::new()),
    };
    Some(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// `a="x",b="y"`; values of our metrics hold no escaped quotes, so this stays simple.
fn parse_labels(body: &str) -> Vec<(String, String)> {
    body.split(',')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        })
        .collect()
}

/// A quantile read from histogram buckets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quantile {
    /// No observations in the window.
    Empty,
    /// Interpolated value, in the histogram's unit.
    Value(f64),
    /// Beyond the largest finite bucket bound (given).
    Above(f64),
}

/// Bucket counts of `end` minus those of `start` (same bounds; bounds missing at the start count
/// as zero there).
pub fn bucket_delta(start: &[(f64, f64)], end: &[(f64, f64)]) -> Vec<(f64, f64)> {
    end.iter()
        .map(|&(le, n)| {
            let before = start
                .iter()
                .find(|(l, _)| *l == le)
                .map_or(0.0, |(_, n)| *n);
            (le, (n - before).max(0.0))
        })
        .collect()
}

/// The `q` quantile (0..=1) of cumulative `buckets`, interpolated linearly inside the bucket
/// that holds it, as Prometheus' `histogram_quantile` does (the first bucket starts at 0).
pub fn quantile(buckets: &[(f64, f64)], q: f64) -> Quantile {
    let Some(&(_, total)) = buckets.last() else {
        return Quantile::Empty;
    };
    if total <= 0.0 {
        return Quantile::Empty;
    }
    let rank = q * total;
    let (mut lower, mut below) = (0.0, 0.0);
    for &(le, count) in buckets {
        if count >= rank && count > below {
            if le.is_infinite() {
                return Quantile::Above(lower);
            }
            return Quantile::Value(lower + (le - lower) * (rank - below) / (count - below));
        }
        lower = if le.is_finite() { le } else { lower };
        below = count;
    }
    Quantile::Above(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP ringwatch_checks Checks by outcome.
# TYPE ringwatch_checks counter
ringwatch_checks_total{outcome="ok"} 90
ringwatch_checks_total{outcome="timeout"} 7
ringwatch_checks_total{outcome="refused"} 3
# TYPE ringwatch_schedule_lag_seconds histogram
ringwatch_schedule_lag_seconds_sum 1.5
ringwatch_schedule_lag_seconds_count 100
ringwatch_schedule_lag_seconds_bucket{le="0.001"} 50
ringwatch_schedule_lag_seconds_bucket{le="0.002"} 90
ringwatch_schedule_lag_seconds_bucket{le="0.004"} 100
ringwatch_schedule_lag_seconds_bucket{le="+Inf"} 100
ringwatch_store_disk_bytes 4096
# EOF
"#;

    fn assert_close(q: Quantile, want: f64) {
        match q {
            Quantile::Value(v) => assert!((v - want).abs() < 1e-12, "{v} != {want}"),
            other => panic!("{other:?} != {want}"),
        }
    }

    #[test]
    fn sums_counters_over_labels() {
        let s = Scrape::parse(TEXT);
        assert_eq!(s.sum("ringwatch_checks_total"), 100.0);
        let failed = s.sum_where("ringwatch_checks_total", |x| {
            x.label("outcome") != Some("ok")
        });
        assert_eq!(failed, 10.0);
        assert_eq!(s.sum("ringwatch_store_disk_bytes"), 4096.0);
        assert!(!s.has("ringwatch_nothing"));
    }

    #[test]
    fn quantiles_interpolate_inside_the_bucket() {
        let b = Scrape::parse(TEXT).buckets("ringwatch_schedule_lag_seconds");
        assert_eq!(b.len(), 4);
        assert_close(quantile(&b, 0.5), 0.001);
        // rank 70 lies halfway between 50 (at 1 ms) and 90 (at 2 ms).
        assert_close(quantile(&b, 0.7), 0.0015);
        // rank 99 lies 9/10 of the way from 90 (at 2 ms) to 100 (at 4 ms).
        assert_close(quantile(&b, 0.99), 0.0038);
    }

    #[test]
    fn combined_scrapes_sum_counters_and_buckets() {
        let one = Scrape::parse(TEXT);
        let two = Scrape::combined([&one, &one]);
        assert_eq!(two.sum("ringwatch_checks_total"), 200.0);
        let b = two.buckets("ringwatch_schedule_lag_seconds");
        assert_eq!(
            b,
            vec![
                (0.001, 100.0),
                (0.002, 180.0),
                (0.004, 200.0),
                (f64::INFINITY, 200.0)
            ]
        );
        assert_close(quantile(&b, 0.99), 0.0038);
    }

    #[test]
    fn quantiles_use_the_window_only() {
        let start = vec![(0.001, 40.0), (0.002, 40.0), (f64::INFINITY, 40.0)];
        let end = vec![(0.001, 40.0), (0.002, 50.0), (f64::INFINITY, 60.0)];
        let d = bucket_delta(&start, &end);
        assert_eq!(d, vec![(0.001, 0.0), (0.002, 10.0), (f64::INFINITY, 20.0)]);
        assert_close(quantile(&d, 0.25), 0.0015);
        assert_eq!(quantile(&d, 0.99), Quantile::Above(0.002));
        assert_eq!(quantile(&bucket_delta(&end, &end), 0.5), Quantile::Empty);
        assert_eq!(quantile(&[], 0.5), Quantile::Empty);
    }
}
