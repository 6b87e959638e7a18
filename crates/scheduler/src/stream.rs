//! The fetch of one run streamed into its batch: each page counted into the run's metrics,
//! promoted (mapped and converted, `crate::promotion`) on blocking threads two pages at a time
//! when the flow needs it, and written in order; and how the fetch's end or error ends the run.

use flowd_connector::RunEvent;
use flowd_model::{FailureCode, RunErrorRecord, RunFailure, RunMetrics};
use flowd_store::RunRecord;
use futures::StreamExt;

use crate::batch::{AsyncBatch, BatchError};
use crate::progress::RunCounters;
use crate::promotion::Promotion;
use crate::telemetry;

/// A run failure with its code and message.
pub(crate) fn failure(code: FailureCode, message: impl Into<String>) -> RunFailure {
    RunFailure::new(code, message)
}

/// A write to the dataset that failed.
pub(crate) fn sink_failure(error: BatchError) -> RunFailure {
    failure(
        FailureCode::Sink,
        format!("writing the dataset failed: {error}"),
    )
}

/// Streams the run's pages into `batch` until the runtime says how the fetch ended: at the
/// source's end (with what it warns about), or on a guard, which fails the run.
pub(crate) async fn stream_pages(
    http: &flowd_connector::HttpClient,
    run: &RunRecord,
    plan: flowd_connector::RunPlan,
    batch: &mut AsyncBatch,
    metrics: &mut RunMetrics,
    promotion: &mut Promotion,
    counters: &RunCounters,
) -> Result<Vec<RunErrorRecord>, RunFailure> {
    let mut stream = std::pin::pin!(flowd_connector::run(http.clone(), plan));
    let mut promoting = Promoting::new();
    while let Some(event) = stream.next().await {
        match event {
            Ok(RunEvent::Page(page)) => {
                metrics.pages += 1;
                telemetry::count_upstream_request(Some(page.status));
                metrics.input_bytes += page.body_bytes as u64;
                metrics.input_records += page.records.len() as u64;
                counters.add_page(page.records.len() as u64);
                let body_bytes = page.body_bytes;
                if !promotion.is_active() {
                    batch
                        .write(page.records, body_bytes)
                        .await
                        .map_err(sink_failure)?;
                    continue;
                }
                // Pages are promoted on blocking threads, two at a time, and written in order.
                let mut fork = promotion.fork();
                let records = page.records;
                promoting.push_back((
                    tokio::task::spawn_blocking(move || {
                        let promoted = fork.promote(records);
                        (fork, promoted)
                    }),
                    body_bytes,
                ));
                if promoting.len() >= PROMOTING_PAGES {
                    write_promoted(&mut promoting, promotion, batch).await?;
                }
            }
            // Logged by the HTTP client as it retries; the run's end says the final cause.
            Ok(RunEvent::Retry { .. }) => {}
            Ok(RunEvent::Finished(summary)) => {
                while !promoting.is_empty() {
                    write_promoted(&mut promoting, promotion, batch).await?;
                }
                for warning in &summary.warnings {
                    tracing::warn!(run_id = %run.id, %warning, "run warning");
                }
                return finished(summary);
            }
            Err(error) => {
                if let flowd_connector::RunError::Fetch { error: source, .. } = &error {
                    match source {
                        // No answer at all (refused, DNS, TLS, timeout).
                        flowd_connector::FetchError::Transport { .. } => {
                            telemetry::count_upstream_request(None);
                        }
                        _ => {
                            if let Some(status) = source.status() {
                                telemetry::count_upstream_request(Some(status));
                            }
                        }
                    }
                }
                return Err(upstream_failure(&error));
            }
        }
    }
    Err(failure(
        FailureCode::Incomplete,
        "the fetch stopped before its end (the runtime task ended without a summary)",
    ))
}

/// Pages being promoted on blocking threads, oldest first, with their body sizes.
type Promoting = std::collections::VecDeque<(
    tokio::task::JoinHandle<(Promotion, flowd_model::records::Records)>,
    usize,
)>;

/// Pages promoted at once: one per core of the small machines flowd targets, while the fetch
/// goes on and the batch's threads decode and encode.
const PROMOTING_PAGES: usize = 2;

/// Waits for the oldest page being promoted, adds what it found and writes its records.
async fn write_promoted(
    promoting: &mut Promoting,
    promotion: &mut Promotion,
    batch: &mut AsyncBatch,
) -> Result<(), RunFailure> {
    let Some((handle, body_bytes)) = promoting.pop_front() else {
        return Ok(());
    };
    let (fork, records) = handle.await.map_err(|error| {
        failure(
            FailureCode::Incomplete,
            format!("promoting a page of records stopped: {error}"),
        )
    })?;
    promotion.merge(fork);
    batch.write(records, body_bytes).await.map_err(sink_failure)
}

/// How a fetch that ran to its stop ends the run: a stop the source (or the spec) decided
/// succeeds, with its warnings under their codes (`EMPTY_EXTRACTION`, `MAXIMUM_REQUEST`, …, in
/// `statusSummary.warnings`); a guard fails the run, since records may be missing.
fn finished(summary: flowd_connector::RunSummary) -> Result<Vec<RunErrorRecord>, RunFailure> {
    use flowd_connector::StopCause;
    let guard = |code, reason: String| {
        Err(failure(
            code,
            format!("{reason}; records may be missing, so nothing was written"),
        ))
    };
    let warned = summary
        .warnings
        .iter()
        .map(|warning| warning.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    match summary.stop {
        StopCause::Pagination(_) | StopCause::MaxRecords(_) | StopCause::MaximumRequest(_) => {
            Ok(summary
                .warnings
                .into_iter()
                .map(|warning| RunErrorRecord {
                    code: warning.code.to_owned(),
                    message: warning.message,
                })
                .collect())
        }
        StopCause::MaxPages(pages) => guard(
            FailureCode::LimitExceeded,
            format!(
                "the run reached {pages} pages, the limit per run (--max-pages-per-run), before its last page"
            ),
        ),
        StopCause::DefaultMaximumRequest(_) => guard(
            FailureCode::PaginationGuard,
            format!("{warned} (set maximumRequest or endPageIndex in the spec to page further)"),
        ),
        StopCause::RepeatedPage | StopCause::RepeatedNextPage => {
            guard(FailureCode::PaginationGuard, warned)
        }
    }
}

fn upstream_failure(error: &flowd_connector::RunError) -> RunFailure {
    use flowd_connector::{FetchError, RunError};
    let code = match error {
        RunError::Fetch {
            error:
                FetchError::Auth(_)
                | FetchError::Status {
                    status: 401 | 403, ..
                },
            ..
        } => FailureCode::Authentication,
        RunError::Request(_)
        | RunError::Fetch {
            error: FetchError::Refused { .. },
            ..
        } => FailureCode::Configuration,
        RunError::Fetch {
            error: FetchError::TooLarge { .. },
            ..
        }
        | RunError::ExtractionBound { .. } => FailureCode::LimitExceeded,
        RunError::InvalidResponse { .. } => FailureCode::InvalidResponse,
        _ => FailureCode::Upstream,
    };
    failure(code, error.to_string())
}
