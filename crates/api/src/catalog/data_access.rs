//! AEP's Data Access API under `/data/foundation/export`: a batch's files and their contents,
//! streamed from the dataset store (local disk or object storage) without holding a file in
//! memory.
//!
//! - `GET /batches/{batchId}/files`: the batch's one `dataSetFile`, `<batchId>-1` (AEP names a
//!   batch's files `<batchId>-<n>`; flowd's batch is one directory of Parquet parts, so it is
//!   one file whose parts are listed next), in AEP's `{"data": [...], "_page": {...}}` shape
//!   with `created`/`updated` as millisecond strings, as AEP prints them.
//! - `GET /files/{fileId}`: the file's parts (`name`, `length` as a string, a `self` link with
//!   `?path=`).
//! - `GET /files/{fileId}?path=<part>`: the part's bytes, `application/octet-stream`, with
//!   `Content-Length` and `Accept-Ranges: bytes`; one `Range: bytes=…` range is answered with
//!   `206` and `Content-Range`, a range past the end with `1100-416`, several ranges with the
//!   whole file (RFC 9110 lets a server ignore `Range`). `HEAD` answers the same headers.
//!
//! - A batch's error-diagnostics files (`/batches/{batchId}/meta?path=row_errors…`, the older
//!   `/batches/{batchId}/failed`) are `error_files`, routed with these.
//!
//! Links are absolute when the request names its `Host` (`http`, or `X-Forwarded-Proto`'s
//! scheme), so a client can follow them as AEP's; else they are paths. The batch is found
//! through the store in the caller's sandbox first, so another sandbox's batch is a `1439-404`
//! like a missing one; only files the batch's manifest names are served.

use std::io::{Read, Seek, SeekFrom};

use crate::routing::Routes;
use crate::routing::get;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use flowd_sink::{BatchInfo, PublishedFile};
use flowd_store::BatchRecord;
use serde_json::{Value, json};

use super::params::{CatalogQuery, parameter_error};
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::state::AppState;
use crate::tenant::Tenant;

/// Where the Data Access API lives.
pub const DATA_ACCESS_BASE_PATH: &str = "/data/foundation/export";

/// Bytes read from the file per chunk of the response body.
const CHUNK_BYTES: usize = 64 * 1024;

/// Chunks queued between the reading thread and the connection.
const CHUNKS_IN_FLIGHT: usize = 4;

/// The suffix of a batch's one file id.
const FILE_SUFFIX: &str = "-1";

pub fn routes() -> Routes {
    Routes::new()
        .route("/batches/{id}/files", get(batch_files))
        .route("/files/{id}", get(file))
}

/// `scheme://host` of the request, when it names its host.
pub(super) fn origin(headers: &HeaderMap) -> String {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    match text("host") {
        Some(host) => {
            let scheme = text("x-forwarded-proto")
                .filter(|scheme| scheme.eq_ignore_ascii_case("https"))
                .unwrap_or("http");
            format!("{scheme}://{host}")
        }
        None => String::new(),
    }
}

fn file_href(headers: &HeaderMap, file_id: &str) -> String {
    format!("{}{DATA_ACCESS_BASE_PATH}/files/{file_id}", origin(headers))
}

/// The caller's batch `batch_id` and its manifest, else `1439-404`.
async fn published_batch(
    state: &AppState,
    tenant: &Tenant,
    batch_id: &str,
    noun: &str,
    shown_id: &str,
) -> Result<(BatchRecord, BatchInfo), ApiError> {
    let not_found = || ApiError::from(FlowError::not_found(noun, shown_id));
    let batch = state
        .store
        .get_batch(&tenant.scope, batch_id)
        .await?
        .ok_or_else(not_found)?;
    let Some(datasets) = state.datasets.clone() else {
        return Err(not_found());
    };
    let (dataset_id, id) = (batch.dataset_id.clone(), batch.batch_id.clone());
    let manifest = blocking(move || datasets.batch(&dataset_id, &id)).await?;
    Ok((batch, manifest.ok_or_else(not_found)?))
}

/// Runs a blocking dataset call on a blocking thread; its failure is a logged `1400-500`.
pub(crate) async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, flowd_sink::SinkError> + Send + 'static,
) -> Result<T, ApiError> {
    let internal = |message: String| {
        tracing::error!(error = %message, request_id = %crate::request_id::current(), "dataset read failed");
        ApiError::from(FlowError::internal())
    };
    tokio::task::spawn_blocking(call)
        .await
        .map_err(|error| internal(error.to_string()))?
        .map_err(|error| internal(error.to_string()))
}

/// Entries per page when `limit` is absent, as on AEP.
const DEFAULT_PAGE: u64 = 100;

/// The `_page` of a list of `count` entries.
fn page(query: &CatalogQuery, count: usize) -> Value {
    json!({"limit": query.limit, "count": count})
}

/// `GET /batches/{batchId}/files`.
async fn batch_files(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(batch_id): Path<String>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let query = CatalogQuery::parse_with_default_limit(raw_query.as_deref(), &[], DEFAULT_PAGE)?;
    let (batch, _) = published_batch(&state, &tenant, &batch_id, "batches", &batch_id).await?;
    let file_id = format!("{}{FILE_SUFFIX}", batch.batch_id);
    let files: Vec<Value> = [json!({
        "dataSetFileId": file_id,
        "dataSetId": batch.dataset_id,
        "version": "1.0.0",
        "created": batch.created_at.to_string(),
        "updated": batch.committed_at.to_string(),
        "isValid": true,
        "_links": {"self": {"href": file_href(&headers, &file_id)}},
    })]
    .into_iter()
    .skip(usize::try_from(query.start).unwrap_or(usize::MAX))
    .take(usize::try_from(query.limit).unwrap_or(usize::MAX))
    .collect();
    let count = files.len();
    Ok(json_response(
        StatusCode::OK,
        json!({"data": files, "_page": page(&query, count)}),
    ))
}

/// `GET /files/{fileId}` (the parts) and `GET /files/{fileId}?path=<part>` (a part's bytes).
async fn file(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(file_id): Path<String>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let query = CatalogQuery::parse_with_default_limit(raw_query.as_deref(), &[], DEFAULT_PAGE)?;
    let batch_id = file_id
        .strip_suffix(FILE_SUFFIX)
        .filter(|batch_id| !batch_id.is_empty())
        .ok_or_else(|| {
            FlowError::new(
                FlowErrorCode::InvalidPathId,
                format!(
                    "The file id '{file_id}' in the path is not a dataSetFileId (<batchId>-1)."
                ),
            )
        })?;
    let (batch, manifest) = published_batch(&state, &tenant, batch_id, "files", &file_id).await?;
    let Some(path) = query.other("path") else {
        let parts: Vec<Value> = manifest
            .files
            .iter()
            .map(|part| {
                let href = format!(
                    "{}?path={}",
                    file_href(&headers, &file_id),
                    form_urlencoded::byte_serialize(part.name.as_bytes()).collect::<String>()
                );
                json!({
                    "name": part.name,
                    "length": part.bytes.to_string(),
                    "_links": {"self": {"href": href}},
                })
            })
            .skip(usize::try_from(query.start).unwrap_or(usize::MAX))
            .take(usize::try_from(query.limit).unwrap_or(usize::MAX))
            .collect();
        let count = parts.len();
        return Ok(json_response(
            StatusCode::OK,
            json!({"data": parts, "_page": page(&query, count)}),
        ));
    };
    let datasets = state
        .datasets
        .clone()
        .ok_or_else(|| FlowError::not_found("files", &file_id))?;
    let name = path.to_owned();
    let (dataset_id, id) = (batch.dataset_id.clone(), batch.batch_id.clone());
    let opened = blocking(move || datasets.open_batch_file(&dataset_id, &id, &name)).await?;
    let Some(opened) = opened else {
        return Err(parameter_error(
            FlowErrorCode::ResourceNotFound,
            "path",
            format!("The file {file_id} has no part '{path}'."),
        ));
    };
    stream_file(opened, path, headers.get(header::RANGE))
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum RangeAsked {
    Whole,
    /// Inclusive byte positions.
    Part(u64, u64),
    Unsatisfiable,
}

fn parse_range(range: Option<&HeaderValue>, size: u64) -> RangeAsked {
    let Some(spec) = range
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().strip_prefix("bytes="))
    else {
        return RangeAsked::Whole;
    };
    if spec.contains(',') {
        return RangeAsked::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAsked::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let number = |text: &str| text.parse::<u64>().ok();
    let (start, end) = match (first.is_empty(), last.is_empty()) {
        // `bytes=-N`: the last N bytes.
        (true, false) => match number(last) {
            Some(0) => return RangeAsked::Unsatisfiable,
            Some(suffix) => (size.saturating_sub(suffix), size.saturating_sub(1)),
            None => return RangeAsked::Whole,
        },
        (false, true) => match number(first) {
            Some(start) => (start, size.saturating_sub(1)),
            None => return RangeAsked::Whole,
        },
        (false, false) => match (number(first), number(last)) {
            (Some(start), Some(end)) if start <= end => (start, end.min(size.saturating_sub(1))),
            _ => return RangeAsked::Whole,
        },
        (true, true) => return RangeAsked::Whole,
    };
    if size == 0 || start >= size {
        return RangeAsked::Unsatisfiable;
    }
    RangeAsked::Part(start, end)
}

/// The response streaming `opened` (or the range asked of it), read on a blocking thread a
/// chunk at a time, at most a few chunks ahead of the connection.
fn stream_file(
    mut opened: PublishedFile,
    name: &str,
    range: Option<&HeaderValue>,
) -> Result<Response, ApiError> {
    let size = opened.size;
    let (status, start, length) = match parse_range(range, size) {
        RangeAsked::Whole => (StatusCode::OK, 0, size),
        RangeAsked::Part(start, end) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        RangeAsked::Unsatisfiable => {
            let mut error = FlowError::new(
                FlowErrorCode::RangeNotSatisfiable,
                format!("The range asks for no byte of '{name}', which has {size} bytes."),
            );
            error.report.insert("parameter".into(), json!("Range"));
            let mut response = axum::response::IntoResponse::into_response(ApiError::from(error));
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
    };
    let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(CHUNKS_IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        if start > 0
            && let Err(error) = opened.reader.seek(SeekFrom::Start(start))
        {
            let _ = sender.blocking_send(Err(error));
            return;
        }
        let mut remaining = length;
        while remaining > 0 {
            let mut chunk =
                vec![0_u8; CHUNK_BYTES.min(usize::try_from(remaining).unwrap_or(CHUNK_BYTES))];
            let read = match opened.reader.read(&mut chunk) {
                Ok(0) => {
                    let ended = std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the file ended before its size",
                    );
                    let _ = sender.blocking_send(Err(ended));
                    return;
                }
                Ok(read) => read,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    tracing::warn!(%error, "a file being downloaded could not be read");
                    let _ = sender.blocking_send(Err(error));
                    return;
                }
            };
            chunk.truncate(read);
            remaining -= read as u64;
            if sender.blocking_send(Ok(Bytes::from(chunk))).is_err() {
                // The client went away.
                return;
            }
        }
    });
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, length)
        .header(header::ACCEPT_RANGES, "bytes");
    if status == StatusCode::PARTIAL_CONTENT {
        response = response.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{size}", start + length - 1),
        );
    }
    if let Ok(disposition) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        name.replace(['"', '\\'], "_")
    )) {
        response = response.header(header::CONTENT_DISPOSITION, disposition);
    }
    response
        .body(Body::from_stream(stream))
        .map_err(|_| FlowError::internal().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(range: &str, size: u64) -> RangeAsked {
        parse_range(Some(&HeaderValue::from_str(range).unwrap()), size)
    }

    #[test]
    fn ranges_are_read_as_rfc_9110_gives_them() {
        assert_eq!(parse_range(None, 10), RangeAsked::Whole);
        assert_eq!(asked("bytes=0-3", 10), RangeAsked::Part(0, 3));
        assert_eq!(asked("bytes=4-", 10), RangeAsked::Part(4, 9));
        assert_eq!(asked("bytes=-3", 10), RangeAsked::Part(7, 9));
        assert_eq!(asked("bytes=-30", 10), RangeAsked::Part(0, 9));
        assert_eq!(asked("bytes=5-100", 10), RangeAsked::Part(5, 9));
        assert_eq!(asked("bytes=10-", 10), RangeAsked::Unsatisfiable);
        assert_eq!(asked("bytes=-0", 10), RangeAsked::Unsatisfiable);
        assert_eq!(asked("bytes=0-1,4-5", 10), RangeAsked::Whole);
        assert_eq!(asked("bytes=5-2", 10), RangeAsked::Whole);
        assert_eq!(asked("lines=1-2", 10), RangeAsked::Whole);
    }
}
