//! A mapping set's body (reference §4) read from either request dialect into one canonical
//! model (§4.4), and written back with both sets of names, as Adobe returns it.
//!
//! - Current dialect: `outputSchema.schemaRef{id, contentType}`, mappings
//!   `{sourceType, source, destination}`.
//! - Legacy dialect (the Sources tutorials): `xdmSchema` (+ `xdmVersion`), mappings
//!   `{sourceAttribute, destinationXdmPath}` or `{sourceType: EXPRESSION, sourceExpression,
//!   destinationXdmPath}`.
//!
//! Every problem is reported at once, each at its JSON pointer; a mapping's source is parsed
//! (an expression's functions and arities checked) here, when the set is written.

use serde_json::{Map, Value, json};

use crate::mapping::{MappingSpec, Mappings, SourceType};

/// A problem of a mapping-set body: a JSON pointer into it and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyProblem {
    pub pointer: String,
    pub message: String,
}

fn problem(pointer: impl Into<String>, message: impl Into<String>) -> BodyProblem {
    BodyProblem {
        pointer: pointer.into(),
        message: message.into(),
    }
}

/// The XDM schema a mapping set writes into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRef {
    pub id: String,
    pub content_type: String,
}

/// One mapping with the labels a client gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingEntry {
    /// Its position in the body's `mappings` (problems point there).
    pub position: usize,
    pub spec: MappingSpec,
    /// `name`, `description`, `identity`… kept as given (no runtime effect).
    pub labels: Map<String, Value>,
}

/// A mapping set in the canonical model.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingSetBody {
    pub name: Option<String>,
    pub output_schema: SchemaRef,
    pub input_schema: Option<Value>,
    pub mappings: Vec<MappingEntry>,
    pub allow_null_values: bool,
    pub strict_mapping: bool,
    pub tags: Option<Value>,
}

/// The content type of legacy-dialect sets (`xdmVersion: "1.0"`).
const LEGACY_CONTENT_TYPE: &str = "1.0";

/// Labels of a mapping kept as given.
const LABELS: [&str; 7] = [
    "name",
    "description",
    "identity",
    "primaryIdentity",
    "identityGroup",
    "namespaceCode",
    "matchScore",
];

fn text<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    fields.get(name).and_then(Value::as_str)
}

fn output_schema(
    fields: &Map<String, Value>,
    problems: &mut Vec<BodyProblem>,
) -> Option<SchemaRef> {
    if let Some(reference) = fields
        .get("outputSchema")
        .and_then(|schema| schema.get("schemaRef"))
    {
        let id = reference
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.trim().is_empty());
        let Some(id) = id else {
            problems.push(problem(
                "/outputSchema/schemaRef/id",
                "is required: the $id of the XDM schema the records land in",
            ));
            return None;
        };
        let content_type = reference
            .get("contentType")
            .and_then(Value::as_str)
            .unwrap_or("application/vnd.adobe.xed-full+json;version=1");
        return Some(SchemaRef {
            id: id.to_owned(),
            content_type: content_type.to_owned(),
        });
    }
    match fields.get("xdmSchema") {
        Some(Value::String(id)) if !id.trim().is_empty() => Some(SchemaRef {
            id: id.clone(),
            content_type: text(fields, "xdmVersion")
                .unwrap_or(LEGACY_CONTENT_TYPE)
                .to_owned(),
        }),
        Some(_) => {
            problems.push(problem(
                "/xdmSchema",
                "must be the $id (or altId) of an XDM schema",
            ));
            None
        }
        None => {
            problems.push(problem(
                "/outputSchema",
                "is required: {\"schemaRef\": {\"id\", \"contentType\"}} (or xdmSchema in the older dialect)",
            ));
            None
        }
    }
}

fn mapping(index: usize, value: &Value, problems: &mut Vec<BodyProblem>) -> Option<MappingEntry> {
    let base = format!("/mappings/{index}");
    let Some(fields) = value.as_object() else {
        problems.push(problem(
            base,
            "must be an object {sourceType, source, destination}",
        ));
        return None;
    };
    let source_type = match fields.get("sourceType") {
        None | Some(Value::Null) if fields.contains_key("sourceExpression") => {
            Some(SourceType::Expression)
        }
        None | Some(Value::Null) => Some(SourceType::Attribute),
        Some(Value::String(written)) => SourceType::parse(written).or_else(|| {
            problems.push(problem(
                format!("{base}/sourceType"),
                format!("'{written}' is not a source type: use ATTRIBUTE, EXPRESSION or STATIC"),
            ));
            None
        }),
        Some(_) => {
            problems.push(problem(
                format!("{base}/sourceType"),
                "must be ATTRIBUTE, EXPRESSION or STATIC",
            ));
            None
        }
    };
    let source = ["source", "sourceExpression", "sourceAttribute"]
        .into_iter()
        .find_map(|name| text(fields, name));
    let destination = ["destination", "destinationXdmPath"]
        .into_iter()
        .find_map(|name| text(fields, name));
    if source.is_none() {
        problems.push(problem(
            format!("{base}/source"),
            "is required (a path, an expression or a value)",
        ));
    }
    if destination.is_none() {
        problems.push(problem(
            format!("{base}/destination"),
            "is required (an XDM field path)",
        ));
    }
    let labels = LABELS
        .iter()
        .filter_map(|name| {
            fields
                .get(*name)
                .map(|value| ((*name).to_owned(), value.clone()))
        })
        .collect();
    Some(MappingEntry {
        position: index,
        spec: MappingSpec {
            source_type: source_type?,
            source: source?.to_owned(),
            destination: destination?.to_owned(),
        },
        labels,
    })
}

fn flag(fields: &Map<String, Value>, name: &str, problems: &mut Vec<BodyProblem>) -> bool {
    match fields.get(name) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => {
            problems.push(problem(format!("/{name}"), "must be true or false"));
            false
        }
    }
}

impl MappingSetBody {
    /// Reads a create or update body in either dialect, and parses every mapping.
    pub fn from_json(body: &Value) -> Result<MappingSetBody, Vec<BodyProblem>> {
        let Some(fields) = body.as_object() else {
            return Err(vec![problem("", "must be a JSON object")]);
        };
        let mut problems = Vec::new();
        let name = match fields.get("name") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name.clone()),
            Some(_) => {
                problems.push(problem("/name", "must be a string"));
                None
            }
        };
        let output_schema = output_schema(fields, &mut problems);
        let mappings = match fields.get("mappings") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| mapping(index, item, &mut problems))
                .collect(),
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                problems.push(problem("/mappings", "must be an array of mappings"));
                Vec::new()
            }
        };
        let allow_null_values = flag(fields, "allowNullValues", &mut problems);
        let strict_mapping = flag(fields, "strictMapping", &mut problems);
        let body = MappingSetBody {
            name,
            output_schema: output_schema.unwrap_or(SchemaRef {
                id: String::new(),
                content_type: String::new(),
            }),
            input_schema: fields
                .get("inputSchema")
                .filter(|schema| !schema.is_null())
                .cloned(),
            mappings,
            allow_null_values,
            strict_mapping,
            tags: fields.get("tags").filter(|tags| !tags.is_null()).cloned(),
        };
        if let Err(mapping_problems) = body.compile() {
            problems.extend(mapping_problems);
        }
        if problems.is_empty() {
            Ok(body)
        } else {
            Err(problems)
        }
    }

    /// The mappings, parsed for a run (each problem at `/mappings/N/source|destination`).
    pub fn compile(&self) -> Result<Mappings, Vec<BodyProblem>> {
        let specs: Vec<MappingSpec> = self
            .mappings
            .iter()
            .map(|entry| entry.spec.clone())
            .collect();
        Mappings::compile(&specs, self.allow_null_values).map_err(|problems| {
            problems
                .into_iter()
                .map(|mapping| {
                    let position = self.mappings[mapping.index].position;
                    problem(
                        format!("/mappings/{position}/{}", mapping.field),
                        mapping.error.to_string(),
                    )
                })
                .collect()
        })
    }

    /// The stored form: the canonical fields, one JSON object.
    pub fn to_stored(&self) -> Value {
        let mappings: Vec<Value> = self
            .mappings
            .iter()
            .map(|entry| {
                let mut stored = entry.labels.clone();
                stored.insert("sourceType".into(), json!(entry.spec.source_type.stored()));
                stored.insert("source".into(), json!(entry.spec.source));
                stored.insert("destination".into(), json!(entry.spec.destination));
                Value::Object(stored)
            })
            .collect();
        let mut stored = json!({
            "outputSchema": {"schemaRef": {"id": self.output_schema.id, "contentType": self.output_schema.content_type}},
            "mappings": mappings,
            "allowNullValues": self.allow_null_values,
            "strictMapping": self.strict_mapping,
        });
        if let Some(name) = &self.name {
            stored["name"] = json!(name);
        }
        if let Some(input_schema) = &self.input_schema {
            stored["inputSchema"] = input_schema.clone();
        }
        if let Some(tags) = &self.tags {
            stored["tags"] = tags.clone();
        }
        stored
    }
}

/// A mapping as Adobe returns it: both names of its source and destination.
pub fn present_mapping(stored: &Value) -> Value {
    let mut shown = stored.clone();
    let source_type = stored
        .get("sourceType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if let Some(fields) = shown.as_object_mut() {
        let source = fields.get("source").cloned().unwrap_or(Value::Null);
        let destination = fields.get("destination").cloned().unwrap_or(Value::Null);
        if source_type == SourceType::Attribute.stored() {
            fields.insert("sourceAttribute".into(), source);
        } else if source_type == SourceType::Expression.stored() {
            fields.insert("sourceExpression".into(), source);
        }
        fields.insert("destinationXdmPath".into(), destination);
        for (name, default) in [
            ("identity", json!(false)),
            ("primaryIdentity", json!(false)),
            ("matchScore", json!(0.0)),
            ("functionVersion", json!(1)),
        ] {
            fields.entry(name).or_insert(default);
        }
    }
    shown
}

/// A version number as clients write it: a number, or a numeric string (`"0"`).
pub fn version_number(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
}

/// Version `wanted` of a stored mapping set (`{"versions": [{"version", "set", …}]}`), the
/// latest when `wanted` is `None`.
pub fn stored_version(document: &Value, wanted: Option<i64>) -> Option<&Value> {
    let versions = document.get("versions")?.as_array()?;
    match wanted {
        None => versions.last(),
        Some(wanted) => versions
            .iter()
            .find(|version| version.get("version").and_then(Value::as_i64) == Some(wanted)),
    }
}

/// The newest version number of a stored mapping set.
pub fn newest_version(document: &Value) -> i64 {
    stored_version(document, None)
        .and_then(|version| version.get("version"))
        .and_then(Value::as_i64)
        .unwrap_or_default()
}

/// A flow's `Mapping` transformations: their position in `transformations` and their params.
pub fn mapping_transformations(transformations: &[Value]) -> impl Iterator<Item = (usize, &Value)> {
    transformations
        .iter()
        .enumerate()
        .filter(|(_, transformation)| {
            transformation
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|name| name.eq_ignore_ascii_case("mapping"))
        })
        .map(|(position, transformation)| {
            (
                position,
                transformation.get("params").unwrap_or(&Value::Null),
            )
        })
}
