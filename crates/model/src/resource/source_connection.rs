//! A source connection (`/sourceConnections`, reference §8.2): what to read through a base
//! connection. `params` are the source params the connection spec's `sourceSpec.spec`
//! describes (checked against it by the caller, who has the spec).

use flowd_spec::Problem;
use serde_json::{Map, Value};

use super::fields::Fields;
use super::{ResourceKind, ResourceRef, SpecRef};

/// The only `data.format` of generic-rest sources.
pub const SOURCE_DATA_FORMAT: &str = "json";

/// The most requests per second a source connection may set (`flowd.requestsPerSecond`).
pub const MAX_REQUESTS_PER_SECOND: f64 = 10_000.0;

/// The most pages a source connection may ask to be fetched at once
/// (`flowd.pageConcurrency`); the server may allow fewer (`--max-page-concurrency`).
pub const MAX_PAGE_CONCURRENCY: u64 = 64;

/// A resolved source connection.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceConnection {
    pub name: String,
    pub description: Option<String>,
    /// Canonical UUID of the base connection.
    pub base_connection_id: String,
    pub connection_spec: SpecRef,
    pub params: Map<String, Value>,
    /// `flowd.pageConcurrency`: pages of OFFSET and PAGE pagination a run fetches at once
    /// (flowd's own setting, outside AEP's shape; `None` means one at a time).
    pub page_concurrency: Option<u64>,
    /// `flowd.requestsPerSecond`: the most requests per second a run sends to the API,
    /// however many pages it fetches at once (`None`: no limit of its own).
    pub requests_per_second: Option<f64>,
}

impl SourceConnection {
    /// Reads a source connection document; every problem at once, in document order.
    pub fn from_document(document: &Value) -> Result<SourceConnection, Vec<Problem>> {
        let mut fields = Fields::open(document)?;
        let (name, description, connection_spec) = fields.head(true, "/connectionSpec");
        let base_connection_id = fields.required_uuid("/baseConnectionId", "a base connection");
        match fields.get("/data/format") {
            Some(Value::String(format)) if format == SOURCE_DATA_FORMAT => {}
            Some(_) => fields.problem(
                "/data/format",
                "must be \"json\", the only format of generic-rest sources",
            ),
            None => fields.problem("/data/format", "is required"),
        }
        let params = fields.optional_object("/params");
        let FlowdOptions {
            page_concurrency,
            requests_per_second,
        } = flowd_options(&mut fields);
        let source_connection = (|| {
            Some(SourceConnection {
                name: name?,
                description,
                base_connection_id: base_connection_id?,
                connection_spec: connection_spec?,
                params,
                page_concurrency,
                requests_per_second,
            })
        })();
        fields.finish(source_connection)
    }

    /// The base connection.
    pub fn references(&self) -> Vec<ResourceRef> {
        vec![ResourceRef::new(
            ResourceKind::Connection,
            &self.base_connection_id,
            "/baseConnectionId",
        )]
    }
}

/// The `flowd` object: settings of flowd's own, which AEP does not have (and a spec does not
/// carry, so a spec means the same on both).
fn flowd_options(fields: &mut Fields<'_>) -> FlowdOptions {
    let mut read = FlowdOptions::default();
    let options = match fields.get("/flowd") {
        None | Some(Value::Null) => return read,
        Some(Value::Object(options)) => options,
        Some(_) => {
            fields.problem("/flowd", "must be an object of flowd's settings");
            return read;
        }
    };
    for (name, value) in options {
        match name.as_str() {
            "pageConcurrency" => match value.as_u64() {
                Some(pages) if (1..=MAX_PAGE_CONCURRENCY).contains(&pages) => {
                    read.page_concurrency = Some(pages)
                }
                _ => fields.problem(
                    "/flowd/pageConcurrency",
                    format!("must be an integer from 1 to {MAX_PAGE_CONCURRENCY}"),
                ),
            },
            "requestsPerSecond" => match value.as_f64() {
                Some(rate) if rate > 0.0 && rate <= MAX_REQUESTS_PER_SECOND => {
                    read.requests_per_second = Some(rate)
                }
                _ => fields.problem(
                    "/flowd/requestsPerSecond",
                    format!("must be a number above 0 and at most {MAX_REQUESTS_PER_SECOND}"),
                ),
            },
            other => fields.problem(
                format!("/flowd/{}", other.replace('~', "~0").replace('/', "~1")),
                "is not a flowd setting (they are pageConcurrency and requestsPerSecond)",
            ),
        }
    }
    read
}

/// The settings of the `flowd` object.
#[derive(Default)]
struct FlowdOptions {
    page_concurrency: Option<u64>,
    requests_per_second: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_source_connection_names_its_base_connection_canonically() {
        let source = SourceConnection::from_document(&json!({
            "name": "s", "baseConnectionId": "5F9C0B36-0E1D-4F4E-8B59-0C8E0B1F3E6A",
            "connectionSpec": {"id": "spec"}, "data": {"format": "json"}, "params": {"listId": "x"}
        }))
        .unwrap();
        assert_eq!(
            source.base_connection_id,
            "5f9c0b36-0e1d-4f4e-8b59-0c8e0b1f3e6a"
        );
        assert_eq!(source.references()[0].kind, ResourceKind::Connection);
        let problems = SourceConnection::from_document(&json!({
            "name": "s", "baseConnectionId": "nope", "connectionSpec": {"id": "spec"},
            "data": {"format": "csv"}, "params": 3
        }))
        .unwrap_err();
        let pointers: Vec<&str> = problems
            .iter()
            .map(|problem| problem.pointer.as_str())
            .collect();
        assert_eq!(pointers, ["/baseConnectionId", "/data/format", "/params"]);
    }

    fn document(flowd: Value) -> Value {
        json!({"name": "s", "baseConnectionId": "aaaaaaaa-0000-4000-8000-000000000002",
               "connectionSpec": {"id": "aaaaaaaa-0000-4000-8000-000000000001", "version": "1.0"},
               "data": {"format": "json"}, "flowd": flowd})
    }

    #[test]
    fn page_concurrency_is_read_and_bad_flowd_settings_are_refused_at_their_pointer() {
        let source = SourceConnection::from_document(&document(
            json!({"pageConcurrency": 8, "requestsPerSecond": 2.5}),
        ))
        .unwrap();
        assert_eq!(
            (source.page_concurrency, source.requests_per_second),
            (Some(8), Some(2.5))
        );
        let cases = [
            (json!({"pageConcurrency": 0}), "/flowd/pageConcurrency"),
            (json!({"pageConcurrency": 65}), "/flowd/pageConcurrency"),
            (json!({"pageConcurrency": "8"}), "/flowd/pageConcurrency"),
            (json!({"requestsPerSecond": 0}), "/flowd/requestsPerSecond"),
            (
                json!({"requestsPerSecond": 1e9}),
                "/flowd/requestsPerSecond",
            ),
            (json!({"concurrency": 8}), "/flowd/concurrency"),
            (json!(8), "/flowd"),
        ];
        for (flowd, pointer) in cases {
            let problems = SourceConnection::from_document(&document(flowd.clone())).unwrap_err();
            let pointers: Vec<&str> = problems
                .iter()
                .map(|problem| problem.pointer.as_str())
                .collect();
            assert_eq!(pointers, [pointer], "{flowd}");
        }
    }
}
