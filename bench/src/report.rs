//! Figures, targets and the Markdown table they are printed as.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

/// Median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// `1234567.8` → `1,234,568`.
pub fn thousands(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0.0 { format!("-{out}") } else { out }
}

/// One line of the table.
pub struct Row {
    pub measure: String,
    pub figure: String,
    pub target: String,
    /// `None` for figures without a target.
    pub met: Option<bool>,
}

impl Row {
    /// A figure shown for context.
    pub fn info(measure: impl Into<String>, figure: impl Into<String>) -> Row {
        Row {
            measure: measure.into(),
            figure: figure.into(),
            target: String::new(),
            met: None,
        }
    }

    /// A figure checked against a target.
    pub fn check(
        measure: impl Into<String>,
        figure: impl Into<String>,
        target: impl Into<String>,
        met: bool,
    ) -> Row {
        Row {
            measure: measure.into(),
            figure: figure.into(),
            target: target.into(),
            met: Some(met),
        }
    }
}

/// The rows as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out =
        String::from("| Measure | Figure | Target | Result |\n| --- | --- | --- | --- |\n");
    for row in rows {
        let result = match row.met {
            None => "",
            Some(true) => "met",
            Some(false) => "**MISSED**",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            row.measure, row.figure, row.target, result
        );
    }
    out
}

/// `N × MODEL` from `/proc/cpuinfo` and the online CPU count.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .and_then(|rest| rest.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cpus} CPUs, {model}")
}

/// Records per second.
pub fn per_second(records: f64, wall: Duration) -> f64 {
    records / wall.as_secs_f64().max(1e-9)
}

/// KiB (as `/proc` reports them) in decimal megabytes.
pub fn megabytes(kib: u64) -> f64 {
    kib as f64 * 1024.0 / 1e6
}

/// Prints a subcommand's table and says how it ended: 0 when no target was missed, 1 when one
/// was (every figure is still printed), 2 when the benchmark could not run.
pub fn finish(outcome: Result<Vec<Row>, String>) -> ExitCode {
    match outcome {
        Ok(rows) => {
            println!("{}\n\nMachine: {}", table(&rows), machine());
            if rows.iter().any(|row| row.met == Some(false)) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => {
            eprintln!("flowd-bench: {error}");
            ExitCode::from(2)
        }
    }
}
