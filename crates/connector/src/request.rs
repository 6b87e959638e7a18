//! Building the base request of a run from the spec's `urlParams`,
//! `queryParams`, `headerParams` and `bodyParams`.
//!
//! `${name}` (and legacy `{{name}}`) placeholders take their value from the
//! source connection's params first, then the connection's auth params;
//! `{SCHEDULE_QUERY}` from the window. Values are percent-encoded where they
//! land in a path segment or the query, inserted as they are in the host and
//! in headers, and in a JSON body a string that is one placeholder alone
//! takes the param's JSON value (so numbers stay numbers). An unresolved
//! placeholder is an error before any request is sent. The host is
//! `urlParams.host`, else the auth params' `host`, else their `domain`
//! (with `https://` added when no scheme is given).

use std::borrow::Cow;

use bytes::Bytes;
use flowd_spec::{FetchConfig, HttpMethod};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Map, Value};
use url::Url;

/// Characters escaped in a value substituted into a path: a value is one
/// segment, so `/`, `?` and `#` must not change the URL's structure.
const PATH_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Why the base request could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error(
        "placeholder ${{{name}}} in {location} has no value: give it in the source params or the auth params"
    )]
    UnresolvedPlaceholder { name: String, location: String },
    #[error("no host: the spec has no urlParams.host and the auth params have no host or domain")]
    MissingHost,
    #[error("the request URL {url} is not valid: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("header {name} cannot be sent: {reason}")]
    InvalidHeader { name: String, reason: String },
    #[error(
        "the request would go to {origin}, but credentials are sent only to {allowed}, the host the spec and the base connection name"
    )]
    ForeignOrigin { origin: String, allowed: String },
    #[error(
        "the request host needs ${{{name}}}, which the base connection's auth params do not give: credentials are sent only to a host the spec and the base connection fix"
    )]
    HostFromSourceParams { name: String },
}

/// The values placeholders are filled from.
#[derive(Debug, Clone, Copy)]
pub struct TemplateValues<'a> {
    pub source_params: &'a Map<String, Value>,
    pub auth_params: &'a Map<String, Value>,
    pub schedule_query: Option<&'a str>,
}

impl<'a> TemplateValues<'a> {
    fn json_value(&self, name: &str) -> Option<&'a Value> {
        self.source_params
            .get(name)
            .or_else(|| self.auth_params.get(name))
            .filter(|value| !value.is_null())
    }

    fn text(&self, name: &str) -> Option<Cow<'a, str>> {
        if name == "SCHEDULE_QUERY" {
            return self.schedule_query.map(Cow::Borrowed);
        }
        match self.json_value(name)? {
            Value::String(text) => Some(Cow::Borrowed(text.as_str())),
            other => Some(Cow::Owned(other.to_string())),
        }
    }
}

/// The request every page starts from.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseRequest {
    pub method: reqwest::Method,
    /// Host and path, with the spec's query parameters and the window's.
    pub url: Url,
    /// Rendered `headerParams`.
    pub headers: Vec<(String, String)>,
    /// Rendered `bodyParams` as JSON (POST only).
    pub body: Option<Bytes>,
}

fn render(
    template: &str,
    location: &str,
    values: &TemplateValues<'_>,
    encode: fn(&str) -> Cow<'_, str>,
) -> Result<String, RequestError> {
    flowd_spec::render(template, |name| {
        values.text(name).map(|text| match encode(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(encoded) => Cow::Owned(encoded),
        })
    })
    .map_err(|unresolved| RequestError::UnresolvedPlaceholder {
        name: unresolved.name,
        location: location.to_owned(),
    })
}

fn as_is(text: &str) -> Cow<'_, str> {
    Cow::Borrowed(text)
}

fn path_encoded(text: &str) -> Cow<'_, str> {
    utf8_percent_encode(text, PATH_VALUE).into()
}

fn host_template<'a>(fetch: &'a FetchConfig, values: &TemplateValues<'a>) -> Option<Cow<'a, str>> {
    if let Some(host) = &fetch.url.host {
        return Some(Cow::Borrowed(host));
    }
    ["host", "domain"].into_iter().find_map(|name| {
        values
            .auth_params
            .get(name)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(Cow::Borrowed)
    })
}

/// The origin credentials may be sent to: the host `urlParams.host` names (`fetch_host`), or
/// else the auth params' `host` or `domain`, rendered from the auth params alone — so a source
/// param, an absolute `urlParams.path` or a next-page link can never move credentials to
/// another host.
pub fn credential_origin(
    fetch_host: Option<&str>,
    auth_params: &Map<String, Value>,
) -> Result<url::Origin, RequestError> {
    let no_source_params = Map::new();
    let values = TemplateValues {
        source_params: &no_source_params,
        auth_params,
        schedule_query: None,
    };
    let template = match fetch_host {
        Some(host) => Cow::Borrowed(host),
        None => ["host", "domain"]
            .into_iter()
            .find_map(|name| {
                auth_params
                    .get(name)
                    .and_then(Value::as_str)
                    .filter(|text| !text.is_empty())
            })
            .map(Cow::Borrowed)
            .ok_or(RequestError::MissingHost)?,
    };
    let host =
        render(&template, "urlParams.host", &values, as_is).map_err(|error| match error {
            RequestError::UnresolvedPlaceholder { name, .. } => {
                RequestError::HostFromSourceParams { name }
            }
            other => other,
        })?;
    let address = if host.contains("://") {
        host
    } else {
        format!("https://{host}")
    };
    Url::parse(&address)
        .map(|url| url.origin())
        .map_err(|error| RequestError::InvalidUrl {
            url: address,
            reason: error.to_string(),
        })
}

/// `url` when credentials may go there ([`credential_origin`]).
pub fn check_credential_origin(url: &Url, allowed: &url::Origin) -> Result<(), RequestError> {
    if url.origin() == *allowed {
        Ok(())
    } else {
        Err(RequestError::ForeignOrigin {
            origin: url.origin().ascii_serialization(),
            allowed: allowed.ascii_serialization(),
        })
    }
}

/// Renders the base request; `window_query` is appended after the spec's
/// own query parameters.
pub fn build_base_request(
    fetch: &FetchConfig,
    values: &TemplateValues<'_>,
    window_query: &[(String, String)],
) -> Result<BaseRequest, RequestError> {
    let path = render(&fetch.url.path, "urlParams.path", values, path_encoded)?;
    let address = if path.starts_with("http://") || path.starts_with("https://") {
        path
    } else {
        let host_template = host_template(fetch, values).ok_or(RequestError::MissingHost)?;
        let host = render(&host_template, "urlParams.host", values, as_is)?;
        let host = if host.contains("://") {
            host
        } else {
            format!("https://{host}")
        };
        let separator = if path.starts_with('/') || path.is_empty() {
            ""
        } else {
            "/"
        };
        format!("{}{separator}{path}", host.trim_end_matches('/'))
    };
    let mut url = Url::parse(&address).map_err(|error| RequestError::InvalidUrl {
        url: address.clone(),
        reason: error.to_string(),
    })?;
    let mut query = Vec::with_capacity(fetch.query_params.len() + window_query.len());
    for parameter in &fetch.query_params {
        let location = format!("queryParams.{}", parameter.name);
        query.push((
            parameter.name.clone(),
            render(&parameter.template, &location, values, as_is)?,
        ));
    }
    query.extend(window_query.iter().cloned());
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (name, value) in &query {
            pairs.append_pair(name, value);
        }
    }
    let mut headers = Vec::with_capacity(fetch.header_params.len());
    for parameter in &fetch.header_params {
        let location = format!("headerParams.{}", parameter.name);
        let value = render(&parameter.template, &location, values, as_is)?;
        // Validation refuses CR, LF and NUL in header templates and in the params they use;
        // a value that still cannot be sent fails the request here, never on the wire.
        if let Err(reason) = flowd_spec::header_value_problem(&value) {
            return Err(RequestError::InvalidHeader {
                name: parameter.name.clone(),
                reason: reason.to_owned(),
            });
        }
        headers.push((parameter.name.clone(), value));
    }
    let (method, body) = match fetch.url.method {
        HttpMethod::Get => (reqwest::Method::GET, None),
        HttpMethod::Post => {
            let body = match &fetch.body {
                Some(template) => Some(Bytes::from(
                    render_json(template, "bodyParams", values)?.to_string(),
                )),
                None => None,
            };
            (reqwest::Method::POST, body)
        }
    };
    Ok(BaseRequest {
        method,
        url,
        headers,
        body,
    })
}

/// Renders every string of a JSON body template.
fn render_json(
    template: &Value,
    location: &str,
    values: &TemplateValues<'_>,
) -> Result<Value, RequestError> {
    Ok(match template {
        Value::String(text) => {
            let occurrences = flowd_spec::find_placeholders(text);
            let whole = occurrences.first().filter(|occurrence| {
                occurrences.len() == 1 && occurrence.byte_range == (0..text.len())
            });
            match whole.and_then(|occurrence| values.json_value(occurrence.name)) {
                Some(value) => value.clone(),
                None => Value::String(render(text, location, values, as_is)?),
            }
        }
        Value::Array(elements) => Value::Array(
            elements
                .iter()
                .enumerate()
                .map(|(index, element)| {
                    render_json(element, &format!("{location}[{index}]"), values)
                })
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(name, member)| {
                    Ok((
                        name.clone(),
                        render_json(member, &format!("{location}.{name}"), values)?,
                    ))
                })
                .collect::<Result<_, RequestError>>()?,
        ),
        other => other.clone(),
    })
}
