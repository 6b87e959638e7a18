//! The document reader every resource resolves with: each read records a [`Problem`] at the
//! field's pointer and carries on, so every problem of a document is reported at once, in
//! document order.

use flowd_spec::Problem;
use serde_json::{Map, Value};

use super::{SchemaRef, SpecRef};
use crate::ids::canonical_uuid;

/// A document being read, and the problems found so far.
pub(crate) struct Fields<'a> {
    document: &'a Value,
    problems: Vec<Problem>,
}

impl<'a> Fields<'a> {
    /// Starts reading `document`, which must be a JSON object.
    pub(crate) fn open(document: &'a Value) -> Result<Fields<'a>, Vec<Problem>> {
        if document.is_object() {
            Ok(Fields {
                document,
                problems: Vec::new(),
            })
        } else {
            Err(vec![Problem::new("", "must be a JSON object")])
        }
    }

    /// The member at `pointer`, `null` counting as absent.
    pub(crate) fn get(&self, pointer: &str) -> Option<&'a Value> {
        self.document
            .pointer(pointer)
            .filter(|value| !value.is_null())
    }

    pub(crate) fn problem(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(pointer, message));
    }

    /// Adds problems found by another reader.
    pub(crate) fn extend(&mut self, problems: impl IntoIterator<Item = Problem>) {
        self.problems.extend(problems);
    }

    /// The string at `pointer`: required (and non-empty) or optional.
    fn string(&mut self, pointer: &str, required: bool) -> Option<String> {
        match self.get(pointer) {
            Some(Value::String(text)) if !(required && text.is_empty()) => Some(text.clone()),
            Some(_) => {
                let expected = if required {
                    "must be a non-empty string"
                } else {
                    "must be a string"
                };
                self.problem(pointer, expected);
                None
            }
            None if required => {
                self.problem(pointer, "is required");
                None
            }
            None => None,
        }
    }

    /// The non-empty string at `pointer`, or a problem ("is required" when absent).
    pub(crate) fn required_string(&mut self, pointer: &str) -> Option<String> {
        self.string(pointer, true)
    }

    /// The string at `pointer` if present; a problem when it is not a string.
    pub(crate) fn optional_string(&mut self, pointer: &str) -> Option<String> {
        self.string(pointer, false)
    }

    /// `/name` (required or optional) and the optional `/description` every instance has.
    pub(crate) fn name_and_description(
        &mut self,
        name_required: bool,
    ) -> (Option<String>, Option<String>) {
        let name = self.string("/name", name_required);
        (name, self.optional_string("/description"))
    }

    /// What every instance bound to a spec starts with: name, description and the spec
    /// reference at `spec_pointer`.
    pub(crate) fn head(
        &mut self,
        name_required: bool,
        spec_pointer: &str,
    ) -> (Option<String>, Option<String>, Option<SpecRef>) {
        let (name, description) = self.name_and_description(name_required);
        (name, description, self.spec_ref(spec_pointer))
    }

    /// The object at `pointer` (empty when absent), or a problem when it is not an object.
    pub(crate) fn optional_object(&mut self, pointer: &str) -> Map<String, Value> {
        match self.get(pointer) {
            None => Map::new(),
            Some(Value::Object(members)) => members.clone(),
            Some(_) => {
                self.problem(pointer, "must be an object");
                Map::new()
            }
        }
    }

    /// A `{id, version}` spec reference at `pointer` (`id` required).
    pub(crate) fn spec_ref(&mut self, pointer: &str) -> Option<SpecRef> {
        let id = self.required_string(&format!("{pointer}/id"))?;
        let version = self
            .get(&format!("{pointer}/version"))
            .map(|version| match version {
                Value::String(version) => version.clone(),
                other => other.to_string(),
            });
        Some(SpecRef { id, version })
    }

    /// An `{id, <qualifier>}` schema reference at `pointer`: absent is `None`; present needs a
    /// string `id` and, if given, a string qualifier.
    pub(crate) fn schema_ref(&mut self, pointer: &str, qualifier: &str) -> Option<SchemaRef> {
        match self.get(pointer) {
            None => None,
            Some(Value::Object(_)) => {
                let id = self.required_string(&format!("{pointer}/id"));
                let qualifier = self.optional_string(&format!("{pointer}/{qualifier}"));
                id.map(|id| SchemaRef { id, qualifier })
            }
            Some(_) => {
                self.problem(pointer, "must be an object");
                None
            }
        }
    }

    /// The canonical UUID at `pointer` (a required string), described as `what` in problems.
    pub(crate) fn required_uuid(&mut self, pointer: &str, what: &str) -> Option<String> {
        let text = self.required_string(pointer)?;
        let canonical = canonical_uuid(&text);
        if canonical.is_none() {
            self.problem(pointer, format!("must be {what} id (a UUID)"));
        }
        canonical
    }

    /// `value` when no problem was found, else every problem in document order.
    pub(crate) fn finish<T>(self, value: Option<T>) -> Result<T, Vec<Problem>> {
        let mut problems = self.problems;
        match value {
            Some(value) if problems.is_empty() => Ok(value),
            _ => {
                flowd_spec::problem::sort_in_document_order(self.document, "", &mut problems);
                if problems.is_empty() {
                    problems.push(Problem::new("", "is invalid"));
                }
                Err(problems)
            }
        }
    }
}
