//! Why a request got no answer, in one closed set: the real cause of a transport failure
//! (refused connection, a name that does not resolve, TLS, a timeout, a URL without an HTTP
//! scheme) read from reqwest's chain of sources once, so every message says it once, and
//! whether it is worth a retry.
//!
//! Retry policy: a refused or reset connection, a timeout and a temporary DNS failure take the
//! configured retries (a server restarting, a flaky network); a name that does not exist, a
//! TLS handshake that fails and a URL without `http://` or `https://` fail at once, since
//! asking again gives the same answer.

use std::time::Duration;

/// The cause of a request that got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportCause {
    #[error("connection refused")]
    ConnectionRefused,
    #[error("DNS lookup failed for {host}")]
    DnsLookup {
        host: String,
        /// The resolver said to try again (`EAI_AGAIN`), rather than that the name does not
        /// exist.
        temporary: bool,
    },
    #[error(
        "TLS handshake failed ({detail}); if the API speaks plain HTTP, write http:// in the host (a host without a scheme gets https://)"
    )]
    TlsHandshake { detail: String },
    #[error("timed out after {}", seconds_text(*millis))]
    Timeout { millis: u64 },
    #[error("the connection was closed before the answer ({detail})")]
    ConnectionClosed { detail: String },
    #[error("URL {url} has no scheme: write http:// or https://")]
    NoScheme { url: String },
    #[error("the body could not be read ({detail})")]
    BodyRead { detail: String },
    #[error("request failed ({detail})")]
    Other { detail: String },
}

impl TransportCause {
    /// Whether asking again may get another answer.
    pub fn is_retryable(&self) -> bool {
        match self {
            TransportCause::ConnectionRefused
            | TransportCause::Timeout { .. }
            | TransportCause::ConnectionClosed { .. }
            | TransportCause::BodyRead { .. }
            | TransportCause::Other { .. } => true,
            TransportCause::DnsLookup { temporary, .. } => *temporary,
            TransportCause::TlsHandshake { .. } | TransportCause::NoScheme { .. } => false,
        }
    }

    /// The cause of `error`, read from its chain of sources; `connect_timeout` and
    /// `request_timeout` name the limit a timeout hit.
    pub fn of(
        error: &reqwest::Error,
        host: &str,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> TransportCause {
        let mut innermost = String::new();
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(source) = current {
            if let Some(failed) = source.downcast_ref::<DnsLookupFailed>() {
                return TransportCause::DnsLookup {
                    host: failed.host.clone(),
                    temporary: failed.temporary,
                };
            }
            if let Some(io) = source.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => {
                        return TransportCause::ConnectionRefused;
                    }
                    std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof => {
                        return TransportCause::ConnectionClosed {
                            detail: io.to_string(),
                        };
                    }
                    _ => {}
                }
            }
            let text = source.to_string();
            if looks_like_tls(&text) {
                return TransportCause::TlsHandshake { detail: text };
            }
            innermost = text;
            current = source.source();
        }
        if error.is_timeout() {
            let limit = if error.is_connect() {
                connect_timeout
            } else {
                request_timeout
            };
            return TransportCause::Timeout {
                millis: limit.as_millis() as u64,
            };
        }
        if error.is_builder() && !error.url().is_some_and(has_http_scheme) {
            return TransportCause::NoScheme {
                url: host.to_owned(),
            };
        }
        if error.is_body() || error.is_decode() {
            return TransportCause::BodyRead { detail: innermost };
        }
        TransportCause::Other { detail: innermost }
    }
}

/// `10 s`, `0.1 s`.
fn seconds_text(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        format!("{} s", millis / 1000)
    } else {
        format!("{:.1} s", millis as f64 / 1000.0)
    }
}

/// `http` or `https`, the schemes a request can go with.
pub fn has_http_scheme(url: &url::Url) -> bool {
    matches!(url.scheme(), "http" | "https")
}

fn looks_like_tls(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["tls", "certificate", "handshake", "corrupt message", "ssl"]
        .iter()
        .any(|word| lower.contains(word))
}

/// A failed name lookup, as the policy's resolver reports it (so its cause is read back
/// without matching on text of the system's resolver).
#[derive(Debug, Clone, thiserror::Error)]
#[error("DNS lookup failed for {host}: {detail}")]
pub struct DnsLookupFailed {
    pub host: String,
    pub temporary: bool,
    pub detail: String,
}

impl DnsLookupFailed {
    /// From the error of `tokio::net::lookup_host`: glibc says "Temporary failure in name
    /// resolution" for `EAI_AGAIN`, other systems "try again".
    pub fn new(host: &str, error: &std::io::Error) -> DnsLookupFailed {
        let detail = error.to_string();
        let lower = detail.to_ascii_lowercase();
        DnsLookupFailed {
            host: host.to_owned(),
            temporary: lower.contains("temporary") || lower.contains("try again"),
            detail,
        }
    }
}

/// Why one attempt is retried: no answer, or a status worth asking again for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryCause {
    Transport(TransportCause),
    /// 429 or a 5xx.
    Status(u16),
}

impl std::fmt::Display for RetryCause {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RetryCause::Transport(cause) => cause.fmt(formatter),
            RetryCause::Status(status) => write!(formatter, "answered {status}"),
        }
    }
}

/// One attempt that failed and is being retried: told to the run's stream as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// The attempt that failed, from 1.
    pub attempt: u32,
    pub cause: RetryCause,
    /// How long flowd waits before the next attempt.
    pub wait: Duration,
}

impl std::fmt::Display for Retry {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "attempt {} failed: {}; retrying in {:.1} s",
            self.attempt,
            self.cause,
            self.wait.as_secs_f64()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_failures_are_temporary_only_when_the_resolver_says_so() {
        let gone = std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        );
        assert!(!DnsLookupFailed::new("nowhere.invalid", &gone).temporary);
        let again = std::io::Error::other(
            "failed to lookup address information: Temporary failure in name resolution",
        );
        assert!(DnsLookupFailed::new("api.example.com", &again).temporary);
        let cause = TransportCause::DnsLookup {
            host: "nowhere.invalid".into(),
            temporary: false,
        };
        assert_eq!(cause.to_string(), "DNS lookup failed for nowhere.invalid");
        assert!(!cause.is_retryable());
    }

    #[test]
    fn retries_read_as_one_line() {
        let retry = Retry {
            attempt: 2,
            cause: RetryCause::Transport(TransportCause::ConnectionRefused),
            wait: Duration::from_millis(500),
        };
        assert_eq!(
            retry.to_string(),
            "attempt 2 failed: connection refused; retrying in 0.5 s"
        );
        let status = Retry {
            attempt: 1,
            cause: RetryCause::Status(503),
            wait: Duration::from_secs(2),
        };
        assert_eq!(
            status.to_string(),
            "attempt 1 failed: answered 503; retrying in 2.0 s"
        );
    }
}
