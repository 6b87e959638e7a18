//! Precedence climbing over the tokens (reference §6.3, JEXL's precedence, low to high):
//! `?:` and `? :` → `||` → `&&` → `|` → `^` → `&` → equality → relational and `=~` →
//! `+ -` → `* / %` → unary (`! - ~ empty size`) → postfix (`.member`, `.method(…)`, `[…]`).

use super::lexer::{Token, TokenKind};
use super::{BinaryOp, Expr, Method, ParseError, Segment, UnaryOp};
use crate::functions;
use crate::value::Value;

/// Functions Data Prep offers only for destinations (outbound data), not for ingestion.
const DESTINATION_ONLY: [&str; 4] = [
    "array_to_string",
    "filterArray",
    "transformArray",
    "flattenArray",
];

/// Functions of Data Prep whose behaviour is not public, so flowd cannot compute them.
const NOT_SUPPORTED: [(&str, &str); 1] = [(
    "fpid_to_ecid",
    "its algorithm is not published, so flowd cannot compute the ECID Adobe would",
)];

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
}

pub fn parse(tokens: &[Token]) -> Result<Expr, ParseError> {
    let mut parser = Parser { tokens, at: 0 };
    if matches!(parser.peek(), TokenKind::End) {
        return Err(ParseError::new("the expression is empty", 0));
    }
    let expression = parser.ternary()?;
    match parser.peek() {
        TokenKind::End => Ok(expression),
        other => Err(ParseError::new(
            format!(
                "unexpected {} after the end of the expression",
                describe(other)
            ),
            parser.position(),
        )),
    }
}

fn describe(token: &TokenKind) -> String {
    match token {
        TokenKind::Ident(name) => format!("'{name}'"),
        TokenKind::Braced(name) => format!("'${{{name}}}'"),
        TokenKind::Str(text) => format!("string \"{text}\""),
        TokenKind::Int(number) => format!("number {number}"),
        TokenKind::Float(number) => format!("number {number}"),
        TokenKind::Symbol(symbol) => format!("'{symbol}'"),
        TokenKind::End => "end of the expression".to_owned(),
    }
}

fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    Expr::Binary {
        op,
        left: Box::new(left),
        right: Box::new(right),
    }
}

impl Parser<'_> {
    fn peek(&self) -> &TokenKind {
        &self.tokens[self.at].kind
    }

    fn peek_next(&self) -> &TokenKind {
        &self.tokens[(self.at + 1).min(self.tokens.len() - 1)].kind
    }

    fn position(&self) -> usize {
        self.tokens[self.at].position
    }

    fn advance(&mut self) -> &Token {
        let token = &self.tokens[self.at];
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
        token
    }

    fn is_symbol(&self, symbol: &str) -> bool {
        matches!(self.peek(), TokenKind::Symbol(found) if *found == symbol)
    }

    fn expect_symbol(&mut self, symbol: &str) -> Result<(), ParseError> {
        if self.is_symbol(symbol) {
            self.advance();
            Ok(())
        } else {
            Err(ParseError::new(
                format!("expected '{symbol}' but found {}", describe(self.peek())),
                self.position(),
            ))
        }
    }

    /// The operator at the cursor among `choices` (a symbol or a word), consumed.
    fn operator(&mut self, choices: &[(&str, BinaryOp)]) -> Option<BinaryOp> {
        let found = choices.iter().find(|(spelling, _)| match self.peek() {
            TokenKind::Symbol(symbol) => symbol == spelling,
            TokenKind::Ident(word) => word == spelling,
            _ => false,
        })?;
        self.advance();
        Some(found.1)
    }

    /// One left-associative level: `next (op next)*`.
    fn level(
        &mut self,
        choices: &[(&str, BinaryOp)],
        next: fn(&mut Self) -> Result<Expr, ParseError>,
    ) -> Result<Expr, ParseError> {
        let mut left = next(self)?;
        while let Some(op) = self.operator(choices) {
            let right = next(self)?;
            left = binary(op, left, right);
        }
        Ok(left)
    }

    fn ternary(&mut self) -> Result<Expr, ParseError> {
        let condition = self.or()?;
        if self.is_symbol("?:") {
            self.advance();
            let fallback = self.ternary()?;
            return Ok(Expr::Elvis {
                value: Box::new(condition),
                fallback: Box::new(fallback),
            });
        }
        if self.is_symbol("?") {
            self.advance();
            let then = self.ternary()?;
            self.expect_symbol(":")?;
            let otherwise = self.ternary()?;
            return Ok(Expr::Conditional {
                condition: Box::new(condition),
                then: Box::new(then),
                otherwise: Box::new(otherwise),
            });
        }
        Ok(condition)
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        self.level(&[("||", BinaryOp::Or), ("or", BinaryOp::Or)], Self::and)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        self.level(
            &[("&&", BinaryOp::And), ("and", BinaryOp::And)],
            Self::bit_or,
        )
    }

    fn bit_or(&mut self) -> Result<Expr, ParseError> {
        self.level(&[("|", BinaryOp::BitOr)], Self::bit_xor)
    }

    fn bit_xor(&mut self) -> Result<Expr, ParseError> {
        self.level(&[("^", BinaryOp::BitXor)], Self::bit_and)
    }

    fn bit_and(&mut self) -> Result<Expr, ParseError> {
        self.level(&[("&", BinaryOp::BitAnd)], Self::equality)
    }

    fn equality(&mut self) -> Result<Expr, ParseError> {
        self.level(
            &[
                ("==", BinaryOp::Equal),
                ("eq", BinaryOp::Equal),
                ("!=", BinaryOp::NotEqual),
                ("ne", BinaryOp::NotEqual),
            ],
            Self::relational,
        )
    }

    fn relational(&mut self) -> Result<Expr, ParseError> {
        self.level(
            &[
                ("<=", BinaryOp::LessOrEqual),
                ("le", BinaryOp::LessOrEqual),
                (">=", BinaryOp::GreaterOrEqual),
                ("ge", BinaryOp::GreaterOrEqual),
                ("<", BinaryOp::Less),
                ("lt", BinaryOp::Less),
                (">", BinaryOp::Greater),
                ("gt", BinaryOp::Greater),
                ("=~", BinaryOp::Matches),
                ("!~", BinaryOp::NotMatches),
            ],
            Self::additive,
        )
    }

    fn additive(&mut self) -> Result<Expr, ParseError> {
        self.level(
            &[("+", BinaryOp::Add), ("-", BinaryOp::Subtract)],
            Self::multiplicative,
        )
    }

    fn multiplicative(&mut self) -> Result<Expr, ParseError> {
        self.level(
            &[
                ("*", BinaryOp::Multiply),
                ("/", BinaryOp::Divide),
                ("div", BinaryOp::Divide),
                ("%", BinaryOp::Remainder),
                ("mod", BinaryOp::Remainder),
            ],
            Self::unary,
        )
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        let op = match self.peek() {
            TokenKind::Symbol("!") => Some(UnaryOp::Not),
            TokenKind::Symbol("-") => Some(UnaryOp::Negate),
            TokenKind::Symbol("~") => Some(UnaryOp::BitNot),
            TokenKind::Ident(word) if word == "not" => Some(UnaryOp::Not),
            TokenKind::Ident(word) if word == "empty" => Some(UnaryOp::Empty),
            TokenKind::Ident(word) if word == "size" => Some(UnaryOp::Size),
            _ => None,
        };
        let Some(op) = op else {
            return self.postfix();
        };
        self.advance();
        let operand = self.unary()?;
        // Fold `-3` into a literal, so `-2147483648` and friends stay exact.
        Ok(match (op, operand) {
            (UnaryOp::Negate, Expr::Literal(Value::Int(number))) => {
                Expr::Literal(Value::Int(-number))
            }
            (UnaryOp::Negate, Expr::Literal(Value::Float(number))) => {
                Expr::Literal(Value::Float(-number))
            }
            (op, operand) => Expr::Unary {
                op,
                operand: Box::new(operand),
            },
        })
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut target = self.primary()?;
        loop {
            if self.is_symbol(".") {
                self.advance();
                let position = self.position();
                let name = match self.advance().kind.clone() {
                    TokenKind::Ident(name) | TokenKind::Braced(name) => name,
                    other => {
                        return Err(ParseError::new(
                            format!(
                                "expected a field or method name after '.', found {}",
                                describe(&other)
                            ),
                            position,
                        ));
                    }
                };
                if self.is_symbol("(") {
                    let (method, min, max) = Method::named(&name).ok_or_else(|| {
                        ParseError::new(format!("unknown method '{name}'"), position)
                    })?;
                    let args = self.arguments()?;
                    if args.len() < min || args.len() > max {
                        let expected = if min == max {
                            min.to_string()
                        } else {
                            format!("{min} to {max}")
                        };
                        return Err(ParseError::new(
                            format!(
                                "{name}() takes {expected} argument(s), {} given",
                                args.len()
                            ),
                            position,
                        ));
                    }
                    target = Expr::Method {
                        target: Box::new(target),
                        method,
                        args,
                    };
                } else {
                    target = match target {
                        Expr::Field(mut segments) => {
                            segments.push(Segment::Name(name));
                            Expr::Field(segments)
                        }
                        other => Expr::Member {
                            target: Box::new(other),
                            name,
                        },
                    };
                }
            } else if self.is_symbol("[") {
                let position = self.position();
                self.advance();
                if self.is_symbol("*") {
                    return Err(ParseError::new(
                        "[*] iterates only in an attribute mapping's source path, not in an expression",
                        position,
                    ));
                }
                let index = self.ternary()?;
                self.expect_symbol("]")?;
                target = match (target, index) {
                    (Expr::Field(mut segments), Expr::Literal(Value::Int(index))) if index >= 0 => {
                        segments.push(Segment::Index(index as usize));
                        Expr::Field(segments)
                    }
                    (target, index) => Expr::Index {
                        target: Box::new(target),
                        index: Box::new(index),
                    },
                };
            } else {
                return Ok(target);
            }
        }
    }

    /// `( expr, … )`, the cursor on `(`.
    fn arguments(&mut self) -> Result<Vec<Expr>, ParseError> {
        self.expect_symbol("(")?;
        let mut args = Vec::new();
        if self.is_symbol(")") {
            self.advance();
            return Ok(args);
        }
        loop {
            if self.is_symbol("->") || matches!(self.peek_next(), TokenKind::Symbol("->")) {
                return Err(ParseError::new(
                    "lambdas (x -> …) belong to destination-only functions, which ingestion does not run",
                    self.position(),
                ));
            }
            args.push(self.ternary()?);
            if self.is_symbol(",") {
                self.advance();
                continue;
            }
            self.expect_symbol(")")?;
            return Ok(args);
        }
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let position = self.position();
        let token = self.advance().kind.clone();
        match token {
            TokenKind::Int(number) => Ok(Expr::Literal(Value::Int(number))),
            TokenKind::Float(number) => Ok(Expr::Literal(Value::Float(number))),
            TokenKind::Str(text) => Ok(Expr::Literal(Value::Str(text))),
            TokenKind::Braced(name) => Ok(Expr::Field(vec![Segment::Name(name)])),
            TokenKind::Symbol("(") => {
                let inner = self.ternary()?;
                self.expect_symbol(")")?;
                Ok(inner)
            }
            TokenKind::Symbol("[") => {
                let mut items = Vec::new();
                if !self.is_symbol("]") {
                    loop {
                        items.push(self.ternary()?);
                        if self.is_symbol(",") {
                            self.advance();
                            continue;
                        }
                        break;
                    }
                }
                self.expect_symbol("]")?;
                Ok(Expr::Array(items))
            }
            TokenKind::Symbol("{") => {
                let mut entries = Vec::new();
                if self.is_symbol(":") {
                    // JEXL's empty map `{:}`.
                    self.advance();
                } else if !self.is_symbol("}") {
                    loop {
                        let key = self.ternary()?;
                        self.expect_symbol(":")?;
                        let value = self.ternary()?;
                        entries.push((key, value));
                        if self.is_symbol(",") {
                            self.advance();
                            continue;
                        }
                        break;
                    }
                }
                self.expect_symbol("}")?;
                Ok(Expr::Map(entries))
            }
            TokenKind::Ident(name) => self.identifier(name, position),
            other => Err(ParseError::new(
                format!("expected a value, found {}", describe(&other)),
                position,
            )),
        }
    }

    /// A keyword literal, a function call or a field reference.
    fn identifier(&mut self, name: String, position: usize) -> Result<Expr, ParseError> {
        match name.as_str() {
            "true" => return Ok(Expr::Literal(Value::Bool(true))),
            "false" => return Ok(Expr::Literal(Value::Bool(false))),
            "null" => return Ok(Expr::Literal(Value::Null)),
            _ => {}
        }
        if !self.is_symbol("(") {
            return Ok(Expr::Field(vec![Segment::Name(name)]));
        }
        if let Some((_, why)) = NOT_SUPPORTED
            .iter()
            .find(|(unsupported, _)| *unsupported == name)
        {
            return Err(ParseError::new(
                format!("{name}() is not supported: {why}"),
                position,
            ));
        }
        if DESTINATION_ONLY.contains(&name.as_str()) {
            return Err(ParseError::new(
                format!(
                    "{name}() is only available for destinations (outbound data), not for ingestion"
                ),
                position,
            ));
        }
        let function = functions::lookup(&name)
            .ok_or_else(|| ParseError::new(format!("unknown function '{name}'"), position))?;
        let args = self.arguments()?;
        if !function.accepts(args.len()) {
            return Err(ParseError::new(
                format!(
                    "{name}() takes {} argument(s), {} given",
                    function.arity(),
                    args.len()
                ),
                position,
            ));
        }
        Ok(Expr::Call {
            name: function.name,
            call: function.call,
            args,
        })
    }
}
