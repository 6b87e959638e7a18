//! `POST /mappingSets/validate` and `POST /mappingSets/preview` (Data Prep reference §3.7,
//! §3.8): a mapping set checked mapping by mapping without being stored, and applied to sample
//! records as a run applies it: when the set's `outputSchema` is a schema of the sandbox's
//! registry, the preview converts each record into it as a run would (dates as text), and a
//! record the run would reject says why in its `errors` (`rejected: true`, with the pointer).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use flowd_dataprep::convert::conform_for_display;
use flowd_dataprep::{MappingSetBody, Value as DataValue};
use flowd_spec::Problem;
use serde_json::{Value, json};

use crate::body::JsonBody;
use crate::conversion::mapping_sets::invalid_body;
use crate::error::{ApiError, FlowError, json_response};
use crate::state::AppState;
use crate::tenant::Tenant;

/// Records a preview maps at most (the UI's preview shows 100 rows).
const PREVIEW_RECORDS: usize = 100;

/// `POST /mappingSets/validate`: `{"validationResponse": [{status, errors}]}`, one per
/// mapping in order; 200 even when mappings fail, 400 only for a body that is no mapping set.
pub async fn validate(JsonBody(body): JsonBody) -> Result<Response, ApiError> {
    let mappings = body
        .get("mappings")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ApiError::from(FlowError::invalid_body(
                "mapping set",
                vec![Problem::new(
                    "/mappings",
                    "is required: the mappings to validate",
                )],
            ))
        })?;
    let problems = match MappingSetBody::from_json(&body) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    };
    let responses: Vec<Value> = mappings
        .iter()
        .enumerate()
        .map(|(index, mapping)| {
            let prefix = format!("/mappings/{index}/");
            let errors: Vec<Value> = problems
                .iter()
                .filter(|problem| problem.pointer.starts_with(&prefix) || problem.pointer == prefix.trim_end_matches('/'))
                .map(|problem| {
                    json!({
                        "source": mapping.get("source").or_else(|| mapping.get("sourceAttribute")).or_else(|| mapping.get("sourceExpression")),
                        "destination": mapping.get("destination").or_else(|| mapping.get("destinationXdmPath")),
                        "sourceType": mapping.get("sourceType"),
                        "exception": format!("{}: {}", problem.pointer, problem.message),
                    })
                })
                .collect();
            if errors.is_empty() {
                json!({"status": "SUCCESS", "errors": null})
            } else {
                json!({"status": "FAILED", "errors": errors})
            }
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        json!({"validationResponse": responses}),
    ))
}

/// `POST /mappingSets/preview`: `{"data": record(s), "mappingSet": {…}}` → one
/// `{data, errors}` per record (at most 100), the mappings applied as a run applies them.
pub async fn preview(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let set = body.get("mappingSet").ok_or_else(|| {
        ApiError::from(FlowError::invalid_body(
            "preview request",
            vec![Problem::new(
                "/mappingSet",
                "is required: the mapping set to apply",
            )],
        ))
    })?;
    let parsed = MappingSetBody::from_json(set).map_err(|problems| {
        invalid_body(
            problems
                .into_iter()
                .map(|problem| flowd_dataprep::BodyProblem {
                    pointer: format!("/mappingSet{}", problem.pointer),
                    message: problem.message,
                })
                .collect(),
        )
    })?;
    let records: Vec<Value> = match body.get("data") {
        Some(Value::Array(records)) => records.clone(),
        Some(Value::Object(_)) => vec![body["data"].clone()],
        _ => {
            return Err(FlowError::invalid_body(
                "preview request",
                vec![Problem::new(
                    "/data",
                    "is required: a sample record or an array of them",
                )],
            )
            .into());
        }
    };
    if records.len() > PREVIEW_RECORDS {
        return Err(FlowError::invalid_body(
            "preview request",
            vec![Problem::new(
                "/data",
                format!(
                    "holds {} records; a preview maps at most {PREVIEW_RECORDS}",
                    records.len()
                ),
            )],
        )
        .into());
    }
    let mappings = parsed.compile().map_err(invalid_body)?;
    let schema = flowd_plan::dataset_schema(
        state.store.as_ref(),
        &tenant.scope,
        &parsed.output_schema.id,
    )
    .await
    .map_err(|error| {
        tracing::error!(%error, "a mapping set's output schema cannot be read");
        ApiError::from(FlowError::internal())
    })?;
    let now = flowd_model::time::now().to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let results: Vec<Value> = records
        .iter()
        .map(|record| {
            let mapped = mappings.apply(&DataValue::from_json(record), &now);
            let mut errors: Vec<Value> = mapped
                .warnings
                .iter()
                .map(|warning| json!({"exception": warning}))
                .collect();
            let data = match &schema {
                None => mapped.record.to_json(),
                Some(schema) => match conform_for_display(schema, &mapped.record) {
                    Ok(converted) => converted,
                    Err(rejection) => {
                        errors.extend(rejection.problems.iter().map(|problem| {
                            json!({"exception": problem.message, "pointer": problem.pointer, "rejected": true})
                        }));
                        mapped.record.to_json()
                    }
                },
            };
            let errors = if errors.is_empty() { Value::Null } else { Value::Array(errors) };
            json!({"data": data, "errors": errors})
        })
        .collect();
    Ok(json_response(StatusCode::OK, Value::Array(results)))
}
