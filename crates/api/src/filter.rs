//! `property` filters of list requests (reference §1.5): `field==a,b`
//! (any of), `!=`, `>`, `>=`, `<`, `<=`; dotted paths reach nested fields and
//! `[]` after a segment matches any element of that array. Several
//! `property` parameters are ANDed. A value may be quoted with `"` or `'`
//! (`name=="RestStorageToAEP"`, as the tutorials write it, raw or percent-encoded):
//! the quotes delimit the value and are not part of it.

use serde_json::Value;

use crate::error::{ApiError, FlowError, FlowErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

/// One `property=` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyFilter {
    segments: Vec<String>,
    operator: Operator,
    values: Vec<String>,
}

/// Whether `document` passes every filter.
pub fn matches_all(filters: &[PropertyFilter], document: &Value) -> bool {
    filters.iter().all(|filter| filter.matches(document))
}

fn invalid_field(expression: &str, why: &str) -> FlowError {
    FlowError::new(
        FlowErrorCode::FilterFieldInvalid,
        format!("The filter '{expression}' is invalid: {why}."),
    )
}

impl PropertyFilter {
    /// Parses `field<op>value[,value...]`.
    pub fn parse(expression: &str) -> Result<PropertyFilter, ApiError> {
        let Some(position) = expression.find(['=', '!', '<', '>']) else {
            return Err(FlowError::new(
                FlowErrorCode::FilterOperatorUnsupported,
                format!(
                    "The filter '{expression}' has no supported operator (==, !=, >, >=, <, <=)."
                ),
            )
            .into());
        };
        let (field, rest) = expression.split_at(position);
        let (operator, value_text) = [
            ("==", Operator::Equal),
            ("!=", Operator::NotEqual),
            (">=", Operator::GreaterOrEqual),
            ("<=", Operator::LessOrEqual),
            (">", Operator::Greater),
            ("<", Operator::Less),
        ]
        .into_iter()
        .find_map(|(symbol, operator)| rest.strip_prefix(symbol).map(|value| (operator, value)))
        .ok_or_else(|| {
            FlowError::new(
                FlowErrorCode::FilterOperatorUnsupported,
                format!(
                    "The filter '{expression}' uses an unsupported operator; use ==, !=, >, >=, < or <=."
                ),
            )
        })?;
        let field = field.trim();
        if field.is_empty() {
            return Err(invalid_field(expression, "the field name is empty").into());
        }
        let segments: Vec<String> = field.split('.').map(str::to_owned).collect();
        if segments.iter().any(|segment| {
            let name = segment.strip_suffix("[]").unwrap_or(segment);
            name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '$' | '@' | ':'))
        }) {
            return Err(invalid_field(expression, "the field path is malformed").into());
        }
        let values = split_values(value_text)
            .ok_or_else(|| invalid_field(expression, "a quoted value has no closing quote"))?;
        if values.len() > 1 && !matches!(operator, Operator::Equal | Operator::NotEqual) {
            return Err(FlowError::new(
                FlowErrorCode::FilterMultipleValuesNotAllowed,
                format!(
                    "The filter '{expression}' lists several values; only == and != accept a comma-separated list."
                ),
            )
            .into());
        }
        Ok(PropertyFilter {
            segments,
            operator,
            values,
        })
    }

    /// The dotted path's segments (`[]` kept on a segment that fans out).
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values, as written (several only for `==` and `!=`).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether `document` satisfies this filter.
    pub fn matches(&self, document: &Value) -> bool {
        let mut found = Vec::new();
        collect_values(document, &self.segments, &mut found);
        let texts: Vec<String> = found.into_iter().filter_map(scalar_text).collect();
        match self.operator {
            Operator::Equal => texts.iter().any(|text| self.values.contains(text)),
            Operator::NotEqual => !texts.iter().any(|text| self.values.contains(text)),
            comparison => texts.iter().any(|text| {
                let ordering = compare(text, &self.values[0]);
                match comparison {
                    Operator::Greater => ordering.is_gt(),
                    Operator::GreaterOrEqual => ordering.is_ge(),
                    Operator::Less => ordering.is_lt(),
                    _ => ordering.is_le(),
                }
            }),
        }
    }
}

/// The comma-separated values of a filter, each optionally quoted with `"` or `'` as the
/// tutorials write them (`name=="RestStorageToAEP"`): the quotes are not part of the value, and
/// a comma inside quotes is part of it. `None` when a quote is not closed.
fn split_values(text: &str) -> Option<Vec<String>> {
    let mut values = Vec::new();
    let mut rest = text;
    loop {
        let quote = rest.chars().next().filter(|c| matches!(c, '"' | '\''));
        let (value, after) = match quote {
            Some(quote) => {
                let inner = &rest[1..];
                let close = inner.find(quote)?;
                let after = &inner[close + 1..];
                if !(after.is_empty() || after.starts_with(',')) {
                    // `"a"b`: the quote was part of the value after all.
                    match rest.find(',') {
                        Some(comma) => (&rest[..comma], &rest[comma..]),
                        None => (rest, ""),
                    }
                } else {
                    (&inner[..close], after)
                }
            }
            None => match rest.find(',') {
                Some(comma) => (&rest[..comma], &rest[comma..]),
                None => (rest, ""),
            },
        };
        values.push(value.to_owned());
        match after.strip_prefix(',') {
            Some(next) => rest = next,
            None => return Some(values),
        }
    }
}

/// Every value at `segments` below `value`; arrays fan out at `[]` segments
/// and at the end of the path.
fn collect_values<'a>(value: &'a Value, segments: &[String], found: &mut Vec<&'a Value>) {
    let Some((segment, rest)) = segments.split_first() else {
        match value {
            Value::Array(elements) => found.extend(elements),
            other => found.push(other),
        }
        return;
    };
    let (name, each_element) = match segment.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (segment.as_str(), false),
    };
    let Some(child) = value.get(name) else {
        return;
    };
    match child {
        Value::Array(elements) if each_element => {
            for element in elements {
                collect_values(element, rest, found);
            }
        }
        other => collect_values(other, rest, found),
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null => Some("null".to_owned()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn compare(left: &str, right: &str) -> std::cmp::Ordering {
    match (left.parse::<f64>(), right.parse::<f64>()) {
        (Ok(left), Ok(right)) => left.total_cmp(&right),
        _ => left.cmp(right),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(expression: &str, document: Value, expected: bool) {
        let filter = PropertyFilter::parse(expression).expect(expression);
        assert_eq!(
            filter.matches(&document),
            expected,
            "{expression} on {document}"
        );
    }

    #[test]
    fn filters_match_as_the_reference_describes() {
        let flow = json!({
            "id": "b", "name": "n", "createdAt": 1500,
            "sourceConnectionIds": ["s1", "s2"],
            "params": {"tableName": "lead"},
            "transformations": [{"params": {"ids": [{"id": "x"}, {"id": "y"}]}}],
            "enabled": true
        });
        check("name==n", flow.clone(), true);
        check("name==other", flow.clone(), false);
        check("id==a,b,c", flow.clone(), true);
        check("id!=a,c", flow.clone(), true);
        check("id!=b", flow.clone(), false);
        check("params.tableName==lead", flow.clone(), true);
        check("sourceConnectionIds[]==s9,s2", flow.clone(), true);
        check("sourceConnectionIds==s1", flow.clone(), true);
        check("transformations[].params.ids[].id==y", flow.clone(), true);
        check("createdAt>1000", flow.clone(), true);
        check("createdAt>=1500", flow.clone(), true);
        check("createdAt<1500", flow.clone(), false);
        check("createdAt<=1500", flow.clone(), true);
        check("enabled==true", flow.clone(), true);
        check("missing.field==x", flow.clone(), false);
        check("name==\"n\"", flow.clone(), true);
        check("name=='n'", flow.clone(), true);
        check("id==\"a\",'b'", flow.clone(), true);
        check("id!=\"b\"", flow.clone(), false);
        check("name==\"n,o\"", flow, false);
        check("name==\"n,o\"", json!({"name": "n,o"}), true);
    }

    #[test]
    fn malformed_filters_get_their_own_error_codes() {
        let cases = [
            ("name~abc", FlowErrorCode::FilterOperatorUnsupported),
            ("name=abc", FlowErrorCode::FilterOperatorUnsupported),
            ("==abc", FlowErrorCode::FilterFieldInvalid),
            ("a..b==c", FlowErrorCode::FilterFieldInvalid),
            ("name==\"open", FlowErrorCode::FilterFieldInvalid),
            (
                "createdAt>1,2",
                FlowErrorCode::FilterMultipleValuesNotAllowed,
            ),
        ];
        for (expression, code) in cases {
            let ApiError::Flow(error) = PropertyFilter::parse(expression).expect_err(expression)
            else {
                panic!("{expression}: not a Flow Service error");
            };
            assert_eq!(error.code, code, "{expression}");
        }
    }
}
