//! A base connection (`/connections`, reference §8.1): a connection spec, the auth spec chosen
//! by `auth.specName`, and its credentials in `auth.params` (plain when posted, sealed when
//! stored: this type does not look inside them).

use flowd_spec::Problem;
use serde_json::{Map, Value};

use super::fields::Fields;
use super::{ResourceRef, SpecRef};

/// The `auth` object of a connection.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthBinding {
    /// Names an `authSpec[]` element of the connection spec (see `flowd_spec::AuthSpecs`).
    pub spec_name: String,
    /// The credentials; secret members are sealed in the stored document.
    pub params: Map<String, Value>,
}

/// A resolved base connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub name: String,
    pub description: Option<String>,
    pub connection_spec: SpecRef,
    pub auth: AuthBinding,
}

impl Connection {
    /// Reads a connection document; every problem at once, in document order.
    pub fn from_document(document: &Value) -> Result<Connection, Vec<Problem>> {
        let mut fields = Fields::open(document)?;
        let (name, description, connection_spec) = fields.head(true, "/connectionSpec");
        let spec_name = fields.required_string("/auth/specName");
        let params = fields.optional_object("/auth/params");
        let connection = (|| {
            Some(Connection {
                name: name?,
                description,
                connection_spec: connection_spec?,
                auth: AuthBinding {
                    spec_name: spec_name?,
                    params,
                },
            })
        })();
        fields.finish(connection)
    }

    /// A base connection refers to no other instance resource.
    pub fn references(&self) -> Vec<ResourceRef> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_connection_reads_every_problem_at_once() {
        let connection = Connection::from_document(&json!({
            "name": "n", "connectionSpec": {"id": "spec", "version": "1.0"},
            "auth": {"specName": "Basic Authentication", "params": {"username": "u"}}
        }))
        .unwrap();
        assert_eq!(connection.connection_spec.id, "spec");
        assert_eq!(connection.auth.params["username"], "u");
        let problems =
            Connection::from_document(&json!({"description": 5, "auth": {"params": []}}))
                .unwrap_err();
        let pointers: Vec<&str> = problems
            .iter()
            .map(|problem| problem.pointer.as_str())
            .collect();
        assert_eq!(
            pointers,
            [
                "/description",
                "/auth/params",
                "/auth/specName",
                "/name",
                "/connectionSpec/id"
            ]
        );
        assert_eq!(
            Connection::from_document(&json!([])).unwrap_err()[0].message,
            "must be a JSON object"
        );
    }
}
