//! The record of one request as the mock received it.
//!
//! Tests assert the exact sequence of requests the runtime sends, so this
//! keeps both the raw query string (to check encoding) and its decoded pairs
//! in order (to check names and values without caring about encoding).

/// One request received by the mock, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Upper-case method, e.g. `GET`.
    pub method: String,
    /// Path without the query, e.g. `/offset`.
    pub path: String,
    /// Raw query string without `?`, exactly as sent; empty when there was none.
    pub query: String,
    /// Query pairs decoded (`%XX` and `+`), in order, duplicates kept.
    pub query_pairs: Vec<(String, String)>,
    /// Headers in arrival order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body as UTF-8 (lossy); empty when there was none.
    pub body: String,
}

impl RecordedRequest {
    /// First value of query parameter `name` (decoded).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query_pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `path?query`, or just the path when there is no query.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json_body(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// The body decoded as `application/x-www-form-urlencoded` pairs.
    pub fn form_body(&self) -> Vec<(String, String)> {
        decode_pairs(&self.body)
    }
}

/// Decodes `a=1&b=x%20y` into ordered pairs.
pub(crate) fn decode_pairs(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect()
}
