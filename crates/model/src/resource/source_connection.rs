//! A source connection (`/sourceConnections`, reference §8.2): what to read through a base
//! connection. `params` are the source params the connection spec's `sourceSpec.spec`
//! describes (checked against it by the caller, who has the spec).

use flowd_spec::Problem;
use serde_json::{Map, Value};

use super::fields::Fields;
use super::{ResourceKind, ResourceRef, SpecRef};

/// The only `data.format` of generic-rest sources.
pub const SOURCE_DATA_FORMAT: &str = "json";

/// A resolved source connection.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceConnection {
    pub name: String,
    pub description: Option<String>,
    /// Canonical UUID of the base connection.
    pub base_connection_id: String,
    pub connection_spec: SpecRef,
    pub params: Map<String, Value>,
}

impl SourceConnection {
    /// Reads a source connection document; every problem at once, in document order.
    pub fn from_document(document: &Value) -> Result<SourceConnection, Vec<Problem>> {
        let mut fields = Fields::open(document)?;
        let (name, description, connection_spec) = fields.head(true, "/connectionSpec");
        let base_connection_id = fields.required_uuid("/baseConnectionId", "a base connection");
        match fields.get("/data/format") {
            Some(Value::String(format)) if format == SOURCE_DATA_FORMAT => {}
            Some(_) => fields.problem(
                "/data/format",
                "must be \"json\", the only format of generic-rest sources",
            ),
            None => fields.problem("/data/format", "is required"),
        }
        let params = fields.optional_object("/params");
        let source_connection = (|| {
            Some(SourceConnection {
                name: name?,
                description,
                base_connection_id: base_connection_id?,
                connection_spec: connection_spec?,
                params,
            })
        })();
        fields.finish(source_connection)
    }

    /// The base connection.
    pub fn references(&self) -> Vec<ResourceRef> {
        vec![ResourceRef::new(
            ResourceKind::Connection,
            &self.base_connection_id,
            "/baseConnectionId",
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_source_connection_names_its_base_connection_canonically() {
        let source = SourceConnection::from_document(&json!({
            "name": "s", "baseConnectionId": "5F9C0B36-0E1D-4F4E-8B59-0C8E0B1F3E6A",
            "connectionSpec": {"id": "spec"}, "data": {"format": "json"}, "params": {"listId": "x"}
        }))
        .unwrap();
        assert_eq!(
            source.base_connection_id,
            "5f9c0b36-0e1d-4f4e-8b59-0c8e0b1f3e6a"
        );
        assert_eq!(source.references()[0].kind, ResourceKind::Connection);
        let problems = SourceConnection::from_document(&json!({
            "name": "s", "baseConnectionId": "nope", "connectionSpec": {"id": "spec"},
            "data": {"format": "csv"}, "params": 3
        }))
        .unwrap_err();
        let pointers: Vec<&str> = problems
            .iter()
            .map(|problem| problem.pointer.as_str())
            .collect();
        assert_eq!(pointers, ["/baseConnectionId", "/data/format", "/params"]);
    }
}
