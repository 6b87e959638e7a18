//! Server-managed fields (reference §1.3): stripped from what clients send,
//! filled from the request, and written first in every stored document.

use serde_json::{Map, Value, json};

/// Fields the server owns; a client's values for them are ignored.
pub const SERVER_MANAGED_FIELDS: [&str; 10] = [
    "id",
    "createdAt",
    "updatedAt",
    "createdBy",
    "updatedBy",
    "createdClient",
    "updatedClient",
    "sandboxId",
    "sandboxName",
    "imsOrgId",
];

/// Principal and client recorded on built-in resources.
pub const SYSTEM_PRINCIPAL: &str = "flowd";

/// The client's document without any server-managed field.
pub fn strip_server_managed(body: Value) -> Value {
    match body {
        Value::Object(mut fields) => {
            for name in SERVER_MANAGED_FIELDS {
                fields.shift_remove(name);
            }
            Value::Object(fields)
        }
        other => other,
    }
}

/// Who and when, for the server-managed fields of one write.
pub struct Stamp<'a> {
    pub principal_id: &'a str,
    pub client_id: &'a str,
    pub org_id: &'a str,
    pub sandbox_name: &'a str,
    pub sandbox_id: &'a str,
    pub at: i64,
}

/// A new document: server fields first (as AEP prints them), then the body.
pub fn stamp_created(id: &str, body: Value, stamp: &Stamp<'_>) -> Value {
    let created = json!({
        "createdAt": stamp.at,
        "createdBy": stamp.principal_id,
        "createdClient": stamp.client_id,
    });
    stamp_document(id, body, &created, stamp)
}

/// A replacing document: keeps `id` and the `created*` fields of `previous`.
pub fn stamp_replaced(id: &str, body: Value, previous: &Value, stamp: &Stamp<'_>) -> Value {
    let mut created = Map::new();
    for name in ["createdAt", "createdBy", "createdClient"] {
        if let Some(value) = previous.get(name) {
            created.insert(name.into(), value.clone());
        }
    }
    stamp_document(id, body, &Value::Object(created), stamp)
}

fn stamp_document(id: &str, body: Value, created: &Value, stamp: &Stamp<'_>) -> Value {
    let mut document = Map::new();
    document.insert("id".into(), json!(id));
    document.insert("createdAt".into(), created["createdAt"].clone());
    document.insert("updatedAt".into(), json!(stamp.at));
    document.insert("createdBy".into(), created["createdBy"].clone());
    document.insert("updatedBy".into(), json!(stamp.principal_id));
    document.insert("createdClient".into(), created["createdClient"].clone());
    document.insert("updatedClient".into(), json!(stamp.client_id));
    document.insert("sandboxId".into(), json!(stamp.sandbox_id));
    document.insert("sandboxName".into(), json!(stamp.sandbox_name));
    document.insert("imsOrgId".into(), json!(stamp.org_id));
    if let Value::Object(fields) = strip_server_managed(body) {
        document.extend(fields);
    }
    Value::Object(document)
}
