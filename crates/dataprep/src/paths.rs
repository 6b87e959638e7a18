//! Paths of attribute mappings (reference §5): a source path addresses the record
//! (`customerInfo.emails[0].email`, `address.street\.name`, `${First Name}`, `emails[*].name`),
//! a destination path builds the output record (`person.name.firstName`, `piList[0]`,
//! `pi[*].names`), creating the objects and arrays on its way.
//!
//! Decisions where the reference is silent: a path holds at most one `[*]` (iterating an array
//! of arrays is written with two mappings); a source name containing a dot must be escaped
//! (`Full\.Name`) — the literal key is not tried first, so a path means one thing.

use crate::expr::{ParseError, Segment};
use crate::value::Value;

/// A step of a mapping path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Name(String),
    Index(usize),
    /// `[*]`: every element of the array.
    Each,
}

/// A parsed path (source or destination).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    steps: Vec<Step>,
}

impl Path {
    /// Parses `text`: names separated by `.`, `\` escaping the next character, `${…}` for a
    /// name with any characters, `[n]` and `[*]` after a name.
    pub fn parse(text: &str) -> Result<Path, ParseError> {
        let characters: Vec<char> = text.chars().collect();
        let mut steps = Vec::new();
        let mut name = String::new();
        let mut named = false;
        let mut at = 0;
        let finish_name =
            |name: &mut String, named: &mut bool, steps: &mut Vec<Step>, at: usize| {
                if !*named && name.is_empty() {
                    return Err(ParseError::new("a path has an empty name", at));
                }
                steps.push(Step::Name(std::mem::take(name)));
                *named = false;
                Ok(())
            };
        if characters.is_empty() {
            return Err(ParseError::new("the path is empty", 0));
        }
        while at < characters.len() {
            match characters[at] {
                '\\' => {
                    let escaped = characters
                        .get(at + 1)
                        .ok_or_else(|| ParseError::new("a backslash ends the path", at))?;
                    name.push(*escaped);
                    at += 2;
                }
                '$' if characters.get(at + 1) == Some(&'{') => {
                    // Inside `${…}` every character is part of the name; `\` escapes the next.
                    let start = at;
                    at += 2;
                    loop {
                        match characters.get(at) {
                            None => return Err(ParseError::new("a ${ has no closing }", start)),
                            Some('}') => break,
                            Some('\\') if at + 1 < characters.len() => {
                                name.push(characters[at + 1]);
                                at += 2;
                            }
                            Some(other) => {
                                name.push(*other);
                                at += 1;
                            }
                        }
                    }
                    named = true;
                    at += 1;
                }
                '.' => {
                    if !matches!(steps.last(), Some(Step::Index(_) | Step::Each))
                        || !name.is_empty()
                        || named
                    {
                        finish_name(&mut name, &mut named, &mut steps, at)?;
                    }
                    at += 1;
                }
                '[' => {
                    if !name.is_empty() || named {
                        finish_name(&mut name, &mut named, &mut steps, at)?;
                    } else if steps.is_empty() {
                        return Err(ParseError::new("an index must follow a name", at));
                    }
                    let close = characters[at..]
                        .iter()
                        .position(|character| *character == ']')
                        .ok_or_else(|| ParseError::new("a [ has no closing ]", at))?;
                    let inside: String = characters[at + 1..at + close].iter().collect();
                    let step = if inside.trim() == "*" {
                        Step::Each
                    } else {
                        Step::Index(inside.trim().parse().map_err(|_| {
                            ParseError::new(
                                format!("[{inside}] is not an index (a number or *)"),
                                at,
                            )
                        })?)
                    };
                    steps.push(step);
                    at += close + 1;
                }
                other => {
                    name.push(other);
                    at += 1;
                }
            }
        }
        if !name.is_empty() || named || !matches!(steps.last(), Some(Step::Index(_) | Step::Each)) {
            finish_name(&mut name, &mut named, &mut steps, characters.len())?;
        }
        if steps.iter().filter(|step| **step == Step::Each).count() > 1 {
            return Err(ParseError::new(
                "a path may iterate ([*]) one array only",
                0,
            ));
        }
        Ok(Path { steps })
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Whether the path iterates an array (`[*]`).
    pub fn iterates(&self) -> bool {
        self.steps.contains(&Step::Each)
    }

    /// The path as the expression language's field segments, when it does not iterate.
    pub fn segments(&self) -> Option<Vec<Segment>> {
        self.steps
            .iter()
            .map(|step| match step {
                Step::Name(name) => Some(Segment::Name(name.clone())),
                Step::Index(index) => Some(Segment::Index(*index)),
                Step::Each => None,
            })
            .collect()
    }

    /// What the path reads from `record`: one value (`None` when absent), or, for a path with
    /// `[*]`, one per element of the iterated array (`Err(())` when that array is absent).
    pub fn read<'a>(&self, record: &'a Value) -> Read<'a> {
        let Some(each) = self.steps.iter().position(|step| *step == Step::Each) else {
            return Read::One(walk(record, &self.steps));
        };
        match walk(record, &self.steps[..each]) {
            Some(Value::Array(items)) => Read::Each(
                items
                    .iter()
                    .map(|item| walk(item, &self.steps[each + 1..]))
                    .collect(),
            ),
            _ => Read::Each(Vec::new()),
        }
    }

    /// Writes `value` at the path into `output` (an object), creating what is missing; for a
    /// path with `[*]`, `value` must be an array and element `i` goes to element `i`.
    pub fn write(&self, output: &mut Value, value: Value) {
        write(output, &self.steps, value);
    }
}

/// What a source path read.
#[derive(Debug, PartialEq)]
pub enum Read<'a> {
    One(Option<&'a Value>),
    Each(Vec<Option<&'a Value>>),
}

fn walk<'a>(value: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    steps
        .iter()
        .try_fold(value, |value, step| match (value, step) {
            (Value::Object(fields), Step::Name(name)) => fields.get(name),
            (Value::Array(items), Step::Index(index)) => items.get(*index),
            _ => None,
        })
}

fn write(target: &mut Value, steps: &[Step], value: Value) {
    let Some((step, rest)) = steps.split_first() else {
        *target = value;
        return;
    };
    match step {
        Step::Name(name) => {
            if !matches!(target, Value::Object(_)) {
                *target = Value::Object(Default::default());
            }
            let Value::Object(fields) = target else {
                unreachable!("made an object")
            };
            let child = fields.entry(name.clone()).or_insert(Value::Null);
            write(child, rest, value);
        }
        Step::Index(index) => {
            let items = array_of(target);
            if items.len() <= *index {
                items.resize(*index + 1, Value::Null);
            }
            write(&mut items[*index], rest, value);
        }
        Step::Each => {
            let Value::Array(values) = value else {
                write(target, &[], value);
                return;
            };
            let items = array_of(target);
            if items.len() < values.len() {
                items.resize(values.len(), Value::Null);
            }
            for (item, element) in items.iter_mut().zip(values) {
                write(item, rest, element);
            }
        }
    }
}

fn array_of(target: &mut Value) -> &mut Vec<Value> {
    if !matches!(target, Value::Array(_)) {
        *target = Value::Array(Vec::new());
    }
    let Value::Array(items) = target else {
        unreachable!("made an array")
    };
    items
}
