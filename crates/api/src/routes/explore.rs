//! `GET /connections/{id}/explore?objectType=rest&object=json&fileType=json&preview=true&sourceParams=<base64 JSON>`
//! (reference §6): runs the connection's spec for its first page and
//! answers `{"format": "hierarchical", "schema": {"columns": [...]}, "data": [records]}`
//! (`preview=false`, in any case, leaves `data` out). [`preview`] is the call
//! `/connections/{id}/configs` makes too.
//!
//! `sourceParams` is base64 of a JSON object, standard or URL-safe alphabet,
//! padded or not, URL-encoded or not (a `+` turned into a space by form
//! decoding is read back as `+`). Records are those after contentPath and
//! explode; the columns come from the spec's custom `schema` when it has
//! one, otherwise they are inferred from the records. OAuth tokens refreshed
//! on the way are saved back to the connection, encrypted.

use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use flowd_connector::{PrepareError, RunEvent, RunInputs, RunLimits};
use flowd_model::record_type::StructType;
use flowd_plan::credentials::share_session;
use flowd_plan::{ConnectionTokens, LoadError};
use futures::StreamExt;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::path_id::PathId;
use crate::routes::collections::of_kind;
use crate::state::AppState;
use crate::tenant::Tenant;

/// Records a preview returns at most.
const PREVIEW_RECORDS: u64 = 100;

fn bad_source_params(why: &str) -> ApiError {
    let mut error = FlowError::new(
        FlowErrorCode::InvalidRequest,
        format!(
            "sourceParams {why}: send base64 of a JSON object, e.g. sourceParams=eyJsaXN0SWQiOiIxMGMwOTdjYTcxIn0="
        ),
    );
    error
        .report
        .insert("parameter".into(), json!("sourceParams"));
    error.into()
}

/// Decodes `sourceParams` in any of the forms clients send.
pub fn decode_source_params(text: &str) -> Result<Map<String, Value>, ApiError> {
    let cleaned: String = text
        .trim()
        .replace(' ', "+")
        .chars()
        .filter(|character| !character.is_whitespace())
        .collect();
    let unpadded = cleaned.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(unpadded)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(unpadded))
        .map_err(|_| bad_source_params("is not valid base64"))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(params)) => Ok(params),
        Ok(_) => Err(bad_source_params("does not hold a JSON object")),
        Err(_) => Err(bad_source_params("does not hold valid JSON")),
    }
}

fn upstream_failed(message: String, status: Option<u16>) -> ApiError {
    let mut error = FlowError::new(FlowErrorCode::InvalidRequest, message);
    if let Some(status) = status {
        error.report.insert("upstreamStatus".into(), json!(status));
    }
    error.into()
}

/// Columns from a custom JSON schema: its (record-level) properties.
fn columns_from_schema(schema: &Value) -> Option<Vec<Value>> {
    let properties = schema
        .get("properties")
        .or_else(|| schema.pointer("/items/properties"))?
        .as_object()?;
    Some(
        properties
            .iter()
            .map(|(name, property)| {
                let format = property.get("format").and_then(Value::as_str);
                let column_type = match format {
                    Some(format @ ("date" | "date-time")) => format,
                    _ => property
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("string"),
                };
                json!({"name": name, "type": column_type})
            })
            .collect(),
    )
}

/// The error of a connection chain that cannot be loaded: a missing resource is its
/// `1439-404`, a stored document that no longer resolves a `1100-400` naming it.
pub fn chain_refused(error: LoadError, connection_id: &str) -> ApiError {
    match error {
        LoadError::Missing { kind, id } => {
            FlowError::not_found(of_kind(kind).collection, &id).into()
        }
        LoadError::Invalid { problems, .. } => {
            FlowError::invalid_body(&format!("stored connection {connection_id}"), problems).into()
        }
        LoadError::Credentials { .. } => FlowError::internal().into(),
        LoadError::Store(error) => error.into(),
    }
}

fn plan_refused(error: PrepareError) -> ApiError {
    let problems = error
        .problems()
        .into_iter()
        .map(|problem| match problem.pointer.strip_prefix("/params") {
            Some(rest) => flowd_spec::Problem::new(format!("/sourceParams{rest}"), problem.message),
            None => problem,
        })
        .collect();
    FlowError::invalid_body("preview request", problems).into()
}

/// What a preview of a connection found.
pub struct Preview {
    /// The columns the spec declares (its custom `schema`), when it has one.
    pub declared_columns: Option<Vec<Value>>,
    /// The records of the first page (at most [`PREVIEW_RECORDS`]).
    pub records: Vec<Value>,
    /// What the run warned about (`flowd_connector::explain`): the same texts a run records in
    /// `statusSummary.warnings` and `flowd spec test` prints.
    pub warnings: Vec<String>,
}

impl Preview {
    /// `[{"name", "type"}]`: the declared columns, else those inferred from the records.
    pub fn columns(&self) -> Vec<Value> {
        self.declared_columns
            .clone()
            .unwrap_or_else(|| inferred_columns(&self.records))
    }
}

/// `[{"name", "type"}]` inferred from `records` (the one inference lattice of
/// `flowd_model::record_type`).
pub fn inferred_columns(records: &[Value]) -> Vec<Value> {
    StructType::of_records(records.iter())
        .columns()
        .into_iter()
        .map(|(name, column_type)| json!({"name": name, "type": column_type}))
        .collect()
}

/// The `sourceParams` of a query (base64 JSON), empty when absent.
pub fn source_params_of(raw_query: Option<&str>) -> Result<Map<String, Value>, ApiError> {
    Ok(
        form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
            .find(|(name, _)| name == "sourceParams")
            .map(|(_, value)| decode_source_params(&value))
            .transpose()?
            .unwrap_or_default(),
    )
}

/// The columns `connection_spec` declares for records read with `source_params`, when it has a
/// custom schema.
pub fn declared_columns(
    connection_spec: &Value,
    source_params: &Map<String, Value>,
) -> Option<Vec<Value>> {
    let params = Value::Object(source_params.clone());
    let fetch = flowd_spec::resolve_source_fetch_config(connection_spec, &params).ok()?;
    fetch.schema.as_ref().and_then(columns_from_schema)
}

/// Runs the connection's spec for its first page with `source_params`, as a run would
/// (same plan, same auth session), within the upstream timeout.
pub async fn preview(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
    source_params: &Map<String, Value>,
) -> Result<Preview, ApiError> {
    let chain = flowd_plan::load_connection(state.store.as_ref(), &state.cipher, &tenant.scope, id)
        .await
        .map_err(|error| chain_refused(error, id))?;
    let tokens = ConnectionTokens::new(
        state.store.clone(),
        state.cipher.clone(),
        tenant.scope.clone(),
        id,
    );
    let mut plan = flowd_connector::prepare_run(RunInputs {
        connection_spec: &chain.connection_spec,
        credentials: Some(chain.credentials()),
        source_params,
        window: None,
        limits: RunLimits {
            max_pages: Some(1),
            max_records: Some(PREVIEW_RECORDS),
            // A preview shows values: parsing the page once is all it needs.
            records_as_text: false,
            ..RunLimits::default()
        },
        on_refresh: Some(tokens.clone()),
    })
    .map_err(plan_refused)?;
    share_session(&state.sessions, &tokens, &mut plan).await;
    let declared_columns = plan.fetch.schema.as_ref().and_then(columns_from_schema);
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    let fetch = async {
        let mut stream = std::pin::pin!(flowd_connector::run(state.http.clone(), plan));
        while let Some(event) = stream.next().await {
            match event {
                Ok(RunEvent::Page(page)) => records.extend(page.into_values()?),
                Ok(RunEvent::Retry { .. }) => {}
                Ok(RunEvent::Finished(summary)) => {
                    warnings = summary
                        .warnings
                        .into_iter()
                        .map(|warning| warning.message)
                        .collect();
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    };
    let limit = state.config.upstream_timeout + Duration::from_secs(5);
    match tokio::time::timeout(limit, fetch).await {
        Err(_) => Err(upstream_failed(
            format!(
                "The source API did not answer within {} s.",
                limit.as_secs()
            ),
            None,
        )),
        Ok(Err(error)) => {
            let status = match &error {
                flowd_connector::RunError::Fetch { error, .. } => error.status(),
                _ => None,
            };
            Err(upstream_failed(
                format!("The source API request failed: {error}"),
                status,
            ))
        }
        Ok(Ok(())) => Ok(Preview {
            declared_columns,
            records,
            warnings,
        }),
    }
}

/// `GET /connections/{id}/explore`: `{"format", "schema": {"columns"}, "data"}`; `preview=false`
/// (in any case) leaves `data` out, as for tabular sources. flowd adds `warnings` (an array of
/// texts) only when the run warned, e.g. of records the content path missed, so an answer
/// without warnings is AEP's shape exactly.
pub async fn explore(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let source_params = source_params_of(query.as_deref())?;
    let with_data = form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "preview")
        .map(|(_, value)| crate::listing::parse_bool("preview", value.trim()))
        .transpose()?
        .unwrap_or(true);
    let preview = preview(&state, &tenant, &id, &source_params).await?;
    let mut body = json!({"format": "hierarchical", "schema": {"columns": preview.columns()}});
    if with_data {
        body["data"] = Value::Array(preview.records);
    }
    if !preview.warnings.is_empty() {
        body["warnings"] = json!(preview.warnings);
    }
    Ok(json_response(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_params_decode_in_every_form_clients_send() {
        let expected = json!({"listId": "10c097ca71"});
        for form in [
            "eyJsaXN0SWQiOiIxMGMwOTdjYTcxIn0=",
            "eyJsaXN0SWQiOiIxMGMwOTdjYTcxIn0",
            "eyJsaXN0SWQiOiIxMGMwOTdjYTcxIn0%3D",
        ] {
            let decoded_query: String = form_urlencoded::parse(format!("s={form}").as_bytes())
                .next()
                .unwrap()
                .1
                .into_owned();
            assert_eq!(
                Value::Object(decode_source_params(&decoded_query).unwrap()),
                expected,
                "{form}"
            );
        }
        // `+` and `/` in the standard alphabet, `-` and `_` in the URL-safe one.
        let tricky = json!({"q": "??>>~~"});
        let standard = base64::engine::general_purpose::STANDARD.encode(tricky.to_string());
        assert!(
            standard.contains('+') || standard.contains('/'),
            "{standard}"
        );
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tricky.to_string());
        let form_decoded = standard.replace('+', " ");
        for form in [standard.as_str(), url_safe.as_str(), form_decoded.as_str()] {
            assert_eq!(
                Value::Object(decode_source_params(form).unwrap()),
                tricky,
                "{form}"
            );
        }
        for bad in ["%%%", "bm90IGpzb24", "WzEsMl0"] {
            assert!(decode_source_params(bad).is_err(), "{bad}");
        }
    }
}
