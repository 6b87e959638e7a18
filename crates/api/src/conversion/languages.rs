//! `/data/foundation/conversion/languages/el/…` (Data Prep reference §3.9): validate an
//! expression, and list the language's functions and operators.
//!
//! `validate` answers the documented shape, `{"validationStatus": "succeeded", "error":
//! "none"}`, or `"failed"` with the parser's message (and the character `position`, a flowd
//! addition); a body without `expression` is `1100-400`. The functions list is generated from
//! the registry the parser resolves names with, so it lists exactly what a mapping may call.

use crate::routing::Routes;
use crate::routing::{get, post};
use axum::http::StatusCode;
use axum::response::Response;
use flowd_dataprep::Expression;
use flowd_spec::Problem;
use serde_json::{Value, json};

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, json_response};

pub fn routes() -> Routes {
    Routes::new()
        .route("/languages/el/validate", post(validate))
        .route("/languages/el/functions", get(functions))
        .route("/languages/el/operators", get(operators))
}

/// The text of `expression`: a string, or the OpenAPI example's `{"expression": "…"}`.
fn expression_text(body: &Value) -> Option<&str> {
    match body.get("expression")? {
        Value::String(text) => Some(text),
        Value::Object(inner) => inner.get("expression").and_then(Value::as_str),
        _ => None,
    }
}

async fn validate(JsonBody(body): JsonBody) -> Result<Response, ApiError> {
    let text = expression_text(&body).ok_or_else(|| {
        ApiError::from(FlowError::invalid_body(
            "expression validation",
            vec![Problem::new(
                "/expression",
                "is required: the expression text",
            )],
        ))
    })?;
    let answer = match Expression::parse(text) {
        Ok(_) => json!({"validationStatus": "succeeded", "error": "none"}),
        Err(error) => json!({
            "validationStatus": "failed",
            "error": error.message,
            "position": error.position,
        }),
    };
    Ok(json_response(StatusCode::OK, answer))
}

async fn functions() -> Response {
    let listed: Vec<Value> = flowd_dataprep::functions::FAMILIES
        .iter()
        .flat_map(|(category, family)| {
            family.iter().map(move |function| {
                json!({
                    "category": category,
                    "function": function.name,
                    "syntax": format!("{}(…)", function.name),
                    "arguments": function.arity(),
                    "since": 1,
                })
            })
        })
        .collect();
    json_response(StatusCode::OK, Value::Array(listed))
}

/// The operators of the language (reference §6.3): symbol, JEXL's method name, operands.
const OPERATORS: [(&str, &str, u8, &str); 24] = [
    (
        "+",
        "add",
        2,
        "Adds numbers; concatenates when either side is a string.",
    ),
    ("-", "subtract", 2, "Subtracts numbers."),
    ("*", "multiply", 2, "Multiplies numbers."),
    (
        "/",
        "divide",
        2,
        "Divides numbers; integers divide to an integer (also `div`).",
    ),
    ("%", "mod", 2, "The remainder of a division (also `mod`)."),
    ("-", "negate", 1, "Negates a number."),
    (
        "==",
        "equals",
        2,
        "Equality, numbers compared numerically (also `eq`).",
    ),
    ("!=", "notEquals", 2, "Inequality (also `ne`)."),
    ("<", "lessThan", 2, "Less than (also `lt`)."),
    (
        "<=",
        "lessThanOrEqual",
        2,
        "Less than or equal (also `le`).",
    ),
    (">", "greaterThan", 2, "Greater than (also `gt`)."),
    (
        ">=",
        "greaterThanOrEqual",
        2,
        "Greater than or equal (also `ge`).",
    ),
    ("&&", "and", 2, "Logical and, short-circuit (also `and`)."),
    ("||", "or", 2, "Logical or, short-circuit (also `or`)."),
    ("!", "not", 1, "Logical not (also `not`)."),
    ("&", "bitwiseAnd", 2, "Bitwise and of integers."),
    ("|", "bitwiseOr", 2, "Bitwise or of integers."),
    ("^", "bitwiseXor", 2, "Bitwise exclusive or of integers."),
    (
        "~",
        "complement",
        1,
        "Bitwise complement of an integer, e.g. ~33 = -34.",
    ),
    (
        "=~",
        "matches",
        2,
        "Full regex match of the left side, or membership in an array.",
    ),
    ("!~", "notMatches", 2, "Negation of =~."),
    (
        "? :",
        "ternary",
        3,
        "Conditional: condition ? then : otherwise.",
    ),
    (
        "?:",
        "elvis",
        2,
        "The left side when it is truthy, else the right side.",
    ),
    (
        "empty",
        "empty",
        1,
        "Whether a value is null, \"\", [] or {}; `size` gives its length.",
    ),
];

async fn operators() -> Response {
    let listed: Vec<Value> = OPERATORS
        .iter()
        .map(|(symbol, method, operands, description)| {
            json!({
                "operatorSymbol": symbol,
                "methodName": method,
                "numberOfOperands": operands,
                "description": description,
            })
        })
        .collect();
    json_response(StatusCode::OK, Value::Array(listed))
}
