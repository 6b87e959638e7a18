//! The function library of Data Prep's expression language (reference §7), one module per
//! family, all registered in [`FAMILIES`]: a name, how many arguments it takes (checked when
//! a mapping set is validated, not per record) and the function itself.
//!
//! A function receives its evaluated arguments and the [`CallContext`] of the record; it
//! returns the value or a [`FunctionError`] — a transformation error: the destination becomes
//! null and the run records a warning (reference §6.4).

mod args;
pub mod arrays;
mod date_pattern;
pub mod dates;
pub mod hashing;
pub mod logic;
pub mod objects;
pub mod regex;
pub mod strings;
pub mod urls;

use jiff::ZonedDateTime;

use crate::value::Value;

/// What a function may read besides its arguments.
pub struct CallContext<'a> {
    /// The source record the mapping reads (`contains_key` looks into it).
    pub record: &'a Value,
    /// The instant of the run (`now()`, `timestamp()`), fixed for a run so every record of it
    /// sees the same time.
    pub now: &'a ZonedDateTime,
}

/// Why a function could not compute its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{function}: {message}")]
pub struct FunctionError {
    pub function: &'static str,
    pub message: String,
}

impl FunctionError {
    pub fn new(function: &'static str, message: impl Into<String>) -> FunctionError {
        FunctionError {
            function,
            message: message.into(),
        }
    }
}

/// The signature of every function.
pub type Call = fn(&[Value], &CallContext<'_>) -> Result<Value, FunctionError>;

/// One function of the library.
pub struct Function {
    pub name: &'static str,
    /// The fewest arguments it takes.
    pub min_args: usize,
    /// The most (`None`: any number).
    pub max_args: Option<usize>,
    pub call: Call,
}

impl Function {
    pub const fn new(
        name: &'static str,
        min_args: usize,
        max_args: Option<usize>,
        call: Call,
    ) -> Function {
        Function {
            name,
            min_args,
            max_args,
            call,
        }
    }

    /// Whether `count` arguments are accepted.
    pub fn accepts(&self, count: usize) -> bool {
        count >= self.min_args && self.max_args.is_none_or(|max| count <= max)
    }

    /// How many arguments it takes, for messages ("2", "1 to 3", "at least 1").
    pub fn arity(&self) -> String {
        match self.max_args {
            Some(max) if max == self.min_args => max.to_string(),
            Some(max) => format!("{} to {max}", self.min_args),
            None => format!("at least {}", self.min_args),
        }
    }
}

/// The function named `name` (names are case-sensitive, as in Data Prep).
pub fn lookup(name: &str) -> Option<&'static Function> {
    FAMILIES
        .iter()
        .flat_map(|(_, family)| family.iter())
        .find(|function| function.name == name)
}

/// Every function, by family, with the category `/languages/el/functions` lists it under (the
/// headings of Adobe's functions page).
pub static FAMILIES: &[(&str, &[Function])] = &[
    ("String", strings::STRING_FUNCTIONS),
    ("Regular expression", regex::REGEX_FUNCTIONS),
    ("Hashing", hashing::HASHING_FUNCTIONS),
    ("URL", urls::URL_FUNCTIONS),
    ("Date / Time", dates::DATE_FUNCTIONS),
    ("Hierarchies - Objects", objects::OBJECT_FUNCTIONS),
    ("Hierarchies - Arrays", arrays::ARRAY_FUNCTIONS),
    (
        "Logical, aggregation, conversion, JSON and special",
        logic::LOGIC_FUNCTIONS,
    ),
];
