//! The Data Access API's error-diagnostics files of a batch (reference `data-prep.md` §10.5),
//! under `/data/foundation/export`, read from the batch's stored diagnostics (`diagnostics`):
//!
//! - `GET /batches/{id}/meta?path=row_errors`: the batch's diagnostics files
//!   (`conversion_errors_0.json`, `parsing_errors_0.json`, `validation_errors_0.json`, those
//!   that hold records) in the Data Access list shape `{"_page": {"count", "limit"}, "data":
//!   [{"name", "length" (bytes, as a string), "_links": {"self": {"href":
//!   "…/meta?path=row_errors%2F<name>"}}}]}` (the slash URL-encoded, as AEP prints it).
//! - `GET /batches/{id}/meta?path=row_errors/<name>`: the file, JSON Lines (one rejected record
//!   per line, shaped by the writer: the record's fields, then `_errors` or
//!   `_validationErrors`, then `_filename`), served as `application/x-ndjson` since the body
//!   is not one JSON document.
//! - `GET /batches/{id}/meta?path=input_files`: the list shape with no entry: flowd lands no
//!   raw input files (records go from the source's pages straight into the promotion).
//! - The older API: `GET /batches/{id}/failed` lists the same files (without the `_SUCCESS`
//!   marker AEP's Spark output shows: flowd writes none), each linked as
//!   `…/failed?path=<name>`; `GET /batches/{id}/failed?path=<name>` is the file;
//!   `?path=conversion_errors`, `?path=parse_errors` (or `parsing_errors`) and flowd's
//!   `?path=validation_errors` are the records rejected for that reason, JSON Lines again
//!   (empty when there are none).
//!
//! Only the first `KEPT_FAILED_RECORDS` rejected records of a batch are kept; the counts on
//! the batch stay exact. An unknown batch (or another sandbox's) is `1439-404`; a known batch
//! without diagnostics (it rejected nothing, or its flow has error diagnostics off) has empty
//! lists; a file it does not have is `1439-404` naming the `path` parameter. Links are
//! absolute when the request names its `Host`, as the rest of Data Access.

use crate::routing::Routes;
use crate::routing::get;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use flowd_model::diagnostics::{BatchDiagnostics, RowErrorKind};
use serde_json::{Value, json};

use super::data_access::{DATA_ACCESS_BASE_PATH, origin};
use super::diagnostics::find_batch;
use super::params::{CatalogQuery, parameter_error};
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::state::AppState;
use crate::tenant::Tenant;

/// Entries per page when `limit` is absent, as on AEP.
const DEFAULT_PAGE: u64 = 100;

/// The media type of a diagnostics file.
pub const JSON_LINES: &str = "application/x-ndjson";

pub fn routes() -> Routes {
    Routes::new()
        .route("/batches/{id}/meta", get(meta))
        .route("/batches/{id}/failed", get(failed))
}

/// A diagnostics file as served: its name and its JSON Lines text.
struct ErrorFile {
    name: &'static str,
    text: String,
}

/// JSON Lines of `records`: one compact object per line, each line ended.
fn json_lines<'a>(records: impl IntoIterator<Item = &'a Value>) -> String {
    records
        .into_iter()
        .map(|record| format!("{record}\n"))
        .collect()
}

fn error_files(diagnostics: Option<&BatchDiagnostics>) -> Vec<ErrorFile> {
    diagnostics.map_or_else(Vec::new, |diagnostics| {
        diagnostics
            .row_error_files()
            .into_iter()
            .map(|(name, records)| ErrorFile {
                name,
                text: json_lines(records),
            })
            .collect()
    })
}

/// The Data Access list of `files`, each linked by `href_of` its name, paged by `query`.
fn file_list(
    query: &CatalogQuery,
    files: &[ErrorFile],
    href_of: impl Fn(&str) -> String,
) -> Response {
    let data: Vec<Value> = files
        .iter()
        .skip(usize::try_from(query.start).unwrap_or(usize::MAX))
        .take(usize::try_from(query.limit).unwrap_or(usize::MAX))
        .map(|file| {
            json!({
                "name": file.name,
                "length": file.text.len().to_string(),
                "_links": {"self": {"href": href_of(file.name)}},
            })
        })
        .collect();
    let count = data.len();
    json_response(
        StatusCode::OK,
        json!({"_page": {"count": count, "limit": query.limit}, "data": data}),
    )
}

/// A JSON Lines answer.
fn lines_response(text: String) -> Result<Response, ApiError> {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, JSON_LINES)
        .header(header::CONTENT_LENGTH, text.len())
        .body(axum::body::Body::from(text))
        .map_err(|_| FlowError::internal().into())
}

/// `1439-404` for a `path` the batch has no file at.
fn no_such_path(batch_id: &str, path: &str) -> ApiError {
    parameter_error(
        FlowErrorCode::ResourceNotFound,
        "path",
        format!("The batch {batch_id} has no file at path '{path}'."),
    )
}

/// The link of one of the batch's files, `<Data Access>/batches/{id}/<route>?path=<path>`.
fn href(headers: &HeaderMap, batch_id: &str, route: &str, path: &str) -> String {
    format!(
        "{}{DATA_ACCESS_BASE_PATH}/batches/{batch_id}/{route}?path={}",
        origin(headers),
        form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()
    )
}

/// `GET /batches/{id}/meta?path=input_files|row_errors|row_errors/<name>`.
async fn meta(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(batch_id): Path<String>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let query = CatalogQuery::parse_with_default_limit(raw_query.as_deref(), &[], DEFAULT_PAGE)?;
    let Some(path) = query.other("path").map(str::to_owned) else {
        return Err(parameter_error(
            FlowErrorCode::InvalidRequest,
            "path",
            "The path parameter is required: input_files, row_errors or row_errors/<file>.",
        ));
    };
    let known = find_batch(&state, &tenant.scope, &batch_id).await?;
    let files = error_files(known.diagnostics.as_ref());
    let trimmed = path.trim_matches('/');
    if trimmed == "input_files" {
        return Ok(file_list(&query, &[], |_| String::new()));
    }
    if trimmed == "row_errors" {
        return Ok(file_list(&query, &files, |name| {
            href(&headers, &batch_id, "meta", &format!("row_errors/{name}"))
        }));
    }
    let named = trimmed
        .strip_prefix("row_errors/")
        .and_then(|name| files.into_iter().find(|file| file.name == name));
    match named {
        Some(file) => lines_response(file.text),
        None => Err(no_such_path(&batch_id, &path)),
    }
}

/// The reasons the older API's `?path=` names: `conversion_errors`, `parse_errors` (or
/// `parsing_errors`), `validation_errors`.
fn kinds_named(path: &str) -> Option<&'static [RowErrorKind]> {
    match path {
        "conversion_errors" => Some(&[RowErrorKind::Conversion]),
        "parse_errors" | "parsing_errors" => Some(&[RowErrorKind::Parsing]),
        "validation_errors" => Some(&[RowErrorKind::Required, RowErrorKind::Constraint]),
        _ => None,
    }
}

/// `GET /batches/{id}/failed[?path=<name>|conversion_errors|parse_errors|validation_errors]`.
async fn failed(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(batch_id): Path<String>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let query = CatalogQuery::parse_with_default_limit(raw_query.as_deref(), &[], DEFAULT_PAGE)?;
    let known = find_batch(&state, &tenant.scope, &batch_id).await?;
    let Some(path) = query.other("path").map(str::to_owned) else {
        let files = error_files(known.diagnostics.as_ref());
        return Ok(file_list(&query, &files, |name| {
            href(&headers, &batch_id, "failed", name)
        }));
    };
    let trimmed = path.trim_matches('/');
    if let Some(kinds) = kinds_named(trimmed) {
        let records = known
            .diagnostics
            .iter()
            .flat_map(|diagnostics| &diagnostics.failed_records)
            .filter(|failed| kinds.contains(&failed.kind))
            .map(|failed| &failed.record);
        return lines_response(json_lines(records));
    }
    match error_files(known.diagnostics.as_ref())
        .into_iter()
        .find(|file| file.name == trimmed)
    {
        Some(file) => lines_response(file.text),
        None => Err(no_such_path(&batch_id, &path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_end_every_record_with_a_newline() {
        let records = [json!({"a": 1}), json!({"b": "x\ny"})];
        assert_eq!(json_lines(&records), "{\"a\":1}\n{\"b\":\"x\\ny\"}\n");
        assert_eq!(json_lines(&[]), "");
    }

    #[test]
    fn the_older_api_names_reasons_by_their_file_stems() {
        assert_eq!(
            kinds_named("parse_errors"),
            Some(&[RowErrorKind::Parsing][..])
        );
        assert_eq!(kinds_named("validation_errors").map(<[_]>::len), Some(2));
        assert_eq!(kinds_named("conversion_errors_0.json"), None);
    }
}
