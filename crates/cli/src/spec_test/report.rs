//! What `flowd spec test` says while and after it runs: the page trace (pages counted from 1,
//! as much of it as `--trace` asks for and a line saying what was left out), the progress
//! line (an indicatif spinner when stderr is a terminal, a plain line every few seconds
//! otherwise), counts with agreeing plurals, and errors printed once.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use flowd_connector::Page;
use indicatif::{ProgressBar, ProgressStyle};

/// A plain progress line is printed this often when stderr is not a terminal.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// Pages traced in jsonl mode unless `--trace` says otherwise.
pub const JSONL_TRACED_PAGES: u64 = 20;

/// `1 page`, `2 pages`.
pub fn count(number: u64, one: &str, many: &str) -> String {
    format!("{number} {}", if number == 1 { one } else { many })
}

/// How much of the page trace `--trace` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trace {
    All,
    First(u64),
    None,
}

impl Trace {
    /// `all`, `first:N` or `none`.
    pub fn parse(text: &str) -> Result<Trace, String> {
        match text.trim() {
            "all" => Ok(Trace::All),
            "none" => Ok(Trace::None),
            other => other
                .strip_prefix("first:")
                .and_then(|number| number.parse().ok())
                .map(Trace::First)
                .ok_or_else(|| format!("'{other}' is not one of all, first:N (N pages), none")),
        }
    }

    /// Whether the page numbered `number` (from 1) is traced.
    pub fn shows(self, number: u64) -> bool {
        match self {
            Trace::All => true,
            Trace::First(shown) => number <= shown,
            Trace::None => false,
        }
    }

    /// The line saying what the trace left out of `pages`, if anything.
    pub fn left_out(self, pages: u64) -> Option<String> {
        let hint = "(--trace all shows every page)";
        match self {
            Trace::All => None,
            Trace::First(shown) if pages > shown => {
                let more = pages - shown;
                let noun = if more == 1 { "page" } else { "pages" };
                Some(format!("… {more} more {noun} not shown {hint}"))
            }
            Trace::First(_) => None,
            Trace::None if pages > 0 => Some(format!(
                "… {} not shown {hint}",
                count(pages, "page", "pages")
            )),
            Trace::None => None,
        }
    }
}

/// One page of the trace: the request, its headers (secrets masked) and what it gave.
pub fn page_lines(page: &Page) -> Vec<String> {
    let attempts = if page.attempts > 1 {
        format!(
            " (after {})",
            count(u64::from(page.attempts), "attempt", "attempts")
        )
    } else {
        String::new()
    };
    let mut lines = vec![format!(
        "page {}: {} {} -> {} in {} ms, {}, {}{attempts}",
        page.number + 1,
        page.request.method,
        page.request.url,
        page.status,
        page.elapsed.as_millis(),
        count(page.item_count as u64, "item", "items"),
        count(page.records.len() as u64, "record", "records"),
    )];
    for (name, value) in &page.request.headers {
        lines.push(format!("    {name}: {value}"));
    }
    lines
}

/// What a run is bounded by (`--max-records` or `--max-pages`), for an estimate of the time
/// left.
#[derive(Debug, Clone, Copy)]
pub enum Bound {
    Records(u64),
    Pages(u64),
}

/// `30 pages, 3000 records, 590 records/s, 5.1 s` (and `, about 12 s left` when bounded).
pub fn progress_text(pages: u64, records: u64, elapsed: Duration, bound: Option<Bound>) -> String {
    let seconds = elapsed.as_secs_f64();
    let done = match bound {
        Some(Bound::Records(maximum)) => Some((records, maximum)),
        Some(Bound::Pages(maximum)) => Some((pages, maximum)),
        None => None,
    };
    let left = match done {
        Some((done, maximum)) if done > 0 && done < maximum => format!(
            ", about {:.0} s left",
            seconds * (maximum - done) as f64 / done as f64
        ),
        _ => String::new(),
    };
    format!(
        "{}, {}, {:.0} records/s, {seconds:.1} s{left}",
        count(pages, "page", "pages"),
        count(records, "record", "records"),
        records as f64 / seconds.max(1e-9),
    )
}

/// The progress of a run: a spinner on a terminal, else a plain line every
/// [`PROGRESS_EVERY`].
pub struct Progress {
    bar: Option<ProgressBar>,
    bound: Option<Bound>,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    pub fn start(bound: Option<Bound>) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
                bar.set_style(style);
            }
            bar.set_message("waiting for page 1");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            bound,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// After each page.
    pub fn update(&mut self, pages: u64, records: u64) {
        let text = progress_text(pages, records, self.elapsed(), self.bound);
        match &self.bar {
            Some(bar) => bar.set_message(text),
            None if self.last_line.elapsed() >= PROGRESS_EVERY => {
                eprintln!("... {text}");
                self.last_line = Instant::now();
            }
            None => {}
        }
    }

    /// Writes `lines` to `out` without tearing the spinner.
    pub fn write(&self, out: &mut dyn Write, lines: &[String]) -> std::io::Result<()> {
        let mut write = || {
            for line in lines {
                writeln!(out, "{line}")?;
            }
            out.flush()
        };
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// An error and its causes on one line, each cause once: a cause whose text the line already
/// holds (an error that quotes its source) is not repeated.
pub fn error_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let cause = cause.to_string();
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(count(1, "page", "pages"), "1 page");
        assert_eq!(count(2, "page", "pages"), "2 pages");
        assert_eq!(count(0, "page", "pages"), "0 pages");
    }

    #[test]
    fn a_bounded_run_estimates_the_time_left() {
        let text = progress_text(2, 50, Duration::from_secs(4), Some(Bound::Records(150)));
        assert_eq!(
            text,
            "2 pages, 50 records, 12 records/s, 4.0 s, about 8 s left"
        );
        let text = progress_text(1, 50, Duration::from_secs(4), None);
        assert_eq!(text, "1 page, 50 records, 12 records/s, 4.0 s");
    }

    #[test]
    fn the_trace_says_what_it_leaves_out() {
        let first = Trace::parse("first:2").unwrap();
        assert!(first.shows(2) && !first.shows(3));
        assert_eq!(
            first.left_out(5).unwrap(),
            "… 3 more pages not shown (--trace all shows every page)"
        );
        assert_eq!(first.left_out(2), None);
        assert_eq!(Trace::All.left_out(9), None);
        assert!(Trace::parse("first:x").is_err());
    }

    #[test]
    fn a_cause_the_error_already_quotes_is_not_repeated() {
        let error = anyhow::anyhow!("connection refused")
            .context("page 1: GET / failed: connection refused");
        assert_eq!(
            error_text(&error),
            "page 1: GET / failed: connection refused"
        );
        let error = anyhow::anyhow!("No such file").context("reading x.json");
        assert_eq!(error_text(&error), "reading x.json: No such file");
    }
}
