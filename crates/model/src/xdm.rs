//! XDM schemas as flowd reads them: the field tree of a Schema Registry schema (JSON Schema
//! with XDM's `meta:xdmType`), resolved into types a dataset's columns and Data Prep's
//! conversion (reference `data-prep.md` §9) are built from.
//!
//! A schema document is read with [`XdmSchema::from_document`]: its `properties` and the
//! schemas its `allOf` and `$ref`s name (in its own `definitions`, or another schema the caller
//! resolves — the registry's) are merged into one tree of [`XdmField`]s; every problem is
//! reported at once with its JSON pointer. The mapping from JSON Schema is:
//!
//! | JSON Schema | [`XdmType`] |
//! | --- | --- |
//! | `string` | `String`; `format: date` → `Date`, `format: date-time` → `DateTime` |
//! | `integer` | `Long`; `meta:xdmType` `int`, `short`, `byte` → their widths |
//! | `number` | `Double` (`meta:xdmType` naming an integer width makes it that width) |
//! | `boolean` | `Boolean` |
//! | `object` with `properties` | `Object` (`required` names its required members) |
//! | `object` with only `additionalProperties` (or `meta:xdmType: map`) | `Map` of its values |
//! | `array` with `items` | `Array` |

use flowd_spec::Problem;
use serde_json::{Map, Value};

/// The deepest nesting of objects, arrays and references read (a cycle of `$ref`s ends here).
pub const MAX_DEPTH: usize = 32;

/// A field's XDM type.
#[derive(Debug, Clone, PartialEq)]
pub enum XdmType {
    String,
    Byte,
    Short,
    Int,
    Long,
    Double,
    Boolean,
    /// A calendar date (`yyyy-MM-dd`).
    Date,
    /// An instant (RFC 3339; stored in UTC).
    DateTime,
    Object(Vec<XdmField>),
    Array(Box<XdmType>),
    /// String keys to values of one type.
    Map(Box<XdmType>),
}

impl XdmType {
    /// The XDM name of the type, as messages say it.
    pub fn name(&self) -> &'static str {
        match self {
            XdmType::String => "string",
            XdmType::Byte => "byte",
            XdmType::Short => "short",
            XdmType::Int => "int",
            XdmType::Long => "long",
            XdmType::Double => "double",
            XdmType::Boolean => "boolean",
            XdmType::Date => "date",
            XdmType::DateTime => "date-time",
            XdmType::Object(_) => "object",
            XdmType::Array(_) => "array",
            XdmType::Map(_) => "map",
        }
    }

    /// The inclusive range of an integer type.
    pub fn integer_range(&self) -> Option<(i64, i64)> {
        match self {
            XdmType::Byte => Some((i8::MIN.into(), i8::MAX.into())),
            XdmType::Short => Some((i16::MIN.into(), i16::MAX.into())),
            XdmType::Int => Some((i32::MIN.into(), i32::MAX.into())),
            XdmType::Long => Some((i64::MIN, i64::MAX)),
            _ => None,
        }
    }
}

/// Constraints a value must meet beyond its type (JSON Schema's validation keywords).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldRules {
    /// `enum`: the allowed values.
    pub allowed: Option<Vec<Value>>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    /// `pattern` (ECMA-262 regular expression, unanchored).
    pub pattern: Option<String>,
}

impl FieldRules {
    fn is_empty(&self) -> bool {
        *self == FieldRules::default()
    }
}

/// One member of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct XdmField {
    pub name: String,
    pub field_type: XdmType,
    /// Named in the enclosing object's `required`.
    pub required: bool,
    /// `None` when the field has no constraint.
    pub rules: Option<Box<FieldRules>>,
}

/// A schema's record: its top-level fields.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct XdmSchema {
    pub fields: Vec<XdmField>,
}

impl XdmSchema {
    /// Reads a schema document. `resolve` gives the document of a `$ref` that is not in the
    /// schema's own `definitions` (another schema of the registry, a bundled class), or `None`
    /// when it names nothing flowd has; a `#` reference inside a resolved document names that
    /// document's own definitions.
    pub fn from_document(
        document: &Value,
        resolve: &dyn Fn(&str) -> Option<Value>,
    ) -> Result<XdmSchema, Vec<Problem>> {
        let mut reader = Reader {
            root: document,
            external_roots: Vec::new(),
            resolve,
            problems: Vec::new(),
        };
        let fields = match reader.node(document, "", 0) {
            Some(XdmType::Object(fields)) => fields,
            Some(other) => {
                reader.problem(
                    "/type",
                    format!(
                        "must be \"object\" (a schema describes records), not {}",
                        other.name()
                    ),
                );
                Vec::new()
            }
            None => Vec::new(),
        };
        if reader.problems.is_empty() {
            Ok(XdmSchema { fields })
        } else {
            Err(reader.problems)
        }
    }

    /// The field at a dotted path (`person.name.firstName`), descending through objects.
    pub fn field(&self, dotted: &str) -> Option<&XdmField> {
        let mut fields = &self.fields;
        let mut found = None;
        for name in dotted.split('.') {
            let field = fields.iter().find(|field| field.name == name)?;
            found = Some(field);
            fields = match &field.field_type {
                XdmType::Object(members) => members,
                _ => &EMPTY,
            };
        }
        found
    }
}

static EMPTY: Vec<XdmField> = Vec::new();

struct Reader<'a> {
    root: &'a Value,
    /// The resolved documents being read, innermost last: a `#` reference inside one names
    /// its own definitions, not the root's.
    external_roots: Vec<Value>,
    resolve: &'a dyn Fn(&str) -> Option<Value>,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn problem(&mut self, pointer: &str, message: impl Into<String>) {
        self.problems.push(Problem::new(pointer, message));
    }

    /// The type of the schema node at `pointer`; `None` after reporting why it has none.
    fn node(&mut self, node: &Value, pointer: &str, depth: usize) -> Option<XdmType> {
        if depth > MAX_DEPTH {
            self.problem(
                pointer,
                format!("nests deeper than {MAX_DEPTH} levels (or its $refs form a cycle)"),
            );
            return None;
        }
        let Some(object) = node.as_object() else {
            self.problem(pointer, "must be a JSON Schema object");
            return None;
        };
        let mut merged: Option<XdmType> = None;
        if let Some(reference) = object.get("$ref") {
            let at = format!("{pointer}/$ref");
            let (resolved, external) = self.reference(reference, &at)?;
            if external {
                self.external_roots.push(resolved.clone());
            }
            merged = self.node(&resolved, &at, depth + 1);
            if external {
                self.external_roots.pop();
            }
        }
        if let Some(all_of) = object.get("allOf") {
            let Some(parts) = all_of.as_array() else {
                self.problem(&format!("{pointer}/allOf"), "must be an array of schemas");
                return None;
            };
            for (index, part) in parts.iter().enumerate() {
                let at = format!("{pointer}/allOf/{index}");
                if let Some(part_type) = self.node(part, &at, depth + 1) {
                    merged = self.merge(merged, part_type, &at);
                }
            }
        }
        match self.own_type(object, pointer, depth) {
            Some(own) => self.merge(merged, own, pointer),
            None => {
                let described = ["type", "$ref", "allOf"]
                    .iter()
                    .any(|key| object.contains_key(*key));
                if !described {
                    self.problem(
                        pointer,
                        "has no \"type\" (nor properties, items, allOf or $ref)",
                    );
                }
                merged
            }
        }
    }

    /// The document a `$ref` names, and whether it is another document (not a part of the one
    /// being read).
    fn reference(&mut self, reference: &Value, pointer: &str) -> Option<(Value, bool)> {
        let Some(reference) = reference.as_str() else {
            self.problem(pointer, "must be a string");
            return None;
        };
        if let Some(local) = reference.strip_prefix('#') {
            let root = self.external_roots.last().unwrap_or(self.root);
            let found = root.pointer(local).cloned();
            if found.is_none() {
                self.problem(
                    pointer,
                    format!("names {reference}, which this schema does not define"),
                );
            }
            return found.map(|found| (found, false));
        }
        let found = (self.resolve)(reference);
        if found.is_none() {
            self.problem(
                pointer,
                format!(
                    "names {reference}, which flowd's schema registry does not have (flowd bundles none of Adobe's standard classes, field groups or data types besides the ad hoc class https://ns.adobe.com/xdm/data/adhoc; create it as a schema first or define its fields inline)"
                ),
            );
        }
        found.map(|found| (found, true))
    }

    /// The node's own type, from `type` and its keywords (not its `allOf`/`$ref`).
    fn own_type(
        &mut self,
        object: &Map<String, Value>,
        pointer: &str,
        depth: usize,
    ) -> Option<XdmType> {
        let xdm_type = object.get("meta:xdmType").and_then(Value::as_str);
        let declared = match object.get("type") {
            None if object.contains_key("properties") => "object",
            None if object.contains_key("items") => "array",
            None => return None,
            Some(Value::String(declared)) => declared.as_str(),
            Some(_) => {
                self.problem(
                    &format!("{pointer}/type"),
                    "must be one type name (string, integer, number, boolean, object or array)",
                );
                return None;
            }
        };
        let integer_width = |xdm_type: Option<&str>| match xdm_type {
            Some("byte") => Some(XdmType::Byte),
            Some("short") => Some(XdmType::Short),
            Some("int") => Some(XdmType::Int),
            Some("long") => Some(XdmType::Long),
            _ => None,
        };
        Some(match declared {
            "string" => match (object.get("format").and_then(Value::as_str), xdm_type) {
                (Some("date"), _) | (_, Some("date")) => XdmType::Date,
                (Some("date-time"), _) | (_, Some("date-time")) => XdmType::DateTime,
                _ => XdmType::String,
            },
            "integer" => integer_width(xdm_type).unwrap_or(XdmType::Long),
            "number" => integer_width(xdm_type).unwrap_or(XdmType::Double),
            "boolean" => XdmType::Boolean,
            "object" => self.object(object, pointer, depth)?,
            "array" => {
                let Some(items) = object.get("items") else {
                    self.problem(pointer, "is an array without \"items\"");
                    return None;
                };
                XdmType::Array(Box::new(self.node(
                    items,
                    &format!("{pointer}/items"),
                    depth + 1,
                )?))
            }
            other => {
                self.problem(
                    &format!("{pointer}/type"),
                    format!("is \"{other}\"; flowd reads string, integer, number, boolean, object and array"),
                );
                return None;
            }
        })
    }

    fn object(
        &mut self,
        object: &Map<String, Value>,
        pointer: &str,
        depth: usize,
    ) -> Option<XdmType> {
        let is_map = object.get("meta:xdmType").and_then(Value::as_str) == Some("map")
            || (!object.contains_key("properties")
                && object
                    .get("additionalProperties")
                    .is_some_and(Value::is_object));
        if is_map {
            let values = match object.get("additionalProperties") {
                Some(values @ Value::Object(_)) => self.node(
                    values,
                    &format!("{pointer}/additionalProperties"),
                    depth + 1,
                )?,
                _ => XdmType::String,
            };
            return Some(XdmType::Map(Box::new(values)));
        }
        let required: Vec<&str> = match object.get("required") {
            None => Vec::new(),
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
            Some(_) => {
                self.problem(
                    &format!("{pointer}/required"),
                    "must be an array of member names",
                );
                Vec::new()
            }
        };
        let mut fields = Vec::new();
        match object.get("properties") {
            None => {}
            Some(Value::Object(properties)) => {
                for (name, member) in properties {
                    let at = format!("{pointer}/properties/{}", escape(name));
                    let Some(field_type) = self.node(member, &at, depth + 1) else {
                        continue;
                    };
                    let rules = self.rules(member, &at);
                    fields.push(XdmField {
                        name: name.clone(),
                        field_type,
                        required: required.contains(&name.as_str()),
                        rules: (!rules.is_empty()).then(|| Box::new(rules)),
                    });
                }
            }
            Some(_) => self.problem(&format!("{pointer}/properties"), "must be an object"),
        }
        for name in &required {
            if !fields.iter().any(|field| field.name == *name)
                && object
                    .get("properties")
                    .is_some_and(|p| p.get(*name).is_none())
            {
                self.problem(
                    &format!("{pointer}/required"),
                    format!("names {name}, which is not among the properties"),
                );
            }
        }
        Some(XdmType::Object(fields))
    }

    fn rules(&mut self, member: &Value, pointer: &str) -> FieldRules {
        let number = |key: &str| member.get(key).and_then(Value::as_f64);
        let count = |key: &str| member.get(key).and_then(Value::as_u64);
        let pattern = member
            .get("pattern")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if member.get("pattern").is_some() && pattern.is_none() {
            self.problem(&format!("{pointer}/pattern"), "must be a string");
        }
        FieldRules {
            allowed: member.get("enum").and_then(Value::as_array).cloned(),
            minimum: number("minimum"),
            maximum: number("maximum"),
            min_length: count("minLength"),
            max_length: count("maxLength"),
            pattern,
        }
    }

    /// Two descriptions of one node merged: objects member by member, anything else must
    /// agree.
    fn merge(&mut self, left: Option<XdmType>, right: XdmType, pointer: &str) -> Option<XdmType> {
        let Some(left) = left else {
            return Some(right);
        };
        match (left, right) {
            (XdmType::Object(mut fields), XdmType::Object(more)) => {
                for field in more {
                    match fields.iter().position(|known| known.name == field.name) {
                        None => fields.push(field),
                        Some(index) => {
                            let known = fields.remove(index);
                            let required = known.required || field.required;
                            let rules = field.rules.or(known.rules);
                            let merged =
                                self.merge(Some(known.field_type), field.field_type, pointer)?;
                            fields.insert(
                                index,
                                XdmField {
                                    name: field.name,
                                    field_type: merged,
                                    required,
                                    rules,
                                },
                            );
                        }
                    }
                }
                Some(XdmType::Object(fields))
            }
            (left, right) if left == right => Some(left),
            (left, right) => {
                self.problem(
                    pointer,
                    format!(
                        "describes one field as both {} and {}",
                        left.name(),
                        right.name()
                    ),
                );
                None
            }
        }
    }
}

/// A member name as a JSON Pointer token.
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(document: Value) -> Result<XdmSchema, Vec<Problem>> {
        XdmSchema::from_document(&document, &|_| None)
    }

    #[test]
    fn json_schema_types_become_xdm_types() {
        let schema = read(json!({
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string"},
                "count": {"type": "integer"},
                "small": {"type": "integer", "meta:xdmType": "short"},
                "ratio": {"type": "number"},
                "born": {"type": "string", "format": "date"},
                "seen": {"type": "string", "format": "date-time"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "attributes": {"type": "object", "additionalProperties": {"type": "integer"}},
                "name": {"properties": {"first": {"type": "string", "maxLength": 3}}}
            }
        }))
        .unwrap();
        let types: Vec<(&str, &str, bool)> = schema
            .fields
            .iter()
            .map(|field| (field.name.as_str(), field.field_type.name(), field.required))
            .collect();
        assert_eq!(
            types,
            [
                ("id", "string", true),
                ("count", "long", false),
                ("small", "short", false),
                ("ratio", "double", false),
                ("born", "date", false),
                ("seen", "date-time", false),
                ("tags", "array", false),
                ("attributes", "map", false),
                ("name", "object", false),
            ]
        );
        assert_eq!(
            schema
                .field("name.first")
                .unwrap()
                .rules
                .as_ref()
                .unwrap()
                .max_length,
            Some(3)
        );
    }

    #[test]
    fn all_of_merges_local_definitions_and_resolved_schemas() {
        let document = json!({
            "type": "object",
            "definitions": {"customer": {"properties": {"_acme": {"properties": {"email": {"type": "string"}}}}}},
            "allOf": [
                {"$ref": "#/definitions/customer"},
                {"$ref": "https://ns.adobe.com/acme/schemas/other"},
            ]
        });
        let other = json!({"type": "object", "properties": {"_acme": {"type": "object", "properties": {"age": {"type": "integer"}}}}});
        let schema = XdmSchema::from_document(&document, &|id| {
            (id == "https://ns.adobe.com/acme/schemas/other").then(|| other.clone())
        })
        .unwrap();
        assert_eq!(
            schema.field("_acme.email").unwrap().field_type,
            XdmType::String
        );
        assert_eq!(schema.field("_acme.age").unwrap().field_type, XdmType::Long);
    }

    #[test]
    fn a_local_reference_in_a_resolved_schema_names_that_schemas_definitions() {
        let document = json!({
            "type": "object",
            "definitions": {"shared": {"properties": {"mine": {"type": "string"}}}},
            "allOf": [{"$ref": "#/definitions/shared"}, {"$ref": "https://ns.adobe.com/acme/schemas/other"}]
        });
        let other = json!({
            "type": "object",
            "definitions": {"shared": {"properties": {"theirs": {"type": "boolean"}}}},
            "allOf": [{"$ref": "#/definitions/shared"}]
        });
        let schema = XdmSchema::from_document(&document, &|id| {
            (id == "https://ns.adobe.com/acme/schemas/other").then(|| other.clone())
        })
        .unwrap();
        let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["mine", "theirs"]);
        assert_eq!(schema.field("theirs").unwrap().field_type, XdmType::Boolean);
    }

    #[test]
    fn unknown_references_and_bad_types_are_named_at_their_pointers() {
        let problems = read(json!({
            "type": "object",
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}],
            "properties": {"a": {"type": "null"}, "b": {"type": "array"}}
        }))
        .unwrap_err();
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            ["/allOf/0/$ref", "/properties/a/type", "/properties/b"]
        );
        assert!(
            problems[0]
                .message
                .contains("https://ns.adobe.com/xdm/context/profile")
        );
    }

    #[test]
    fn a_reference_cycle_is_refused() {
        let problems = read(json!({
            "type": "object",
            "definitions": {"loop": {"$ref": "#/definitions/loop"}},
            "properties": {"a": {"$ref": "#/definitions/loop"}}
        }))
        .unwrap_err();
        assert!(problems[0].message.contains("cycle"), "{problems:?}");
    }
}
