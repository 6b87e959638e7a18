//! Schema Registry schemas as the rest of flowd reads them: a schema found in its sandbox by
//! `$id` or `meta:altId`, the other schemas its `$ref`s name fetched from the store (the one
//! walk both the registry's create and every reader use), and the document read into an
//! [`XdmSchema`] with them.
//!
//! A schema is stored as a `schema` resource whose id is the 32 lowercase hex characters that
//! end both its `$id` (`https://ns.adobe.com/{tenant}/schemas/{hex}`) and its `meta:altId`
//! (`_{tenant}.schemas.{hex}`); a lookup reads that resource and checks that the document
//! really carries the name asked for. Besides the sandbox's schemas, one class is bundled:
//! [`ADHOC_CLASS`], an object without fields. Any other `$ref` (Adobe's standard classes,
//! field groups, data types) resolves to nothing, which `XdmSchema::from_document` reports.

use std::collections::{BTreeMap, BTreeSet};

use flowd_model::xdm::{MAX_DEPTH, XdmSchema};
use flowd_model::{ResourceKind, ResourceRef};
use flowd_spec::Problem;
use flowd_store::{ResourceStore, Scope, StoreError, StoredResource};
use serde_json::{Value, json};

use crate::chain::LoadError;

/// The ad hoc class, the one class flowd bundles.
pub const ADHOC_CLASS: &str = "https://ns.adobe.com/xdm/data/adhoc";

/// The most registry schemas one schema may reach through its `$ref`s (directly or through
/// the schemas it names).
pub const MAX_REFERENCED_SCHEMAS: usize = 64;

/// The bundled class a `$ref` names, if it names one.
pub fn bundled_class(reference: &str) -> Option<Value> {
    (reference == ADHOC_CLASS).then(|| {
        json!({
            "$id": ADHOC_CLASS,
            "title": "Ad Hoc",
            "type": "object",
            "meta:abstract": true,
            "properties": {}
        })
    })
}

/// The store id of the schema a `$id` (`https://ns.adobe.com/{tenant}/schemas/{hex}`) or a
/// `meta:altId` (`_{tenant}.schemas.{hex}`) names: its 32 hex characters, lowercased; `None`
/// for a name of any other form.
pub fn schema_resource_id(schema_id: &str) -> Option<String> {
    let hex = if let Some(path) = schema_id.strip_prefix("https://ns.adobe.com/") {
        let (tenant, hex) = path.split_once("/schemas/")?;
        (!tenant.is_empty() && !tenant.contains('/')).then_some(hex)?
    } else {
        let rest = schema_id.strip_prefix('_')?;
        let (tenant, hex) = rest.split_once(".schemas.")?;
        (!tenant.is_empty()).then_some(hex)?
    };
    (hex.len() == 32 && hex.bytes().all(|byte| byte.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// Whether a stored schema document is the one `schema_id` (its `$id` or `meta:altId`) names.
pub fn is_named(document: &Value, schema_id: &str) -> bool {
    ["$id", "meta:altId"].iter().any(|key| {
        document
            .get(*key)
            .and_then(Value::as_str)
            .is_some_and(|name| name.eq_ignore_ascii_case(schema_id))
    })
}

/// The schema of `scope` that `schema_id` (`$id` or `meta:altId`) names, as stored.
pub async fn find_schema(
    store: &dyn ResourceStore,
    scope: &Scope,
    schema_id: &str,
) -> Result<Option<StoredResource>, StoreError> {
    let Some(id) = schema_resource_id(schema_id) else {
        return Ok(None);
    };
    let stored = store.get_resource(scope, ResourceKind::Schema, &id).await?;
    Ok(stored.filter(|stored| is_named(&stored.body, schema_id)))
}

/// Every `$ref` of a document that names another document (not `#…`), with the pointer of
/// the `$ref` member, in document order.
pub fn external_references(document: &Value) -> Vec<(String, String)> {
    fn walk(node: &Value, pointer: &str, found: &mut Vec<(String, String)>) {
        match node {
            Value::Object(members) => {
                for (name, member) in members {
                    let at = format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
                    match member {
                        Value::String(reference) if name == "$ref" => {
                            if !reference.starts_with('#') {
                                found.push((at, reference.clone()));
                            }
                        }
                        _ => walk(member, &at, found),
                    }
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    walk(item, &format!("{pointer}/{index}"), found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(document, "", &mut found);
    found
}

/// The registry schemas a document reaches through its `$ref`s, keyed by the reference as
/// written; what [`XdmSchema::from_document`] resolves with.
#[derive(Debug, Clone, Default)]
pub struct ReferencedSchemas {
    pub schemas: BTreeMap<String, StoredResource>,
    /// More than [`MAX_REFERENCED_SCHEMAS`] (or nesting deeper than `MAX_DEPTH`): the walk
    /// stopped, and the document is refused.
    pub truncated: bool,
}

impl ReferencedSchemas {
    /// The document a `$ref` names: a schema of the sandbox, else a bundled class.
    pub fn resolve(&self, reference: &str) -> Option<Value> {
        self.schemas
            .get(reference)
            .map(|stored| stored.body.clone())
            .or_else(|| bundled_class(reference))
    }

    /// The schemas `document` names itself, each once, with the pointer of its first `$ref`:
    /// the references its stored write carries, so none of them is deleted under it.
    pub fn references_of(&self, document: &Value) -> Vec<ResourceRef> {
        let mut references: Vec<ResourceRef> = Vec::new();
        for (pointer, reference) in external_references(document) {
            if let Some(stored) = self.schemas.get(&reference)
                && !references.iter().any(|known| known.id == stored.id)
            {
                references.push(ResourceRef::new(ResourceKind::Schema, &stored.id, pointer));
            }
        }
        references
    }

    /// `document` read into its field tree with these schemas; every problem at once.
    pub fn read(&self, document: &Value) -> Result<XdmSchema, Vec<Problem>> {
        if self.truncated {
            return Err(vec![Problem::new(
                "",
                format!(
                    "reaches more than {MAX_REFERENCED_SCHEMAS} schemas through its $refs (or nests them deeper than {MAX_DEPTH} levels)"
                ),
            )]);
        }
        XdmSchema::from_document(document, &|reference| self.resolve(reference))
    }
}

/// Fetches, from `scope`, the schemas `document`'s `$ref`s name and those theirs name, at most
/// [`MAX_REFERENCED_SCHEMAS`] and `MAX_DEPTH` levels deep. A reference that names no schema of
/// the sandbox is left out (reading the document then reports it at its pointer).
pub async fn referenced_schemas(
    store: &dyn ResourceStore,
    scope: &Scope,
    document: &Value,
) -> Result<ReferencedSchemas, StoreError> {
    let mut found = ReferencedSchemas::default();
    let mut visited: BTreeSet<String> = BTreeSet::new();
    let mut level: Vec<String> = external_references(document)
        .into_iter()
        .map(|(_, reference)| reference)
        .collect();
    for _depth in 0..=MAX_DEPTH {
        let mut next = Vec::new();
        for reference in level {
            if !visited.insert(reference.clone()) || bundled_class(&reference).is_some() {
                continue;
            }
            if found.schemas.len() == MAX_REFERENCED_SCHEMAS {
                found.truncated = true;
                return Ok(found);
            }
            let Some(stored) = find_schema(store, scope, &reference).await? else {
                continue;
            };
            next.extend(
                external_references(&stored.body)
                    .into_iter()
                    .map(|(_, reference)| reference),
            );
            found.schemas.insert(reference, stored);
        }
        if next.is_empty() {
            return Ok(found);
        }
        level = next;
    }
    found.truncated = true;
    Ok(found)
}

/// The XDM schema of `scope`'s registry that a dataset's `schemaRef.id` names (`$id` or
/// `meta:altId`), its references resolved; `None` when the sandbox has no such schema (the
/// dataset is untyped: its columns are inferred). A stored schema that no longer reads is
/// [`LoadError::Invalid`].
pub async fn dataset_schema(
    store: &dyn ResourceStore,
    scope: &Scope,
    schema_id: &str,
) -> Result<Option<XdmSchema>, LoadError> {
    let Some(stored) = find_schema(store, scope, schema_id).await? else {
        return Ok(None);
    };
    let referenced = referenced_schemas(store, scope, &stored.body).await?;
    referenced
        .read(&stored.body)
        .map(Some)
        .map_err(|problems| LoadError::Invalid {
            kind: ResourceKind::Schema,
            id: stored.id,
            problems,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_names_of_a_schema_give_its_store_id() {
        let hex = "0123456789abcdef0123456789ABCDEF";
        let expected = Some(hex.to_ascii_lowercase());
        assert_eq!(
            schema_resource_id(&format!("https://ns.adobe.com/acme/schemas/{hex}")),
            expected
        );
        assert_eq!(
            schema_resource_id(&format!("_acme.schemas.{hex}")),
            expected
        );
        for other in [
            "https://ns.adobe.com/xdm/context/profile",
            "https://ns.adobe.com/acme/schemas/0123",
            "https://ns.adobe.com//schemas/0123456789abcdef0123456789abcdef",
            "_acme.mixins.0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(schema_resource_id(other), None, "{other}");
        }
    }

    #[test]
    fn external_references_skip_local_ones_and_keep_their_pointers() {
        let document = json!({
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/data/adhoc"}, {"$ref": "#/definitions/a"}],
            "properties": {"a/b": {"$ref": "_acme.schemas.x"}}
        });
        assert_eq!(
            external_references(&document),
            [
                (
                    "/allOf/0/$ref".to_owned(),
                    "https://ns.adobe.com/xdm/data/adhoc".to_owned()
                ),
                (
                    "/properties/a~1b/$ref".to_owned(),
                    "_acme.schemas.x".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn the_adhoc_class_is_bundled_and_adds_no_field() {
        let schema = ReferencedSchemas::default()
            .read(&json!({"type": "object", "allOf": [{"$ref": ADHOC_CLASS}],
                          "properties": {"a": {"type": "string"}}}))
            .unwrap();
        assert_eq!(schema.fields.len(), 1);
    }
}
