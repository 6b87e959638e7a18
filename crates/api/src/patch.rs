//! PATCH of instance resources (reference §2, §8): a list (or a single
//! object) of `{op, path, value}` instructions with JSON Pointer paths,
//! applied to the document as clients see it, all or nothing.
//!
//! `op` is `add`, `replace` or `remove` in any letter case (`move`, `copy`
//! and `test` are refused with `1434-400`); a path that does not resolve,
//! or that names a field the server owns or that cannot change, is
//! `1455-400`. The If-Match precondition is checked by the caller.

use serde_json::Value;

use crate::error::{ApiError, FlowError, FlowErrorCode};

/// One parsed instruction.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchInstruction {
    pub op: PatchOp,
    /// RFC 6901 pointer, never empty.
    pub path: String,
    pub value: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOp {
    Add,
    Replace,
    Remove,
}

fn instruction_error(code: FlowErrorCode, message: String) -> ApiError {
    FlowError::new(code, message).into()
}

/// Parses a PATCH body: an array of instructions or one instruction.
pub fn parse_instructions(body: &Value) -> Result<Vec<PatchInstruction>, ApiError> {
    let raw: Vec<&Value> = match body {
        Value::Array(elements) => elements.iter().collect(),
        Value::Object(_) => vec![body],
        _ => {
            return Err(instruction_error(
                FlowErrorCode::PatchInvalid,
                "The PATCH body must be an array of {op, path, value} instructions.".to_owned(),
            ));
        }
    };
    if raw.is_empty() {
        return Err(instruction_error(
            FlowErrorCode::EmptyBody,
            "The PATCH body holds no instruction.".to_owned(),
        ));
    }
    raw.into_iter()
        .enumerate()
        .map(|(index, instruction)| {
            let op_text = instruction.get("op").and_then(Value::as_str).ok_or_else(|| {
                instruction_error(
                    FlowErrorCode::PatchInvalid,
                    format!("Instruction {index} has no op (add, replace or remove)."),
                )
            })?;
            let op = match op_text.to_ascii_lowercase().as_str() {
                "add" => PatchOp::Add,
                "replace" => PatchOp::Replace,
                "remove" => PatchOp::Remove,
                _ => {
                    return Err(instruction_error(
                        FlowErrorCode::PatchOpUnsupported,
                        format!("Instruction {index}: op '{op_text}' is not supported; use add, replace or remove."),
                    ));
                }
            };
            let path = instruction
                .get("path")
                .and_then(Value::as_str)
                .filter(|path| path.starts_with('/'))
                .ok_or_else(|| {
                    instruction_error(
                        FlowErrorCode::PatchInvalid,
                        format!("Instruction {index} needs a path that is a JSON Pointer such as /name."),
                    )
                })?;
            let value = instruction.get("value").cloned();
            if op != PatchOp::Remove && value.is_none() {
                return Err(instruction_error(
                    FlowErrorCode::PatchInvalid,
                    format!("Instruction {index} ({op_text} {path}) needs a value."),
                ));
            }
            Ok(PatchInstruction {
                op,
                path: path.to_owned(),
                value,
            })
        })
        .collect()
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// The first segment of a pointer, unescaped.
pub fn top_level_field(path: &str) -> String {
    unescape(
        path.trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default(),
    )
}

/// Applies `instructions` to a copy of `document`; `immutable` lists the
/// top-level fields no instruction may touch.
pub fn apply(
    document: &Value,
    instructions: &[PatchInstruction],
    immutable: &[&str],
) -> Result<Value, ApiError> {
    let mut patched = document.clone();
    for instruction in instructions {
        let field = top_level_field(&instruction.path);
        if immutable.contains(&field.as_str()) {
            return Err(instruction_error(
                FlowErrorCode::PatchInvalid,
                format!(
                    "{} cannot be changed: {field} is not patchable.",
                    instruction.path
                ),
            ));
        }
        apply_one(&mut patched, instruction).map_err(|why| {
            instruction_error(
                FlowErrorCode::PatchInvalid,
                format!(
                    "{} cannot be applied to {}: {why}.",
                    op_name(instruction.op),
                    instruction.path
                ),
            )
        })?;
    }
    Ok(patched)
}

fn op_name(op: PatchOp) -> &'static str {
    match op {
        PatchOp::Add => "add",
        PatchOp::Replace => "replace",
        PatchOp::Remove => "remove",
    }
}

fn apply_one(document: &mut Value, instruction: &PatchInstruction) -> Result<(), &'static str> {
    let (parent_path, last) = instruction
        .path
        .rsplit_once('/')
        .ok_or("the path is not a JSON Pointer")?;
    let key = unescape(last);
    let parent = document
        .pointer_mut(parent_path)
        .ok_or("the parent of the path does not exist")?;
    let value = instruction.value.clone();
    match (parent, instruction.op) {
        (Value::Object(members), PatchOp::Add) => {
            members.insert(key, value.unwrap_or(Value::Null));
        }
        (Value::Object(members), PatchOp::Replace) => {
            let slot = members.get_mut(&key).ok_or("the path does not exist")?;
            *slot = value.unwrap_or(Value::Null);
        }
        (Value::Object(members), PatchOp::Remove) => {
            members
                .shift_remove(&key)
                .ok_or("the path does not exist")?;
        }
        (Value::Array(elements), op) => {
            let index = if key == "-" && op == PatchOp::Add {
                elements.len()
            } else {
                key.parse::<usize>()
                    .map_err(|_| "an array index must be a number")?
            };
            match op {
                PatchOp::Add if index <= elements.len() => {
                    elements.insert(index, value.unwrap_or(Value::Null))
                }
                PatchOp::Replace if index < elements.len() => {
                    elements[index] = value.unwrap_or(Value::Null)
                }
                PatchOp::Remove if index < elements.len() => {
                    elements.remove(index);
                }
                _ => return Err("the array index is out of range"),
            }
        }
        _ => return Err("the parent of the path is neither an object nor an array"),
    }
    Ok(())
}

/// An `If-Match` value without its optional surrounding quotes (and weak prefix).
pub fn normalize_etag(value: &str) -> &str {
    let value = value.trim();
    let value = value.strip_prefix("W/").unwrap_or(value);
    value.trim_matches('"')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code_of(result: Result<impl std::fmt::Debug, ApiError>) -> FlowErrorCode {
        match result {
            Err(ApiError::Flow(error)) => error.code,
            other => panic!("expected a Flow Service error, got {other:?}"),
        }
    }

    #[test]
    fn instructions_apply_in_order_with_case_insensitive_ops() {
        let document = json!({"name": "a", "params": {"x": 1}, "list": [1, 2]});
        let instructions = parse_instructions(&json!([
            {"op": "REPLACE", "path": "/name", "value": "b"},
            {"op": "add", "path": "/params/y", "value": 2},
            {"op": "Remove", "path": "/params/x"},
            {"op": "add", "path": "/list/-", "value": 3},
            {"op": "add", "path": "/labels", "value": ["core/C12"]}
        ]))
        .unwrap();
        let patched = apply(&document, &instructions, &["id"]).unwrap();
        assert_eq!(
            patched,
            json!({"name": "b", "params": {"y": 2}, "list": [1, 2, 3], "labels": ["core/C12"]})
        );
        let single =
            parse_instructions(&json!({"op": "replace", "path": "/name", "value": "c"})).unwrap();
        assert_eq!(apply(&document, &single, &[]).unwrap()["name"], "c");
    }

    #[test]
    fn bad_instructions_get_their_codes() {
        let document = json!({"id": "x", "name": "a"});
        assert_eq!(
            code_of(parse_instructions(
                &json!([{"op": "move", "from": "/a", "path": "/b"}])
            )),
            FlowErrorCode::PatchOpUnsupported
        );
        assert_eq!(
            code_of(parse_instructions(&json!([]))),
            FlowErrorCode::EmptyBody
        );
        assert_eq!(
            code_of(parse_instructions(
                &json!([{"op": "replace", "path": "name", "value": 1}])
            )),
            FlowErrorCode::PatchInvalid
        );
        assert_eq!(
            code_of(parse_instructions(
                &json!([{"op": "replace", "path": "/name"}])
            )),
            FlowErrorCode::PatchInvalid
        );
        let missing =
            parse_instructions(&json!([{"op": "replace", "path": "/nope/deeper", "value": 1}]))
                .unwrap();
        assert_eq!(
            code_of(apply(&document, &missing, &[])),
            FlowErrorCode::PatchInvalid
        );
        let immutable =
            parse_instructions(&json!([{"op": "replace", "path": "/id", "value": "y"}])).unwrap();
        assert_eq!(
            code_of(apply(&document, &immutable, &["id"])),
            FlowErrorCode::PatchInvalid
        );
    }

    #[test]
    fn etags_compare_with_or_without_quotes() {
        assert_eq!(normalize_etag("\"abc\""), "abc");
        assert_eq!(normalize_etag("abc"), "abc");
        assert_eq!(normalize_etag("W/\"abc\""), "abc");
    }
}
