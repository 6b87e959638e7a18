//! `POST /connections/search`, `/flows/search` and `/flowSpecs/search` (Adobe's OpenAPI file:
//! `ConnectionFilterRequest`, `FlowFilterRequest`): a list request whose parameters come in a
//! JSON body, `{"queryString", "limit", "orderby", "count", "projectionFields"}`, answered
//! exactly as the `GET` list with the same parameters would be (same filters, order, keyset
//! pages and errors).
//!
//! Decisions where the file is silent:
//! - `queryString` holds what a list URL's query would: filter expressions and list parameters
//!   separated by `&` (`name==x&state==enabled`, `property=name==x&orderby=-createdAt`); a part
//!   that does not start with a list parameter name is a filter (`property=` may be left out).
//!   Values are written raw, not percent-encoded.
//! - `limit` is 1 to 1000 (the file's maximum); `count: true` answers `{"count": n}`.
//! - `projectionFields` (comma-separated top-level fields) returns only those fields of each
//!   item, and always `id`.
//! - The next page is `_links.next.href` = `/<collection>/search?continuationToken=…`; the token
//!   remembers the whole query, so POSTing to it with an empty body (`{}`) or the same body
//!   continues the search.

use crate::routing::Routes;
use crate::routing::post;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use flowd_spec::Problem;
use serde_json::{Map, Value};

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, json_response};
use crate::routes::documents::{Collection, list_body};
use crate::state::AppState;
use crate::tenant::Tenant;

/// Largest `limit` of a search (the file's maximum).
const MAX_SEARCH_LIMIT: u64 = 1000;

/// List parameter names a `queryString` part may start with.
const LIST_PARAMETERS: [&str; 5] = ["property", "orderby", "limit", "count", "continuationToken"];

/// `POST /<collection>/search` of `C`.
pub fn search_routes<C: Collection>() -> Routes {
    Routes::new().route(
        &format!("/{}/search", C::TYPE.collection),
        post(search_handler::<C>),
    )
}

/// A search body read into list parameters, and the projection to apply.
#[derive(Debug, Default, PartialEq)]
struct Search {
    parameters: Vec<(String, String)>,
    projection: Option<Vec<String>>,
}

fn search_of(body: &Value) -> Result<Search, Vec<Problem>> {
    let Some(members) = body.as_object() else {
        return Err(vec![Problem::new("", "must be a JSON object")]);
    };
    let mut search = Search::default();
    let mut problems = Vec::new();
    match members.get("queryString") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => {
            for part in text
                .split('&')
                .map(str::trim)
                .filter(|part| !part.is_empty())
            {
                let parameter = part
                    .split_once('=')
                    .map(|(name, value)| (name.trim(), value))
                    .filter(|(name, _)| LIST_PARAMETERS.contains(name));
                match parameter {
                    Some((name, value)) => {
                        search.parameters.push((name.to_owned(), value.to_owned()))
                    }
                    None => search
                        .parameters
                        .push(("property".to_owned(), part.to_owned())),
                }
            }
        }
        Some(_) => problems.push(Problem::new(
            "/queryString",
            "must be a string of filters, e.g. \"name==my flow&state==enabled\"",
        )),
    }
    match members.get("limit") {
        None | Some(Value::Null) => {}
        Some(limit) => match limit.as_u64() {
            Some(limit) if (1..=MAX_SEARCH_LIMIT).contains(&limit) => {
                search
                    .parameters
                    .push(("limit".to_owned(), limit.to_string()));
            }
            _ => problems.push(Problem::new(
                "/limit",
                format!("must be an integer from 1 to {MAX_SEARCH_LIMIT}"),
            )),
        },
    }
    match members.get("orderby") {
        None | Some(Value::Null) => {}
        Some(Value::String(order)) => search
            .parameters
            .push(("orderby".to_owned(), order.clone())),
        Some(_) => problems.push(Problem::new(
            "/orderby",
            "must be a field name with an optional + or - prefix, e.g. \"-createdAt\"",
        )),
    }
    match members.get("count") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(count)) => search
            .parameters
            .push(("count".to_owned(), count.to_string())),
        Some(Value::String(count)) => search.parameters.push(("count".to_owned(), count.clone())),
        Some(_) => problems.push(Problem::new("/count", "must be true or false")),
    }
    match members.get("projectionFields") {
        None | Some(Value::Null) => {}
        Some(Value::String(fields)) => {
            let fields: Vec<String> = fields
                .split(',')
                .map(str::trim)
                .filter(|field| !field.is_empty())
                .map(str::to_owned)
                .collect();
            if !fields.is_empty() {
                search.projection = Some(fields);
            }
        }
        Some(_) => problems.push(Problem::new(
            "/projectionFields",
            "must be a comma-separated list of top-level fields, e.g. \"id,name,state\"",
        )),
    }
    if problems.is_empty() {
        Ok(search)
    } else {
        Err(problems)
    }
}

/// Keeps `fields` (and `id`) of every item.
fn project(body: &mut Value, fields: &[String]) {
    let Some(items) = body.get_mut("items").and_then(Value::as_array_mut) else {
        return;
    };
    for item in items {
        let Some(members) = item.as_object() else {
            continue;
        };
        let kept: Map<String, Value> = members
            .iter()
            .filter(|(name, _)| *name == "id" || fields.iter().any(|field| field == *name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        *item = Value::Object(kept);
    }
}

/// The list query of `search`, with the `continuationToken` of the request's own query (a next
/// link's token remembers the rest).
fn search_query(search: &Search, request_query: Option<&str>) -> String {
    let mut raw = form_urlencoded::Serializer::new(String::new());
    for (name, value) in &search.parameters {
        raw.append_pair(name, value);
    }
    for (name, value) in form_urlencoded::parse(request_query.unwrap_or_default().as_bytes()) {
        if name == "continuationToken" {
            raw.append_pair(&name, &value);
        }
    }
    raw.finish()
}

async fn search_handler<C: Collection>(
    State(state): State<AppState>,
    tenant: Tenant,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let search = search_of(&body)
        .map_err(|problems| ApiError::from(FlowError::invalid_body("search request", problems)))?;
    let raw = search_query(&search, query.as_deref());
    let collection_path = format!("/{}/search", C::TYPE.collection);
    let mut listed = list_body(
        &state,
        &tenant,
        C::TYPE,
        Some(&raw),
        C::DECORATE,
        &collection_path,
    )
    .await?;
    if let Some(fields) = &search.projection {
        project(&mut listed, fields);
    }
    Ok(json_response(StatusCode::OK, listed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_search_body_becomes_list_parameters() {
        let search = search_of(&json!({
            "queryString": "name==x&property=state==enabled&orderby=-name",
            "limit": 5,
            "count": false,
            "projectionFields": "name, state"
        }))
        .unwrap();
        let pairs: Vec<(&str, &str)> = search
            .parameters
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("property", "name==x"),
                ("property", "state==enabled"),
                ("orderby", "-name"),
                ("limit", "5"),
                ("count", "false")
            ]
        );
        assert_eq!(search.projection, Some(vec!["name".into(), "state".into()]));
        assert_eq!(search_of(&json!({})).unwrap(), Search::default());
    }

    #[test]
    fn bad_search_bodies_are_refused_at_their_pointers() {
        let problems = search_of(&json!({"queryString": 3, "limit": 0, "orderby": [], "count": 1, "projectionFields": {}}))
            .unwrap_err();
        let pointers: Vec<&str> = problems
            .iter()
            .map(|problem| problem.pointer.as_str())
            .collect();
        assert_eq!(
            pointers,
            [
                "/queryString",
                "/limit",
                "/orderby",
                "/count",
                "/projectionFields"
            ]
        );
        assert_eq!(
            search_of(&json!({"limit": 1001})).unwrap_err()[0].pointer,
            "/limit"
        );
        assert_eq!(search_of(&json!([])).unwrap_err()[0].pointer, "");
    }
}
