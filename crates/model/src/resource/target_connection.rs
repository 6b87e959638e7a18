//! A target connection (`/targetConnections`, reference §8.3): where a flow writes — always the
//! data-lake connection spec, a `data.format`, an optional XDM `data.schema`, and
//! `params.dataSetId` naming a dataset of the sandbox.

use flowd_spec::{DATA_LAKE_CONNECTION_SPEC_ID, Problem};
use serde_json::Value;

use super::fields::Fields;
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
        let mut fields = Fields::open(document)?;
        // The OAS requires only connectionSpec and data; a name is optional.
        let (name, description, connection_spec) = fields.head(false, "/connectionSpec");
        if connection_spec
            .as_ref()
            .is_some_and(|spec| spec.id != DATA_LAKE_CONNECTION_SPEC_ID)
        {
            fields.problem(
                "/connectionSpec/id",
                format!("must be the data lake connection spec {DATA_LAKE_CONNECTION_SPEC_ID}"),
            );
        }
        let data_format = match fields.get("/data/format") {
            None => {
                fields.problem("/data/format", "is required");
                None
            }
            Some(format) => {
                let found = TargetDataFormat::ALL
                    .into_iter()
                    .find(|known| format.as_str() == Some(known.as_str()));
                if found.is_none() {
                    let formats: Vec<&str> = TargetDataFormat::ALL
                        .iter()
                        .map(|format| format.as_str())
                        .collect();
                    fields.problem(
                        "/data/format",
                        format!("must be one of {}", formats.join(", ")),
                    );
                }
                found
            }
        };
        let schema = fields.schema_ref("/data/schema", "version");
        let dataset_id = match fields.get("/params") {
            None => {
                fields.problem("/params", "is required");
                None
            }
            Some(Value::Object(_)) => {
                fields
                    .required_string("/params/dataSetId")
                    .and_then(|raw_id| {
                        let canonical = canonical_dataset_id(&raw_id);
                        if canonical.is_none() {
                            fields.problem(
                                "/params/dataSetId",
                                "must be a dataset id (24 hexadecimal characters)",
                            );
                        }
                        canonical
                    })
            }
            Some(_) => {
                fields.problem("/params", "must be an object");
                None
            }
        };
        let target = (|| {
            Some(TargetConnection {
                name,
                description,
                connection_spec: connection_spec?,
                data_format: data_format?,
                schema,
                dataset_id: dataset_id?,
            })
        })();
        fields.finish(target)
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
