//! The run loop: pages of one run as a bounded stream.
//!
//! A spawned task sends the requests (through [`HttpClient`], one page at a
//! time, or up to `concurrency` predicted pages at once for OFFSET and PAGE),
//! parses each body once, lets the paginator decide what comes next, extracts
//! the records and hands the page to a channel of capacity two: memory stays
//! bounded by a few pages whatever the total. The guards shared by every
//! pagination type live here: a page that repeats the previous one's
//! next-page request or records ends the run with a warning instead of
//! looping forever, `maximumRequest` caps requests, `delayRequestMillis`
//! spaces them (a run with a delay is always sequential).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use flowd_model::records::{RecordTexts, Records};
use flowd_spec::FetchConfig;
use futures::stream::{FuturesOrdered, Stream, StreamExt};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use url::Url;

use crate::auth::AuthSession;
use crate::cause::Retry;
use crate::explain::{self, RunWarning};
use crate::extract::{ExtractError, ExtractionBudget, RecordExtractor};
use crate::http::{FetchError, FetchedResponse, HttpClient, OutgoingRequest};
use crate::page_text::TextExtraction;
use crate::pagination::{
    NextPage, PageRequest, PageResponse, Paginator, StopReason, paginator_for,
};
use crate::request::{
    BaseRequest, RequestError, TemplateValues, build_base_request, check_credential_origin,
    credential_origin,
};
use crate::window::{Window, window_parameters};

/// How many bytes of an unparsable body are quoted in the error.
const SNIPPET_BYTES: usize = 200;

/// Everything one run needs.
#[derive(Clone)]
pub struct RunPlan {
    pub fetch: Arc<FetchConfig>,
    pub auth: Option<Arc<AuthSession>>,
    /// The source connection's `params`.
    pub source_params: Map<String, Value>,
    pub window: Option<Window>,
    pub limits: RunLimits,
}

/// Caps and speed settings of a run.
#[derive(Debug, Clone, Copy)]
pub struct RunLimits {
    pub max_pages: Option<u64>,
    pub max_records: Option<u64>,
    /// Pages fetched at once in speculative mode (OFFSET and PAGE only); 1
    /// means sequential.
    pub concurrency: usize,
    /// Hand records on as the page's text when the spec allows it ([`Records::Text`]);
    /// `false` always parses them ([`Records::Parsed`]), the reference path.
    pub records_as_text: bool,
    /// Most requests per second the run sends, whatever `concurrency` (retries included);
    /// replaces the client's own limit for this run.
    pub requests_per_second: Option<f64>,
}

impl Default for RunLimits {
    fn default() -> RunLimits {
        RunLimits {
            max_pages: None,
            max_records: None,
            concurrency: 1,
            records_as_text: true,
            requests_per_second: None,
        }
    }
}

/// What was sent for a page, secrets redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSummary {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// One fetched page and its records.
#[derive(Debug, Clone)]
pub struct Page {
    /// Zero-based position of the page in the run.
    pub number: u64,
    pub request: RequestSummary,
    pub status: u16,
    pub elapsed: Duration,
    pub attempts: u32,
    /// Items at `contentPath`, before explode.
    pub item_count: usize,
    /// Output records (after skip/keep, wrapping and explode): the page's own text when the
    /// spec needs no per-record work, else parsed values.
    pub records: Records,
    pub body_bytes: usize,
}

impl Page {
    /// The page's records as values; a record found in the page's text that serde_json
    /// cannot hold (a number beyond the range of a 64-bit float) fails as an invalid response,
    /// as it would have when the page was parsed whole.
    pub fn into_values(self) -> Result<Vec<Value>, RunError> {
        let Page {
            number,
            request,
            records,
            ..
        } = self;
        records
            .into_values()
            .map_err(|error| RunError::InvalidResponse {
                page: number,
                method: request.method,
                url: request.url,
                reason: format!("a record is not valid JSON ({error})"),
                snippet: String::new(),
            })
    }
}

/// Why a run ended normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopCause {
    Pagination(StopReason),
    /// The spec's own `maximumRequest` requests were sent.
    MaximumRequest(u64),
    /// flowd's default `maximumRequest` (PAGE) was reached: the API may hold more pages.
    DefaultMaximumRequest(u64),
    /// The API answered a page identical to the previous one.
    RepeatedPage,
    /// The API gave the same next-page token or URL twice in a row.
    RepeatedNextPage,
    MaxPages(u64),
    MaxRecords(u64),
}

/// Totals of a finished run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub pages: u64,
    pub records: u64,
    pub body_bytes: u64,
    pub stop: StopCause,
    /// What the run warns about, once each ([`crate::explain`]).
    pub warnings: Vec<RunWarning>,
}

/// An item of a run's stream.
#[derive(Debug, Clone)]
pub enum RunEvent {
    Page(Page),
    /// A request of page `page` (zero-based, as [`Page::number`]) failed and is retried after
    /// `retry.wait`; sent as it happens, before the wait.
    Retry {
        page: u64,
        retry: Retry,
    },
    Finished(RunSummary),
}

/// Why a run failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RunError {
    #[error("the request could not be built: {0}")]
    Request(#[from] RequestError),
    /// `page` is zero-based; messages count pages from 1.
    #[error("page {}: {error}", page + 1)]
    Fetch { page: u64, error: FetchError },
    #[error(
        "page {}: {method} {url} gave an invalid response: {reason}; body starts with: {snippet}",
        page + 1
    )]
    InvalidResponse {
        page: u64,
        method: String,
        url: String,
        reason: String,
        snippet: String,
    },
    #[error("page {}: {method} {url}: {error}", page + 1)]
    ExtractionBound {
        page: u64,
        method: String,
        url: String,
        error: crate::extract::ExtractError,
    },
    #[error("the next page URL {url} is not valid")]
    InvalidNextPageUrl { url: String },
    #[error(
        "the next page URL points to {url}, another origin than the spec's host; flowd does not send credentials there"
    )]
    ForeignNextPageUrl { url: String },
}

/// Runs `plan` and returns its pages as a stream ending with
/// [`RunEvent::Finished`] or an error.
pub fn run(
    client: HttpClient,
    plan: RunPlan,
) -> impl Stream<Item = Result<RunEvent, RunError>> + Send {
    let (sender, receiver) = mpsc::channel(2);
    let client = match plan.limits.requests_per_second {
        Some(rate) => client.with_rate_limit(rate),
        None => client,
    };
    tokio::spawn(async move {
        let outcome = RunTask::new(client, plan, sender.clone())
            .and_then_run()
            .await;
        if let Err(error) = outcome {
            let _ = sender.send(Err(error)).await;
        }
    });
    futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
}

type Sender = mpsc::Sender<Result<RunEvent, RunError>>;

struct RunTask {
    client: HttpClient,
    plan: RunPlan,
    sender: Sender,
    /// Set when records can be taken from the page text (see `page_text`).
    text: Option<TextExtraction>,
}

/// Per-run state of the loop.
struct Progress {
    pages: u64,
    records: u64,
    body_bytes: u64,
    warnings: Vec<RunWarning>,
    /// Whether a page's records were missed by the content path (said once per run).
    empty_extraction_warned: bool,
    /// The total of records the first page announced, if it did.
    announced_total: Option<(String, u64)>,
    /// First and last record (as JSON text) and count of the previous page, to spot a
    /// repeated page without keeping the page.
    previous_page_fingerprint: Option<(usize, Vec<u8>, Vec<u8>)>,
}

/// A page parsed and counted, before its records are extracted.
struct ParsedPage {
    number: u64,
    request: RequestSummary,
    response: FetchedResponse,
    /// The body, or its skeleton when the records were found in its text.
    body: Value,
    item_count: usize,
    /// The body as text and the records' spans in it, when found in its text.
    text_spans: Option<(bytestring::ByteString, Vec<std::ops::Range<usize>>)>,
}

enum Continue {
    Next(PageRequest),
    Stop(StopCause),
}

impl RunTask {
    fn new(client: HttpClient, plan: RunPlan, sender: Sender) -> RunTask {
        let text = plan
            .limits
            .records_as_text
            .then(|| TextExtraction::for_run(&plan.fetch))
            .flatten();
        RunTask {
            client,
            plan,
            sender,
            text,
        }
    }

    async fn and_then_run(self) -> Result<(), RunError> {
        let fetch = self.plan.fetch.clone();
        let window = window_parameters(
            fetch.schedule.as_ref(),
            self.plan.window.as_ref(),
            jiff::Timestamp::now(),
        );
        let empty = Map::new();
        let values = TemplateValues {
            source_params: &self.plan.source_params,
            auth_params: self
                .plan
                .auth
                .as_deref()
                .map_or(&empty, AuthSession::params),
            schedule_query: window.schedule_query.as_deref(),
        };
        let base = build_base_request(&fetch, &values, &window.query)?;
        if let Some(auth) = self.plan.auth.as_deref() {
            let allowed = credential_origin(fetch.url.host.as_deref(), auth.params())?;
            check_credential_origin(&base.url, &allowed)?;
        }
        let extractor =
            RecordExtractor::new(&fetch.content_path, fetch.explode_entity_path.as_ref());
        let mut paginator = paginator_for(&fetch.pagination);
        let mut progress = Progress {
            pages: 0,
            records: 0,
            body_bytes: 0,
            warnings: Vec::new(),
            empty_extraction_warned: false,
            announced_total: None,
            previous_page_fingerprint: None,
        };
        let speculative = self.plan.limits.concurrency > 1
            && fetch.pacing.delay_request_millis == 0
            && paginator.predicted_page(0).is_some();
        let stop = if speculative {
            self.run_speculative(
                &base,
                &extractor,
                paginator.as_mut(),
                &mut progress,
                &window.query,
            )
            .await?
        } else {
            let first = paginator.first_page();
            self.run_sequential(
                &base,
                &extractor,
                paginator.as_mut(),
                &mut progress,
                first,
                &window.query,
            )
            .await?
        };
        if matches!(stop, StopCause::Pagination(_)) {
            let pagination = &fetch.pagination;
            // A run in a window may rightly find nothing.
            if !progress.empty_extraction_warned
                && window.query.is_empty()
                && progress.pages == 1
                && let Some(warning) = explain::empty_first_page(pagination, progress.records)
            {
                progress.warnings.push(warning);
            }
            // Records the content path missed are the cause; a total short of them says no more.
            if let Some(warning) = progress
                .announced_total
                .as_ref()
                .filter(|_| !progress.empty_extraction_warned)
                .and_then(|announced| {
                    explain::short_of_total(pagination, progress.records, announced)
                })
            {
                progress.warnings.push(warning);
            }
        }
        let summary = RunSummary {
            pages: progress.pages,
            records: progress.records,
            body_bytes: progress.body_bytes,
            stop,
            warnings: progress.warnings,
        };
        fail::fail_point!("runtime-before-summary", |_| Ok(()));
        let _ = self.sender.send(Ok(RunEvent::Finished(summary))).await;
        Ok(())
    }

    /// The cap that ends the run now, if any; reaching `maximumRequest` is
    /// also a warning (the API may hold more records), whatever the mode.
    fn cap_reached(&self, progress: &mut Progress) -> Option<StopCause> {
        let pacing = &self.plan.fetch.pacing;
        if let Some(maximum) = pacing
            .maximum_request
            .filter(|maximum| progress.pages >= *maximum)
        {
            if pacing.maximum_request_is_default {
                progress.warnings.push(RunWarning::new(RunWarning::DEFAULT_MAXIMUM_REQUEST, format!(
                    "stopped after {} requests, the default maximumRequest of PAGE pagination, before the API said it had no more pages",
                    progress.pages
                )));
                return Some(StopCause::DefaultMaximumRequest(maximum));
            }
            progress.warnings.push(RunWarning::new(
                RunWarning::MAXIMUM_REQUEST,
                format!("stopped after maximumRequest ({}) requests", progress.pages),
            ));
            return Some(StopCause::MaximumRequest(maximum));
        }
        if let Some(maximum) = self
            .plan
            .limits
            .max_pages
            .filter(|maximum| progress.pages >= *maximum)
        {
            return Some(StopCause::MaxPages(maximum));
        }
        None
    }

    async fn run_sequential(
        &self,
        base: &BaseRequest,
        extractor: &RecordExtractor,
        paginator: &mut dyn Paginator,
        progress: &mut Progress,
        first: PageRequest,
        window_query: &[(String, String)],
    ) -> Result<StopCause, RunError> {
        // Clamped for a spec stored before validation capped it.
        let delay = Duration::from_millis(
            self.plan
                .fetch
                .pacing
                .delay_request_millis
                .min(flowd_spec::MAX_DELAY_REQUEST_MILLIS),
        );
        let mut page_request = first;
        loop {
            if let Some(cause) = self.cap_reached(progress) {
                return Ok(cause);
            }
            if progress.pages > 0 && !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let number = progress.pages;
            let outgoing = compose(base, &page_request, window_query)?;
            let response = self.send(number, &outgoing).await?;
            let parsed = self.parse(number, &outgoing, response, extractor)?;
            match self
                .deliver(parsed, extractor, paginator, progress, &page_request)
                .await?
            {
                Continue::Next(next) => page_request = next,
                Continue::Stop(cause) => return Ok(cause),
            }
        }
    }

    async fn run_speculative(
        &self,
        base: &BaseRequest,
        extractor: &RecordExtractor,
        paginator: &mut dyn Paginator,
        progress: &mut Progress,
        window_query: &[(String, String)],
    ) -> Result<StopCause, RunError> {
        let concurrency = self.plan.limits.concurrency;
        let mut in_flight = FuturesOrdered::new();
        let mut scheduled: VecDeque<(PageRequest, OutgoingRequest)> = VecDeque::new();
        let mut next_to_schedule = 0u64;
        // The first page is asked of the paginator so its state starts right.
        let first = paginator.first_page();
        loop {
            while in_flight.len() < concurrency {
                let limit_reached = self
                    .plan
                    .fetch
                    .pacing
                    .maximum_request
                    .into_iter()
                    .chain(self.plan.limits.max_pages)
                    .any(|maximum| next_to_schedule >= maximum);
                if limit_reached {
                    break;
                }
                let page_request = if next_to_schedule == 0 {
                    first.clone()
                } else {
                    match paginator.predicted_page(next_to_schedule) {
                        Some(predicted) => predicted,
                        None => break,
                    }
                };
                let outgoing = compose(base, &page_request, window_query)?;
                let number = next_to_schedule;
                let client = self.client.clone();
                let auth = self.plan.auth.clone();
                let request = outgoing.clone();
                let observer = retry_observer(self.sender.clone(), number);
                in_flight.push_back(async move {
                    client
                        .send_observed(&request, auth.as_deref(), Some(&observer))
                        .await
                        .map_err(|error| RunError::Fetch {
                            page: number,
                            error,
                        })
                });
                scheduled.push_back((page_request, outgoing));
                next_to_schedule += 1;
            }
            let Some(result) = in_flight.next().await else {
                // Nothing more could be scheduled: a cap was reached.
                return Ok(self
                    .cap_reached(progress)
                    .unwrap_or(StopCause::MaxPages(progress.pages)));
            };
            let (page_request, outgoing) = scheduled.pop_front().expect("one request per future");
            let number = progress.pages;
            let parsed = self.parse(number, &outgoing, result?, extractor)?;
            match self
                .deliver(parsed, extractor, paginator, progress, &page_request)
                .await?
            {
                Continue::Stop(cause) => return Ok(cause),
                Continue::Next(next) => {
                    let expected = scheduled
                        .front()
                        .map(|(request, _)| request.clone())
                        .or_else(|| paginator.predicted_page(progress.pages));
                    if expected.as_ref() != Some(&next) {
                        // The API did not page as predicted (a page longer
                        // than the page size, say): drop the guesses and go
                        // on one page at a time from what it said.
                        drop(in_flight);
                        return self
                            .run_sequential(
                                base,
                                extractor,
                                paginator,
                                progress,
                                next,
                                window_query,
                            )
                            .await;
                    }
                }
            }
        }
    }

    async fn send(
        &self,
        number: u64,
        outgoing: &OutgoingRequest,
    ) -> Result<FetchedResponse, RunError> {
        let observer = retry_observer(self.sender.clone(), number);
        self.client
            .send_observed(outgoing, self.plan.auth.as_deref(), Some(&observer))
            .await
            .map_err(|error| RunError::Fetch {
                page: number,
                error,
            })
    }

    fn redact(&self, text: &str) -> String {
        match &self.plan.auth {
            Some(auth) => auth.redact(text),
            None => text.to_owned(),
        }
    }

    fn parse(
        &self,
        number: u64,
        outgoing: &OutgoingRequest,
        response: FetchedResponse,
        extractor: &RecordExtractor,
    ) -> Result<ParsedPage, RunError> {
        let request = RequestSummary {
            method: outgoing.method.to_string(),
            url: self.redact(outgoing.url.as_str()),
            headers: outgoing
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), self.redact(value)))
                .chain(self.plan.auth.iter().flat_map(|auth| auth.shown_headers()))
                .chain([("User-Agent".to_owned(), crate::http::user_agent())])
                .collect(),
        };
        let invalid = |reason: String| RunError::InvalidResponse {
            page: number,
            method: request.method.clone(),
            url: request.url.clone(),
            reason,
            snippet: match &self.plan.auth {
                Some(auth) => auth.snippet(&response.body, SNIPPET_BYTES),
                None => crate::secret::Redactor::default().snippet(&response.body, SNIPPET_BYTES),
            },
        };
        if let Some(split) = self
            .text
            .as_ref()
            .and_then(|text| text.split(&response.body))
        {
            return Ok(ParsedPage {
                number,
                request,
                item_count: split.spans.len(),
                body: split.skeleton,
                response,
                text_spans: Some((split.text, split.spans)),
            });
        }
        let body: Value = serde_json::from_slice(&response.body).map_err(|error| {
            let content_type = response
                .headers
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("no content type");
            invalid(format!(
                "the body is not JSON ({error}; content type {content_type})"
            ))
        })?;
        if !(body.is_object() || body.is_array()) {
            return Err(invalid(
                "the body is neither a JSON object nor an array".to_owned(),
            ));
        }
        let item_count = extractor.count_items(&body);
        Ok(ParsedPage {
            number,
            request,
            response,
            body,
            item_count,
            text_spans: None,
        })
    }

    /// Decides what follows the page, then extracts and sends its records.
    async fn deliver(
        &self,
        parsed: ParsedPage,
        extractor: &RecordExtractor,
        paginator: &mut dyn Paginator,
        progress: &mut Progress,
        page_request: &PageRequest,
    ) -> Result<Continue, RunError> {
        let next = paginator.next_page(&PageResponse {
            body: &parsed.body,
            headers: &parsed.response.headers,
            url: &parsed.response.url,
            item_count: parsed.item_count,
        });
        self.notice(&parsed, progress);
        let remaining_records = self
            .plan
            .limits
            .max_records
            .map(|maximum| maximum.saturating_sub(progress.records) as usize);
        let ParsedPage {
            number,
            request,
            response,
            body,
            item_count,
            text_spans,
        } = parsed;
        let mut records = match text_spans {
            Some((text, spans)) => Records::Text(RecordTexts::new(text, spans)),
            None => {
                let mut budget = ExtractionBudget::for_page(response.body.len(), remaining_records);
                let mut records =
                    Vec::with_capacity(item_count.min(remaining_records.unwrap_or(usize::MAX)));
                extractor
                    .extract_owned(body, &mut records, &mut budget)
                    .map_err(|error| match error {
                        ExtractError::TooLarge { .. } => RunError::ExtractionBound {
                            page: number,
                            method: request.method.clone(),
                            url: request.url.clone(),
                            error,
                        },
                        ExtractError::NotAJsonDocument { .. } => RunError::InvalidResponse {
                            page: number,
                            method: request.method.clone(),
                            url: request.url.clone(),
                            reason: error.to_string(),
                            snippet: String::new(),
                        },
                    })?;
                Records::Parsed(records)
            }
        };
        let fingerprint = fingerprint(&records);
        if fingerprint.is_some() && fingerprint == progress.previous_page_fingerprint {
            progress
                .warnings
                .push(explain::repeated_page(&self.plan.fetch.pagination, number));
            return Ok(Continue::Stop(StopCause::RepeatedPage));
        }
        progress.previous_page_fingerprint = fingerprint;
        let mut stop = None;
        if let Some(maximum) = self.plan.limits.max_records {
            let remaining = maximum.saturating_sub(progress.records) as usize;
            if records.len() >= remaining {
                records.truncate(remaining);
                stop = Some(StopCause::MaxRecords(maximum));
            }
        }
        progress.pages += 1;
        progress.records += records.len() as u64;
        progress.body_bytes += response.body.len() as u64;
        let page = Page {
            number,
            request,
            status: response.status.as_u16(),
            elapsed: response.elapsed,
            attempts: response.attempts,
            item_count,
            body_bytes: response.body.len(),
            records,
        };
        if self.sender.send(Ok(RunEvent::Page(page))).await.is_err() {
            // The consumer went away: nothing more to do.
            return Ok(Continue::Stop(StopCause::MaxPages(progress.pages)));
        }
        if let Some(cause) = stop {
            return Ok(Continue::Stop(cause));
        }
        match next {
            NextPage::Stop(reason) => Ok(Continue::Stop(StopCause::Pagination(reason))),
            NextPage::Request(next)
                if &next == page_request
                    && !matches!(next, PageRequest::Base { ref query, ref headers } if query.is_empty() && headers.is_empty()) =>
            {
                progress.warnings.push(RunWarning::new(
                    RunWarning::REPEATED_NEXT_PAGE,
                    format!(
                        "page {} gave the same next-page token or URL as the page before; stopped to avoid looping",
                        number + 1
                    ),
                ));
                Ok(Continue::Stop(StopCause::RepeatedNextPage))
            }
            NextPage::Request(next) => Ok(Continue::Next(next)),
        }
    }
}

impl RunTask {
    /// What a page shows about the run as a whole: records the content path missed (once),
    /// and the total the first page announces.
    fn notice(&self, parsed: &ParsedPage, progress: &mut Progress) {
        let body = &parsed.response.body;
        if parsed.item_count == 0 && !progress.empty_extraction_warned && !body.is_empty() {
            let whole = match parsed.text_spans {
                // The skeleton lacks what the text split took out: read the page again.
                Some(_) => serde_json::from_slice::<Value>(body).ok(),
                None => Some(parsed.body.clone()),
            };
            if let Some(warning) = whole
                .as_ref()
                .and_then(|whole| explain::empty_extraction(whole, &self.plan.fetch.content_path))
            {
                progress.empty_extraction_warned = true;
                progress.warnings.push(warning);
            }
        }
        if progress.pages == 0 {
            progress.announced_total =
                explain::announced_total(&parsed.body, &parsed.response.headers);
        }
    }
}

/// Sends each retry of page `page` to the run's stream as it happens.
fn retry_observer(
    sender: Sender,
    page: u64,
) -> impl Fn(Retry) -> futures::future::BoxFuture<'static, ()> + Send + Sync {
    move |retry| {
        let sender = sender.clone();
        Box::pin(async move {
            let _ = sender.send(Ok(RunEvent::Retry { page, retry })).await;
        })
    }
}

/// First and last record (as JSON text) and the count of a page.
fn fingerprint(records: &Records) -> Option<(usize, Vec<u8>, Vec<u8>)> {
    match records {
        Records::Text(texts) => texts
            .get(0)
            .zip(texts.get(texts.len().wrapping_sub(1)))
            .map(|(first, last)| (texts.len(), first.into(), last.into())),
        Records::Parsed(values) => values.first().zip(values.last()).map(|(first, last)| {
            (
                values.len(),
                serde_json::to_vec(first).unwrap_or_default(),
                serde_json::to_vec(last).unwrap_or_default(),
            )
        }),
    }
}

/// The request of one page: the base request with the page's additions.
fn compose(
    base: &BaseRequest,
    page: &PageRequest,
    window_query: &[(String, String)],
) -> Result<OutgoingRequest, RunError> {
    match page {
        PageRequest::Base { query, headers } => {
            let mut url = base.url.clone();
            if !query.is_empty() {
                let kept: Vec<(String, String)> = url
                    .query_pairs()
                    .filter(|(name, _)| !query.iter().any(|(added, _)| added == name))
                    .map(|(name, value)| (name.into_owned(), value.into_owned()))
                    .collect();
                let mut pairs = url.query_pairs_mut();
                pairs.clear();
                for (name, value) in kept.iter().chain(query) {
                    pairs.append_pair(name, value);
                }
            }
            Ok(OutgoingRequest {
                method: base.method.clone(),
                url,
                headers: merge_headers(&base.headers, headers),
                body: base.body.clone(),
            })
        }
        PageRequest::Url(address) => {
            let mut url = Url::parse(address).map_err(|_| RunError::InvalidNextPageUrl {
                url: address.clone(),
            })?;
            // Credentials go with every request: a next-page link to another
            // origin would hand them to a host the spec never named.
            if url.origin() != base.url.origin() {
                return Err(RunError::ForeignNextPageUrl {
                    url: url.origin().ascii_serialization(),
                });
            }
            // The window bounds go on every page, unless the API's own next
            // link already carries them.
            let missing: Vec<&(String, String)> = window_query
                .iter()
                .filter(|(name, _)| {
                    !url.query_pairs()
                        .any(|(present, _)| present == name.as_str())
                })
                .collect();
            if !missing.is_empty() {
                let mut pairs = url.query_pairs_mut();
                for (name, value) in missing {
                    pairs.append_pair(name, value);
                }
            }
            Ok(OutgoingRequest {
                method: base.method.clone(),
                url,
                headers: base.headers.clone(),
                body: base.body.clone(),
            })
        }
    }
}

fn merge_headers(base: &[(String, String)], added: &[(String, String)]) -> Vec<(String, String)> {
    base.iter()
        .filter(|(name, _)| {
            !added
                .iter()
                .any(|(added, _)| added.eq_ignore_ascii_case(name))
        })
        .chain(added)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> BaseRequest {
        BaseRequest {
            method: reqwest::Method::GET,
            url: Url::parse("https://api.example.com/v1/items?limit=10").unwrap(),
            headers: vec![("Accept".into(), "application/json".into())],
            body: None,
        }
    }

    #[test]
    fn next_page_urls_on_another_origin_are_refused() {
        for foreign in [
            "https://elsewhere.example.com/v1/items?page=2",
            "http://api.example.com/v1/items?page=2",
            "https://api.example.com:8443/v1/items?page=2",
        ] {
            let error = compose(&base(), &PageRequest::Url(foreign.into()), &[]).unwrap_err();
            assert!(
                matches!(error, RunError::ForeignNextPageUrl { .. }),
                "{foreign}: {error}"
            );
        }
        let same = compose(
            &base(),
            &PageRequest::Url("https://api.example.com/v1/items?page=2".into()),
            &[],
        )
        .unwrap();
        assert_eq!(same.url.as_str(), "https://api.example.com/v1/items?page=2");
    }

    #[test]
    fn page_parameters_replace_base_parameters_of_the_same_name() {
        let page = PageRequest::Base {
            query: vec![
                ("limit".into(), "50".into()),
                ("offset".into(), "100".into()),
            ],
            headers: vec![("accept".into(), "text/json".into())],
        };
        let outgoing = compose(&base(), &page, &[]).unwrap();
        assert_eq!(
            outgoing.url.as_str(),
            "https://api.example.com/v1/items?limit=50&offset=100"
        );
        assert_eq!(
            outgoing.headers,
            vec![("accept".to_owned(), "text/json".to_owned())]
        );
    }
}
