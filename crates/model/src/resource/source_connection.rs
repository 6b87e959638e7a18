//! A source connection (`/sourceConnections`, reference §8.2): what to read through a base
//! connection. `params` are the source params the connection spec's `sourceSpec.spec`
//! describes (checked against it by the caller, who has the spec).

use flowd_spec::Problem;
use serde_json::{Map, Value};

use super::fields::{
    finish, object_problems, optional_object, optional_string, required_string, required_uuid,
    spec_ref,
};
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
        if let Some(problems) = object_problems(document) {
            return Err(problems);
        }
        let mut problems = Vec::new();
        let name = required_string(document, "/name", &mut problems);
        let description = optional_string(document, "/description", &mut problems);
        let base_connection_id = required_uuid(
            document,
            "/baseConnectionId",
            "a base connection",
            &mut problems,
        );
        let connection_spec = spec_ref(document, "/connectionSpec", &mut problems);
        match document.pointer("/data/format") {
            Some(Value::String(format)) if format == SOURCE_DATA_FORMAT => {}
            Some(_) => problems.push(Problem::new(
                "/data/format",
                "must be \"json\", the only format of generic-rest sources",
            )),
            None => problems.push(Problem::new("/data/format", "is required")),
        }
        let params = optional_object(document, "/params", &mut problems);
        let source_connection = match (name, base_connection_id, connection_spec) {
            (Some(name), Some(base_connection_id), Some(connection_spec)) => {
                Some(SourceConnection {
                    name,
                    description,
                    base_connection_id,
                    connection_spec,
                    params,
                })
            }
            _ => None,
        };
        finish(document, problems, source_connection)
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
