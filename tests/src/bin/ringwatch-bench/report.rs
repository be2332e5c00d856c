//! The markdown report: one table row per run, then the notes that explain the numbers.

use crate::prom::Quantile;

/// The table header; the smoke test looks for it.
pub const HEADER: &str = "| K | interval s | offered/s | achieved/s (at target) | achieved % \
                          | lag p50 ms | lag p99 ms | CPU cores | RSS MiB | RSS/monitor KiB \
                          | disk B/result | check errors | wrk ceiling/s | ratio |";
const ALIGN: &str = "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|";

/// The load tool's ceiling as the report shows it.
pub enum WrkCell {
    Measured(f64),
    /// Not measured, and why (not installed, --smoke, failed).
    Missing,
}

/// What one run measured.
pub struct Row {
    pub k: u64,
    pub interval_secs: u64,
    pub achieved_per_sec: f64,
    pub lag_p50: Quantile,
    pub lag_p99: Quantile,
    pub cpu_cores: f64,
    pub rss_end_kib: u64,
    pub rss_before_kib: u64,
    /// Store bytes on disk over results stored; `None` without results or without the gauge.
    pub disk_per_result: Option<f64>,
    pub check_errors: u64,
    pub wrk: WrkCell,
    /// Further observations of this run, one line each.
    pub notes: Vec<String>,
}

impl Row {
    pub fn offered_per_sec(&self) -> f64 {
        self.k as f64 / self.interval_secs as f64
    }

    fn cells(&self) -> Vec<String> {
        let offered = self.offered_per_sec();
        let growth_kib = self.rss_end_kib as f64 - self.rss_before_kib as f64;
        let (wrk, ratio) = match self.wrk {
            WrkCell::Measured(c) if c > 0.0 => (
                format!("{c:.0}"),
                format!("{:.2}", self.achieved_per_sec / c),
            ),
            _ => ("-".to_string(), "-".to_string()),
        };
        vec![
            self.k.to_string(),
            self.interval_secs.to_string(),
            format!("{offered:.0}"),
            format!("{:.0}", self.achieved_per_sec),
            format!("{:.1}", 100.0 * self.achieved_per_sec / offered),
            ms(self.lag_p50),
            ms(self.lag_p99),
            format!("{:.2}", self.cpu_cores),
            format!("{:.1}", self.rss_end_kib as f64 / 1024.0),
            format!("{:.2}", growth_kib / self.k as f64),
            self.disk_per_result
                .map_or("-".to_string(), |b| format!("{b:.0}")),
            self.check_errors.to_string(),
            wrk,
            ratio,
        ]
    }
}

/// A quantile of a histogram in seconds, shown in milliseconds.
pub fn ms(q: Quantile) -> String {
    match q {
        Quantile::Empty => "-".to_string(),
        Quantile::Value(secs) => format!("{:.1}", secs * 1000.0),
        Quantile::Above(secs) => format!(">{:.0}", secs * 1000.0),
    }
}

/// The result of one run: its row, or why it failed.
pub enum Outcome {
    Done(Row),
    Failed {
        k: u64,
        interval_secs: u64,
        error: String,
    },
}

/// The table and, below it, each run's notes.
pub fn render(outcomes: &[Outcome]) -> String {
    let mut out = format!("{HEADER}\n{ALIGN}\n");
    for o in outcomes {
        match o {
            Outcome::Done(row) => out.push_str(&format!("| {} |\n", row.cells().join(" | "))),
            Outcome::Failed {
                k, interval_secs, ..
            } => out.push_str(&format!(
                "| {k} | {interval_secs} | failed (see below) |{}\n",
                " |".repeat(11)
            )),
        }
    }
    for o in outcomes {
        match o {
            Outcome::Done(row) => {
                out.push_str(&format!("\nK={} at {} s:\n", row.k, row.interval_secs));
                for note in &row.notes {
                    out.push_str(&format!("- {note}\n"));
                }
            }
            Outcome::Failed {
                k,
                interval_secs,
                error,
            } => {
                out.push_str(&format!(
                    "\nK={k} at {interval_secs} s: FAILED\n```\n{error}\n```\n"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_have_as_many_cells_as_the_header() {
        let row = Row {
            k: 20_000,
            interval_secs: 1,
            achieved_per_sec: 19_500.0,
            lag_p50: Quantile::Value(0.002),
            lag_p99: Quantile::Above(8.192),
            cpu_cores: 1.2,
            rss_end_kib: 204_800,
            rss_before_kib: 10_240,
            disk_per_result: Some(120.0),
            check_errors: 0,
            wrk: WrkCell::Measured(39_000.0),
            notes: vec!["a note".into()],
        };
        let columns = HEADER.matches('|').count() - 1;
        assert_eq!(row.cells().len(), columns);
        let text = render(&[
            Outcome::Done(row),
            Outcome::Failed {
                k: 1,
                interval_secs: 1,
                error: "boom".into(),
            },
        ]);
        assert!(text.contains("| 20000 | 1 | 20000 | 19500 | 97.5 | 2.0 | >8192 | 1.20 | 200.0 | 9.73 | 120 | 0 | 39000 | 0.50 |"), "{text}");
        for line in text.lines().filter(|l| l.starts_with('|')) {
            assert_eq!(line.matches('|').count(), columns + 1, "{line}");
        }
    }
}
