//! A mapping set's mappings compiled once and applied to every record of a run (reference §4.2,
//! §5, §6.5): each mapping reads its source — an attribute path, an expression, or a static
//! value — and writes the result at its destination path in a fresh output record.
//!
//! - An absent source attribute, a null value and an expression answering null (`nullify()`)
//!   write nothing, unless the mapping set allows null values (`allowNullValues`), when an
//!   explicit `null` is written (§5.4).
//! - An expression that fails for a record (a transformation error, §6.4) writes nothing and
//!   leaves a warning naming the mapping; the rest of the record goes on.
//! - An attribute path with `[*]` into a destination with `[*]` fills one destination element
//!   per source element, and several such mappings into one array zip by position (§5.2).
//! - `sourceType` is accepted in both forms Adobe uses (`ATTRIBUTE`, `EXPRESSION`, `STATIC`, or
//!   the stored `text/x.schema-path`, `text/x.aep-xl`, `text/plain`), in any case (§4.3).

use crate::expr::{Expression, ParseError};
use crate::functions::CallContext;
use crate::paths::{Path, Read};
use crate::value::Value;

/// How a mapping's `source` is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceType {
    Attribute,
    Expression,
    Static,
}

impl SourceType {
    /// The type a request names, in either of Adobe's spellings.
    pub fn parse(text: &str) -> Option<SourceType> {
        match text.trim().to_ascii_lowercase().as_str() {
            "attribute" | "text/x.schema-path" => Some(SourceType::Attribute),
            "expression" | "text/x.aep-xl" => Some(SourceType::Expression),
            "static" | "text/plain" => Some(SourceType::Static),
            _ => None,
        }
    }

    /// The stored form Adobe returns on reads.
    pub fn stored(self) -> &'static str {
        match self {
            SourceType::Attribute => "text/x.schema-path",
            SourceType::Expression => "text/x.aep-xl",
            SourceType::Static => "text/plain",
        }
    }
}

/// One mapping as a mapping set holds it (the canonical model of both request dialects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingSpec {
    pub source_type: SourceType,
    pub source: String,
    pub destination: String,
}

/// Where a mapping is wrong: its index in the mapping set, the field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingProblem {
    pub index: usize,
    /// `source` or `destination`.
    pub field: &'static str,
    pub error: ParseError,
}

impl MappingProblem {
    /// The JSON pointer of the field in a mapping set body (`/mappings/3/source`).
    pub fn pointer(&self) -> String {
        format!("/mappings/{}/{}", self.index, self.field)
    }
}

#[derive(Debug, Clone)]
enum Source {
    Attribute(Path),
    Expression(Expression),
    Static(Value),
}

#[derive(Debug, Clone)]
struct Compiled {
    source: Source,
    destination: Path,
    /// The mapping as written, for warnings.
    label: String,
}

/// The mappings of a mapping set, parsed once.
#[derive(Debug, Clone)]
pub struct Mappings {
    mappings: Vec<Compiled>,
    allow_null_values: bool,
}

/// A record shaped by the mappings, with the transformation errors met on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub record: Value,
    pub warnings: Vec<String>,
}

impl Mappings {
    /// Parses every mapping: every problem at once, each at its mapping's pointer.
    pub fn compile(
        specs: &[MappingSpec],
        allow_null_values: bool,
    ) -> Result<Mappings, Vec<MappingProblem>> {
        let mut mappings = Vec::new();
        let mut problems = Vec::new();
        for (index, spec) in specs.iter().enumerate() {
            let source = match spec.source_type {
                SourceType::Attribute => Path::parse(&spec.source).map(Source::Attribute),
                SourceType::Expression => Expression::parse(&spec.source).map(Source::Expression),
                SourceType::Static => Ok(Source::Static(Value::Str(spec.source.clone()))),
            };
            let destination = Path::parse(&spec.destination);
            match (source, destination) {
                (Ok(source), Ok(destination)) => {
                    if destination.iterates()
                        && !matches!(&source, Source::Attribute(path) if path.iterates())
                    {
                        problems.push(MappingProblem {
                            index,
                            field: "destination",
                            error: ParseError::new(
                                "a destination with [*] needs a source attribute path with [*]",
                                0,
                            ),
                        });
                        continue;
                    }
                    mappings.push(Compiled {
                        source,
                        destination,
                        label: format!("{} → {}", spec.source, spec.destination),
                    });
                }
                (source, destination) => {
                    if let Err(error) = source {
                        problems.push(MappingProblem {
                            index,
                            field: "source",
                            error,
                        });
                    }
                    if let Err(error) = destination {
                        problems.push(MappingProblem {
                            index,
                            field: "destination",
                            error,
                        });
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(Mappings {
                mappings,
                allow_null_values,
            })
        } else {
            Err(problems)
        }
    }

    /// The record `record` becomes; `now` is the run's instant.
    pub fn apply(&self, record: &Value, now: &jiff::ZonedDateTime) -> Mapped {
        let mut output = Value::Object(Default::default());
        let mut warnings = Vec::new();
        let context = CallContext { record, now };
        for mapping in &self.mappings {
            let value = match &mapping.source {
                Source::Static(value) => Some(value.clone()),
                Source::Attribute(path) => match path.read(record) {
                    Read::One(found) => found.cloned(),
                    Read::Each(found) => {
                        if mapping.destination.iterates() {
                            let elements = found
                                .into_iter()
                                .map(|element| element.cloned().unwrap_or(Value::Null))
                                .collect();
                            Some(Value::Array(elements))
                        } else {
                            Some(Value::Array(found.into_iter().flatten().cloned().collect()))
                        }
                    }
                },
                Source::Expression(expression) => match expression.evaluate(&context) {
                    Ok(value) => Some(value),
                    Err(error) => {
                        warnings.push(format!("{}: {error}", mapping.label));
                        None
                    }
                },
            };
            match value {
                Some(Value::Null) | None if self.allow_null_values => {
                    mapping.destination.write(&mut output, Value::Null)
                }
                Some(Value::Null) | None => {}
                Some(value) => mapping.destination.write(&mut output, value),
            }
        }
        Mapped {
            record: output,
            warnings,
        }
    }
}
