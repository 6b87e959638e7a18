//! What a spec may put in a request header: the rules checked when a spec or a connection is
//! written, so that a header that cannot be sent (or would change how the request is framed)
//! is refused with a pointer instead of failing a run.
//!
//! - A name is an RFC 9110 token (letters, digits and ``!#$%&'*+-.^_`|~``).
//! - A value has no control character but tab: CR and LF would split the header, NUL ends it.
//! - `headerParams` may not set the headers the HTTP client owns ([`CLIENT_OWNED_HEADERS`]),
//!   nor a header one of the spec's auth methods sets (`Authorization` for Basic and OAuth2,
//!   each key's header for KeyBased): the credential is the auth method's to send.

use serde_json::{Map, Value};

use crate::auth_spec::{AuthType, is_key_param, readable_auth_specs};
use crate::fetch_config::NamedTemplate;
use crate::placeholder::find_placeholders;
use crate::problem::{Problem, child_pointer};

/// Headers that frame the request or the connection; the HTTP client sets them.
pub const CLIENT_OWNED_HEADERS: [&str; 9] = [
    "Host",
    "Content-Length",
    "Transfer-Encoding",
    "Connection",
    "Keep-Alive",
    "TE",
    "Trailer",
    "Upgrade",
    "Proxy-Connection",
];

/// Why `name` cannot be a header name, if it cannot.
pub fn header_name_problem(name: &str) -> Result<(), &'static str> {
    let is_token_character =
        |byte: u8| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte);
    if name.is_empty() {
        Err("a header name cannot be empty")
    } else if name.bytes().all(is_token_character) {
        Ok(())
    } else {
        Err("is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)")
    }
}

/// Why `value` cannot be sent as a header value, if it cannot.
pub fn header_value_problem(value: &str) -> Result<(), &'static str> {
    if value
        .chars()
        .any(|character| character.is_control() && character != '\t')
    {
        Err("must not contain CR, LF, NUL or another control character")
    } else {
        Ok(())
    }
}

/// Whether the HTTP client owns the header `name` ([`CLIENT_OWNED_HEADERS`]).
pub fn is_client_owned(name: &str) -> bool {
    CLIENT_OWNED_HEADERS
        .iter()
        .any(|owned| owned.eq_ignore_ascii_case(name))
}

/// The headers the auth specs of a connection spec set, each with a description of the auth
/// spec that sets it.
fn auth_headers(connection_spec: &Value) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    for auth_spec in readable_auth_specs(connection_spec) {
        let setter = format!(
            "auth spec {:?} ({})",
            auth_spec.name,
            auth_spec.auth_type.as_str()
        );
        match auth_spec.auth_type {
            AuthType::BasicAuthentication | AuthType::OAuth2RefreshCode => {
                headers.push(("Authorization".to_owned(), setter));
            }
            AuthType::KeyBased => {
                let properties = auth_spec
                    .schema
                    .get("properties")
                    .and_then(Value::as_object);
                for (name, property) in properties.into_iter().flatten() {
                    if is_key_param(&auth_spec.schema, name) {
                        let header = property
                            .pointer("/restAttributes/headerParamName")
                            .and_then(Value::as_str)
                            .unwrap_or(name);
                        headers.push((header.to_owned(), setter.clone()));
                    }
                }
            }
        }
    }
    headers
}

/// Checks the `headerParams` at `pointer`: names, values, and the headers nobody but the
/// client or the auth method may set.
pub(crate) fn check_header_params(
    header_params: &[NamedTemplate],
    pointer: &str,
    problems: &mut Vec<Problem>,
) {
    for header in header_params {
        let header_pointer = child_pointer(pointer, &header.name);
        if let Err(reason) = header_name_problem(&header.name) {
            problems.push(Problem::new(&header_pointer, reason));
        } else if is_client_owned(&header.name) {
            problems.push(Problem::new(
                &header_pointer,
                format!(
                    "{} is set by the HTTP client; headerParams may not set it",
                    header.name
                ),
            ));
        }
        if let Err(reason) = header_value_problem(&header.template) {
            problems.push(Problem::new(&header_pointer, reason));
        }
    }
}

/// Problems with `headerParams` (at `pointer`) that set a header one of `connection_spec`'s
/// auth methods sets.
pub(crate) fn check_auth_header_conflicts(
    connection_spec: &Value,
    header_names: &[&str],
    pointer: &str,
    problems: &mut Vec<Problem>,
) {
    let auth_headers = auth_headers(connection_spec);
    for header in header_names {
        if let Some((_, setter)) = auth_headers
            .iter()
            .find(|(auth_header, _)| auth_header.eq_ignore_ascii_case(header))
        {
            problems.push(Problem::new(
                child_pointer(pointer, header),
                format!("{header} is set by {setter}; headerParams may not set it too"),
            ));
        }
    }
}

/// Problems with source params (under `/params`) that fill a placeholder of a header with a
/// value that cannot be sent.
pub(crate) fn check_header_placeholder_values(
    header_params: &[NamedTemplate],
    source_params: &Value,
    problems: &mut Vec<Problem>,
) {
    let Some(source_params) = source_params.as_object() else {
        return;
    };
    for header in header_params {
        for occurrence in find_placeholders(&header.template) {
            let Some(Value::String(value)) = source_params.get(occurrence.name) else {
                continue;
            };
            if let Err(reason) = header_value_problem(value) {
                let pointer = child_pointer("/params", occurrence.name);
                if !problems.iter().any(|problem| problem.pointer == pointer) {
                    problems.push(Problem::new(
                        pointer,
                        format!("is sent in header {}, so it {reason}", header.name),
                    ));
                }
            }
        }
    }
}

/// Problems with auth params (under `/auth/params`) that cannot be sent in a header; every
/// string is checked, since any of them may fill a header's placeholder or be a header itself.
pub fn auth_param_header_problems(params: &Map<String, Value>) -> Vec<Problem> {
    params
        .iter()
        .filter_map(|(name, value)| {
            let reason = header_value_problem(value.as_str()?).err()?;
            Some(Problem::new(child_pointer("/auth/params", name), reason))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_tokens_and_values_have_no_control_characters() {
        for name in ["X-Api-Key", "x_trace.id", "Accept"] {
            assert_eq!(header_name_problem(name), Ok(()), "{name}");
        }
        for name in ["", "X Key", "X-Key\r\nEvil", "X:Key", "Ключ", "X\0"] {
            assert!(header_name_problem(name).is_err(), "{name:?}");
        }
        for value in ["application/json", "Bearer a.b.c", "tab\tinside", "ünïcode"] {
            assert_eq!(header_value_problem(value), Ok(()), "{value}");
        }
        for value in ["a\r\nX-Evil: 1", "a\nb", "a\rb", "a\0b", "a\x7fb"] {
            assert!(header_value_problem(value).is_err(), "{value:?}");
        }
        assert!(is_client_owned("host") && is_client_owned("Transfer-Encoding"));
        assert!(!is_client_owned("Authorization"));
    }
}
