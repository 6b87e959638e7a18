//! String functions (reference §7.1). `equals`/`equalsIgnoreCase` are method calls, evaluated
//! by the expression evaluator, not functions of this library.
//!
//! Null: an argument that is null acts as the empty string (`concat("a", null)` is `"a"`,
//! `upper(null)` is `""`), following JEXL's lenient concatenation (§6.4), except where the
//! reference names the Java behaviour: `lpad`/`rpad` of null are null (`StringUtils.leftPad`).
//! Positions and lengths count characters (Unicode scalar values; Java counts UTF-16 units,
//! which differs only outside the Basic Multilingual Plane); `instr` and `substr` are 0-based,
//! as the reference's examples show.

use crate::functions::args::Args;
use crate::functions::regex::{Anchoring, compile};
use crate::functions::{CallContext, Function, FunctionError};
use crate::value::Value;

pub static STRING_FUNCTIONS: &[Function] = &[
    Function::new("concat", 0, None, concat),
    Function::new("explode", 1, Some(2), explode),
    Function::new("instr", 2, Some(4), instr),
    Function::new("replacestr", 3, Some(3), replacestr),
    Function::new("substr", 3, Some(3), substr),
    Function::new("lower", 1, Some(1), lower),
    Function::new("lcase", 1, Some(1), lower),
    Function::new("upper", 1, Some(1), upper),
    Function::new("ucase", 1, Some(1), upper),
    Function::new("split", 2, Some(2), split),
    Function::new("join", 2, Some(2), join),
    Function::new("lpad", 3, Some(3), lpad),
    Function::new("rpad", 3, Some(3), rpad),
    Function::new("left", 2, Some(2), left),
    Function::new("right", 2, Some(2), right),
    Function::new("ltrim", 1, Some(1), ltrim),
    Function::new("rtrim", 1, Some(1), rtrim),
    Function::new("trim", 1, Some(1), trim),
];

type Outcome = Result<Value, FunctionError>;

fn concat(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("concat", values);
    let mut joined = String::new();
    for index in 0..args.len() {
        joined.push_str(&args.text(index, "STRING")?);
    }
    Ok(Value::Str(joined))
}

fn strings(parts: Vec<String>) -> Value {
    Value::Array(parts.into_iter().map(Value::Str).collect())
}

/// Java's `String.split(regex)`: a zero-width match at the start yields no leading empty
/// part, trailing empty parts are removed, and no match at all yields the whole input.
pub(crate) fn java_split(
    args: &Args<'_>,
    input: &str,
    regex: &fancy_regex::Regex,
) -> Result<Vec<String>, FunctionError> {
    let mut parts = Vec::new();
    let mut start = 0;
    for found in regex.find_iter(input) {
        let found = found.map_err(|error| args.error(format!("regex failed: {error}")))?;
        if found.end() == 0 {
            continue;
        }
        parts.push(input[start..found.start()].to_owned());
        start = found.end();
    }
    if start == 0 && parts.is_empty() {
        return Ok(vec![input.to_owned()]);
    }
    parts.push(input[start..].to_owned());
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    Ok(parts)
}

fn explode(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("explode", values);
    let input = args.text(0, "STRING")?;
    let pattern = args
        .optional_text(1, "REGEX")?
        .unwrap_or_else(|| ",".into());
    let regex = compile(&args, 1, "REGEX", &pattern, Anchoring::Anywhere)?;
    Ok(strings(java_split(&args, &input, &regex)?))
}

/// Apache `StringUtils.split(str, separatorChars)`: every character of the separator splits,
/// runs of separators count as one, empty tokens are dropped; a null separator splits on
/// whitespace.
fn split(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("split", values);
    let input = args.text(0, "INPUT")?;
    let separators = args.optional_text(1, "SEPARATOR")?;
    let is_separator = |character: char| match &separators {
        Some(separators) => separators.contains(character),
        None => character.is_whitespace(),
    };
    Ok(strings(
        input
            .split(is_separator)
            .filter(|token| !token.is_empty())
            .map(str::to_owned)
            .collect(),
    ))
}

/// The character index of the `occurrence`-th occurrence of `needle` at or after character
/// `start`, occurrences allowed to overlap (Oracle's `INSTR`).
fn nth_occurrence(haystack: &str, needle: &str, start: usize, occurrence: usize) -> Option<usize> {
    let boundaries: Vec<usize> = haystack
        .char_indices()
        .map(|(offset, _)| offset)
        .chain(std::iter::once(haystack.len()))
        .collect();
    let mut remaining = occurrence;
    for (position, &offset) in boundaries.iter().enumerate().skip(start) {
        if haystack[offset..].starts_with(needle) {
            remaining -= 1;
            if remaining == 0 {
                return Some(position);
            }
        }
    }
    None
}

fn instr(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("instr", values);
    let input = args.text(0, "INPUT")?;
    let substring = args.text(1, "SUBSTRING")?;
    let start = match args.get(2) {
        Value::Null => 0,
        _ => args.integer_in(2, "START_POSITION", 0..=i64::MAX)? as usize,
    };
    let occurrence = match args.get(3) {
        Value::Null => 1,
        _ => args.integer_in(3, "OCCURRENCE", 1..=i64::MAX)? as usize,
    };
    let found = nth_occurrence(&input, &substring, start, occurrence);
    Ok(Value::Int(found.map_or(-1, |position| position as i64)))
}

fn replacestr(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("replacestr", values);
    let input = args.text(0, "INPUT")?;
    let to_find = args.text(1, "TO_FIND")?;
    let to_replace = args.text(2, "TO_REPLACE")?;
    Ok(Value::Str(input.replace(&to_find, &to_replace)))
}

/// The characters from `start` on, at most `count` of them; out-of-range bounds are clamped.
fn char_slice(text: &str, start: usize, count: usize) -> String {
    text.chars().skip(start).take(count).collect()
}

fn substr(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("substr", values);
    let input = args.text(0, "INPUT")?;
    let start = args.integer_in(1, "START_INDEX", 0..=i64::MAX)? as usize;
    let length = args.integer_in(2, "LENGTH", 0..=i64::MAX)? as usize;
    Ok(Value::Str(char_slice(&input, start, length)))
}

fn lower(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("lower", values);
    Ok(Value::Str(args.text(0, "INPUT")?.to_lowercase()))
}

fn upper(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("upper", values);
    Ok(Value::Str(args.text(0, "INPUT")?.to_uppercase()))
}

fn join(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("join", values);
    let separator = args.text(0, "SEPARATOR")?;
    let items = args.array(1, "ARRAY")?;
    let texts: Vec<String> = items.iter().map(Value::to_text).collect();
    Ok(Value::Str(texts.join(&separator)))
}

/// Which side `pad` pads.
#[derive(Clone, Copy)]
enum Side {
    Left,
    Right,
}

/// `StringUtils.leftPad`/`rightPad`: the padding repeated and cut to fill up to `size`
/// characters; an empty or null padding is one space; a longer input is kept whole.
fn pad(values: &[Value], function: &'static str, side: Side) -> Outcome {
    let args = Args::new(function, values);
    let Some(input) = args.optional_text(0, "INPUT")? else {
        return Ok(Value::Null);
    };
    let size = args.integer(1, "COUNT")?;
    let padding = args
        .optional_text(2, "PADDING")?
        .filter(|padding| !padding.is_empty())
        .unwrap_or_else(|| " ".into());
    let missing = usize::try_from(size)
        .unwrap_or(0)
        .saturating_sub(input.chars().count());
    let filler: String = padding.chars().cycle().take(missing).collect();
    Ok(Value::Str(match side {
        Side::Left => filler + &input,
        Side::Right => input + &filler,
    }))
}

fn lpad(values: &[Value], _: &CallContext<'_>) -> Outcome {
    pad(values, "lpad", Side::Left)
}

fn rpad(values: &[Value], _: &CallContext<'_>) -> Outcome {
    pad(values, "rpad", Side::Right)
}

/// `StringUtils.left`/`right`: a negative count is the empty string, a count past the end the
/// whole input.
fn left(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("left", values);
    let input = args.text(0, "STRING")?;
    let count = usize::try_from(args.integer(1, "COUNT")?).unwrap_or(0);
    Ok(Value::Str(char_slice(&input, 0, count)))
}

fn right(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("right", values);
    let input = args.text(0, "STRING")?;
    let count = usize::try_from(args.integer(1, "COUNT")?).unwrap_or(0);
    let length = input.chars().count();
    Ok(Value::Str(char_slice(
        &input,
        length.saturating_sub(count),
        count,
    )))
}

fn ltrim(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("ltrim", values);
    Ok(Value::Str(args.text(0, "STRING")?.trim_start().to_owned()))
}

fn rtrim(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("rtrim", values);
    Ok(Value::Str(args.text(0, "STRING")?.trim_end().to_owned()))
}

fn trim(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("trim", values);
    Ok(Value::Str(args.text(0, "STRING")?.trim().to_owned()))
}
