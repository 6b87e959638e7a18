//! The records of one page as the runtime hands them on: parsed [`Value`]s, or — when the spec
//! needs no per-record tree work — the spans of the page's own JSON text, one per record, so
//! that no `Value` is built for a record that goes straight into a dataset.

use std::fmt;
use std::io::{self, Write};
use std::ops::Range;

use bytestring::ByteString;
use serde_json::Value;

/// One page's records.
#[derive(Clone)]
pub enum Records {
    /// Records built by extraction (wrapping, exploding, filtering attributes).
    Parsed(Vec<Value>),
    /// Records as they stand in the page's text.
    Text(RecordTexts),
}

/// Records as spans of one page's JSON text (checked to be UTF-8 once, for the whole page);
/// cloning shares the page.
#[derive(Clone)]
pub struct RecordTexts {
    page: ByteString,
    spans: Vec<Range<usize>>,
}

impl RecordTexts {
    /// The records of `page` at `spans` (each a whole JSON value).
    pub fn new(page: ByteString, spans: Vec<Range<usize>>) -> RecordTexts {
        debug_assert!(spans.iter().all(|span| page.get(span.clone()).is_some()));
        RecordTexts { page, spans }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The JSON text of the record at `index`.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.spans.get(index).map(|span| &self.page[span.clone()])
    }

    /// The JSON text of each record, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.spans.iter().map(|span| &self.page[span.clone()])
    }

    pub fn truncate(&mut self, len: usize) {
        self.spans.truncate(len);
    }
}

impl Records {
    pub fn len(&self) -> usize {
        match self {
            Records::Parsed(values) => values.len(),
            Records::Text(texts) => texts.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps the first `len` records.
    pub fn truncate(&mut self, len: usize) {
        match self {
            Records::Parsed(values) => values.truncate(len),
            Records::Text(texts) => texts.truncate(len),
        }
    }

    /// The records as values (text records are parsed here).
    pub fn into_values(self) -> Result<Vec<Value>, serde_json::Error> {
        match self {
            Records::Parsed(values) => Ok(values),
            Records::Text(texts) => texts.iter().map(serde_json::from_str).collect(),
        }
    }

    /// Writes each record as one line of compact JSON. Text records are copied as they are
    /// unless they span lines (only then are they parsed and written again).
    pub fn write_json_lines(&self, out: &mut impl Write) -> io::Result<()> {
        match self {
            Records::Parsed(values) => {
                for value in values {
                    serde_json::to_writer(&mut *out, value)?;
                    out.write_all(b"\n")?;
                }
            }
            Records::Text(texts) => {
                for text in texts.iter() {
                    // A JSON string cannot hold a raw line break, so one in the text is
                    // layout between tokens.
                    if text.bytes().any(|byte| matches!(byte, b'\n' | b'\r')) {
                        let value: Value = serde_json::from_str(text)?;
                        serde_json::to_writer(&mut *out, &value)?;
                    } else {
                        out.write_all(text.as_bytes())?;
                    }
                    out.write_all(b"\n")?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Records {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Records::Parsed(values) => formatter.debug_tuple("Parsed").field(values).finish(),
            Records::Text(texts) => formatter.debug_tuple("Text").field(texts).finish(),
        }
    }
}

impl fmt::Debug for RecordTexts {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_list().entries(self.iter()).finish()
    }
}
