//! Percentiles and the Markdown table.

use std::fmt::Write;

/// Latencies of one request kind, in ms.
#[derive(Debug, Clone, Default)]
pub struct Latencies(Vec<f64>);

impl Latencies {
    /// The samples, in the order they were taken.
    pub fn values(&self) -> &[f64] {
        &self.0
    }

    pub fn push_ms(&mut self, ms: f64) {
        self.0.push(ms);
    }

    /// Nearest-rank percentile (`p` in 0..=100).
    pub fn percentile(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
        v[rank.min(v.len()) - 1]
    }

    pub fn p50(&self) -> f64 {
        self.percentile(50.0)
    }

    pub fn p95(&self) -> f64 {
        self.percentile(95.0)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Whether a figure meets its target.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// At most this value.
    AtMost(f64),
    /// At least this value.
    AtLeast(f64),
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub figure: String,
    pub measured: String,
    pub baseline: String,
    pub ratio: f64,
    /// The value compared with the goal, and the goal.
    pub value: f64,
    pub goal: Goal,
    pub target: String,
}

impl Row {
    fn met(&self) -> &'static str {
        match self.goal {
            Goal::AtMost(t) if self.value <= t => "yes",
            Goal::AtLeast(t) if self.value >= t => "yes",
            _ => "**no**",
        }
    }
}

/// The report: a header and sections of rows.
#[derive(Debug, Default)]
pub struct Report {
    pub header: Vec<String>,
    pub sections: Vec<(String, Vec<Row>)>,
    pub notes: Vec<String>,
}

fn ratio_text(r: f64) -> String {
    if r.is_finite() {
        format!("{r:.2}×")
    } else {
        "–".into()
    }
}

impl Report {
    pub fn render(&self) -> String {
        let mut out = String::new();
        for h in &self.header {
            let _ = writeln!(out, "{h}  ");
        }
        for (title, rows) in &self.sections {
            let _ = writeln!(out, "\n### {title}\n");
            let _ = writeln!(out, "| figure | measured | baseline (same run) | ratio | target | met |");
            let _ = writeln!(out, "|---|---|---|---|---|---|");
            for r in rows {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    r.figure,
                    r.measured,
                    r.baseline,
                    ratio_text(r.ratio),
                    r.target,
                    r.met()
                );
            }
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        out
    }
}

/// `p95 X ms (p50 Y)`.
pub fn ms_pair(l: &Latencies) -> String {
    format!("p95 {:.2} ms (p50 {:.2})", l.p95(), l.p50())
}

/// `nproc`, the CPU model and the date, for the table's header.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_string()))
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("Machine: {cpus} CPUs ({model}), {date}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut l = Latencies::default();
        for ms in 1..=100 {
            l.push_ms(f64::from(101 - ms));
        }
        assert_eq!(l.p50(), 50.0);
        assert_eq!(l.p95(), 95.0);
        assert_eq!(l.percentile(100.0), 100.0);
        let mut one = Latencies::default();
        one.push_ms(7.0);
        assert_eq!(one.p95(), 7.0);
        assert!(Latencies::default().p50().is_nan());
    }

    #[test]
    fn a_missed_target_is_bold() {
        let row = |value, goal| Row {
            figure: "f".into(),
            measured: "m".into(),
            baseline: "b".into(),
            ratio: 1.0,
            value,
            goal,
            target: "t".into(),
        };
        assert_eq!(row(5.0, Goal::AtMost(10.0)).met(), "yes");
        assert_eq!(row(11.0, Goal::AtMost(10.0)).met(), "**no**");
        assert_eq!(row(1600.0, Goal::AtLeast(1500.0)).met(), "yes");
    }
}
