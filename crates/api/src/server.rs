//! The HTTP server, bounded so that clients that never finish cannot take it down: a request
//! head must arrive within `head_timeout` (which also closes keep-alive connections idle that
//! long), a body within `body_timeout` (the JSON body extractor), and at most
//! `max_connections` connections are open at once. When a connection beyond the cap arrives,
//! the oldest connection with no request in progress — an idle one, or one still sending its
//! head — is closed to make room, so a flood of unfinished requests costs the server their
//! slots for at most `head_timeout` and never the service; only when every slot serves a
//! request is the newcomer answered `503` and closed.
//!
//! axum's `serve` sets none of these, so connections are served here with hyper's HTTP/1
//! server directly. Heads too large for hyper's buffer ([`MAX_HEAD_BUFFER_BYTES`]) and
//! requests hyper cannot parse are answered by hyper before flowd sees them (`431` or `400`
//! with an empty body) — except raw `"`, `<`, `>` in a request target, which curl sends and
//! `lenient_target` percent-encodes before hyper reads them; everything smaller that flowd refuses — a URI over
//! [`MAX_URI_BYTES`] (`414`), headers over [`MAX_HEADER_BYTES`] or [`MAX_HEADERS`] (`431`) —
//! gets a Flow Service error body.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

use crate::error::{ApiError, FlowError, FlowErrorCode};
use crate::lenient_target::LenientTarget;

/// The longest request target flowd reads (answered 414 above).
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes (names and values) a request may carry (431 above).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// The most header fields a request may carry (431 above).
pub const MAX_HEADERS: usize = 100;
/// What hyper buffers of a head before answering 431 itself.
pub const MAX_HEAD_BUFFER_BYTES: usize = 256 * 1024;

/// Bounds of the server (`--head-timeout-ms`, `--body-timeout-ms`, `--max-connections`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    pub head_timeout: Duration,
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> ServerLimits {
        ServerLimits {
            head_timeout: Duration::from_secs(10),
            max_connections: 512,
        }
    }
}

/// One open connection: how many of its requests are in progress, and how to close it.
struct Slot {
    id: u64,
    in_progress: AtomicUsize,
    close: Notify,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Slots {
    open: Mutex<VecDeque<Arc<Slot>>>,
    next_id: AtomicU64,
}

impl Slots {
    /// A slot for a new connection, closing the oldest connection without a request in
    /// progress when the cap is reached; `None` when every slot is serving a request.
    fn admit(&self, max_connections: usize) -> Option<Arc<Slot>> {
        let mut open = self.open.lock().expect("connection slots lock");
        if open.len() >= max_connections {
            let idle = open
                .iter()
                .position(|slot| slot.in_progress.load(Ordering::Acquire) == 0)?;
            let evicted = open.remove(idle).expect("the position is in range");
            evicted.close.notify_one();
        }
        let slot = Arc::new(Slot {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            in_progress: AtomicUsize::new(0),
            close: Notify::new(),
        });
        open.push_back(slot.clone());
        Some(slot)
    }

    fn release(&self, slot: &Slot) {
        let mut open = self.open.lock().expect("connection slots lock");
        if let Some(position) = open.iter().position(|open| open.id == slot.id) {
            open.remove(position);
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` resolves, then lets the
/// requests in progress finish (connections close as they end).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let app = app.layer(axum::middleware::from_fn(refuse_oversized_heads));
    let slots = Arc::new(Slots::default());
    let (stopping, stop) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.head_timeout)
        .max_buf_size(MAX_HEAD_BUFFER_BYTES)
        .max_headers(MAX_HEADERS * 2)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (mut stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, most likely: wait for some to be freed.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let Some(slot) = slots.admit(limits.max_connections.max(1)) else {
            tracing::warn!(
                max_connections = limits.max_connections,
                "every connection is serving a request; answering 503"
            );
            connections.spawn(async move {
                let _ = tokio::time::timeout(
                    Duration::from_secs(1),
                    stream.write_all(&busy_response()),
                )
                .await;
            });
            continue;
        };
        let service = {
            let app = app.clone();
            let slot = slot.clone();
            hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let app = app.clone();
                let slot = slot.clone();
                slot.in_progress.fetch_add(1, Ordering::AcqRel);
                async move {
                    let response = app.oneshot(request.map(axum::body::Body::new)).await;
                    slot.in_progress.fetch_sub(1, Ordering::AcqRel);
                    response
                }
            })
        };
        let connection = http.serve_connection(TokioIo::new(LenientTarget::new(stream)), service);
        let slots = slots.clone();
        let mut stop = stop.clone();
        connections.spawn(async move {
            tokio::pin!(connection);
            let mut closing = false;
            loop {
                tokio::select! {
                    _ = connection.as_mut() => break,
                    () = slot.close.notified(), if !closing => {
                        closing = true;
                        connection.as_mut().graceful_shutdown();
                    }
                    _ = stop.changed(), if !closing => {
                        closing = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            slots.release(&slot);
        });
    }
    let _ = stopping.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// A Flow Service `503` written straight to a connection that gets no slot.
fn busy_response() -> Vec<u8> {
    let body = serde_json::json!({
        "type": "https://ns.adobe.com/aep/errors/FLOW-1100-503",
        "title": "Service busy",
        "status": 503,
        "report": {"detailed-message": "Every connection the server allows is serving a request; retry shortly."}
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Answers requests whose target or headers are larger than flowd reads, in the Flow
/// Service format (hyper lets them through up to its own buffer).
async fn refuse_oversized_heads(request: Request, next: Next) -> Response {
    let target_length = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if target_length > MAX_URI_BYTES {
        return ApiError::from(FlowError::new(
            FlowErrorCode::UriTooLong,
            format!(
                "The request target is {target_length} bytes; flowd reads at most {MAX_URI_BYTES}."
            ),
        ))
        .into_response();
    }
    let headers = request.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        return ApiError::from(FlowError::new(
            FlowErrorCode::HeadersTooLarge,
            format!(
                "The request has {} header fields of {header_bytes} bytes; flowd reads at most {MAX_HEADERS} fields and {MAX_HEADER_BYTES} bytes.",
                headers.len()
            ),
        ))
        .into_response();
    }
    next.run(request).await
}
