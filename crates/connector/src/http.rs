//! Sending one request, with the resilience every page needs: credentials
//! (renewed once after a 401 when the method can), an optional client-side
//! rate limit, and retries with exponential backoff and jitter on connection
//! errors, timeouts, 429 and 5xx, honouring `Retry-After` (seconds or an
//! HTTP date), each told to an observer as it happens. A failure without an
//! answer says its cause ([`TransportCause`]); the ones a retry cannot mend
//! (an unknown host, TLS, a URL without scheme) fail at once. Other
//! statuses fail at once with the status, the URL and the
//! first bytes of the body, secrets redacted.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::upstream::{UpstreamPolicy, UpstreamRefused};
use reqwest::{Method, StatusCode};
use url::Url;

use crate::auth::{AuthError, AuthSession};
use crate::cause::{Retry, RetryCause, TransportCause, has_http_scheme};

/// Told of each retry as it happens (the run turns it into [`crate::RunEvent::Retry`]).
pub type RetryObserver<'a> =
    &'a (dyn Fn(Retry) -> futures::future::BoxFuture<'static, ()> + Send + Sync);

/// How many bytes of an error body are quoted in errors.
const SNIPPET_BYTES: usize = 300;

/// Options of the HTTP client of a run.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub connect_timeout: Duration,
    /// Limit for one request, body included.
    pub request_timeout: Duration,
    /// Retries after the first attempt, for retryable failures.
    pub retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is cut to it.
    pub max_retry_after: Duration,
    /// Client-side rate limit in requests per second.
    pub requests_per_second: Option<f64>,
    /// The largest response body read, counted after content decoding (`--max-page-bytes`):
    /// a larger one fails the request, without retries, as soon as the limit is passed.
    pub max_body_bytes: u64,
    /// Which addresses requests may reach (`--deny-upstream`, `--allow-upstream`).
    pub upstream: Arc<UpstreamPolicy>,
}

impl HttpOptions {
    /// 32 MiB: far above a real API's page, well below what a worker can parse.
    pub const DEFAULT_MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            retries: 5,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            requests_per_second: None,
            max_body_bytes: HttpOptions::DEFAULT_MAX_BODY_BYTES,
            upstream: Arc::new(UpstreamPolicy::default()),
        }
    }
}

/// Why a request failed for good.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("{method} {url} answered {status}{}: {snippet}", retries_note(*attempts))]
    Status {
        method: String,
        url: String,
        status: u16,
        snippet: String,
        attempts: u32,
    },
    #[error("{method} {url} failed: {cause}{}", retries_note(*attempts))]
    Transport {
        method: String,
        url: String,
        cause: TransportCause,
        attempts: u32,
    },
    #[error(
        "{method} {url} answered a body larger than {limit} bytes, the limit per page (--max-page-bytes)"
    )]
    TooLarge {
        method: String,
        url: String,
        limit: u64,
    },
    #[error("{method} {0}", .refused)]
    Refused {
        method: String,
        refused: UpstreamRefused,
    },
    #[error("authentication failed: {0}")]
    Auth(#[from] AuthError),
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

fn retries_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

impl FetchError {
    /// The upstream HTTP status, when the failure is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct OutgoingRequest {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<Bytes>,
}

/// A successful response, body read.
#[derive(Debug, Clone)]
pub struct FetchedResponse {
    pub url: Url,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub elapsed: Duration,
    pub attempts: u32,
}

/// The HTTP client of one or many runs.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    options: HttpOptions,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HttpClient")
            .field("options", &self.options)
            .finish()
    }
}

/// `flowd/<version>`, sent as `User-Agent`.
pub fn user_agent() -> String {
    format!(
        "flowd/{} (+generic-rest runtime)",
        env!("CARGO_PKG_VERSION")
    )
}

impl HttpClient {
    pub fn new(options: HttpOptions) -> Result<HttpClient, FetchError> {
        let client = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .user_agent(user_agent())
            .no_proxy()
            .dns_resolver(options.upstream.resolver())
            .redirect(options.upstream.redirect_policy())
            .build()
            .map_err(|error| FetchError::Client(error.to_string()))?;
        let limiter = options.requests_per_second.and_then(limiter_for);
        Ok(HttpClient {
            client,
            options,
            limiter,
        })
    }

    /// The same client (same connections and policy) held to its own limit of
    /// `requests_per_second`, replacing any limit of this one: one run's requests, however
    /// many are in flight.
    pub fn with_rate_limit(&self, requests_per_second: f64) -> HttpClient {
        HttpClient {
            limiter: limiter_for(requests_per_second),
            ..self.clone()
        }
    }

    /// The policy every request of this client is held to.
    pub fn upstream(&self) -> &UpstreamPolicy {
        &self.options.upstream
    }

    /// The underlying client (token refreshes use it too).
    pub fn inner(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// Sends `request` with credentials from `auth`, retrying as the module
    /// doc says.
    pub async fn send(
        &self,
        request: &OutgoingRequest,
        auth: Option<&AuthSession>,
    ) -> Result<FetchedResponse, FetchError> {
        self.send_observed(request, auth, None).await
    }

    /// [`HttpClient::send`], telling `on_retry` of each retry before its wait.
    pub async fn send_observed(
        &self,
        request: &OutgoingRequest,
        auth: Option<&AuthSession>,
        on_retry: Option<RetryObserver<'_>>,
    ) -> Result<FetchedResponse, FetchError> {
        let redact = |text: &str| auth.map_or_else(|| text.to_owned(), |auth| auth.redact(text));
        let shown_url = redact(request.url.as_str());
        let method = request.method.to_string();
        // Nothing to retry: reqwest would refuse it on every attempt.
        if !has_http_scheme(&request.url) {
            return Err(FetchError::Transport {
                method,
                url: shown_url.clone(),
                cause: TransportCause::NoScheme { url: shown_url },
                attempts: 0,
            });
        }
        self.options
            .upstream
            .check_url(&request.url, &shown_url)
            .map_err(|refused| FetchError::Refused {
                method: method.clone(),
                refused,
            })?;
        let mut backoff = backon::ExponentialBuilder::default()
            .with_min_delay(self.options.initial_backoff)
            .with_max_delay(self.options.max_backoff)
            .with_max_times(self.options.retries as usize)
            .with_jitter()
            .build();
        let mut attempts = 0;
        let mut renewed_after_unauthorized = false;
        let started = Instant::now();
        loop {
            attempts += 1;
            if let Some(limiter) = &self.limiter {
                limiter.until_ready().await;
            }
            let credentials = match auth {
                Some(auth) => Some(auth.credentials(self).await?),
                None => None,
            };
            let mut builder = self
                .client
                .request(request.method.clone(), request.url.clone());
            for (name, value) in &request.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            if let Some(credentials) = &credentials {
                for (name, value) in &credentials.headers {
                    builder = builder.header(name.clone(), value.clone());
                }
            }
            if let Some(body) = &request.body {
                builder = builder
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let outcome = match builder.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let url = response.url().clone();
                    match read_body(response, self.options.max_body_bytes).await {
                        Ok(body) => Ok((status, headers, url, body)),
                        Err(BodyError::Transport(error)) => Err(error),
                        Err(BodyError::TooLarge) => {
                            return Err(FetchError::TooLarge {
                                method,
                                url: shown_url,
                                limit: self.options.max_body_bytes,
                            });
                        }
                    }
                }
                Err(error) => Err(error),
            };
            let retry_delay = match outcome {
                Err(error) if let Some(refused) = crate::upstream::refusal_in(&error) => {
                    return Err(FetchError::Refused { method, refused });
                }
                Err(error) => {
                    let cause = TransportCause::of(
                        &error,
                        &shown_url,
                        self.options.connect_timeout,
                        self.options.request_timeout,
                    );
                    match backoff.next().filter(|_| cause.is_retryable()) {
                        Some(delay) => {
                            tracing::warn!(url = %shown_url, %cause, attempt = attempts, "request failed, retrying");
                            if let Some(observer) = on_retry {
                                observer(Retry {
                                    attempt: attempts,
                                    cause: RetryCause::Transport(cause),
                                    wait: delay,
                                })
                                .await;
                            }
                            delay
                        }
                        None => {
                            return Err(FetchError::Transport {
                                method,
                                url: shown_url,
                                cause,
                                attempts,
                            });
                        }
                    }
                }
                Ok((status, headers, url, body)) => {
                    if status.is_success() {
                        return Ok(FetchedResponse {
                            url,
                            status,
                            headers,
                            body,
                            elapsed: started.elapsed(),
                            attempts,
                        });
                    }
                    let snippet = || match auth {
                        Some(auth) => auth.snippet(&body, SNIPPET_BYTES),
                        None => crate::secret::Redactor::default().snippet(&body, SNIPPET_BYTES),
                    };
                    let failed = |attempts| FetchError::Status {
                        method: method.clone(),
                        url: shown_url.clone(),
                        status: status.as_u16(),
                        snippet: snippet(),
                        attempts,
                    };
                    // One renewal per request after a 401; a second 401
                    // fails the request instead of looping on refreshes.
                    if status == StatusCode::UNAUTHORIZED
                        && !renewed_after_unauthorized
                        && let (Some(auth), Some(credentials)) = (auth, &credentials)
                    {
                        renewed_after_unauthorized = true;
                        if auth
                            .renew_after_unauthorized(self, credentials.token_generation)
                            .await?
                        {
                            continue;
                        }
                    }
                    if !is_retryable(status) {
                        return Err(failed(attempts));
                    }
                    match backoff.next() {
                        Some(delay) => {
                            let delay = retry_after(&headers, self.options.max_retry_after)
                                .map_or(delay, |asked| asked.max(delay));
                            tracing::warn!(url = %shown_url, status = status.as_u16(), attempt = attempts, delay_ms = delay.as_millis() as u64, "retryable status, retrying");
                            if let Some(observer) = on_retry {
                                observer(Retry {
                                    attempt: attempts,
                                    cause: RetryCause::Status(status.as_u16()),
                                    wait: delay,
                                })
                                .await;
                            }
                            delay
                        }
                        None => return Err(failed(attempts)),
                    }
                }
            };
            tokio::time::sleep(retry_delay).await;
        }
    }
}

enum BodyError {
    Transport(reqwest::Error),
    TooLarge,
}

/// The body of `response`, read chunk by chunk and abandoned as soon as it passes `limit`
/// bytes (after decoding, so a small compressed body that inflates is stopped too). A
/// `Content-Length` above the limit fails before anything is read.
async fn read_body(mut response: reqwest::Response, limit: u64) -> Result<Bytes, BodyError> {
    let declared = response
        .headers()
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    let encoded = response
        .headers()
        .contains_key(reqwest::header::CONTENT_ENCODING);
    if !encoded && declared.is_some_and(|length| length > limit) {
        return Err(BodyError::TooLarge);
    }
    let capacity = declared.unwrap_or(0).min(limit).min(1 << 20);
    let mut body = bytes::BytesMut::with_capacity(capacity as usize);
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// `Retry-After` as a delay: seconds, or an HTTP date (RFC 2822 form).
pub fn retry_after(headers: &HeaderMap, cap: Duration) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let delay = if let Ok(seconds) = text.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        static PARSER: jiff::fmt::rfc2822::DateTimeParser =
            jiff::fmt::rfc2822::DateTimeParser::new();
        let at = PARSER.parse_timestamp(text).ok()?;
        let now = jiff::Timestamp::now();
        if at <= now {
            Duration::ZERO
        } else {
            Duration::try_from(at.duration_since(now)).ok()?
        }
    };
    Some(delay.min(cap))
}

/// A limiter of `rate` requests per second (none for a rate that is not positive).
fn limiter_for(rate: f64) -> Option<Arc<DefaultDirectRateLimiter>> {
    (rate.is_finite() && rate > 0.0).then(|| {
        // A rate so small that its period overflows means "one a day".
        let period = Duration::try_from_secs_f64(1.0 / rate)
            .unwrap_or(Duration::from_secs(86_400))
            .max(Duration::from_nanos(1));
        let quota = Quota::with_period(period)
            .expect("a positive period")
            .allow_burst(NonZeroU32::MIN);
        Arc::new(RateLimiter::direct(quota))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(
            retry_after(&headers, Duration::from_secs(60)),
            Some(Duration::from_secs(7))
        );
        headers.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(
            retry_after(&headers, Duration::from_secs(60)),
            Some(Duration::from_secs(60))
        );
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(
            retry_after(&headers, Duration::from_secs(60)),
            Some(Duration::ZERO)
        );
        let later = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(30);
        let printed = jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&later)
            .unwrap();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&printed).unwrap());
        let delay = retry_after(&headers, Duration::from_secs(60)).unwrap();
        assert!(
            delay > Duration::from_secs(25) && delay <= Duration::from_secs(30),
            "{delay:?}"
        );
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, Duration::from_secs(60)), None);
    }

    #[test]
    fn any_positive_rate_builds_a_client_and_others_mean_no_limit() {
        for rate in [
            1e-300,
            1e-9,
            0.5,
            20.0,
            1e12,
            0.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
        ] {
            let client = HttpClient::new(HttpOptions {
                requests_per_second: Some(rate),
                ..HttpOptions::default()
            })
            .unwrap();
            assert_eq!(
                client.limiter.is_some(),
                rate.is_finite() && rate > 0.0,
                "{rate}"
            );
        }
    }
}
