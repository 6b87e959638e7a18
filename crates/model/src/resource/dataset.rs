//! A dataset (Catalog's `/dataSets`): a name and the XDM schema it conforms to. Its batches and
//! statistics live in the dataset store and the store's dataset statistics, not here.

use flowd_spec::Problem;
use serde_json::Value;

use super::fields::{finish, object_problems, optional_string, required_string, schema_ref};
use super::{ResourceRef, SchemaRef};

/// A resolved dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub name: String,
    pub description: Option<String>,
    /// `schemaRef` (`{id, contentType}`).
    pub schema_ref: SchemaRef,
}

impl Dataset {
    /// Reads a dataset document; every problem at once, in document order.
    pub fn from_document(document: &Value) -> Result<Dataset, Vec<Problem>> {
        if let Some(problems) = object_problems(document) {
            return Err(problems);
        }
        let mut problems = Vec::new();
        let name = required_string(document, "/name", &mut problems);
        let description = optional_string(document, "/description", &mut problems);
        if document.get("schemaRef").is_none() {
            problems.push(Problem::new("/schemaRef", "is required"));
        }
        let schema_ref = schema_ref(document, "/schemaRef", "contentType", &mut problems);
        let dataset = match (name, schema_ref) {
            (Some(name), Some(schema_ref)) => Some(Dataset {
                name,
                description,
                schema_ref,
            }),
            _ => None,
        };
        finish(document, problems, dataset)
    }

    /// A dataset refers to nothing.
    pub fn references(&self) -> Vec<ResourceRef> {
        Vec::new()
    }
}
