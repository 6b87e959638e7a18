//! Whether a mapping set's destinations exist in a dataset's XDM schema (the check behind Flow
//! Service's `1419-400`, reference `data-prep.md` §10.1): each destination path must walk the
//! schema's objects by name, its arrays by `[n]` or `[*]`, and may name any key of a map.
//! A destination the schema does not have could never be written, so a flow naming such a
//! mapping set is refused when it is created or patched, not at run time.

use flowd_model::xdm::{XdmField, XdmSchema, XdmType};

use crate::mapping_set::MappingSetBody;
use crate::paths::{Path, Step};

/// A destination the schema does not have.
#[derive(Debug, Clone, PartialEq)]
pub struct DestinationProblem {
    /// Position of the mapping in the set's `mappings`.
    pub index: usize,
    pub destination: String,
    pub message: String,
}

/// Every destination of `body` that `schema` does not have.
pub fn destinations_outside(schema: &XdmSchema, body: &MappingSetBody) -> Vec<DestinationProblem> {
    body.mappings
        .iter()
        .filter_map(|entry| {
            let destination = &entry.spec.destination;
            let message = match Path::parse(destination) {
                Ok(path) => walk(&schema.fields, path.steps())?,
                Err(error) => format!("is not a valid path: {error}"),
            };
            Some(DestinationProblem {
                index: entry.position,
                destination: destination.clone(),
                message,
            })
        })
        .collect()
}

/// `None` when `steps` lead to a field of `fields`, else why not.
fn walk(fields: &[XdmField], steps: &[Step]) -> Option<String> {
    let mut current: Option<&XdmType> = None;
    let mut members = fields;
    let mut walked = String::new();
    for step in steps {
        let next = match (step, current) {
            (Step::Name(name), None | Some(XdmType::Object(_))) => {
                let Some(field) = members.iter().find(|field| field.name == *name) else {
                    let known: Vec<&str> =
                        members.iter().map(|field| field.name.as_str()).collect();
                    let within = if walked.is_empty() {
                        "the schema".to_owned()
                    } else {
                        walked.clone()
                    };
                    return Some(format!(
                        "names {name}, which {within} does not have (its fields: {})",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ));
                };
                &field.field_type
            }
            (Step::Name(_), Some(XdmType::Map(values))) => values.as_ref(),
            (Step::Index(_) | Step::Each, Some(XdmType::Array(items))) => items.as_ref(),
            (step, Some(other)) => {
                let shown = match step {
                    Step::Name(name) => name.clone(),
                    Step::Index(index) => format!("[{index}]"),
                    Step::Each => "[*]".to_owned(),
                };
                return Some(format!(
                    "goes into {walked} ({}) with {shown}",
                    other.name()
                ));
            }
            (Step::Index(_) | Step::Each, None) => {
                return Some(
                    "starts with an array index; a destination starts with a field name".to_owned(),
                );
            }
        };
        if let Step::Name(name) = step {
            if !walked.is_empty() {
                walked.push('.');
            }
            walked.push_str(name);
        }
        if let XdmType::Object(fields) = next {
            members = fields;
        }
        current = Some(next);
    }
    None
}
