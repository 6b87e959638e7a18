//! `/targetConnections` (reference §8.3): where a flow writes — always the data-lake
//! connection spec, a `data.format` of `parquet_xdm` or `json`, an optional XDM
//! `data.schema`, and `params.dataSetId` naming a dataset of the sandbox (see `datasets.rs`).

use crate::routing::Routes;
use flowd_model::TargetConnection;
use flowd_spec::{DATA_LAKE_CONNECTION_SPEC_ID, Problem};
use serde_json::{Value, json};

use crate::error::{ApiError, FlowError, FlowErrorCode};
use crate::routes::body_fields::{client_instance_fields, invalid, refuse_problems};
use crate::routes::collections::{CONNECTION_SPECS, DATASETS, ResourceType, TARGET_CONNECTIONS};
use crate::routes::documents::Collection;
use crate::routes::instances::{InstanceResource, Validated, WriteContext, instance_routes};

/// The collection.
pub struct TargetConnections;

impl Collection for TargetConnections {
    const TYPE: ResourceType = TARGET_CONNECTIONS;
}

pub fn routes() -> Routes {
    instance_routes::<TargetConnections>()
        .merge(crate::routes::actions::action_routes::<TargetConnections>())
}

impl InstanceResource for TargetConnections {
    /// A target connection stays bound to the data-lake connection spec.
    const IMMUTABLE_FIELDS: &'static [&'static str] = &["connectionSpec"];
    const DRAFT_REQUIRED: &'static [&'static str] = &["connectionSpec", "data"];

    async fn validate(context: &WriteContext<'_>, body: Value) -> Result<Validated, ApiError> {
        let (state, tenant, write) = (context.state, context.tenant, context.write);
        let noun = TARGET_CONNECTIONS.noun;
        let mut body = client_instance_fields(body, noun)?;
        let target = TargetConnection::from_document(&body);
        let names_data_lake = body.pointer("/connectionSpec/id").and_then(Value::as_str)
            == Some(DATA_LAKE_CONNECTION_SPEC_ID);
        if names_data_lake
            && state
                .store
                .get_resource(
                    &tenant.scope,
                    CONNECTION_SPECS.kind,
                    DATA_LAKE_CONNECTION_SPEC_ID,
                )
                .await?
                .is_none()
        {
            return Err(FlowError::new(
                FlowErrorCode::InvalidSpecId,
                format!(
                    "The data lake connection spec {DATA_LAKE_CONNECTION_SPEC_ID} does not exist in this sandbox."
                ),
            )
            .with_problems(vec![Problem::new(
                "/connectionSpec/id",
                "names no connection spec of this sandbox",
            )])
            .into());
        }
        let mut problems = match &target {
            Ok(_) => Vec::new(),
            Err(problems) => problems.clone(),
        };
        if let Ok(target) = &target {
            let exists = state
                .store
                .get_resource(&tenant.scope, DATASETS.kind, &target.dataset_id)
                .await?
                .is_some();
            if !exists {
                problems.push(Problem::new(
                    "/params/dataSetId",
                    "names no dataset of this sandbox",
                ));
            }
        }
        refuse_problems(noun, &body, problems)?;
        let target = target.map_err(|problems| invalid(noun, &body, problems))?;
        body["params"]["dataSetId"] = json!(target.dataset_id);
        if write.makes_live() {
            body["state"] = json!("enabled");
        }
        Ok(Validated {
            document: body,
            references: target.references(),
            schedule: None,
        })
    }
}
