//! What a trial run of a connection spec reports, shared by `flowd spec test` (the author's
//! machine) and the API's `POST /flowd/v1/connectionSpecs/test` (the server): why the run
//! stopped, as a sentence; the window given as text (RFC 3339 or epoch seconds); the tokens a
//! refresh returned, which a trial never saves; and how many records its schema is inferred
//! from.

use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;

use crate::auth::{RefreshedTokens, TokenStore};
use crate::pagination::StopReason;
use crate::run::{RunError, StopCause};
use crate::window::Window;

/// Records a trial keeps to infer the schema from (and show).
pub const SCHEMA_SAMPLE_RECORDS: usize = 1000;

/// What a trial says about a refreshed access token.
pub const UNSAVED_TOKENS_NOTE: &str =
    "the access token was refreshed; a spec test does not save the new tokens";

/// How the caller names the trial's own limits (`--max-pages` on the command line, `maxPages`
/// in a request body), so the sentence names what the user set.
#[derive(Debug, Clone, Copy)]
pub struct LimitNames {
    pub max_pages: &'static str,
    pub max_records: &'static str,
}

/// Why a run stopped, as a sentence.
pub fn describe_stop(cause: &StopCause, limits: LimitNames) -> String {
    match cause {
        StopCause::Pagination(reason) => describe_pagination_stop(reason).to_owned(),
        StopCause::MaximumRequest(maximum) => format!("maximumRequest ({maximum}) reached"),
        StopCause::DefaultMaximumRequest(maximum) => {
            format!("the default maximumRequest ({maximum}) reached; the API may hold more")
        }
        StopCause::RepeatedPage => "the API repeated a page".to_owned(),
        StopCause::RepeatedNextPage => "the API repeated its next-page token".to_owned(),
        StopCause::MaxPages(maximum) => format!("{} {maximum} reached", limits.max_pages),
        StopCause::MaxRecords(maximum) => format!("{} {maximum} reached", limits.max_records),
    }
}

fn describe_pagination_stop(reason: &StopReason) -> &'static str {
    match reason {
        StopReason::SinglePage => "the spec's pagination fetches a single page",
        StopReason::EmptyPage => "the last page held no items",
        StopReason::ShortPage => "the last page held fewer items than the page size",
        StopReason::EndCondition => "the end condition (endConditionName) matched",
        StopReason::NoNextPointer => "the last page had no next-page pointer",
        StopReason::NoContinuationToken => "the last page had no continuation token",
        StopReason::HasMoreFalse => "the API said there are no more pages",
        StopReason::EndPageIndexReached => "the page at endPageIndex was fetched",
    }
}

/// The page (one-based) a run failed on, when the failure names one.
pub fn failed_page(error: &RunError) -> Option<u64> {
    match error {
        RunError::Fetch { page, .. }
        | RunError::InvalidResponse { page, .. }
        | RunError::ExtractionBound { page, .. } => Some(page + 1),
        RunError::Request(_)
        | RunError::InvalidNextPageUrl { .. }
        | RunError::ForeignNextPageUrl { .. } => None,
    }
}

/// Which side of a window a [`WindowError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSide {
    Start,
    End,
}

/// A window that cannot be read: `side` `None` is about both (the start not before the end).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct WindowError {
    pub side: Option<WindowSide>,
    pub message: String,
}

/// An instant as given: RFC 3339 or whole epoch seconds (the one parser, in `flowd_model`).
pub use flowd_model::time::parse_instant;

/// The window `[start, end)` from its two sides as text (either may be absent or empty: from
/// the beginning of time, until `now`).
pub fn parse_window(
    start: Option<&str>,
    end: Option<&str>,
    now: Timestamp,
) -> Result<Window, WindowError> {
    let side = |text: Option<&str>, side: WindowSide| {
        text.map(str::trim)
            .filter(|text| !text.is_empty())
            .map(parse_instant)
            .transpose()
            .map_err(|message| WindowError {
                side: Some(side),
                message,
            })
    };
    let start = side(start, WindowSide::Start)?;
    let end = side(end, WindowSide::End)?.unwrap_or(now);
    if start.is_some_and(|start| start >= end) {
        return Err(WindowError {
            side: None,
            message: "the window start must be before its end".to_owned(),
        });
    }
    Ok(Window { start, end })
}

/// The token store of a trial: tokens a refresh returns are used for the rest of the run and
/// never saved; the trial reports [`UNSAVED_TOKENS_NOTE`] when there was one.
#[derive(Debug, Default)]
pub struct UnsavedTokens {
    refreshes: AtomicU64,
}

impl UnsavedTokens {
    /// How many refreshes returned tokens that were not saved.
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }
}

#[async_trait::async_trait]
impl TokenStore for UnsavedTokens {
    async fn save(&self, _tokens: &RefreshedTokens) {
        self.refreshes.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_reads_rfc_3339_and_epoch_seconds_and_says_which_side_is_wrong() {
        let now: Timestamp = "2024-01-02T00:00:00Z".parse().unwrap();
        let window = parse_window(Some("2024-01-01T00:00:00Z"), Some("1704153600"), now).unwrap();
        assert_eq!(window.start, Some("2024-01-01T00:00:00Z".parse().unwrap()));
        assert_eq!(window.end, now);
        assert_eq!(
            parse_window(None, Some(""), now).unwrap(),
            Window {
                start: None,
                end: now
            }
        );
        assert_eq!(
            parse_window(Some("yesterday"), None, now).unwrap_err().side,
            Some(WindowSide::Start)
        );
        assert_eq!(
            parse_window(Some("1704153600"), None, now)
                .unwrap_err()
                .side,
            None
        );
    }

    #[test]
    fn a_stop_is_a_sentence_naming_the_callers_limit() {
        let names = LimitNames {
            max_pages: "maxPages",
            max_records: "maxRecords",
        };
        assert_eq!(
            describe_stop(&StopCause::MaxRecords(150), names),
            "maxRecords 150 reached"
        );
        assert_eq!(
            describe_stop(&StopCause::Pagination(StopReason::ShortPage), names),
            "the last page held fewer items than the page size"
        );
    }
}
