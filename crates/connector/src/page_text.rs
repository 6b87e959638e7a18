//! Records found in a page's text without parsing them: the fast path of extraction.
//!
//! When `contentPath` is a plain chain of member names to an array, and nothing of a record's
//! tree is needed per record (no `skipAttributes`/`keepAttributes`, no wrapper, no explode),
//! one pass over the body finds each element's span, validating the JSON but building no
//! `Value` for it, and parses only the rest of the page (its *skeleton*: the body with that
//! array left empty) for pagination. Pagination paths must then be plain member chains that
//! neither lead into the records nor contain them, so that the skeleton answers them exactly as
//! the whole body would. Any other page — an object where the array should be, a body that is
//! not JSON — goes the parsed way, which also gives it the usual errors.

use std::fmt;
use std::ops::Range;

use bytes::Bytes;
use bytestring::ByteString;
use flowd_spec::{FetchConfig, Pagination};
use serde::de::value::SeqAccessDeserializer;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::extract::member_chain;

/// The text extraction of one run, when its spec allows it.
#[derive(Debug, Clone)]
pub(crate) struct TextExtraction {
    content_chain: Vec<String>,
}

/// A page split into its skeleton and the spans of its records.
pub(crate) struct SplitPage {
    /// The body, checked to be UTF-8.
    pub(crate) text: ByteString,
    pub(crate) skeleton: Value,
    pub(crate) spans: Vec<Range<usize>>,
}

impl TextExtraction {
    /// `Some` when the run's records can be taken from the text (see the module documentation).
    pub(crate) fn for_run(fetch: &FetchConfig) -> Option<TextExtraction> {
        let content = &fetch.content_path;
        if fetch.explode_entity_path.is_some()
            || content.wrapper.is_some()
            || !matches!(
                content.attribute_filter,
                flowd_spec::AttributeFilter::KeepAll
            )
        {
            return None;
        }
        let content_chain = member_chain(&content.path_text, &content.path)?;
        for (path_text, path) in pagination_body_paths(&fetch.pagination) {
            let chain = member_chain(path_text, path)?;
            let shared = chain
                .iter()
                .zip(&content_chain)
                .take_while(|(left, right)| left == right)
                .count();
            if shared == chain.len().min(content_chain.len()) {
                // One path is a prefix of the other: the skeleton would answer differently.
                return None;
            }
        }
        Some(TextExtraction { content_chain })
    }

    /// The skeleton and record spans of `body`, or `None` when the page must be parsed whole
    /// (it is not valid JSON, not an object or array, or its content is a single object).
    pub(crate) fn split(&self, body: &Bytes) -> Option<SplitPage> {
        let text = ByteString::try_from(body.clone()).ok()?;
        let mut spans = Vec::new();
        let mut state = ContentState::Missing;
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        let seed = NodeSeed {
            chain: &self.content_chain,
            base: text.as_ptr() as usize,
            spans: &mut spans,
            state: &mut state,
            root: true,
        };
        let skeleton = seed.deserialize(&mut deserializer).ok()?;
        deserializer.end().ok()?;
        match state {
            ContentState::Object | ContentState::NotADocument => None,
            ContentState::Missing | ContentState::Array => Some(SplitPage {
                text,
                skeleton,
                spans,
            }),
        }
    }
}

/// The JSONPaths pagination reads from a response body, with their texts.
fn pagination_body_paths(pagination: &Pagination) -> Vec<(&str, &serde_json_path::JsonPath)> {
    match pagination {
        Pagination::Offset(offset) => offset
            .end_condition
            .iter()
            .map(|condition| (condition.path_text.as_str(), &condition.path))
            .collect(),
        Pagination::Pointer(pointer) => {
            vec![(pointer.pointer_path_text.as_str(), &pointer.pointer_path)]
        }
        Pagination::ContinuationToken(token) => {
            vec![(token.token_path_text.as_str(), &token.token_path)]
        }
        Pagination::Page(_) | Pagination::None => Vec::new(),
    }
}

/// What the walk found at the content path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ContentState {
    /// Nothing there, or a scalar: no records.
    Missing,
    /// An array: its elements are the records.
    Array,
    /// An object: one record, which the parsed path handles.
    Object,
    /// The body itself is a scalar.
    NotADocument,
}

struct NodeSeed<'c, 's> {
    chain: &'c [String],
    base: usize,
    spans: &'s mut Vec<Range<usize>>,
    state: &'s mut ContentState,
    root: bool,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl NodeSeed<'_, '_> {
    /// A scalar where the walk expected more: no records here (or no document at the root).
    fn scalar(self, value: Value) -> Value {
        if self.root {
            *self.state = ContentState::NotADocument;
        }
        value
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_, '_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(self.scalar(Value::Null))
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(self.scalar(Value::Bool(value)))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(self.scalar(Value::from(value)))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(self.scalar(Value::from(value)))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(self.scalar(Value::from(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(self.scalar(Value::String(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(self.scalar(Value::String(value)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if !self.chain.is_empty() {
            // An array on the way to the content: no records, and the array is pagination's.
            return serde::Deserialize::deserialize(SeqAccessDeserializer::new(seq));
        }
        self.spans.clear();
        while let Some(element) = seq.next_element::<&'de RawValue>()? {
            let text = element.get();
            let start = text.as_ptr() as usize - self.base;
            self.spans.push(start..start + text.len());
        }
        *self.state = ContentState::Array;
        Ok(Value::Array(Vec::new()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Some((member, rest)) = self.chain.split_first() else {
            *self.state = ContentState::Object;
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Value::Null);
        };
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = if &key == member {
                // A repeated key keeps its last value, as a parsed body would.
                self.spans.clear();
                *self.state = ContentState::Missing;
                map.next_value_seed(NodeSeed {
                    chain: rest,
                    base: self.base,
                    spans: &mut *self.spans,
                    state: &mut *self.state,
                    root: false,
                })?
            } else {
                map.next_value::<Value>()?
            };
            members.insert(key, value);
        }
        Ok(Value::Object(members))
    }
}
