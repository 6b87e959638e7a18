//! Regular-expression functions (reference §7.2), in Java's dialect as far as `fancy_regex`
//! speaks it (look-around, back-references, possessive quantifiers and atomic groups).
//!
//! `matches_regex` is Java's `String.matches`: the whole string must match. `extract_regex` is
//! `Matcher.find`: the first match anywhere, as an array of the whole match followed by each
//! capture group (null for a group that took no part); null when nothing matches. A null
//! string acts as the empty string.
//!
//! Patterns are compiled once per thread and kept (up to a small bound), since a mapping
//! applies the same literal pattern to every record; `explode` shares the cache.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use fancy_regex::Regex;

use crate::functions::args::{Args, quote};
use crate::functions::{CallContext, Function, FunctionError};
use crate::value::Value;

pub static REGEX_FUNCTIONS: &[Function] = &[
    Function::new("extract_regex", 2, Some(2), extract_regex),
    Function::new("matches_regex", 2, Some(2), matches_regex),
];

/// How a pattern must match.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Anchoring {
    /// Anywhere (`Matcher.find`, `String.split`).
    Anywhere,
    /// The whole input (`String.matches`).
    Whole,
}

/// How many compiled patterns a thread keeps; a mapping set uses a handful.
const CACHE_CAPACITY: usize = 64;

thread_local! {
    /// Patterns are usually literals of the mapping, the same for every record: compiling
    /// each once per thread keeps a run from recompiling them per record.
    static COMPILED: RefCell<HashMap<(String, Anchoring), Rc<Regex>>> =
        RefCell::new(HashMap::new());
}

/// Compiles the pattern given as argument `index` (or takes it from the thread's cache),
/// naming the argument in the error.
pub(crate) fn compile(
    args: &Args<'_>,
    index: usize,
    name: &str,
    pattern: &str,
    anchoring: Anchoring,
) -> Result<Rc<Regex>, FunctionError> {
    cached(pattern, anchoring).map_err(|error| {
        args.invalid(
            index,
            name,
            &format!(
                "is not a valid regular expression {}: {error}",
                quote(pattern)
            ),
        )
    })
}

/// `pattern` compiled with `anchoring`, from the thread's cache when it was compiled before
/// (the language's `=~` uses it too).
pub(crate) fn cached(pattern: &str, anchoring: Anchoring) -> Result<Rc<Regex>, fancy_regex::Error> {
    let key = (pattern.to_owned(), anchoring);
    if let Some(regex) = COMPILED.with(|cache| cache.borrow().get(&key).cloned()) {
        return Ok(regex);
    }
    let source = match anchoring {
        Anchoring::Anywhere => pattern.to_owned(),
        // The group keeps an alternation of the pattern inside the anchors.
        Anchoring::Whole => format!(r"\A(?:{pattern})\z"),
    };
    let regex = Rc::new(Regex::new(&source)?);
    COMPILED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(key, Rc::clone(&regex));
    });
    Ok(regex)
}

fn failed(args: &Args<'_>, error: fancy_regex::Error) -> FunctionError {
    args.error(format!("regular expression failed: {error}"))
}

fn extract_regex(values: &[Value], _: &CallContext<'_>) -> Result<Value, FunctionError> {
    let args = Args::new("extract_regex", values);
    let input = args.text(0, "STRING")?;
    let regex = compile(
        &args,
        1,
        "REGEX",
        &args.text(1, "REGEX")?,
        Anchoring::Anywhere,
    )?;
    let Some(captures) = regex
        .captures(&input)
        .map_err(|error| failed(&args, error))?
    else {
        return Ok(Value::Null);
    };
    Ok(Value::Array(
        (0..captures.len())
            .map(|group| {
                captures
                    .get(group)
                    .map_or(Value::Null, |found| Value::Str(found.as_str().to_owned()))
            })
            .collect(),
    ))
}

fn matches_regex(values: &[Value], _: &CallContext<'_>) -> Result<Value, FunctionError> {
    let args = Args::new("matches_regex", values);
    let input = args.text(0, "STRING")?;
    let pattern = args.text(1, "REGEX")?;
    let regex = compile(&args, 1, "REGEX", &pattern, Anchoring::Whole)?;
    let matched = regex
        .is_match(&input)
        .map_err(|error| failed(&args, error))?;
    Ok(Value::Bool(matched))
}
