//! Data Prep's expression language (reference §6): a JEXL 3 subset, parsed once per mapping
//! into an [`Expression`] and evaluated per record against it.
//!
//! Written by hand (lexer, a precedence-climbing parser, a tree-walking evaluator) rather than
//! on a crate: the language is JEXL's, whose grammar, coercions (`"1" == 1`, integer division,
//! `+` concatenating strings) and method calls (`s.equalsIgnoreCase(t)`) no Rust expression
//! crate reproduces, and the subset a mapping needs is small. Parsing resolves every function
//! name and checks its arity, so an unknown function or a wrong number of arguments is found
//! when a mapping set is written, with the offset of the call; nothing is looked up per record.

mod eval;
mod lexer;
mod parser;

use crate::functions::Call;
use crate::value::Value;

pub use eval::EvalError;

/// The longest expression Data Prep accepts (calculated fields, reference §6.2).
pub const MAX_EXPRESSION_CHARS: usize = 4096;

/// Why an expression does not parse: what and where (a character offset).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {position})")]
pub struct ParseError {
    pub message: String,
    pub position: usize,
}

impl ParseError {
    pub fn new(message: impl Into<String>, position: usize) -> ParseError {
        ParseError {
            message: message.into(),
            position,
        }
    }
}

/// A step of a field path: a member name, or an array index.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Name(String),
    Index(usize),
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Negate,
    BitNot,
    /// `empty x`: null, `""`, `[]` or `{}`.
    Empty,
    /// `size x`: length of a string, array or object.
    Size,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    Remainder,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    /// `=~`: regex match of the left side's text, or membership in an array.
    Matches,
    NotMatches,
    And,
    Or,
    BitAnd,
    BitOr,
    BitXor,
}

/// Methods callable on values (`expr.method(…)`), as Java's `String` and `Map` offer them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Equals,
    EqualsIgnoreCase,
    /// `map.get(key)`, `array.get(index)`.
    Get,
    ToUpperCase,
    ToLowerCase,
    Trim,
    Length,
    IsEmpty,
    Contains,
    StartsWith,
    EndsWith,
    IndexOf,
    Substring,
    Replace,
    ToString,
}

impl Method {
    /// The method named `name`, with how many arguments it takes (`(min, max)`).
    pub fn named(name: &str) -> Option<(Method, usize, usize)> {
        Some(match name {
            "equals" => (Method::Equals, 1, 1),
            "equalsIgnoreCase" => (Method::EqualsIgnoreCase, 1, 1),
            "get" => (Method::Get, 1, 1),
            "toUpperCase" => (Method::ToUpperCase, 0, 0),
            "toLowerCase" => (Method::ToLowerCase, 0, 0),
            "trim" => (Method::Trim, 0, 0),
            "length" | "size" => (Method::Length, 0, 0),
            "isEmpty" => (Method::IsEmpty, 0, 0),
            "contains" => (Method::Contains, 1, 1),
            "startsWith" => (Method::StartsWith, 1, 1),
            "endsWith" => (Method::EndsWith, 1, 1),
            "indexOf" => (Method::IndexOf, 1, 1),
            "substring" => (Method::Substring, 1, 2),
            "replace" => (Method::Replace, 2, 2),
            "toString" => (Method::ToString, 0, 0),
            _ => return None,
        })
    }
}

/// A parsed expression.
#[derive(Debug, Clone)]
pub enum Expr {
    Literal(Value),
    /// A path into the source record (`customerInfo.emails[0].email`, `${First Name}`).
    Field(Vec<Segment>),
    Array(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    /// A function of the library, resolved when parsed.
    Call {
        name: &'static str,
        call: Call,
        args: Vec<Expr>,
    },
    Method {
        target: Box<Expr>,
        method: Method,
        args: Vec<Expr>,
    },
    /// `value[index]` on a computed value (`explode(s, ",")[1]`).
    Index {
        target: Box<Expr>,
        index: Box<Expr>,
    },
    /// `value.name` on a computed value (`str_to_object(s).firstName`).
    Member {
        target: Box<Expr>,
        name: String,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `condition ? then : otherwise`.
    Conditional {
        condition: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// `value ?: fallback`.
    Elvis {
        value: Box<Expr>,
        fallback: Box<Expr>,
    },
}

/// A parsed expression, ready to evaluate against any number of records.
#[derive(Debug, Clone)]
pub struct Expression {
    root: Expr,
}

impl Expression {
    /// Parses `text`: a syntax error, an unknown function or method, or a wrong number of
    /// arguments is a [`ParseError`] with the character offset of its cause.
    pub fn parse(text: &str) -> Result<Expression, ParseError> {
        let length = text.chars().count();
        if length > MAX_EXPRESSION_CHARS {
            return Err(ParseError::new(
                format!(
                    "the expression is {length} characters long; at most {MAX_EXPRESSION_CHARS} are allowed"
                ),
                MAX_EXPRESSION_CHARS,
            ));
        }
        let tokens = lexer::tokenize(text)?;
        Ok(Expression {
            root: parser::parse(&tokens)?,
        })
    }

    /// The syntax tree.
    pub fn root(&self) -> &Expr {
        &self.root
    }

    /// The value of the expression for `context`'s record.
    pub fn evaluate(
        &self,
        context: &crate::functions::CallContext<'_>,
    ) -> Result<Value, EvalError> {
        eval::evaluate(&self.root, context)
    }
}
