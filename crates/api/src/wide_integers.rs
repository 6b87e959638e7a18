//! Integers a request body writes beyond 64 bits. The JSON parser reads an integer literal
//! outside `i64`/`u64` as the nearest `f64`, which would store `123456789012345678901234` as
//! `1.2345678901234568e23`; such a body is refused instead, with the pointer of the literal,
//! rather than stored with a value the client did not send.
//!
//! No crate reports where a JSON literal sits in its document, so the literal is found by a
//! small scan of the body's text (already known to be valid JSON), and only when the parsed
//! document holds a float that an overflowing literal could have produced — never on the bodies
//! clients normally send.

use flowd_spec::Problem;
use flowd_spec::problem::escape_pointer_token;
use serde_json::Value;

/// The smallest magnitude an integer literal outside `i64`/`u64` can have as an `f64`.
const SMALLEST_OVERFLOW: f64 = 9.223_372_036_854_776e18;

/// Problems for each integer literal of `text` (which parsed as `document`) beyond 64 bits.
pub fn wide_integer_problems(text: &[u8], document: &Value) -> Vec<Problem> {
    if !may_hold_wide_integer(document) {
        return Vec::new();
    }
    scan(text)
        .into_iter()
        .map(|pointer| {
            Problem::new(
                pointer,
                "is an integer beyond 64 bits; flowd keeps integers exactly from -2^63 to 2^64-1 (send a larger one as a string)",
            )
        })
        .collect()
}

fn may_hold_wide_integer(value: &Value) -> bool {
    match value {
        Value::Number(number) => number
            .as_f64()
            .is_some_and(|float| number.is_f64() && float.abs() >= SMALLEST_OVERFLOW),
        Value::Array(elements) => elements.iter().any(may_hold_wide_integer),
        Value::Object(members) => members.values().any(may_hold_wide_integer),
        _ => false,
    }
}

enum Frame {
    Object { key: String },
    Array { index: usize },
}

fn pointer_of(stack: &[Frame]) -> String {
    stack
        .iter()
        .map(|frame| match frame {
            Frame::Object { key } => format!("/{}", escape_pointer_token(key)),
            Frame::Array { index } => format!("/{index}"),
        })
        .collect()
}

/// Pointers of the integer literals of valid JSON `text` that fit neither `i64` nor `u64`.
fn scan(text: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    // Inside an object, whether the next string is a key.
    let mut expecting_key = false;
    let mut position = 0;
    while position < text.len() {
        match text[position] {
            b'{' => {
                stack.push(Frame::Object { key: String::new() });
                expecting_key = true;
                position += 1;
            }
            b'[' => {
                stack.push(Frame::Array { index: 0 });
                expecting_key = false;
                position += 1;
            }
            b'}' | b']' => {
                stack.pop();
                expecting_key = false;
                position += 1;
            }
            b',' => {
                match stack.last_mut() {
                    Some(Frame::Array { index }) => *index += 1,
                    Some(Frame::Object { .. }) => expecting_key = true,
                    None => {}
                }
                position += 1;
            }
            b'"' => {
                let end = string_end(text, position);
                if expecting_key {
                    let key: String =
                        serde_json::from_slice(&text[position..end]).unwrap_or_default();
                    if let Some(Frame::Object { key: current }) = stack.last_mut() {
                        *current = key;
                    }
                    expecting_key = false;
                }
                position = end;
            }
            b'-' | b'0'..=b'9' => {
                let end = text[position..]
                    .iter()
                    .position(|byte| {
                        !matches!(byte, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                    })
                    .map_or(text.len(), |length| position + length);
                let literal = std::str::from_utf8(&text[position..end]).unwrap_or_default();
                let is_integer = !literal.contains(['.', 'e', 'E']);
                if is_integer && literal.parse::<i64>().is_err() && literal.parse::<u64>().is_err()
                {
                    found.push(pointer_of(&stack));
                }
                position = end;
            }
            _ => position += 1,
        }
    }
    found
}

/// The index just past the string opening at `start`.
fn string_end(text: &[u8], start: usize) -> usize {
    let mut position = start + 1;
    while position < text.len() {
        match text[position] {
            b'\\' => position += 2,
            b'"' => return position + 1,
            _ => position += 1,
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pointers(text: &str) -> Vec<String> {
        let document: Value = serde_json::from_str(text).unwrap();
        wide_integer_problems(text.as_bytes(), &document)
            .into_iter()
            .map(|problem| problem.pointer)
            .collect()
    }

    #[test]
    fn integers_beyond_64_bits_are_found_where_they_are_written() {
        assert_eq!(
            pointers(
                r#"{"a": 1, "b": [2, 123456789012345678901234], "c~/\"d": {"e": -9223372036854775809}}"#
            ),
            ["/b/1", "/c~0~1\"d/e"]
        );
        assert_eq!(pointers("[18446744073709551616]"), ["/0"]);
    }

    #[test]
    fn what_fits_and_real_floats_are_left_alone() {
        for text in [
            r#"{"max": 18446744073709551615, "min": -9223372036854775808}"#,
            r#"{"float": 1e30, "also": 123456789012345678901234.5, "neg": -1E19}"#,
            r#"{"text": "123456789012345678901234", "key 99999999999999999999": 1}"#,
        ] {
            assert_eq!(pointers(text), Vec::<String>::new(), "{text}");
        }
    }
}
