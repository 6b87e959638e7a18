//! A dataset (Catalog's `/dataSets`): a name and the XDM schema it conforms to. Its batches and
//! statistics live in the dataset store and the store's dataset statistics, not here.

use flowd_spec::Problem;
use serde_json::Value;

use super::fields::Fields;
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
        let mut fields = Fields::open(document)?;
        let (name, description) = fields.name_and_description(true);
        if fields.get("/schemaRef").is_none() {
            fields.problem("/schemaRef", "is required");
        }
        let schema_ref = fields.schema_ref("/schemaRef", "contentType");
        let dataset = (|| {
            Some(Dataset {
                name: name?,
                description,
                schema_ref: schema_ref?,
            })
        })();
        fields.finish(dataset)
    }

    /// A dataset refers to nothing.
    pub fn references(&self) -> Vec<ResourceRef> {
        Vec::new()
    }
}
