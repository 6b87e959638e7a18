//! List requests (reference §1.5): `property` filters, `orderby`, `limit`
//! with an opaque `continuationToken` returned in `_links.next.href`, and
//! `count=true`.
//!
//! Pages are cut by keyset, not by offset: the token holds the sort value
//! and store position of the last item returned, so an item created or
//! deleted between two pages neither repeats nor hides another one.
//!
//! What the store holds as indexed columns it answers itself
//! ([`ListQuery::store_plan`]): `==`/`!=` on `id`, `name`, `state` (runs:
//! `id`, `flowId`), `==`/`!=`/comparisons on `createdAt` and `updatedAt`
//! with numeric values, `orderby` on those fields, the continuation and the
//! limit — so a page costs the page, whatever the collection's size. Any
//! other filter or order (dotted paths, `[]`, other fields, comparisons on
//! text, whose semantics mix numeric and text comparison) is applied in
//! memory over the documents the pushed-down filters select, because a
//! general JSON-path filter language is more than an index can serve; the
//! page is then cut in memory with the same keyset rule, so tokens work the
//! same in both modes.

use std::cmp::Ordering;

use base64::Engine;
use serde_json::{Value, json};

use flowd_store::{Cursor, FilterOp, FilterValue, IndexedField, IndexedFilter};

use crate::error::{ApiError, FlowError, FlowErrorCode};
use crate::filter::{Operator, PropertyFilter, matches_all};

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

/// What a continuation token holds: the query it continues (every list parameter but the
/// token) and the sort value and store position of the last item returned.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Continuation {
    #[serde(rename = "q")]
    parameters: Vec<(String, String)>,
    #[serde(rename = "v")]
    sort_value: Value,
    #[serde(rename = "p")]
    position: i64,
}

/// URL-safe base64 without padding: no `=`, `&` or `+`, so a client that cuts the token out of
/// `?continuationToken=…` after the first `=` gets it whole, escaped or not.
fn parse_token(token: &str) -> Option<Continuation> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn make_token(continuation: &Continuation) -> String {
    let text = serde_json::to_string(continuation).expect("a continuation serializes");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// A boolean query parameter: `true` or `false` in any case (`count=True`, as Python clients
/// write it).
pub fn parse_bool(name: &str, value: &str) -> Result<bool, ApiError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(invalid(
            FlowErrorCode::InvalidRequest,
            format!("{name} '{value}' must be true or false."),
        ))
    }
}

/// A query's `(name, value)` pairs.
type Parameters = Vec<(String, String)>;

/// The sort value and store position a continuation resumes after.
type Resume = Option<(Value, i64)>;

/// The query's list parameters as `(name, value)` pairs, the continuation token's remembered
/// parameters filling in every name the request does not give itself.
fn effective_parameters(raw_query: Option<&str>) -> Result<(Parameters, Resume), ApiError> {
    let mut parameters: Parameters = Vec::new();
    let mut token = None;
    for (name, value) in form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes()) {
        if name == "continuationToken" {
            token = Some(value.into_owned());
        } else {
            parameters.push((name.into_owned(), value.into_owned()));
        }
    }
    let Some(token) = token else {
        return Ok((parameters, None));
    };
    let continuation = parse_token(&token).ok_or_else(|| {
        invalid(
            FlowErrorCode::InvalidRequest,
            "continuationToken is not one this server issued; start again without it.".to_owned(),
        )
    })?;
    let given: Vec<String> = parameters.iter().map(|(name, _)| name.clone()).collect();
    parameters.extend(
        continuation
            .parameters
            .into_iter()
            .filter(|(name, _)| !given.contains(name)),
    );
    Ok((
        parameters,
        Some((continuation.sort_value, continuation.position)),
    ))
}

impl ListQuery {
    /// Parses the list parameters; `sortable` names the fields `orderby` accepts. A
    /// `continuationToken` brings back the filters, order and limit of the query it continues;
    /// a parameter given next to it replaces the remembered one of that name.
    pub fn parse(raw_query: Option<&str>, sortable: &[&str]) -> Result<ListQuery, ApiError> {
        let (parameters, after) = effective_parameters(raw_query)?;
        let mut query = ListQuery {
            filters: Vec::new(),
            order: None,
            limit: None,
            after,
            count: false,
            kept_parameters: Vec::new(),
        };
        for (name, value) in parameters {
            match name.as_str() {
                "property" => query.filters.push(PropertyFilter::parse(&value)?),
                "orderby" => query.order = Some(parse_order(&value, sortable)?),
                "limit" => {
                    let limit = value
                        .trim()
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
                "count" => query.count = parse_bool("count", value.trim())?,
                _ => {}
            }
            query.kept_parameters.push((name, value));
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
            self.next_link(value, *position, collection_path)
        });
        let items: Vec<Value> = selected
            .into_iter()
            .map(|(_, _, document)| document)
            .collect();
        page_body(items, next)
    }
}

/// What the store can answer of a [`ListQuery`].
#[derive(Debug, Clone)]
pub struct StorePlan {
    /// The filters (and, when `complete`, order, cursor and limit + 1) for the store.
    pub query: flowd_store::ListQuery,
    /// Whether the store answers the whole query; otherwise the rest is applied in memory to
    /// what `query` returns.
    pub complete: bool,
}

/// A collection's fields that the store holds as indexed columns.
pub type IndexedFields = &'static [(&'static str, IndexedField)];

/// The indexed fields of resource documents.
pub const DOCUMENT_INDEXED_FIELDS: IndexedFields = &[
    ("id", IndexedField::Id),
    ("name", IndexedField::Name),
    ("state", IndexedField::State),
    ("createdAt", IndexedField::CreatedAt),
    ("updatedAt", IndexedField::UpdatedAt),
];

/// `text` as an integer when it is one written canonically (so text equality, the in-memory
/// rule, and numeric equality agree).
fn canonical_integer(text: &str) -> Option<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|number| number.to_string() == text)
}

/// The store form of `filter`, when the store's column gives the same answer.
fn pushed_filter(filter: &PropertyFilter, indexed: IndexedFields) -> Option<IndexedFilter> {
    let [segment] = filter.segments() else {
        return None;
    };
    let field = indexed
        .iter()
        .find(|(name, _)| name == segment)
        .map(|(_, field)| *field)?;
    let values = filter.values();
    let (op, values) = match filter.operator() {
        Operator::Equal | Operator::NotEqual => {
            let op = if filter.operator() == Operator::Equal {
                FilterOp::In
            } else {
                FilterOp::NotIn
            };
            let values = if field.is_numeric() {
                values
                    .iter()
                    .map(|value| canonical_integer(value).map(|n| FilterValue::Number(n as f64)))
                    .collect::<Option<Vec<_>>>()?
            } else {
                values.iter().cloned().map(FilterValue::Text).collect()
            };
            (op, values)
        }
        comparison if field.is_numeric() => {
            let number = values.first()?.parse::<f64>().ok()?;
            let op = match comparison {
                Operator::Greater => FilterOp::Greater,
                Operator::GreaterOrEqual => FilterOp::GreaterOrEqual,
                Operator::Less => FilterOp::Less,
                _ => FilterOp::LessOrEqual,
            };
            (op, vec![FilterValue::Number(number)])
        }
        _ => return None,
    };
    Some(IndexedFilter { field, op, values })
}

impl ListQuery {
    /// Orders by `field` ascending when the client asked for no order (runs list by creation).
    pub fn with_default_order(mut self, field: &str) -> ListQuery {
        if self.order.is_none() {
            self.order = Some(SortOrder {
                field: field.to_owned(),
                descending: false,
            });
        }
        self
    }

    /// Whether the client asked for a count only.
    pub fn counts(&self) -> bool {
        self.count
    }

    /// What the store can answer, given the collection's indexed fields.
    pub fn store_plan(&self, indexed: IndexedFields) -> StorePlan {
        let pushed: Vec<Option<IndexedFilter>> = self
            .filters
            .iter()
            .map(|filter| pushed_filter(filter, indexed))
            .collect();
        let all_filters_pushed = pushed.iter().all(Option::is_some);
        let order = match &self.order {
            None => Some(None),
            Some(order) => indexed
                .iter()
                .find(|(name, _)| *name == order.field)
                .map(|(_, field)| Some((*field, order.descending))),
        };
        let filters = pushed.into_iter().flatten().collect();
        match order {
            Some(order) if all_filters_pushed => StorePlan {
                query: flowd_store::ListQuery {
                    filters,
                    order,
                    after: self.after.as_ref().map(|(value, position)| Cursor {
                        value: value.clone(),
                        position: *position,
                    }),
                    limit: self.limit.map(|limit| limit + 1),
                },
                complete: true,
            },
            _ => StorePlan {
                query: flowd_store::ListQuery {
                    filters,
                    ..flowd_store::ListQuery::default()
                },
                complete: false,
            },
        }
    }

    /// `{"count": n}`.
    pub fn count_response(count: u64) -> Value {
        json!({ "count": count })
    }

    /// The response body for a page the store already filtered, ordered and cut after the
    /// cursor, fetched with one item more than the limit to tell whether another page follows.
    pub fn respond_store_page(&self, mut page: Vec<(i64, Value)>, collection_path: &str) -> Value {
        let more = self.limit.is_some_and(|limit| page.len() > limit);
        if let Some(limit) = self.limit {
            page.truncate(limit);
        }
        let next = more.then(|| {
            let (position, document) = page.last().expect("a full page");
            self.next_link(&self.sort_value(document), *position, collection_path)
        });
        let items: Vec<Value> = page.into_iter().map(|(_, document)| document).collect();
        page_body(items, next)
    }

    /// `{collection_path}?continuationToken=…`: the token alone, holding the rest of the query.
    fn next_link(&self, sort_value: &Value, position: i64, collection_path: &str) -> String {
        let token = make_token(&Continuation {
            parameters: self.kept_parameters.clone(),
            sort_value: sort_value.clone(),
            position,
        });
        format!("{collection_path}?continuationToken={token}")
    }
}

/// `{"items": [...], "_links": {}}`, with `_links.next.href` when another page follows: clients
/// read `_links` whether or not there is a next page.
fn page_body(items: Vec<Value>, next: Option<String>) -> Value {
    let links = match next {
        Some(href) => json!({ "next": { "href": href } }),
        None => json!({}),
    };
    json!({ "items": items, "_links": links })
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
                    // The crude way clients take the token: everything after the first `=`.
                    let token = href.split_once('=').unwrap().1;
                    assert!(href.starts_with("/flows?continuationToken="), "{href}");
                    assert!(!token.contains(['=', '&', '+']), "{token}");
                    raw = format!("continuationToken={token}");
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
