//! `urlParams` (host, path, method, queryParams), `headerParams` and `bodyParams`: what the
//! request looks like, and the check that every placeholder in it is declared.
//!
//! Decisions: `method` is matched case-insensitively (`get` is accepted) and defaults to GET
//! when absent, because the template schema does not require it and GET is what every
//! example uses. `bodyParams` with GET is accepted but dropped, matching Adobe's "sent only
//! when method is POST". Legacy parameter strings are split on `,` and `&` into `name=value`
//! pairs (first `=` separates); an entry without `=` is a problem rather than a guess.

use serde_json::{Map, Value};

use super::lenient::{aliased_member, non_empty_string, required_string};
use super::{DeclaredNames, HttpMethod, NamedTemplate, UrlTemplate};
use crate::header::check_header_params;
use crate::placeholder::{PlaceholderSyntax, find_placeholders};
use crate::problem::{Problem, child_pointer, index_pointer};

/// The request-shaping part of a fetch config.
pub(super) struct RequestParts {
    pub url: UrlTemplate,
    pub query_params: Vec<NamedTemplate>,
    pub header_params: Vec<NamedTemplate>,
    pub body: Option<Value>,
}

/// Resolves `urlParams`, `headerParams` and `bodyParams` of the fetch config `members`.
pub(super) fn resolve_request(
    members: &Map<String, Value>,
    base_pointer: &str,
    declared: &DeclaredNames,
    problems: &mut Vec<Problem>,
) -> Option<RequestParts> {
    let url_params_pointer = child_pointer(base_pointer, "urlParams");
    let (url, query_params) = match members.get("urlParams") {
        None => {
            problems.push(Problem::new(&url_params_pointer, "is required"));
            (None, None)
        }
        Some(Value::Object(url_members)) => (
            resolve_url(url_members, &url_params_pointer, declared, problems),
            match url_members.get("queryParams") {
                Some(query_value) => named_templates(
                    query_value,
                    &child_pointer(&url_params_pointer, "queryParams"),
                    declared,
                    problems,
                ),
                None => Some(Vec::new()),
            },
        ),
        Some(_) => {
            problems.push(Problem::new(&url_params_pointer, "must be an object"));
            (None, None)
        }
    };
    let header_params_pointer = child_pointer(base_pointer, "headerParams");
    let header_params = match members.get("headerParams") {
        Some(header_value) => {
            named_templates(header_value, &header_params_pointer, declared, problems)
        }
        None => Some(Vec::new()),
    };
    if let Some(header_params) = &header_params {
        check_header_params(header_params, &header_params_pointer, problems);
    }
    let body = members.get("bodyParams");
    if let Some(body_value) = body {
        check_placeholders_in_json(
            body_value,
            &child_pointer(base_pointer, "bodyParams"),
            declared,
            problems,
        );
    }
    let url = url?;
    let body = match url.method {
        HttpMethod::Post => body.cloned(),
        HttpMethod::Get => None,
    };
    Some(RequestParts {
        url,
        query_params: query_params?,
        header_params: header_params?,
        body,
    })
}

fn resolve_url(
    url_members: &Map<String, Value>,
    url_params_pointer: &str,
    declared: &DeclaredNames,
    problems: &mut Vec<Problem>,
) -> Option<UrlTemplate> {
    let host = match aliased_member(
        url_members,
        url_params_pointer,
        &["host", "hostname"],
        problems,
    ) {
        Some(host_member) => {
            let host_text = non_empty_string(host_member.value, &host_member.pointer, problems);
            if let Some(host_text) = host_text {
                check_placeholders(host_text, &host_member.pointer, declared, problems);
            }
            Some(host_text.map(str::to_owned))
        }
        None => None,
    };
    let path = required_string(
        url_members,
        url_params_pointer,
        &["path"],
        "is required",
        problems,
    )
    .map(|(path_pointer, path_text)| {
        check_placeholders(path_text, &path_pointer, declared, problems);
        path_text.to_owned()
    });
    let method = match url_members.get("method") {
        None => Some(HttpMethod::Get),
        Some(method_value) => {
            let method_text = method_value.as_str().unwrap_or_default();
            if method_text.eq_ignore_ascii_case("GET") {
                Some(HttpMethod::Get)
            } else if method_text.eq_ignore_ascii_case("POST") {
                Some(HttpMethod::Post)
            } else {
                problems.push(Problem::new(
                    child_pointer(url_params_pointer, "method"),
                    "must be GET or POST",
                ));
                None
            }
        }
    };
    Some(UrlTemplate {
        host: match host {
            Some(resolved_host) => Some(resolved_host?),
            None => None,
        },
        path: path?,
        method: method?,
    })
}

/// `queryParams` / `headerParams`: an object of scalar values or a legacy `k=v,k2=v2` string.
fn named_templates(
    value: &Value,
    pointer: &str,
    declared: &DeclaredNames,
    problems: &mut Vec<Problem>,
) -> Option<Vec<NamedTemplate>> {
    let problems_before = problems.len();
    let mut templates = Vec::new();
    match value {
        Value::Object(parameters) => {
            for (name, parameter_value) in parameters {
                let parameter_pointer = child_pointer(pointer, name);
                let template = match parameter_value {
                    Value::String(text) => text.clone(),
                    Value::Number(number) => number.to_string(),
                    Value::Bool(flag) => flag.to_string(),
                    _ => {
                        problems.push(Problem::new(
                            &parameter_pointer,
                            "must be a string, a number or a boolean",
                        ));
                        continue;
                    }
                };
                check_placeholders(&template, &parameter_pointer, declared, problems);
                templates.push(NamedTemplate {
                    name: name.clone(),
                    template,
                });
            }
        }
        Value::String(legacy_text) => {
            for entry in legacy_text
                .split([',', '&'])
                .filter(|entry| !entry.trim().is_empty())
            {
                match entry.split_once('=') {
                    Some((name, template)) if !name.trim().is_empty() => {
                        templates.push(NamedTemplate {
                            name: name.trim().to_owned(),
                            template: template.to_owned(),
                        });
                    }
                    _ => problems.push(Problem::new(
                        pointer,
                        format!("entry {entry:?} is not of the form name=value"),
                    )),
                }
            }
            check_placeholders(legacy_text, pointer, declared, problems);
        }
        _ => problems.push(Problem::new(
            pointer,
            "must be an object or a legacy name=value string",
        )),
    }
    (problems.len() == problems_before).then_some(templates)
}

/// Checks every string inside `value` (recursively) for undeclared placeholders.
fn check_placeholders_in_json(
    value: &Value,
    pointer: &str,
    declared: &DeclaredNames,
    problems: &mut Vec<Problem>,
) {
    match value {
        Value::String(text) => check_placeholders(text, pointer, declared, problems),
        Value::Array(elements) => {
            for (index, element) in elements.iter().enumerate() {
                check_placeholders_in_json(
                    element,
                    &index_pointer(pointer, index),
                    declared,
                    problems,
                );
            }
        }
        Value::Object(members) => {
            for (key, member) in members {
                check_placeholders_in_json(
                    member,
                    &child_pointer(pointer, key),
                    declared,
                    problems,
                );
            }
        }
        _ => {}
    }
}

/// One problem per undeclared placeholder occurrence in `text`, at the pointer of `text`.
pub(super) fn check_placeholders(
    text: &str,
    pointer: &str,
    declared: &DeclaredNames,
    problems: &mut Vec<Problem>,
) {
    for occurrence in find_placeholders(text) {
        if occurrence.is_reserved() || declared.contains(occurrence.name) {
            continue;
        }
        let written = match occurrence.syntax {
            PlaceholderSyntax::Dollar => format!("${{{}}}", occurrence.name),
            PlaceholderSyntax::DoubleBrace => format!("{{{{{}}}}}", occurrence.name),
            PlaceholderSyntax::ReservedBrace => continue,
        };
        problems.push(Problem::new(
            pointer,
            format!(
                "placeholder {written} is not declared in sourceSpec.spec.properties \
                 or any authSpec[].spec.properties"
            ),
        ));
    }
}
