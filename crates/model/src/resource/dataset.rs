//! A dataset (Catalog's `/dataSets`): a name, the XDM schema it conforms to, and Catalog's
//! `classification` and `tags` when the client gives them. Its batches and statistics live in
//! the dataset store and the store's dataset statistics, not here.
//!
//! `schemaRef.id` is any text: when it names a schema of the sandbox's Schema Registry the
//! dataset is typed and refers to that schema ([`Dataset::schema_reference`], which the
//! caller adds once it has found the schema); otherwise the dataset is untyped (its columns
//! are inferred from its records), never invalid.

use flowd_spec::Problem;
use serde_json::{Map, Value};

use super::fields::Fields;
use super::{ResourceKind, ResourceRef, SchemaRef};

/// A resolved dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub name: String,
    pub description: Option<String>,
    /// `schemaRef` (`{id, contentType}`).
    pub schema_ref: SchemaRef,
    /// `classification` (`{dataBehavior, managedBy, …}`, string members checked), if given.
    pub classification: Option<Map<String, Value>>,
    /// `tags`: each tag's values (Catalog's object of string arrays), if given.
    pub tags: Option<Vec<(String, Vec<String>)>>,
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
        let classification = fields.get("/classification").is_some().then(|| {
            let classification = fields.optional_object("/classification");
            for member in ["dataBehavior", "managedBy"] {
                fields.optional_string(&format!("/classification/{member}"));
            }
            classification
        });
        let tags = fields
            .get("/tags")
            .is_some()
            .then(|| read_tags(&mut fields));
        let dataset = (|| {
            Some(Dataset {
                name: name?,
                description,
                schema_ref: schema_ref?,
                classification,
                tags,
            })
        })();
        fields.finish(dataset)
    }

    /// What the document alone refers to: nothing (its schema only when the registry has it,
    /// [`Dataset::schema_reference`]).
    pub fn references(&self) -> Vec<ResourceRef> {
        Vec::new()
    }

    /// The reference to the registry schema `schemaRef.id` names, stored as
    /// `schema_resource_id`: while the dataset exists the schema cannot be deleted.
    pub fn schema_reference(&self, schema_resource_id: &str) -> ResourceRef {
        ResourceRef::new(ResourceKind::Schema, schema_resource_id, "/schemaRef/id")
    }
}

/// `/tags`: an object whose every member is an array of strings.
fn read_tags(fields: &mut Fields<'_>) -> Vec<(String, Vec<String>)> {
    let mut tags = Vec::new();
    for (name, values) in fields.optional_object("/tags") {
        let pointer = format!("/tags/{}", escape_pointer(&name));
        let Value::Array(values) = values else {
            fields.problem(pointer, "must be an array of strings");
            continue;
        };
        let mut texts = Vec::new();
        for (index, value) in values.iter().enumerate() {
            match value {
                Value::String(text) => texts.push(text.clone()),
                _ => fields.problem(format!("{pointer}/{index}"), "must be a string"),
            }
        }
        tags.push((name, texts));
    }
    tags
}

/// A member name as an RFC 6901 pointer segment.
fn escape_pointer(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(document: Value) -> Vec<(String, String)> {
        Dataset::from_document(&document)
            .unwrap_err()
            .into_iter()
            .map(|problem| (problem.pointer, problem.message))
            .collect()
    }

    #[test]
    fn classification_and_tags_are_read_and_checked_at_their_pointers() {
        let base = json!({"name": "d", "schemaRef": {"id": "https://ns.adobe.com/x"}});
        let mut given = base.clone();
        given["classification"] = json!({"dataBehavior": "record", "managedBy": "CUSTOMER"});
        given["tags"] = json!({"owner": ["data-team"], "a/b": []});
        let dataset = Dataset::from_document(&given).unwrap();
        assert_eq!(
            dataset.classification.unwrap()["dataBehavior"],
            json!("record")
        );
        assert_eq!(
            dataset.tags.unwrap(),
            [
                ("owner".to_owned(), vec!["data-team".to_owned()]),
                ("a/b".to_owned(), vec![])
            ]
        );
        assert_eq!(Dataset::from_document(&base).unwrap().tags, None);

        let mut wrong = base;
        wrong["classification"] = json!({"dataBehavior": 5});
        wrong["tags"] = json!({"owner": "data-team", "a/b": ["x", 1]});
        assert_eq!(
            problems(wrong.clone()),
            [
                (
                    "/classification/dataBehavior".to_owned(),
                    "must be a string".to_owned()
                ),
                (
                    "/tags/owner".to_owned(),
                    "must be an array of strings".to_owned()
                ),
                ("/tags/a~1b/1".to_owned(), "must be a string".to_owned()),
            ]
        );
        wrong["classification"] = json!("time-series");
        wrong["tags"] = json!([]);
        assert_eq!(
            problems(wrong),
            [
                ("/classification".to_owned(), "must be an object".to_owned()),
                ("/tags".to_owned(), "must be an object".to_owned()),
            ]
        );
    }
}
