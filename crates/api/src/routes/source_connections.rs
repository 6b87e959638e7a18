//! `/sourceConnections` (reference §8.2): what to read from a base connection — `params` are
//! the source params, checked the way runs check them
//! (`flowd_spec::resolve_source`), `data.format` is `json`, and the base
//! connection must use the same connection spec. Items carry
//! `inheritedAttributes.baseConnection`, computed when stored.

use crate::routing::Routes;
use flowd_model::SourceConnection;
use flowd_spec::Problem;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::routes::body_fields::{client_instance_fields, invalid, refuse_problems};
use crate::routes::collections::{CONNECTIONS, ResourceType, SOURCE_CONNECTIONS};
use crate::routes::connections::load_connection_spec;
use crate::routes::documents::Collection;
use crate::routes::instances::{InstanceResource, Validated, WriteContext, instance_routes};

/// The collection.
pub struct SourceConnections;

impl Collection for SourceConnections {
    const TYPE: ResourceType = SOURCE_CONNECTIONS;
}

pub fn routes() -> Routes {
    instance_routes::<SourceConnections>()
        .merge(crate::routes::actions::action_routes::<SourceConnections>())
}

impl InstanceResource for SourceConnections {
    /// A source connection stays bound to its base connection and connection spec.
    const IMMUTABLE_FIELDS: &'static [&'static str] = &["baseConnectionId", "connectionSpec"];
    const DRAFT_REQUIRED: &'static [&'static str] = &["name", "connectionSpec", "data"];

    async fn validate(context: &WriteContext<'_>, body: Value) -> Result<Validated, ApiError> {
        let (state, tenant, write) = (context.state, context.tenant, context.write);
        let noun = SOURCE_CONNECTIONS.noun;
        let mut body = client_instance_fields(body, noun)?;
        let source = SourceConnection::from_document(&body);
        // The spec decides whether params can be checked at all: an unknown one is `1413`
        // before anything else.
        let spec = match body.pointer("/connectionSpec/id").and_then(Value::as_str) {
            Some(spec_id) => Some(load_connection_spec(state, tenant, spec_id).await?),
            None => None,
        };
        let mut problems = match &source {
            Ok(_) => Vec::new(),
            Err(problems) => problems.clone(),
        };
        let base = match &source {
            Ok(source) => state
                .store
                .get_resource(&tenant.scope, CONNECTIONS.kind, &source.base_connection_id)
                .await?
                .map(|stored| stored.body),
            Err(_) => None,
        };
        if let Ok(source) = &source {
            match &base {
                None => problems.push(Problem::new(
                    "/baseConnectionId",
                    "names no base connection of this sandbox",
                )),
                Some(base) => {
                    let base_spec_id = base.pointer("/connectionSpec/id").and_then(Value::as_str);
                    if base_spec_id != Some(source.connection_spec.id.as_str()) {
                        problems.push(Problem::new(
                            "/connectionSpec/id",
                            format!(
                                "must be the connection spec of the base connection ({})",
                                base_spec_id.unwrap_or_default()
                            ),
                        ));
                    }
                }
            }
        }
        if let Some(spec) = &spec {
            let params = body.get("params").cloned().unwrap_or_else(|| json!({}));
            if params.is_object()
                && let Err(params_problems) = flowd_spec::resolve_source(spec, &params)
            {
                let reported: Vec<String> = problems
                    .iter()
                    .map(|problem| problem.pointer.clone())
                    .collect();
                problems.extend(
                    params_problems
                        .into_iter()
                        .filter(|problem| !reported.contains(&problem.pointer)),
                );
            }
        }
        refuse_problems(noun, &body, problems)?;
        let source = source.map_err(|problems| invalid(noun, &body, problems))?;
        if write.makes_live() {
            body["state"] = json!("enabled");
        }
        body["baseConnectionId"] = json!(source.base_connection_id);
        let base_spec = base
            .as_ref()
            .and_then(|base| base.get("connectionSpec"))
            .cloned()
            .unwrap_or_default();
        body["inheritedAttributes"] = json!({
            "baseConnection": {
                "id": source.base_connection_id,
                "connectionSpec": {"id": base_spec.get("id"), "version": base_spec.get("version")},
            }
        });
        Ok(Validated {
            document: body,
            references: source.references(),
            schedule: None,
        })
    }
}
