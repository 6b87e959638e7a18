//! One validation finding, located by an RFC 6901 JSON Pointer into the validated document.
//!
//! Validators collect every problem instead of stopping at the first, so a spec author fixes a
//! document in one round trip; [`sort_in_document_order`] makes the reported order independent
//! of the order in which checks happen to run.

use serde_json::Value;

/// A single thing wrong with a document, e.g. `{"pointer": "/sourceSpec/attributes/urlParams/path",
/// "message": "is required"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    /// RFC 6901 JSON Pointer to the offending (or missing) field; `""` is the document root.
    pub pointer: String,
    /// Lowercase description without a trailing period, phrased to follow the field name.
    pub message: String,
}

impl Problem {
    /// Builds a problem from anything string-like.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown_pointer = if self.pointer.is_empty() {
            "(root)"
        } else {
            &self.pointer
        };
        write!(formatter, "{shown_pointer}: {}", self.message)
    }
}

/// Escapes one reference token per RFC 6901: `~` becomes `~0` and `/` becomes `~1`.
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Reverses [`escape_pointer_token`]; `~1` must be decoded before `~0` so `~01` stays `~1`.
pub fn unescape_pointer_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// The pointer of member `key` (escaped) below `parent_pointer`.
pub fn child_pointer(parent_pointer: &str, key: &str) -> String {
    format!("{parent_pointer}/{}", escape_pointer_token(key))
}

/// The pointer of array element `index` below `parent_pointer`.
pub fn index_pointer(parent_pointer: &str, index: usize) -> String {
    format!("{parent_pointer}/{index}")
}

/// Stable-sorts problems into document order (a pre-order walk of `root`, following the key
/// order the document was written in, which `serde_json`'s `preserve_order` keeps).
///
/// Every problem pointer must start with `base_pointer`, the pointer at which `root` sits in the
/// caller's document (`""` when `root` is the whole document). A pointer token naming a member
/// that does not exist (a missing required field) sorts after the existing members of its
/// parent; problems sharing a pointer keep the order in which they were found.
pub fn sort_in_document_order(root: &Value, base_pointer: &str, problems: &mut [Problem]) {
    problems.sort_by_cached_key(|problem| {
        let relative_pointer = problem
            .pointer
            .strip_prefix(base_pointer)
            .unwrap_or(&problem.pointer);
        document_position(root, relative_pointer)
    });
}

/// The position of `pointer` in a pre-order walk of `root`, as the member/element index at each
/// level; `usize::MAX` stands for a member the document lacks.
fn document_position(root: &Value, pointer: &str) -> Vec<usize> {
    let mut position = Vec::new();
    let mut current = Some(root);
    for raw_token in pointer.split('/').skip(1) {
        let token = unescape_pointer_token(raw_token);
        let (index, next) = match current {
            Some(Value::Object(members)) => {
                match members.iter().position(|(key, _)| *key == token) {
                    Some(index) => (index, members.get(&token)),
                    None => (usize::MAX, None),
                }
            }
            Some(Value::Array(elements)) => match token.parse::<usize>() {
                Ok(index) if index < elements.len() => (index, elements.get(index)),
                _ => (usize::MAX, None),
            },
            _ => (usize::MAX, None),
        };
        position.push(index);
        current = next;
    }
    position
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_tokens_are_escaped_per_rfc_6901() {
        assert_eq!(child_pointer("", "a/b"), "/a~1b");
        assert_eq!(child_pointer("/x", "m~n"), "/x/m~0n");
        assert_eq!(index_pointer("/authSpec", 2), "/authSpec/2");
        assert_eq!(unescape_pointer_token("~01"), "~1");
    }

    #[test]
    fn problems_sort_in_document_order_with_missing_members_last() {
        let document = json!({"b": {"y": 1, "x": 2}, "a": [0, {"k": 1}]});
        let mut problems = vec![
            Problem::new("/a/1/k", "third"),
            Problem::new("/missing", "last"),
            Problem::new("/b/x", "second"),
            Problem::new("/b", "first"),
            Problem::new("/b/y", "between"),
        ];
        sort_in_document_order(&document, "", &mut problems);
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages, ["first", "between", "second", "third", "last"]);
    }
}
