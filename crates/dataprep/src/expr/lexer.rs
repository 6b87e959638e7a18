//! Tokens of an expression (reference §6.2): identifiers (with `\` escaping the next
//! character, so `street\.name` is one name), `${…}` names, single- or double-quoted strings
//! with backslash escapes, integer and decimal numbers, and the operators of §6.3.

use super::ParseError;

/// One token and where it starts (a character offset into the expression).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub position: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// A bare identifier (a field name, a function name or a word operator).
    Ident(String),
    /// A `${…}` name: always a field, never a keyword or a function.
    Braced(String),
    Str(String),
    Int(i64),
    Float(f64),
    /// Punctuation and symbolic operators, as written (`(`, `==`, `?:`…).
    Symbol(&'static str),
    End,
}

/// Symbols, longest first so that `==` is not read as `=`.
const SYMBOLS: [&str; 30] = [
    "?:", "==", "!=", "<=", ">=", "&&", "||", "=~", "!~", "->", "(", ")", "[", "]", "{", "}", ",",
    ".", ":", "?", "+", "-", "*", "/", "%", "<", ">", "!", "&", "|",
];
/// Single-character symbols not in [`SYMBOLS`] (kept apart to keep that list short).
const MORE_SYMBOLS: [&str; 2] = ["^", "~"];

fn is_identifier_start(character: char) -> bool {
    character.is_alphabetic() || character == '_' || character == '$' || character == '@'
}

fn is_identifier_part(character: char) -> bool {
    character.is_alphanumeric() || character == '_' || character == '$' || character == '@'
}

/// The tokens of `text`, ending with [`TokenKind::End`].
pub fn tokenize(text: &str) -> Result<Vec<Token>, ParseError> {
    let characters: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < characters.len() {
        let character = characters[at];
        if character.is_whitespace() {
            at += 1;
            continue;
        }
        let start = at;
        let kind = if character == '$' && characters.get(at + 1) == Some(&'{') {
            let (name, next) = braced_name(&characters, at + 2, start)?;
            at = next;
            TokenKind::Braced(name)
        } else if is_identifier_start(character) || character == '\\' {
            let mut name = String::new();
            while at < characters.len() {
                match characters[at] {
                    '\\' => {
                        let escaped = characters.get(at + 1).ok_or_else(|| {
                            ParseError::new("a backslash ends the expression", at)
                        })?;
                        name.push(*escaped);
                        at += 2;
                    }
                    part if is_identifier_part(part) => {
                        name.push(part);
                        at += 1;
                    }
                    _ => break,
                }
            }
            TokenKind::Ident(name)
        } else if character == '"' || character == '\'' {
            let (value, next) = string_literal(&characters, at + 1, character, start)?;
            at = next;
            TokenKind::Str(value)
        } else if character.is_ascii_digit() {
            let (number, next) = number_literal(&characters, at, start)?;
            at = next;
            number
        } else {
            let rest: String = characters[at..characters.len().min(at + 2)]
                .iter()
                .collect();
            let symbol = SYMBOLS
                .iter()
                .chain(MORE_SYMBOLS.iter())
                .find(|symbol| rest.starts_with(**symbol))
                .ok_or_else(|| {
                    ParseError::new(format!("unexpected character '{character}'"), at)
                })?;
            at += symbol.chars().count();
            TokenKind::Symbol(symbol)
        };
        tokens.push(Token {
            kind,
            position: start,
        });
    }
    tokens.push(Token {
        kind: TokenKind::End,
        position: characters.len(),
    });
    Ok(tokens)
}

/// The name inside `${…}` from `at`, and the offset after its `}`.
fn braced_name(
    characters: &[char],
    mut at: usize,
    start: usize,
) -> Result<(String, usize), ParseError> {
    let mut name = String::new();
    while at < characters.len() {
        match characters[at] {
            '}' => return Ok((name, at + 1)),
            '\\' if at + 1 < characters.len() => {
                name.push(characters[at + 1]);
                at += 2;
            }
            other => {
                name.push(other);
                at += 1;
            }
        }
    }
    Err(ParseError::new("a ${ has no closing }", start))
}

/// A string literal's value from `at` (after its opening `quote`), and the offset after it.
fn string_literal(
    characters: &[char],
    mut at: usize,
    quote: char,
    start: usize,
) -> Result<(String, usize), ParseError> {
    let mut value = String::new();
    while at < characters.len() {
        match characters[at] {
            character if character == quote => return Ok((value, at + 1)),
            '\\' => {
                let escaped = *characters
                    .get(at + 1)
                    .ok_or_else(|| ParseError::new("a string ends with a backslash", at))?;
                at += 2;
                match escaped {
                    'n' => value.push('\n'),
                    't' => value.push('\t'),
                    'r' => value.push('\r'),
                    'b' => value.push('\u{8}'),
                    'f' => value.push('\u{c}'),
                    'u' => {
                        let digits: String = characters
                            .get(at..at + 4)
                            .unwrap_or_default()
                            .iter()
                            .collect();
                        let code = u32::from_str_radix(&digits, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or_else(|| {
                                ParseError::new("\\u needs four hexadecimal digits", at - 2)
                            })?;
                        value.push(code);
                        at += 4;
                    }
                    // `\"`, `\'`, `\\` and any other escaped character stand for themselves
                    // (Data Prep's regex arguments write `'\\|'`).
                    other => value.push(other),
                }
            }
            other => {
                value.push(other);
                at += 1;
            }
        }
    }
    Err(ParseError::new(
        format!("a string opened with {quote} is not closed"),
        start,
    ))
}

/// An integer or decimal literal from `at`, and the offset after it.
fn number_literal(
    characters: &[char],
    mut at: usize,
    start: usize,
) -> Result<(TokenKind, usize), ParseError> {
    let mut text = String::new();
    while at < characters.len() && characters[at].is_ascii_digit() {
        text.push(characters[at]);
        at += 1;
    }
    let fraction =
        at + 1 < characters.len() && characters[at] == '.' && characters[at + 1].is_ascii_digit();
    if fraction {
        text.push('.');
        at += 1;
        while at < characters.len() && characters[at].is_ascii_digit() {
            text.push(characters[at]);
            at += 1;
        }
    }
    // JEXL's type suffixes: `L` long, `d`/`f` floating.
    let suffix = characters.get(at).copied();
    let floating = fraction || matches!(suffix, Some('d' | 'D' | 'f' | 'F'));
    if matches!(suffix, Some('l' | 'L' | 'd' | 'D' | 'f' | 'F')) {
        at += 1;
    }
    if characters
        .get(at)
        .is_some_and(|next| is_identifier_part(*next))
    {
        return Err(ParseError::new(
            format!("'{text}' is followed by a letter: not a number"),
            start,
        ));
    }
    let kind =
        if floating {
            TokenKind::Float(
                text.parse()
                    .map_err(|_| ParseError::new("not a number", start))?,
            )
        } else {
            TokenKind::Int(text.parse().map_err(|_| {
                ParseError::new(format!("{text} is too large for an integer"), start)
            })?)
        };
    Ok((kind, at))
}
