//! `POST /<collection>/{id}/action?op=…&subOp=…` of connections, source and target
//! connections and flows, and how every `op` (runs' `RE_TRIGGER` too) is read.
//!
//! `op` and `subOp` match case-insensitively and with `-` or `_` (`publish`, `re-trigger`,
//! `RE_TRIGGER`); `subOp` is optional and may repeat, as in Adobe's drafts tutorial.
//!
//! Decisions where the reference is silent: flowd applies every create and update at once, so
//! no resource is ever left initializing or finalizing.
//! - `PUBLISH` moves a draft (`?mode=draft`) on: it is validated as fully as a create, every
//!   resource it refers to must exist and be published, and it becomes `enabled`. Publishing
//!   what is not a draft changes nothing and answers 200 with its etag (a script may publish
//!   twice).
//! - `FINALIZE` and `FINALIZE_UPDATE` with `subOp` `APPLY` or `PROGRESS` (or none) publish a
//!   draft too, and otherwise acknowledge with 200; `ROLLBACK` is `1409-400`: there is no
//!   pending change to roll back.

use crate::routing::Routes;
use crate::routing::post;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde_json::json;

use crate::error::{ApiError, FlowError, FlowErrorCode};
use crate::path_id::PathId;
use crate::routes::instances::{InstanceResource, publish};
use crate::state::AppState;
use crate::tenant::Tenant;

/// An `op` or `subOp` as compared: trimmed, upper-case, `-` read as `_`.
pub fn normalize(text: &str) -> String {
    text.trim().to_ascii_uppercase().replace('-', "_")
}

/// The `op` and `subOp`s of an action request, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub op: String,
    pub sub_ops: Vec<String>,
}

/// Reads `op` (required, one of `allowed`) and any `subOp` (comma-separated or repeated) of
/// an action on a `noun`.
pub fn parse_action(
    raw_query: Option<&str>,
    allowed: &[&str],
    noun: &str,
) -> Result<Action, ApiError> {
    let mut op = None;
    let mut sub_ops = Vec::new();
    for (name, value) in form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes()) {
        if name.eq_ignore_ascii_case("op") {
            op = Some(value.into_owned());
        } else if name.eq_ignore_ascii_case("subOp") {
            sub_ops.extend(
                value
                    .split(',')
                    .filter(|part| !part.trim().is_empty())
                    .map(normalize),
            );
        }
    }
    let supported = allowed.join(", ");
    let Some(op) = op else {
        return Err(refused_op(format!(
            "op is required on a {noun} action; use one of {supported}."
        )));
    };
    let normalized = normalize(&op);
    if !allowed.contains(&normalized.as_str()) {
        return Err(refused_op(format!(
            "op {op} is not supported on a {noun}; use one of {supported}."
        )));
    }
    Ok(Action {
        op: normalized,
        sub_ops,
    })
}

fn refused_op(message: String) -> ApiError {
    let mut error = FlowError::new(FlowErrorCode::InvalidRequest, message);
    error.report.insert("parameter".into(), json!("op"));
    error.into()
}

/// The lifecycle ops every instance resource takes.
pub const LIFECYCLE_OPS: &[&str] = &["PUBLISH", "FINALIZE", "FINALIZE_UPDATE"];

/// Sub-operations of `FINALIZE` and `FINALIZE_UPDATE`.
const SUB_OPS: &[&str] = &["APPLY", "ROLLBACK", "PROGRESS"];

/// Carries out a lifecycle op (one of [`LIFECYCLE_OPS`]) on the `R` resource `id`.
pub async fn lifecycle<R: InstanceResource>(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
    action: &Action,
) -> Result<Response, ApiError> {
    if let Some(unknown) = action
        .sub_ops
        .iter()
        .find(|sub_op| !SUB_OPS.contains(&sub_op.as_str()))
    {
        let mut error = FlowError::new(
            FlowErrorCode::InvalidRequest,
            format!(
                "subOp {unknown} is not supported; use one of {}.",
                SUB_OPS.join(", ")
            ),
        );
        error.report.insert("parameter".into(), json!("subOp"));
        return Err(error.into());
    }
    if action.op != "PUBLISH" && action.sub_ops.iter().any(|sub_op| sub_op == "ROLLBACK") {
        return Err(FlowError::new(
            FlowErrorCode::NotApplicableInState,
            format!(
                "Operation not applicable in current state: the {} {id} has no pending change to roll back (flowd applies every write at once).",
                R::TYPE.noun
            ),
        )
        .into());
    }
    publish::<R>(state, tenant, id).await
}

/// `POST /<collection>/{id}/action` of `R`, taking the lifecycle ops.
async fn action_handler<R: InstanceResource>(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let action = parse_action(query.as_deref(), LIFECYCLE_OPS, R::TYPE.noun)?;
    lifecycle::<R>(&state, &tenant, &id, &action).await
}

/// The action route of `R` (connections, source and target connections).
pub fn action_routes<R: InstanceResource>() -> Routes {
    Routes::new().route(
        &format!("/{}/{{id}}/action", R::TYPE.collection),
        post(action_handler::<R>),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_match_in_any_case_and_with_dashes() {
        for written in ["re-trigger", "RE_TRIGGER", "Re-Trigger", " re_trigger "] {
            let action =
                parse_action(Some(&format!("op={written}")), &["RE_TRIGGER"], "run").unwrap();
            assert_eq!(action.op, "RE_TRIGGER", "{written}");
        }
        let action = parse_action(
            Some("op=finalize&subOp=apply&subOp=Progress"),
            LIFECYCLE_OPS,
            "flow",
        )
        .unwrap();
        assert_eq!(action.sub_ops, ["APPLY", "PROGRESS"]);
        assert!(parse_action(Some("op=explode"), LIFECYCLE_OPS, "flow").is_err());
        assert!(parse_action(None, LIFECYCLE_OPS, "flow").is_err());
    }
}
