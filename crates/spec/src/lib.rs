//! flowd's spec model: connection specs, flow specs and the fetch configuration of
//! generic-rest sources, with lenient wire parsing, validation that reports every problem with
//! a JSON pointer, placeholder templates and .NET date-format rendering.
//!
//! **API Boundary:** this crate knows the spec model and its rules; it knows nothing of HTTP,
//! storage or the network, and does no IO at all (JSON Schemas never fetch a remote `$ref`).
//! The API crate calls the validators at the edge; a runtime consumes [`FetchConfig`].

pub mod auth_spec;
pub mod builtin;
pub mod connection_spec;
pub mod date_format;
pub mod fetch_config;
pub mod flow_spec;
pub mod header;
pub mod json_schema;
pub mod placeholder;
pub mod problem;

pub use auth_spec::{
    AuthSpec, AuthSpecs, AuthType, is_credential_name, is_key_param, normalize_auth_spec_name,
};
pub use builtin::{
    BATCH_REST_PROVIDER_ID, DATA_LAKE_CONNECTION_SPEC_ID, REST_STORAGE_TO_AEP_FLOW_SPEC_ID,
    data_lake_connection_spec, rest_storage_to_aep_flow_spec,
};
pub use connection_spec::{
    SourceShape, is_generic_rest, resolve_source, resolve_source_fetch_config, source_shape,
    validate_connection_spec,
};
pub use date_format::{DateFormatError, DotNetDateFormat, JAVA_PATTERN_HINT};
pub use fetch_config::{
    AttributeFilter, ContentPath, ContinuationTokenPagination, DeclaredNames, EndCondition,
    EndPageIndex, FetchConfig, HttpMethod, MAX_DELAY_REQUEST_MILLIS, MAX_DESCENDANT_SEGMENTS,
    MAX_SELECTOR_MULTIPLICITY, NamedTemplate, OffsetPagination, PagePagination, PageSize,
    Pagination, PointerPagination, RequestPacing, Schedule, TokenParameterLocation, UrlTemplate,
    parse_lenient_json_path, resolve_fetch_config,
};
pub use flow_spec::{normalize_flow_spec, validate_flow_spec};
pub use header::{auth_param_header_problems, header_name_problem, header_value_problem};
pub use json_schema::{compile_schema, schema_problems, secret_properties};
pub use placeholder::{UnresolvedPlaceholder, find_placeholders, render};
pub use problem::Problem;
