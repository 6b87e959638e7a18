//! A target connection (`/targetConnections`, reference §8.3): where a flow writes — always the
//! data-lake connection spec, a `data.format`, an optional XDM `data.schema`, and
//! `params.dataSetId` naming a dataset of the sandbox.

use flowd_spec::{DATA_LAKE_CONNECTION_SPEC_ID, Problem};
use serde_json::Value;

use super::fields::{
    finish, object_problems, optional_string, required_string, schema_ref, spec_ref,
};
use super::{ResourceKind, ResourceRef, SchemaRef, SpecRef};
use crate::ids::canonical_dataset_id;

/// The `data.format` values the data lake accepts (the built-in spec's
/// `targetSpec.attributes.dataFormats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetDataFormat {
    ParquetXdm,
    Json,
}

impl TargetDataFormat {
    pub const ALL: [TargetDataFormat; 2] = [TargetDataFormat::ParquetXdm, TargetDataFormat::Json];

    /// The wire spelling (case-sensitive).
    pub fn as_str(self) -> &'static str {
        match self {
            TargetDataFormat::ParquetXdm => "parquet_xdm",
            TargetDataFormat::Json => "json",
        }
    }
}

/// A resolved target connection.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetConnection {
    pub name: Option<String>,
    pub description: Option<String>,
    pub connection_spec: SpecRef,
    pub data_format: TargetDataFormat,
    /// `data.schema` (`{id, version}`).
    pub schema: Option<SchemaRef>,
    /// Canonical (lowercase) id of the dataset written to.
    pub dataset_id: String,
}

impl TargetConnection {
    /// Reads a target connection document; every problem at once, in document order.
    pub fn from_document(document: &Value) -> Result<TargetConnection, Vec<Problem>> {
        if let Some(problems) = object_problems(document) {
            return Err(problems);
        }
        let mut problems = Vec::new();
        // The OAS requires only connectionSpec and data; a name is optional.
        let name = optional_string(document, "/name", &mut problems);
        let description = optional_string(document, "/description", &mut problems);
        let connection_spec = spec_ref(document, "/connectionSpec", &mut problems);
        if let Some(spec) = &connection_spec
            && spec.id != DATA_LAKE_CONNECTION_SPEC_ID
        {
            problems.push(Problem::new(
                "/connectionSpec/id",
                format!("must be the data lake connection spec {DATA_LAKE_CONNECTION_SPEC_ID}"),
            ));
        }
        let data_format = match document.pointer("/data/format") {
            Some(Value::String(format)) => {
                let found = TargetDataFormat::ALL
                    .into_iter()
                    .find(|known| known.as_str() == format);
                if found.is_none() {
                    problems.push(format_problem());
                }
                found
            }
            Some(_) => {
                problems.push(format_problem());
                None
            }
            None => {
                problems.push(Problem::new("/data/format", "is required"));
                None
            }
        };
        let schema = schema_ref(document, "/data/schema", "version", &mut problems);
        let dataset_id = match document.get("params") {
            None => {
                problems.push(Problem::new("/params", "is required"));
                None
            }
            Some(Value::Object(_)) => required_string(document, "/params/dataSetId", &mut problems)
                .and_then(|raw_id| {
                    let canonical = canonical_dataset_id(&raw_id);
                    if canonical.is_none() {
                        problems.push(Problem::new(
                            "/params/dataSetId",
                            "must be a dataset id (24 hexadecimal characters)",
                        ));
                    }
                    canonical
                }),
            Some(_) => {
                problems.push(Problem::new("/params", "must be an object"));
                None
            }
        };
        let target = match (connection_spec, data_format, dataset_id) {
            (Some(connection_spec), Some(data_format), Some(dataset_id)) => {
                Some(TargetConnection {
                    name,
                    description,
                    connection_spec,
                    data_format,
                    schema,
                    dataset_id,
                })
            }
            _ => None,
        };
        finish(document, problems, target)
    }

    /// The dataset.
    pub fn references(&self) -> Vec<ResourceRef> {
        vec![ResourceRef::new(
            ResourceKind::Dataset,
            &self.dataset_id,
            "/params/dataSetId",
        )]
    }
}

fn format_problem() -> Problem {
    let formats: Vec<&str> = TargetDataFormat::ALL
        .iter()
        .map(|format| format.as_str())
        .collect();
    Problem::new(
        "/data/format",
        format!("must be one of {}", formats.join(", ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_target_connection_writes_to_one_dataset_of_the_data_lake() {
        let target = TargetConnection::from_document(&json!({
            "connectionSpec": {"id": DATA_LAKE_CONNECTION_SPEC_ID, "version": "1.0"},
            "data": {"format": "parquet_xdm", "schema": {"id": "https://ns", "version": "1"}},
            "params": {"dataSetId": "ABCDEF0123456789ABCDEF01"}
        }))
        .unwrap();
        assert_eq!(target.dataset_id, "abcdef0123456789abcdef01");
        assert_eq!(target.data_format, TargetDataFormat::ParquetXdm);
        let problems = TargetConnection::from_document(&json!({
            "name": 1, "connectionSpec": {"id": "other"}, "data": {"format": "PARQUET_XDM", "schema": {}},
            "params": {"dataSetId": "short"}
        }))
        .unwrap_err();
        let pointers: Vec<&str> = problems
            .iter()
            .map(|problem| problem.pointer.as_str())
            .collect();
        assert_eq!(
            pointers,
            [
                "/name",
                "/connectionSpec/id",
                "/data/format",
                "/data/schema/id",
                "/params/dataSetId"
            ]
        );
    }
}
