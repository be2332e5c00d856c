//! The two text formats `/metrics` speaks: OpenMetrics 1.0 when the scraper asks for it (as
//! Prometheus does), else the classic Prometheus text format 0.0.4 (curl, `promtool check
//! metrics`, older scrapers). `prometheus_client` writes OpenMetrics; [`to_classic`] turns
//! that into the classic format.

/// A text format of the exposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OpenMetrics,
    Classic,
}

impl Format {
    /// The format an `Accept` header asks for: OpenMetrics when it names
    /// `application/openmetrics-text` with a quality at least that of any text format it
    /// accepts, else the classic one.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let (mut open, mut classic) = (0.0_f32, 0.0_f32);
        for range in accept.unwrap_or_default().split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "application/openmetrics-text" => open = open.max(q),
                "text/plain" | "text/*" | "*/*" => classic = classic.max(q),
                _ => {}
            }
        }
        if open > 0.0 && open >= classic {
            Format::OpenMetrics
        } else {
            Format::Classic
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Classic => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// Whether an `Accept-Encoding` header takes gzip (named, or `*`, with a quality above 0).
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    accept_encoding
        .unwrap_or_default()
        .split(',')
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let q = parts
                .filter_map(|p| p.strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (name.eq_ignore_ascii_case("gzip") || name == "*") && q > 0.0
        })
}

/// `text` gzipped at the fast level: a scrape shrinks about tenfold for a few milliseconds.
pub fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(text.len() / 8),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(text.as_bytes());
    encoder.finish().unwrap_or_default()
}

/// The classic text format of an OpenMetrics exposition as `prometheus_client` writes it
/// (counters, gauges and histograms, no exemplars, no `_created`): a counter's HELP and TYPE
/// name its samples (`x_total`, not `x`); `# UNIT` and `# EOF` go.
pub fn to_classic(open: &str) -> String {
    let mut out = String::with_capacity(open.len());
    let mut lines = open.lines().peekable();
    while let Some(line) = lines.next() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or_default();
            let counter = lines
                .peek()
                .is_some_and(|next| *next == format!("# TYPE {name} counter"));
            if counter {
                let help = &rest[name.len()..];
                out.push_str(&format!(
                    "# HELP {name}_total{help}\n# TYPE {name}_total counter\n"
                ));
                lines.next();
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_gets_openmetrics_and_everyone_else_the_classic_format() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
            version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
        for accept in [
            None,
            Some("*/*"),
            Some("text/plain"),
            Some("text/plain;version=0.0.4, application/openmetrics-text;q=0.5"),
            Some("application/openmetrics-text;q=0"),
            Some("application/json"),
        ] {
            assert_eq!(Format::negotiate(accept), Format::Classic, "{accept:?}");
        }
    }

    #[test]
    fn gzip_when_asked_and_it_reads_back() {
        assert!(accepts_gzip(Some("gzip")));
        assert!(accepts_gzip(Some("deflate, gzip;q=0.5")));
        assert!(accepts_gzip(Some("*")));
        for no in [None, Some("identity"), Some("gzip;q=0"), Some("br")] {
            assert!(!accepts_gzip(no), "{no:?}");
        }
        let text = "rw_up 1\n".repeat(1000);
        let packed = gzip(&text);
        assert!(packed.len() < text.len() / 10, "{}", packed.len());
        let mut back = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&packed[..]), &mut back)
            .unwrap();
        assert_eq!(back, text);
    }

    #[test]
    fn counters_are_named_by_their_samples_and_the_eof_goes() {
        let open = "# HELP rw_checks Checks by outcome.\n# TYPE rw_checks counter\n\
            rw_checks_total{outcome=\"ok\"} 3\n# HELP rw_up Up.\n# TYPE rw_up gauge\n\
            # UNIT rw_up ratio\nrw_up 1\n# HELP rw_lag_seconds Lag.\n\
            # TYPE rw_lag_seconds histogram\nrw_lag_seconds_bucket{le=\"+Inf\"} 0\n\
            rw_lag_seconds_sum 0.0\nrw_lag_seconds_count 0\n# EOF\n";
        let classic = to_classic(open);
        assert_eq!(
            classic,
            "# HELP rw_checks_total Checks by outcome.\n# TYPE rw_checks_total counter\n\
             rw_checks_total{outcome=\"ok\"} 3\n# HELP rw_up Up.\n# TYPE rw_up gauge\n\
             rw_up 1\n# HELP rw_lag_seconds Lag.\n# TYPE rw_lag_seconds histogram\n\
             rw_lag_seconds_bucket{le=\"+Inf\"} 0\nrw_lag_seconds_sum 0.0\n\
             rw_lag_seconds_count 0\n"
        );
    }
}
