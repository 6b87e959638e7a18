//! What the SQL backends share: list queries turned into SQL, and the decoding of the rows
//! they read back.

pub(crate) mod batches;
pub(crate) mod listing;
pub(crate) mod rows;

use serde_json::Value;

/// The document fields kept as indexed columns.
pub(crate) struct IndexedColumns<'a> {
    pub(crate) name: Option<&'a str>,
    pub(crate) state: Option<&'a str>,
    pub(crate) created_at: Option<i64>,
    pub(crate) updated_at: Option<i64>,
}

impl<'a> IndexedColumns<'a> {
    pub(crate) fn of(body: &'a Value) -> IndexedColumns<'a> {
        IndexedColumns {
            name: body.get("name").and_then(Value::as_str),
            state: body.get("state").and_then(Value::as_str),
            created_at: body.get("createdAt").and_then(Value::as_i64),
            updated_at: body.get("updatedAt").and_then(Value::as_i64),
        }
    }
}
