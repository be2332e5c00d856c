//! The markdown report: one table row per run, then the notes that explain the numbers. One
//! table for a single node ([`Row`]), another for a cluster ([`ClusterRow`]).

use crate::prom::Quantile;

/// A row of one of the tables.
pub trait TableRow {
    /// The header line and the alignment line of the table.
    const HEADER: &'static str;
    const ALIGN: &'static str;
    fn k(&self) -> u64;
    fn interval_secs(&self) -> u64;
    /// Checks per second the K monitors ask for.
    fn offered_per_sec(&self) -> f64 {
        self.k() as f64 / self.interval_secs() as f64
    }
    /// One cell per column of [`TableRow::HEADER`].
    fn cells(&self) -> Vec<String>;
    fn notes(&self) -> &[String];
}

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

impl TableRow for Row {
    const HEADER: &'static str = HEADER;
    const ALIGN: &'static str = ALIGN;

    fn k(&self) -> u64 {
        self.k
    }

    fn interval_secs(&self) -> u64 {
        self.interval_secs
    }

    fn notes(&self) -> &[String] {
        &self.notes
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
pub enum Outcome<R> {
    Done(R),
    Failed {
        k: u64,
        interval_secs: u64,
        error: String,
    },
}

/// The table and, below it, each run's notes.
pub fn render<R: TableRow>(outcomes: &[Outcome<R>]) -> String {
    let columns = R::HEADER.matches('|').count() - 1;
    let mut out = format!("{}\n{}\n", R::HEADER, R::ALIGN);
    for o in outcomes {
        match o {
            Outcome::Done(row) => out.push_str(&format!("| {} |\n", row.cells().join(" | "))),
            Outcome::Failed {
                k, interval_secs, ..
            } => out.push_str(&format!(
                "| {k} | {interval_secs} | failed (see below) |{}\n",
                " |".repeat(columns - 3)
            )),
        }
    }
    for o in outcomes {
        match o {
            Outcome::Done(row) => {
                out.push_str(&format!("\nK={} at {} s:\n", row.k(), row.interval_secs()));
                for note in row.notes() {
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

/// The header of the cluster table.
pub const CLUSTER_HEADER: &str = "| K | interval s | offered/s | achieved/s (at target) \
                                  | achieved % | repl lag p50 ms | repl lag p99 ms \
                                  | peer bytes/result | per peer | disk B/stored result per node \
                                  | CPU cores (all nodes) | max RSS MiB | check errors \
                                  | catch-up s | results pulled (sampled monitors) |";
const CLUSTER_ALIGN: &str = "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|";

/// How the catch-up of the restarted node went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CatchUpCell {
    /// Not measured (`--catchup-absence 0`).
    NotRun,
    /// Seconds from the restart until the sampled monitors matched, and the results of the
    /// absence those monitors hold on the restarted node.
    Done { secs: f64, pulled: u64 },
    /// Still no match this long after the restart.
    TimedOut { secs: f64 },
    /// The measurement failed (the notes say why).
    Failed,
}

/// What one run of a cluster measured.
pub struct ClusterRow {
    pub nodes: u32,
    pub k: u64,
    pub interval_secs: u64,
    pub achieved_per_sec: f64,
    /// Replication lag over the window, all nodes' histograms summed.
    pub lag_p50: Quantile,
    pub lag_p99: Quantile,
    /// Peer bytes sent by all nodes over the results all nodes produced, in the window.
    pub bytes_per_result: Option<f64>,
    /// Per node, in start order: store bytes on disk over the results the cluster produced.
    pub disk_per_result: Vec<Option<f64>>,
    /// Sum over the nodes.
    pub cpu_cores: f64,
    /// The largest node's RSS at the end of the window.
    pub max_rss_kib: u64,
    pub check_errors: u64,
    pub catchup: CatchUpCell,
    pub notes: Vec<String>,
}

impl TableRow for ClusterRow {
    const HEADER: &'static str = CLUSTER_HEADER;
    const ALIGN: &'static str = CLUSTER_ALIGN;

    fn k(&self) -> u64 {
        self.k
    }

    fn interval_secs(&self) -> u64 {
        self.interval_secs
    }

    fn notes(&self) -> &[String] {
        &self.notes
    }

    fn cells(&self) -> Vec<String> {
        let offered = self.offered_per_sec();
        let bytes = |per: f64| {
            self.bytes_per_result
                .map_or("-".to_string(), |b| format!("{:.0}", b / per))
        };
        let disk: Vec<String> = self
            .disk_per_result
            .iter()
            .map(|d| d.map_or("-".to_string(), |b| format!("{b:.0}")))
            .collect();
        let (catchup, pulled) = match self.catchup {
            CatchUpCell::NotRun => ("-".to_string(), "-".to_string()),
            CatchUpCell::Done { secs, pulled } => (format!("{secs:.1}"), pulled.to_string()),
            CatchUpCell::TimedOut { secs } => (format!(">{secs:.0}"), "-".to_string()),
            CatchUpCell::Failed => ("failed".to_string(), "-".to_string()),
        };
        vec![
            self.k.to_string(),
            self.interval_secs.to_string(),
            format!("{offered:.0}"),
            format!("{:.0}", self.achieved_per_sec),
            format!("{:.1}", 100.0 * self.achieved_per_sec / offered),
            ms(self.lag_p50),
            ms(self.lag_p99),
            bytes(1.0),
            bytes(f64::from(self.nodes.saturating_sub(1).max(1))),
            disk.join(" / "),
            format!("{:.2}", self.cpu_cores),
            format!("{:.1}", self.max_rss_kib as f64 / 1024.0),
            self.check_errors.to_string(),
            catchup,
            pulled,
        ]
    }
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

    #[test]
    fn cluster_rows_have_as_many_cells_as_their_header() {
        let row = ClusterRow {
            nodes: 3,
            k: 1_000,
            interval_secs: 1,
            achieved_per_sec: 990.0,
            lag_p50: Quantile::Value(0.0123),
            lag_p99: Quantile::Value(0.25),
            bytes_per_result: Some(180.0),
            disk_per_result: vec![Some(110.0), None, Some(98.4)],
            cpu_cores: 0.75,
            max_rss_kib: 51_200,
            check_errors: 0,
            catchup: CatchUpCell::Done {
                secs: 2.46,
                pulled: 1_200,
            },
            notes: vec!["a note".into()],
        };
        let columns = CLUSTER_HEADER.matches('|').count() - 1;
        assert_eq!(row.cells().len(), columns);
        let text = render(&[
            Outcome::Done(row),
            Outcome::Failed {
                k: 5_000,
                interval_secs: 1,
                error: "boom".into(),
            },
        ]);
        assert!(
            text.contains(
                "| 1000 | 1 | 1000 | 990 | 99.0 | 12.3 | 250.0 | 180 | 90 | 110 / - / 98 | 0.75 \
                 | 50.0 | 0 | 2.5 | 1200 |"
            ),
            "{text}"
        );
        for line in text.lines().filter(|l| l.starts_with('|')) {
            assert_eq!(line.matches('|').count(), columns + 1, "{line}");
        }
    }
}
