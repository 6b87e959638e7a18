//! Record extraction: turns one response body into output records, applying
//! `contentPath` (select, filter and wrap items) and `explodeEntityPath`
//! (flatten one nested array into one record per element).
//!
//! A worked example. With
//!
//! ```text
//! contentPath       = {path: "$.emails", skipAttributes: ["_links"],
//!                      overrideWrapperAttribute: "email"}
//! explodeEntityPath = {path: "$.email.activity"}
//! body              = {"emails": [{"email_id": 1, "_links": [],
//!                                  "activity": [{"action": "open"}, {"action": "click"}]}],
//!                      "total_items": 1}
//! ```
//!
//! 1. `$.emails` matches one array: each element is one item (item count 1).
//! 2. `skipAttributes` drops `_links` from the item.
//! 3. The item is wrapped: `{"email": {"email_id": 1, "activity": [..]}}`.
//! 4. The explode path is rooted at that wrapped record. Its array has two
//!    elements, so two records come out, each the parent with the array
//!    replaced by one element:
//!    `{"email": {"email_id": 1, "activity": {"action": "open"}}}` and
//!    `{"email": {"email_id": 1, "activity": {"action": "click"}}}`.
//!    That is why AEP mappings read `email.activity.action`.
//!
//! Rules in full:
//! - Every node `contentPath` matches contributes items: an array each of
//!   its elements, an object itself; scalars and null contribute nothing
//!   (they are not records), and a path matching nothing yields 0 items.
//! - A body that is neither an object nor an array is an error, because no
//!   JSONPath can select records from it and the API has likely answered
//!   with something other than the resource.
//! - Skip/keep apply to object items only and keep the item's own order.
//! - Only the FIRST node the explode path matches is flattened. An empty
//!   array is removed from the record; a path matching nothing, or a node
//!   that is not an array, leaves the record unchanged. The explode wrapper
//!   renames the array's key in place (same position among its siblings).
//!
//! Hot path: the paths were compiled by the spec crate; nothing is compiled
//! per page or per record. [`RecordExtractor::extract_owned`] moves items
//! out of the body instead of cloning them when `contentPath` is a plain
//! chain of member names, which is what nearly every spec uses.

use flowd_spec::{AttributeFilter, ContentPath};
use serde_json::{Map, Value};
use serde_json_path::{JsonPath, PathElement};

/// Why a response body yielded no records at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// The body is a JSON scalar or null.
    #[error("response body is a json {found}, not an object or array")]
    NotAJsonDocument { found: &'static str },
    /// The records would outweigh the page by more than the extraction bound.
    #[error(
        "the records extracted from this page would exceed {limit_bytes} bytes ({EXTRACTION_FACTOR}x the page): contentPath or explodeEntityPath copies nested values more than once, so the page is refused"
    )]
    TooLarge { limit_bytes: u64 },
}

/// Records copied out of a page may weigh at most this many times the page (`$..*` on a deep
/// page copies every subtree once per ancestor; an explode copies its parent per element).
pub const EXTRACTION_FACTOR: u64 = 4;

/// The floor of the extraction bound, so that a tiny page may still explode into a few
/// records larger than itself.
pub const MIN_EXTRACTION_BYTES: u64 = 1024 * 1024;

/// What one page's extraction may produce: at most `take` records (a preview's; more are
/// not built at all), and copies weighing at most the bound (an error past it).
#[derive(Debug, Clone)]
pub struct ExtractionBudget {
    take: usize,
    limit_bytes: u64,
    bytes_left: u64,
}

impl ExtractionBudget {
    /// The budget of a page of `page_bytes`, keeping at most `take` records.
    pub fn for_page(page_bytes: usize, take: Option<usize>) -> ExtractionBudget {
        let limit_bytes = (page_bytes as u64)
            .saturating_mul(EXTRACTION_FACTOR)
            .max(MIN_EXTRACTION_BYTES);
        ExtractionBudget {
            take: take.unwrap_or(usize::MAX),
            limit_bytes,
            bytes_left: limit_bytes,
        }
    }

    fn is_full(&self, records: &[Value]) -> bool {
        records.len() >= self.take
    }

    /// Counts a record built by copying against the bound.
    fn charge(&mut self, record: &Value) -> Result<(), ExtractError> {
        let weight = json_weight(record);
        match self.bytes_left.checked_sub(weight) {
            Some(left) => {
                self.bytes_left = left;
                Ok(())
            }
            None => Err(ExtractError::TooLarge {
                limit_bytes: self.limit_bytes,
            }),
        }
    }
}

/// About the size of `value` written as compact JSON (strings counted without escapes).
fn json_weight(value: &Value) -> u64 {
    match value {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 8,
        Value::String(text) => text.len() as u64 + 2,
        Value::Array(elements) => {
            2 + elements
                .iter()
                .map(|element| json_weight(element) + 1)
                .sum::<u64>()
        }
        Value::Object(members) => {
            2 + members
                .iter()
                .map(|(name, member)| name.len() as u64 + 4 + json_weight(member))
                .sum::<u64>()
        }
    }
}

/// The extraction rules of one run, built once from the fetch config.
#[derive(Debug, Clone)]
pub struct RecordExtractor {
    content_path: ContentPath,
    /// The member names `contentPath` walks, when it is nothing more than
    /// that (`$.data.items` → `["data", "items"]`); enables the moving path.
    content_member_chain: Option<Vec<String>>,
    explode_path: Option<ContentPath>,
}

impl RecordExtractor {
    pub fn new(content_path: &ContentPath, explode_path: Option<&ContentPath>) -> RecordExtractor {
        RecordExtractor {
            content_member_chain: simple_member_chain(content_path),
            content_path: content_path.clone(),
            explode_path: explode_path.cloned(),
        }
    }

    /// Appends the records of `body` to `records` and returns how many items
    /// `contentPath` selected (before any explode), for pagination. Every record is a copy,
    /// charged to `budget`; copying stops once `budget` holds its records.
    pub fn extract(
        &self,
        body: &Value,
        records: &mut Vec<Value>,
        budget: &mut ExtractionBudget,
    ) -> Result<usize, ExtractError> {
        ensure_json_document(body)?;
        let filter = &self.content_path.attribute_filter;
        let mut item_count = 0;
        for node in self.content_path.path.query(body) {
            match node {
                Value::Array(items) => {
                    item_count += items.len();
                    for item in items {
                        if budget.is_full(records) {
                            break;
                        }
                        self.emit(filter_borrowed(item, filter), true, records, budget)?;
                    }
                }
                Value::Object(_) => {
                    item_count += 1;
                    if !budget.is_full(records) {
                        self.emit(filter_borrowed(node, filter), true, records, budget)?;
                    }
                }
                _ => {}
            }
        }
        Ok(item_count)
    }

    /// The item count [`RecordExtractor::extract`] would return, without
    /// extracting: pagination needs it before the body is handed over to
    /// [`RecordExtractor::extract_owned`]. Scalar bodies count 0.
    pub fn count_items(&self, body: &Value) -> usize {
        let count_node = |node: &Value| match node {
            Value::Array(items) => items.len(),
            Value::Object(_) => 1,
            _ => 0,
        };
        match &self.content_member_chain {
            Some(member_chain) => member_chain
                .iter()
                .try_fold(body, |node, member_name| node.as_object()?.get(member_name))
                .map_or(0, count_node),
            None => self
                .content_path
                .path
                .query(body)
                .iter()
                .copied()
                .map(count_node)
                .sum(),
        }
    }

    /// Same output as [`RecordExtractor::extract`], but consumes the body so
    /// items are moved rather than cloned when `contentPath` is a plain
    /// member chain (moved records are not charged: they are the page itself); other paths
    /// fall back to the copying walk.
    pub fn extract_owned(
        &self,
        body: Value,
        records: &mut Vec<Value>,
        budget: &mut ExtractionBudget,
    ) -> Result<usize, ExtractError> {
        let Some(member_chain) = &self.content_member_chain else {
            return self.extract(&body, records, budget);
        };
        ensure_json_document(&body)?;
        let mut node = body;
        for member_name in member_chain {
            node = match node {
                // `remove` may reorder the rest of the map; it is dropped anyway.
                Value::Object(mut members) => match members.remove(member_name) {
                    Some(child) => child,
                    None => return Ok(0),
                },
                _ => return Ok(0),
            };
        }
        let filter = &self.content_path.attribute_filter;
        match node {
            Value::Array(items) => {
                let item_count = items.len();
                records.reserve(item_count.min(budget.take));
                for item in items {
                    if budget.is_full(records) {
                        break;
                    }
                    self.emit(filter_owned(item, filter), false, records, budget)?;
                }
                Ok(item_count)
            }
            Value::Object(_) => {
                if !budget.is_full(records) {
                    self.emit(filter_owned(node, filter), false, records, budget)?;
                }
                Ok(1)
            }
            _ => Ok(0),
        }
    }

    /// Wraps one filtered item and explodes it into `records`; `copied` says whether the item
    /// is a copy of the page (charged) or moved out of it.
    fn emit(
        &self,
        item: Value,
        copied: bool,
        records: &mut Vec<Value>,
        budget: &mut ExtractionBudget,
    ) -> Result<(), ExtractError> {
        let record = wrap(item, self.content_path.wrapper.as_deref());
        match &self.explode_path {
            Some(explode_path) => explode_into(explode_path, record, copied, records, budget),
            None => {
                if copied {
                    budget.charge(&record)?;
                }
                records.push(record);
                Ok(())
            }
        }
    }
}

fn ensure_json_document(body: &Value) -> Result<(), ExtractError> {
    let found = match body {
        Value::Object(_) | Value::Array(_) => return Ok(()),
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
    };
    Err(ExtractError::NotAJsonDocument { found })
}

fn wrap(item: Value, wrapper: Option<&str>) -> Value {
    match wrapper {
        Some(wrapper_name) => {
            let mut wrapped = Map::with_capacity(1);
            wrapped.insert(wrapper_name.to_owned(), item);
            Value::Object(wrapped)
        }
        None => item,
    }
}

/// A filtered copy of a borrowed item, cloning only the attributes kept.
fn filter_borrowed(item: &Value, filter: &AttributeFilter) -> Value {
    match (filter, item) {
        (AttributeFilter::Skip(names), Value::Object(members)) => Value::Object(
            members
                .iter()
                .filter(|(name, _)| !names.contains(name))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        ),
        (AttributeFilter::Keep(names), Value::Object(members)) => Value::Object(
            members
                .iter()
                .filter(|(name, _)| names.contains(name))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        ),
        _ => item.clone(),
    }
}

/// Filters an owned item in place (`retain` keeps the item's order).
fn filter_owned(mut item: Value, filter: &AttributeFilter) -> Value {
    if let Value::Object(members) = &mut item {
        match filter {
            AttributeFilter::KeepAll => {}
            AttributeFilter::Skip(names) => members.retain(|name, _| !names.contains(name)),
            AttributeFilter::Keep(names) => members.retain(|name, _| names.contains(name)),
        }
    }
    item
}

/// A normalized-path element detached from the record it was found in, so
/// the record can be mutated afterwards.
enum OwnedPathElement {
    Name(String),
    Index(usize),
}

/// Flattens the first array `explode_path` matches in `record`. Every record but one is a
/// copy of the parent, charged to `budget` (the last takes the parent itself, charged only
/// when the parent was a copy, `copied`).
fn explode_into(
    explode_path: &ContentPath,
    mut record: Value,
    copied: bool,
    records: &mut Vec<Value>,
    budget: &mut ExtractionBudget,
) -> Result<(), ExtractError> {
    let mut push = |record: Value, is_copy: bool, records: &mut Vec<Value>| {
        if budget.is_full(records) {
            return Ok(false);
        }
        if is_copy {
            budget.charge(&record)?;
        }
        records.push(record);
        Ok(true)
    };
    let location: Vec<OwnedPathElement> = {
        let located_nodes = explode_path.path.query_located(&record);
        match located_nodes.first() {
            Some(located) if located.node().is_array() => located
                .location()
                .iter()
                .map(|element| match element {
                    PathElement::Name(name) => OwnedPathElement::Name((*name).to_owned()),
                    PathElement::Index(index) => OwnedPathElement::Index(*index),
                })
                .collect(),
            _ => {
                push(record, copied, records)?;
                return Ok(());
            }
        }
    };
    let filter = &explode_path.attribute_filter;
    let Some((array_key, parent_location)) = location.split_last() else {
        // The record itself is the array: its elements become the records.
        let elements = match record {
            Value::Array(elements) => elements,
            other => {
                push(other, copied, records)?;
                return Ok(());
            }
        };
        if elements.is_empty() {
            push(Value::Array(elements), copied, records)?;
            return Ok(());
        }
        for element in elements {
            let element = wrap(
                filter_owned(element, filter),
                explode_path.wrapper.as_deref(),
            );
            if !push(element, copied, records)? {
                break;
            }
        }
        return Ok(());
    };
    let Some(parent) = value_at_mut(&mut record, parent_location) else {
        push(record, copied, records)?;
        return Ok(());
    };
    // Detach the array and remember where it sat, so each output record is a
    // clone of the (now smaller) parent plus one element at that position.
    let (elements, slot) = match (parent, array_key) {
        (Value::Object(members), OwnedPathElement::Name(key)) => {
            let position = members.keys().position(|name| name == key).unwrap_or(0);
            let Some(Value::Array(elements)) = members.shift_remove(key) else {
                push(record, copied, records)?;
                return Ok(());
            };
            let output_key = explode_path.wrapper.clone().unwrap_or_else(|| key.clone());
            (elements, Slot::Member(position, output_key))
        }
        (Value::Array(siblings), OwnedPathElement::Index(index)) => {
            let Value::Array(elements) = siblings.remove(*index) else {
                push(record, copied, records)?;
                return Ok(());
            };
            (elements, Slot::Element(*index))
        }
        _ => {
            push(record, copied, records)?;
            return Ok(());
        }
    };
    let Some(last_position) = elements.len().checked_sub(1) else {
        push(record, copied, records)?;
        return Ok(());
    };
    for (position, element) in elements.into_iter().enumerate() {
        let element = filter_owned(element, filter);
        // The last element takes the record itself: one clone fewer.
        let is_last = position == last_position;
        let mut output = if is_last {
            std::mem::take(&mut record)
        } else {
            record.clone()
        };
        match (value_at_mut(&mut output, parent_location), &slot) {
            (Some(Value::Object(members)), Slot::Member(index, key)) => {
                members.shift_insert((*index).min(members.len()), key.clone(), element);
            }
            (Some(Value::Array(siblings)), Slot::Element(index)) => {
                siblings.insert((*index).min(siblings.len()), element);
            }
            _ => {}
        }
        if !push(output, copied || !is_last, records)? {
            break;
        }
    }
    Ok(())
}

/// Where the exploded array sat in its parent.
enum Slot {
    /// Position among the object's members, and the (possibly renamed) key.
    Member(usize, String),
    /// Index in the parent array.
    Element(usize),
}

fn value_at_mut<'v>(root: &'v mut Value, location: &[OwnedPathElement]) -> Option<&'v mut Value> {
    location
        .iter()
        .try_fold(root, |current, element| match element {
            OwnedPathElement::Name(name) => current.get_mut(name.as_str()),
            OwnedPathElement::Index(index) => current.get_mut(*index),
        })
}

/// The member names of a content path that only walks members
/// (`$.data.items`, `members`, `$`), else `None`.
///
/// The chain is checked by compiling its canonical form and comparing it
/// with the spec's compiled path, so the moving walk can never select
/// something other than the JSONPath would.
fn simple_member_chain(content_path: &ContentPath) -> Option<Vec<String>> {
    member_chain(&content_path.path_text, &content_path.path)
}

/// The member names a JSONPath walks when it is nothing more than a chain of them
/// (`data.items` and `$.data.items` → `["data", "items"]`; `$` → `[]`).
pub(crate) fn member_chain(text: &str, path: &JsonPath) -> Option<Vec<String>> {
    // The spec resolver reads `data.items` as `$.data.items`.
    let dotted_members = match text.strip_prefix('$') {
        Some(after_root) => after_root.to_owned(),
        None => format!(".{text}"),
    };
    let mut member_chain = Vec::new();
    if !dotted_members.is_empty() {
        let mut segments = dotted_members.split('.');
        if segments.next() != Some("") {
            return None;
        }
        for member_name in segments {
            if !is_member_name_shorthand(member_name) {
                return None;
            }
            member_chain.push(member_name.to_owned());
        }
    }
    let canonical_text: String = std::iter::once("$".to_owned())
        .chain(
            member_chain
                .iter()
                .map(|member_name| format!(".{member_name}")),
        )
        .collect();
    let canonical_path = JsonPath::parse(&canonical_text).ok()?;
    (canonical_path == *path).then_some(member_chain)
}

/// RFC 9535 `member-name-shorthand`: ALPHA / `_` / non-ASCII, then also digits.
fn is_member_name_shorthand(name: &str) -> bool {
    let mut characters = name.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_' || !first.is_ascii())
        && characters.all(|rest| rest.is_ascii_alphanumeric() || rest == '_' || !rest.is_ascii())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A budget no test page comes near.
    fn unbounded() -> ExtractionBudget {
        ExtractionBudget::for_page(usize::MAX / 8, None)
    }

    /// A `ContentPath` from its spec form (`path`, `skipAttributes`,
    /// `keepAttributes`, `overrideWrapperAttribute`), or a plain path string.
    fn content_path(spec: &Value) -> ContentPath {
        let path_text = spec.get("path").unwrap_or(spec).as_str().expect("a path");
        let full_text = if path_text.starts_with('$') {
            path_text.to_owned()
        } else {
            format!("$.{path_text}")
        };
        let names = |member: &str| -> Option<Vec<String>> {
            serde_json::from_value(spec.get(member)?.clone()).ok()
        };
        ContentPath {
            path: JsonPath::parse(&full_text).expect("test paths are valid"),
            path_text: path_text.to_owned(),
            attribute_filter: match (names("skipAttributes"), names("keepAttributes")) {
                (Some(skip), _) => AttributeFilter::Skip(skip),
                (_, Some(keep)) => AttributeFilter::Keep(keep),
                _ => AttributeFilter::KeepAll,
            },
            wrapper: spec
                .get("overrideWrapperAttribute")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }

    /// Runs one case through both walks; compares serialized text because
    /// `==` on maps ignores member order.
    fn check(case: &Value) {
        let description = case["description"].as_str().expect("a description");
        let explode_path = case.get("explode").map(content_path);
        let extractor =
            RecordExtractor::new(&content_path(&case["content"]), explode_path.as_ref());
        let mut borrowed_records = Vec::new();
        let borrowed_count =
            extractor.extract(&case["body"], &mut borrowed_records, &mut unbounded());
        let mut owned_records = Vec::new();
        let owned_count =
            extractor.extract_owned(case["body"].clone(), &mut owned_records, &mut unbounded());
        assert_eq!(
            borrowed_count,
            Ok(case["count"].as_u64().expect("a count") as usize),
            "{description}"
        );
        assert_eq!(owned_count, borrowed_count, "{description}: owned count");
        let counted = extractor.count_items(&case["body"]);
        assert_eq!(Ok(counted), borrowed_count, "{description}: count_items");
        let expected_text = case["records"].to_string();
        assert_eq!(
            Value::Array(borrowed_records).to_string(),
            expected_text,
            "{description}"
        );
        assert_eq!(
            Value::Array(owned_records).to_string(),
            expected_text,
            "{description}: owned"
        );
    }

    #[test]
    fn extraction_cases() {
        let cases = json!([
            {"description": "each array element is one record",
             "content": "$.members",
             "body": {"members": [{"id": 1}, {"id": 2}], "total_items": 2},
             "count": 2, "records": [{"id": 1}, {"id": 2}]},
            {"description": "adobe's spelling without $ and a nested chain",
             "content": "data.items",
             "body": {"data": {"items": [{"id": 1}]}},
             "count": 1, "records": [{"id": 1}]},
            {"description": "an object match is one item; scalars are skipped",
             "content": "$.results[*]",
             "body": {"results": [{"id": 1}, 7, null, "x"]},
             "count": 1, "records": [{"id": 1}]},
            {"description": "a single object at the path is one item",
             "content": "$.account",
             "body": {"account": {"id": 1}},
             "count": 1, "records": [{"id": 1}]},
            {"description": "a path matching nothing yields no items",
             "content": "$.members",
             "body": {"errors": []},
             "count": 0, "records": []},
            {"description": "a root array with $",
             "content": "$",
             "body": [{"id": 1}, {"id": 2}],
             "count": 2, "records": [{"id": 1}, {"id": 2}]},
            {"description": "skip drops attributes and keeps order; the wrapper wraps",
             "content": {"path": "$.members", "skipAttributes": ["_links", "list_id"],
                         "overrideWrapperAttribute": "member"},
             "body": {"members": [{"z": 1, "_links": [], "a": 2, "list_id": "l"}]},
             "count": 1, "records": [{"member": {"z": 1, "a": 2}}]},
            {"description": "keep keeps the item's own order; non-objects pass through",
             "content": {"path": "$.events", "keepAttributes": ["type", "action"]},
             "body": {"events": [{"action": "open", "id": 9, "type": "email"}, 5]},
             "count": 2, "records": [{"action": "open", "type": "email"}, 5]},
            {"description": "the reference example: explode under the wrapper",
             "content": {"path": "$.emails", "overrideWrapperAttribute": "email"},
             "explode": {"path": "$.email.activity"},
             "body": {"emails": [{"email_id": 1, "activity": [{"action": "open"}, {"action": "click"}]}]},
             "count": 1, "records": [
                {"email": {"email_id": 1, "activity": {"action": "open"}}},
                {"email": {"email_id": 1, "activity": {"action": "click"}}}]},
            {"description": "explode wrapper renames the key in place; explode keep filters",
             "content": {"path": "$.emails", "overrideWrapperAttribute": "email"},
             "explode": {"path": "$.email.activity", "keepAttributes": ["action"],
                         "overrideWrapperAttribute": "event"},
             "body": {"emails": [{"a": 0, "activity": [{"action": "open", "ip": "x"}], "z": 1}]},
             "count": 1, "records": [{"email": {"a": 0, "event": {"action": "open"}, "z": 1}}]},
            {"description": "an empty exploded array is removed; a missing one leaves the record",
             "content": "$.lists", "explode": "$.tags",
             "body": {"lists": [{"id": 1, "tags": [], "n": 2}, {"id": 3}]},
             "count": 2, "records": [{"id": 1, "n": 2}, {"id": 3}]},
            {"description": "a non-array explode node leaves the record unchanged",
             "content": "$.lists", "explode": "$.tags",
             "body": {"lists": [{"id": 1, "tags": "a,b"}]},
             "count": 1, "records": [{"id": 1, "tags": "a,b"}]},
            {"description": "only the first explode match is flattened",
             "content": "$.orders", "explode": "$.lines[*].parts",
             "body": {"orders": [{"lines": [{"parts": [1, 2]}, {"parts": [3]}]}]},
             "count": 1, "records": [
                {"lines": [{"parts": 1}, {"parts": [3]}]},
                {"lines": [{"parts": 2}, {"parts": [3]}]}]},
            {"description": "an exploded array inside an array keeps its index",
             "content": "$.rows", "explode": "$.cells[1]",
             "body": {"rows": [{"cells": ["a", ["b", "c"], "d"]}]},
             "count": 1, "records": [{"cells": ["a", "b", "d"]}, {"cells": ["a", "c", "d"]}]},
            {"description": "an item that is itself an array explodes at $",
             "content": "$.matrix", "explode": "$",
             "body": {"matrix": [[[1, 2], [3]]]},
             "count": 1, "records": [[1, 2], [3]]}
        ]);
        for case in cases.as_array().expect("a table") {
            check(case);
        }
    }

    #[test]
    fn scalar_bodies_are_rejected() {
        let extractor = RecordExtractor::new(&content_path(&json!("$.members")), None);
        for (body, found) in [
            (json!("ok"), "string"),
            (json!(null), "null"),
            (json!(3), "number"),
        ] {
            let expected = Err(ExtractError::NotAJsonDocument { found });
            assert_eq!(
                extractor.extract(&body, &mut Vec::new(), &mut unbounded()),
                expected
            );
            assert_eq!(
                extractor.extract_owned(body, &mut Vec::new(), &mut unbounded()),
                expected
            );
        }
    }

    #[test]
    fn member_chains_are_detected_only_for_plain_member_paths() {
        let cases: [(&str, Option<&[&str]>); 7] = [
            ("$.members", Some(&["members"])),
            ("data.items", Some(&["data", "items"])),
            ("$", Some(&[])),
            ("$.émails", Some(&["émails"])),
            ("$['members']", None),
            ("$.members[*]", None),
            ("$..members", None),
        ];
        for (path_text, expected) in cases {
            let chain = simple_member_chain(&content_path(&json!(path_text)));
            let expected =
                expected.map(|names| names.iter().map(|name| name.to_string()).collect());
            assert_eq!(chain, expected, "{path_text}");
        }
    }
}
