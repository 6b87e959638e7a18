//! Catalog's list parameters, as its documentation gives them (`catalog/api/filter-data`):
//! `limit` (1 to 100, 20 when absent), `start` (a zero-based offset), `orderBy`
//! (comma-separated `asc:FIELD`, `desc:FIELD` or `FIELD`, ascending by default) and
//! `properties` (comma-separated top-level fields each object is cut to; the objects stay keyed
//! by id, and one holding none of them is `{}`). Parameter names match in any case. A bad
//! value is a `1100-400` (an unknown `orderBy` field `1433-400`, a malformed one `1432-400`)
//! whose message and `report.parameter` name the parameter.

use serde_json::{Map, Value};

use crate::error::{ApiError, FlowError, FlowErrorCode};

/// Objects per page when `limit` is absent, as on Catalog.
pub const DEFAULT_LIMIT: u64 = 20;

/// The largest `limit` Catalog accepts.
pub const MAX_LIMIT: u64 = 100;

/// The parsed list parameters of one Catalog request.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogQuery {
    pub limit: u64,
    pub start: u64,
    /// Each field `orderBy` names, and whether it is descending, in the order given.
    pub order: Vec<(String, bool)>,
    /// The top-level fields `properties` keeps, when given.
    pub properties: Option<Vec<String>>,
    /// Every other parameter, decoded, in the order sent.
    pub others: Vec<(String, String)>,
}

/// A refusal of the query parameter `parameter`.
pub fn parameter_error(
    code: FlowErrorCode,
    parameter: &str,
    message: impl Into<String>,
) -> ApiError {
    let mut error = FlowError::new(code, message);
    error
        .report
        .insert("parameter".into(), Value::from(parameter));
    error.into()
}

impl CatalogQuery {
    /// Parses `raw_query`; `sortable` names the fields `orderBy` may name.
    pub fn parse(raw_query: Option<&str>, sortable: &[&str]) -> Result<CatalogQuery, ApiError> {
        CatalogQuery::parse_with_default_limit(raw_query, sortable, DEFAULT_LIMIT)
    }

    /// [`CatalogQuery::parse`] where an absent `limit` is `default_limit` (Data Access pages
    /// hold 100).
    pub fn parse_with_default_limit(
        raw_query: Option<&str>,
        sortable: &[&str],
        default_limit: u64,
    ) -> Result<CatalogQuery, ApiError> {
        let mut query = CatalogQuery {
            limit: default_limit,
            start: 0,
            order: Vec::new(),
            properties: None,
            others: Vec::new(),
        };
        let pairs = form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes());
        for (name, value) in pairs {
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "limit" => {
                    query.limit = value
                        .parse::<u64>()
                        .ok()
                        .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                        .ok_or_else(|| {
                            parameter_error(
                                FlowErrorCode::InvalidRequest,
                                "limit",
                                format!("limit '{value}' is not an integer from 1 to {MAX_LIMIT}."),
                            )
                        })?;
                }
                "start" => {
                    query.start = value.parse::<u64>().map_err(|_| {
                        parameter_error(
                            FlowErrorCode::InvalidRequest,
                            "start",
                            format!("start '{value}' is not a non-negative integer (an offset)."),
                        )
                    })?;
                }
                "orderby" => query.order = parse_order(value, sortable)?,
                "properties" => query.properties = Some(parse_properties(value)?),
                _ => query.others.push((name.into_owned(), value.to_owned())),
            }
        }
        Ok(query)
    }

    /// The last value of the parameter `name` (any case) among the others.
    pub fn other(&self, name: &str) -> Option<&str> {
        self.others
            .iter()
            .rev()
            .find(|(given, _)| given.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

fn parse_order(value: &str, sortable: &[&str]) -> Result<Vec<(String, bool)>, ApiError> {
    let malformed = || {
        parameter_error(
            FlowErrorCode::OrderBySyntaxInvalid,
            "orderBy",
            format!(
                "orderBy '{value}' is not a comma-separated list of asc:FIELD, desc:FIELD or FIELD."
            ),
        )
    };
    let mut order = Vec::new();
    for term in value.split(',') {
        let term = term.trim();
        let (descending, field) = match term.split_once(':') {
            None => (false, term),
            Some((direction, field)) if direction.trim().eq_ignore_ascii_case("asc") => {
                (false, field.trim())
            }
            Some((direction, field)) if direction.trim().eq_ignore_ascii_case("desc") => {
                (true, field.trim())
            }
            Some(_) => return Err(malformed()),
        };
        if field.is_empty() || field.contains(':') {
            return Err(malformed());
        }
        if !sortable.contains(&field) {
            return Err(parameter_error(
                FlowErrorCode::OrderByFieldUnsupported,
                "orderBy",
                format!(
                    "orderBy cannot sort on '{field}'; it sorts on {}.",
                    sortable.join(", ")
                ),
            ));
        }
        order.push((field.to_owned(), descending));
    }
    Ok(order)
}

fn parse_properties(value: &str) -> Result<Vec<String>, ApiError> {
    let names: Vec<String> = value
        .split(',')
        .map(|name| name.trim().to_owned())
        .collect();
    if let Some(bad) = names
        .iter()
        .find(|name| name.is_empty() || name.contains('.') || name.contains('/'))
    {
        return Err(parameter_error(
            FlowErrorCode::InvalidRequest,
            "properties",
            format!(
                "properties '{value}' must list top-level field names separated by commas \
                 ('{bad}' is not one)."
            ),
        ));
    }
    Ok(names)
}

/// `document` cut to `properties` (all of it when `None`); a non-object stays as it is.
pub fn project(document: Value, properties: Option<&[String]>) -> Value {
    match (document, properties) {
        (Value::Object(mut fields), Some(properties)) => {
            let mut kept = Map::new();
            for name in properties {
                if let Some(value) = fields.shift_remove(name) {
                    kept.insert(name.clone(), value);
                }
            }
            Value::Object(kept)
        }
        (document, _) => document,
    }
}

/// The byte-wise order of two JSON values of one field as Catalog lists sort them: numbers by
/// value, strings by bytes, other values by their JSON text; a missing or `null` value last
/// whichever the direction.
pub fn compare_values(
    left: Option<&Value>,
    right: Option<&Value>,
    descending: bool,
) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let present = |value: Option<&Value>| value.filter(|value| !value.is_null()).cloned();
    match (present(left), present(right)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(left), Some(right)) => {
            let ordering = match (&left, &right) {
                (Value::Number(a), Value::Number(b)) => a
                    .as_f64()
                    .unwrap_or_default()
                    .total_cmp(&b.as_f64().unwrap_or_default()),
                (Value::String(a), Value::String(b)) => a.as_bytes().cmp(b.as_bytes()),
                (a, b) => a.to_string().cmp(&b.to_string()),
            };
            if descending {
                ordering.reverse()
            } else {
                ordering
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refusal(raw: &str) -> (String, Value) {
        let Err(ApiError::Flow(error)) = CatalogQuery::parse(Some(raw), &["name", "created"])
        else {
            panic!("{raw} was accepted");
        };
        let (code, status, _) = error.code.parts();
        (
            format!("{code}-{}", status.as_u16()),
            error.report["parameter"].clone(),
        )
    }

    #[test]
    fn catalog_parameters_parse_as_its_documentation_gives_them() {
        let query = CatalogQuery::parse(
            Some(
                "LIMIT=3&start=4&orderBy=name,desc:created&properties=name,%20schemaRef&dataSet=x",
            ),
            &["name", "created"],
        )
        .unwrap();
        assert_eq!((query.limit, query.start), (3, 4));
        assert_eq!(
            query.order,
            [("name".to_owned(), false), ("created".to_owned(), true)]
        );
        assert_eq!(
            query.properties.as_deref(),
            Some(&["name".to_owned(), "schemaRef".to_owned()][..])
        );
        assert_eq!(query.other("dataset"), Some("x"));
        let defaults = CatalogQuery::parse(None, &[]).unwrap();
        assert_eq!((defaults.limit, defaults.start), (DEFAULT_LIMIT, 0));
        assert!(defaults.order.is_empty() && defaults.properties.is_none());
    }

    #[test]
    fn bad_catalog_parameters_are_refused_naming_the_parameter() {
        for (raw, code, parameter) in [
            ("limit=0", "1100-400", "limit"),
            ("limit=101", "1100-400", "limit"),
            ("limit=ten", "1100-400", "limit"),
            ("start=-1", "1100-400", "start"),
            ("start=", "1100-400", "start"),
            ("orderBy=sideways:name", "1432-400", "orderBy"),
            ("orderBy=desc:", "1432-400", "orderBy"),
            ("orderBy=name,,created", "1432-400", "orderBy"),
            ("orderBy=desc:colour", "1433-400", "orderBy"),
            ("properties=", "1100-400", "properties"),
            ("properties=name,schemaRef.id", "1100-400", "properties"),
        ] {
            assert_eq!(refusal(raw), (code.to_owned(), json!(parameter)), "{raw}");
        }
    }

    #[test]
    fn projections_keep_only_the_named_top_level_fields() {
        let document = json!({"name": "d", "tags": {}, "version": "1.0.0"});
        let names = ["version".to_owned(), "missing".to_owned()];
        assert_eq!(
            project(document.clone(), Some(&names)),
            json!({"version": "1.0.0"})
        );
        assert_eq!(project(document.clone(), None), document);
    }
}
