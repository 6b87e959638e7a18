//! List requests (reference §1.5): `property` filters, `orderby`, `limit`
//! with an opaque `continuationToken` returned in `_links.next.href`, and
//! `count=true`.
//!
//! Pages are cut by keyset, not by offset: the token holds the sort value
//! and store position of the last item returned, so an item created or
//! deleted between two pages neither repeats nor hides another one.

use std::cmp::Ordering;

use base64::Engine;
use serde_json::{Value, json};

use crate::error::{ApiError, FlowError, FlowErrorCode};
use crate::filter::{PropertyFilter, matches_all};

/// A parsed list query.
#[derive(Debug)]
pub struct ListQuery {
    filters: Vec<PropertyFilter>,
    order: Option<SortOrder>,
    limit: Option<usize>,
    after: Option<(Value, i64)>,
    count: bool,
    /// The query's other parameters, repeated in the next link.
    kept_parameters: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
struct SortOrder {
    field: String,
    descending: bool,
}

fn invalid(code: FlowErrorCode, message: String) -> ApiError {
    FlowError::new(code, message).into()
}

fn parse_order(text: &str, sortable: &[&str]) -> Result<SortOrder, ApiError> {
    let (descending, field) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let well_formed = !field.is_empty()
        && field.chars().all(|character| {
            character.is_ascii_alphanumeric() || character == '_' || character == '.'
        });
    if !well_formed {
        return Err(invalid(
            FlowErrorCode::OrderBySyntaxInvalid,
            format!(
                "orderby '{text}' is not valid: use a field name with an optional + or - prefix, e.g. orderby=-createdAt."
            ),
        ));
    }
    if !sortable.contains(&field) {
        return Err(invalid(
            FlowErrorCode::OrderByFieldUnsupported,
            format!(
                "orderby field '{field}' is not sortable; sortable fields: {}.",
                sortable.join(", ")
            ),
        ));
    }
    Ok(SortOrder {
        field: field.to_owned(),
        descending,
    })
}

fn parse_token(token: &str) -> Option<(Value, i64)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    let position = value.get(1)?.as_i64()?;
    Some((value.get(0)?.clone(), position))
}

fn make_token(sort_value: &Value, position: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!([sort_value, position]).to_string())
}

impl ListQuery {
    /// Parses the list parameters; `sortable` names the fields `orderby` accepts.
    pub fn parse(raw_query: Option<&str>, sortable: &[&str]) -> Result<ListQuery, ApiError> {
        let mut query = ListQuery {
            filters: Vec::new(),
            order: None,
            limit: None,
            after: None,
            count: false,
            kept_parameters: Vec::new(),
        };
        for (name, value) in form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes()) {
            match name.as_ref() {
                "property" => query.filters.push(PropertyFilter::parse(&value)?),
                "orderby" => query.order = Some(parse_order(&value, sortable)?),
                "limit" => {
                    let limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|limit| *limit > 0)
                        .ok_or_else(|| {
                            invalid(
                                FlowErrorCode::InvalidRequest,
                                format!("limit '{value}' is not a positive integer."),
                            )
                        })?;
                    query.limit = Some(limit);
                }
                "continuationToken" => {
                    query.after = Some(parse_token(&value).ok_or_else(|| {
                        invalid(
                            FlowErrorCode::InvalidRequest,
                            "continuationToken is not one this server issued; start again without it.".to_owned(),
                        )
                    })?);
                    continue;
                }
                "count" => {
                    query.count = match value.as_ref() {
                        "true" => true,
                        "false" => false,
                        other => {
                            return Err(invalid(
                                FlowErrorCode::InvalidRequest,
                                format!("count '{other}' must be true or false."),
                            ));
                        }
                    }
                }
                _ => {}
            }
            query
                .kept_parameters
                .push((name.into_owned(), value.into_owned()));
        }
        if query.count && query.limit.is_some() {
            return Err(invalid(
                FlowErrorCode::LimitWithCount,
                "limit and count=true cannot be used together.".to_owned(),
            ));
        }
        Ok(query)
    }

    fn sort_value(&self, document: &Value) -> Value {
        match &self.order {
            Some(order) => order
                .field
                .split('.')
                .try_fold(document, |value, segment| value.get(segment))
                .cloned()
                .unwrap_or(Value::Null),
            None => Value::Null,
        }
    }

    fn compare(&self, left: (&Value, i64), right: (&Value, i64)) -> Ordering {
        let by_field = compare_values(left.0, right.0);
        let by_field = match &self.order {
            Some(order) if order.descending => by_field.reverse(),
            _ => by_field,
        };
        by_field.then(left.1.cmp(&right.1))
    }

    /// The response body for `documents` (each with its store position),
    /// `collection_path` being e.g. `/connectionSpecs` for the next link.
    pub fn respond(&self, documents: Vec<(i64, Value)>, collection_path: &str) -> Value {
        let mut selected: Vec<(Value, i64, Value)> = documents
            .into_iter()
            .filter(|(_, document)| matches_all(&self.filters, document))
            .map(|(position, document)| (self.sort_value(&document), position, document))
            .collect();
        if self.count {
            return json!({ "count": selected.len() });
        }
        selected.sort_by(|left, right| self.compare((&left.0, left.1), (&right.0, right.1)));
        if let Some((after_value, after_position)) = &self.after {
            selected.retain(|(value, position, _)| {
                self.compare((value, *position), (after_value, *after_position))
                    == Ordering::Greater
            });
        }
        let more = self.limit.is_some_and(|limit| selected.len() > limit);
        if let Some(limit) = self.limit {
            selected.truncate(limit);
        }
        let next = more.then(|| {
            let (value, position, _) = selected.last().expect("a full page");
            let mut link = form_urlencoded::Serializer::new(String::new());
            for (name, value) in &self.kept_parameters {
                link.append_pair(name, value);
            }
            link.append_pair("continuationToken", &make_token(value, *position));
            format!("{collection_path}?{}", link.finish())
        });
        let items: Vec<Value> = selected
            .into_iter()
            .map(|(_, _, document)| document)
            .collect();
        match next {
            Some(href) => json!({ "items": items, "_links": { "next": { "href": href } } }),
            None => json!({ "items": items }),
        }
    }
}

/// Numbers numerically, strings lexicographically, booleans false first;
/// missing values (null) sort last whatever the direction of the rest.
fn compare_values(left: &Value, right: &Value) -> Ordering {
    match (left, right) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        (Value::Number(left), Value::Number(right)) => left
            .as_f64()
            .unwrap_or_default()
            .total_cmp(&right.as_f64().unwrap_or_default()),
        (Value::String(left), Value::String(right)) => left.cmp(right),
        (Value::Bool(left), Value::Bool(right)) => left.cmp(right),
        (left, right) => left.to_string().cmp(&right.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SORTABLE: &[&str] = &["name", "createdAt"];

    fn documents() -> Vec<(i64, Value)> {
        (1..=5)
            .map(|n| {
                (
                    n,
                    json!({"id": format!("id-{n}"), "name": format!("n{}", 6 - n), "createdAt": n * 10, "kind": if n % 2 == 0 { "even" } else { "odd" }}),
                )
            })
            .collect()
    }

    fn ids(body: &Value) -> Vec<&str> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["id"].as_str().unwrap())
            .collect()
    }

    fn code(result: Result<ListQuery, ApiError>) -> FlowErrorCode {
        match result {
            Err(ApiError::Flow(error)) => error.code,
            other => panic!("expected a Flow Service error, got {other:?}"),
        }
    }

    #[test]
    fn limit_and_continuation_tokens_walk_every_item_once() {
        let mut seen = Vec::new();
        let mut raw = "orderby=-createdAt&limit=2&property=kind!=none".to_owned();
        loop {
            let query = ListQuery::parse(Some(&raw), SORTABLE).unwrap();
            let body = query.respond(documents(), "/flows");
            seen.extend(ids(&body).into_iter().map(str::to_owned));
            match body["_links"]["next"]["href"].as_str() {
                Some(href) => {
                    assert!(href.starts_with("/flows?orderby=-createdAt&limit=2&property=kind%21%3Dnone&continuationToken="), "{href}");
                    raw = href.split_once('?').unwrap().1.to_owned();
                }
                None => break,
            }
        }
        assert_eq!(seen, ["id-5", "id-4", "id-3", "id-2", "id-1"]);
    }

    #[test]
    fn orderby_sorts_by_the_field_and_defaults_to_insertion_order() {
        let by_name = ListQuery::parse(Some("orderby=name"), SORTABLE).unwrap();
        assert_eq!(
            ids(&by_name.respond(documents(), "/x")),
            ["id-5", "id-4", "id-3", "id-2", "id-1"]
        );
        let default = ListQuery::parse(None, SORTABLE).unwrap();
        assert_eq!(
            ids(&default.respond(documents(), "/x")),
            ["id-1", "id-2", "id-3", "id-4", "id-5"]
        );
        let filtered =
            ListQuery::parse(Some("property=kind==even&orderby=%2BcreatedAt"), SORTABLE).unwrap();
        assert_eq!(ids(&filtered.respond(documents(), "/x")), ["id-2", "id-4"]);
    }

    #[test]
    fn count_returns_only_the_number_of_matching_items() {
        let query = ListQuery::parse(Some("count=true&property=kind==odd"), SORTABLE).unwrap();
        assert_eq!(query.respond(documents(), "/x"), json!({"count": 3}));
    }

    #[test]
    fn bad_list_parameters_get_their_codes() {
        assert_eq!(
            code(ListQuery::parse(Some("count=true&limit=2"), SORTABLE)),
            FlowErrorCode::LimitWithCount
        );
        assert_eq!(
            code(ListQuery::parse(Some("orderby=--name"), SORTABLE)),
            FlowErrorCode::OrderBySyntaxInvalid
        );
        assert_eq!(
            code(ListQuery::parse(Some("orderby=name,id"), SORTABLE)),
            FlowErrorCode::OrderBySyntaxInvalid
        );
        assert_eq!(
            code(ListQuery::parse(Some("orderby=secret"), SORTABLE)),
            FlowErrorCode::OrderByFieldUnsupported
        );
        assert_eq!(
            code(ListQuery::parse(Some("limit=0"), SORTABLE)),
            FlowErrorCode::InvalidRequest
        );
        assert_eq!(
            code(ListQuery::parse(
                Some("continuationToken=garbage"),
                SORTABLE
            )),
            FlowErrorCode::InvalidRequest
        );
        assert_eq!(
            code(ListQuery::parse(Some("property=a~b"), SORTABLE)),
            FlowErrorCode::FilterOperatorUnsupported
        );
    }
}
