//! The fetch configuration of a generic-rest source (`urlParams`, `headerParams`,
//! `bodyParams`, `contentPath`, `explodeEntityPath`, `paginationParams`, `scheduleParams`,
//! `schema`): lenient reading of the wire JSON and its resolution into [`FetchConfig`], the
//! validated, compiled form a runtime executes.
//!
//! Two stages: the raw stage is the `serde_json::Value` itself, walked by hand rather than
//! deserialized, because serde stops at the first error and loses the JSON pointer while this
//! module must report every problem with its location. The resolved stage holds only checked
//! values (compiled JSONPaths, parsed date formats, closed enums), so a runtime never
//! re-validates. Lenient spellings accepted (all seen in Adobe's docs): numbers as numeric
//! strings, `offSetName`/`offsetName`, `pointerPath`/`pointerName`, `type`/`paginationType`
//! with any letter case, `host`/`hostname`, query and header parameters as an object or as a
//! legacy `a=1,b=${x}` string, `contentPath` as an object or a plain JSONPath string, JSONPaths
//! without a leading `$` (`paging.next`), `${name}` and `{{name}}` placeholders.
//! Unknown members are ignored everywhere (`uiAttributes` shares the object).

mod extraction;
mod lenient;
mod pagination;
mod path_cost;
pub use pagination::MAX_DELAY_REQUEST_MILLIS;
pub use path_cost::{MAX_DESCENDANT_SEGMENTS, MAX_SELECTOR_MULTIPLICITY};
mod request;
mod schedule;

pub use lenient::parse_lenient_json_path;

use std::collections::BTreeSet;

use serde_json::Value;
use serde_json_path::JsonPath;

use crate::date_format::DotNetDateFormat;
use crate::problem::{Problem, child_pointer, sort_in_document_order};

/// `maximumRequest` for PAGE pagination when the spec gives none (reference §5.8).
pub const DEFAULT_PAGE_MAXIMUM_REQUEST: u64 = 10_000;

/// Date format used when basic `scheduleParams` omit one: RFC 3339 in UTC with a `Z`.
pub const DEFAULT_SCHEDULE_PARAM_FORMAT: &str = "yyyy-MM-ddTHH:mm:ssK";

/// Names that `${name}` placeholders may refer to: the properties of `sourceSpec.spec` (what a
/// source connection supplies) and of every `authSpec[].spec` (what a base connection
/// supplies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredNames {
    names: BTreeSet<String>,
}

impl DeclaredNames {
    /// Collects the property names of `sourceSpec.spec` and of every `authSpec[].spec` of a
    /// connection spec document; malformed parts contribute nothing.
    pub fn from_connection_spec(connection_spec: &Value) -> Self {
        let mut declared_names = Self::default();
        declared_names.insert_schema_properties(connection_spec.pointer("/sourceSpec/spec"));
        if let Some(auth_specs) = connection_spec.get("authSpec").and_then(Value::as_array) {
            for auth_spec in auth_specs {
                declared_names.insert_schema_properties(auth_spec.get("spec"));
            }
        }
        declared_names
    }

    /// Adds the top-level property names of a JSON Schema.
    pub fn insert_schema_properties(&mut self, schema: Option<&Value>) {
        if let Some(properties) = schema
            .and_then(|schema| schema.get("properties"))
            .and_then(Value::as_object)
        {
            self.names.extend(properties.keys().cloned());
        }
    }

    /// Declares one name.
    pub fn insert(&mut self, name: impl Into<String>) {
        self.names.insert(name.into());
    }

    /// Whether `name` is declared.
    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

impl<Name: Into<String>> FromIterator<Name> for DeclaredNames {
    fn from_iter<Names: IntoIterator<Item = Name>>(names: Names) -> Self {
        Self {
            names: names.into_iter().map(Into::into).collect(),
        }
    }
}

/// A validated fetch configuration: everything needed to page through a REST resource.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchConfig {
    /// Where and how to send the request.
    pub url: UrlTemplate,
    /// Query parameters in spec order; values are templates (`${name}`, `{SCHEDULE_QUERY}`).
    pub query_params: Vec<NamedTemplate>,
    /// Request headers in spec order; values are templates.
    pub header_params: Vec<NamedTemplate>,
    /// JSON body sent with POST, strings inside may hold placeholders; always `None` for GET
    /// because Adobe documents `bodyParams` as sent only with POST.
    pub body: Option<Value>,
    /// Where the records are in each response page.
    pub content_path: ContentPath,
    /// Optional nested array to flatten into one record per element.
    pub explode_entity_path: Option<ContentPath>,
    /// How to get from one page to the next.
    pub pagination: Pagination,
    /// Throttling and request cap, common to every pagination type.
    pub pacing: RequestPacing,
    /// Incremental window parameters, if the source supports windows.
    pub schedule: Option<Schedule>,
    /// Custom JSON Schema of the records (`sourceSpec.attributes.schema`), already checked to
    /// compile.
    pub schema: Option<Value>,
}

/// HTTP method of the resource request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// `GET`, the default when `urlParams.method` is absent.
    Get,
    /// `POST`, the only method that sends `bodyParams`.
    Post,
}

impl HttpMethod {
    /// The upper-case method name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// The request target, before placeholder substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate {
    /// Base URL with scheme (`https://${domain}.api.mailchimp.com`); `None` means the runtime
    /// takes it from the auth params' `host`.
    pub host: Option<String>,
    /// Resource path template (`/3.0/lists/${listId}/members`).
    pub path: String,
    /// The HTTP method.
    pub method: HttpMethod,
}

/// One query parameter or header: a literal name and a value template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedTemplate {
    /// Parameter or header name, sent as written.
    pub name: String,
    /// Value template; numbers and booleans in the spec are kept as their JSON text.
    pub template: String,
}

/// Which attributes of each selected item survive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeFilter {
    /// No `skipAttributes` or `keepAttributes`: every attribute is kept.
    KeepAll,
    /// `skipAttributes`: drop these attributes.
    Skip(Vec<String>),
    /// `keepAttributes`: keep only these attributes.
    Keep(Vec<String>),
}

/// A `contentPath` or `explodeEntityPath`.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentPath {
    /// The compiled JSONPath (RFC 9535) selecting the array of items.
    pub path: JsonPath,
    /// The path exactly as written in the spec (may lack the leading `$`).
    pub path_text: String,
    /// Attribute filtering of each item; `skipAttributes` and `keepAttributes` together are
    /// rejected, so this cannot hold both.
    pub attribute_filter: AttributeFilter,
    /// `overrideWrapperAttribute`: the key under which each item is wrapped, when given.
    pub wrapper: Option<String>,
}

/// `limitName` + `limitValue`: the page-size parameter, always given as a pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSize {
    /// Query parameter name (`limitName`, e.g. `count`).
    pub parameter_name: String,
    /// Positive page size (`limitValue`, e.g. `100`).
    pub value: u64,
}

/// The pagination strategy, one variant per `paginationParams.type`.
#[derive(Debug, Clone, PartialEq)]
pub enum Pagination {
    /// `OFFSET`: `limitName=limitValue&offSetName=<offset>`.
    Offset(OffsetPagination),
    /// `POINTER`: the next page's URL or token is read from the response.
    Pointer(PointerPagination),
    /// `CONTINUATION_TOKEN`: a token read from the response is sent back as a parameter.
    ContinuationToken(ContinuationTokenPagination),
    /// `PAGE`: page numbers from `initialPageIndex` upward.
    Page(PagePagination),
    /// `NONE` (or no `paginationParams`): one request returns everything.
    None,
}

/// Fields of OFFSET pagination.
#[derive(Debug, Clone, PartialEq)]
pub struct OffsetPagination {
    /// The page-size parameter (required for OFFSET).
    pub page_size: PageSize,
    /// Name of the offset query parameter (`offSetName`/`offsetName`).
    pub offset_parameter_name: String,
    /// Optional stop condition read from each response.
    pub end_condition: Option<EndCondition>,
}

/// `endConditionName` + `endConditionValue`: stop when the response value at the path equals
/// the expected value.
#[derive(Debug, Clone, PartialEq)]
pub struct EndCondition {
    /// Compiled JSONPath into the response body (`$.hasMore`).
    pub path: JsonPath,
    /// The path as written.
    pub path_text: String,
    /// The value that ends paging: `Const:false` becomes `false`; text after an optional
    /// `Const:` prefix is read as a JSON scalar when it is one, else kept as a string.
    pub expected_value: Value,
}

/// Fields of POINTER pagination.
#[derive(Debug, Clone, PartialEq)]
pub struct PointerPagination {
    /// Compiled JSONPath to the next-page pointer (`pointerPath`/`pointerName`).
    pub pointer_path: JsonPath,
    /// The pointer path as written (`paging.next` or `$.paging.next`).
    pub pointer_path_text: String,
    /// Optional page-size parameter.
    pub page_size: Option<PageSize>,
}

/// Where a continuation token goes on the next request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenParameterLocation {
    /// `QUERYPARAM` (the default).
    QueryParam,
    /// `HEADERPARAM`.
    HeaderParam,
}

/// Fields of CONTINUATION_TOKEN pagination.
#[derive(Debug, Clone, PartialEq)]
pub struct ContinuationTokenPagination {
    /// Compiled JSONPath to the token in the response (`$.meta.after_cursor`).
    pub token_path: JsonPath,
    /// The token path as written.
    pub token_path_text: String,
    /// Name of the parameter carrying the token (`page[after]`).
    pub parameter_name: String,
    /// Query parameter or header.
    pub parameter_location: TokenParameterLocation,
    /// Optional page-size parameter.
    pub page_size: Option<PageSize>,
}

/// Where the last page index comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndPageIndex {
    /// A fixed last page index.
    Fixed(u64),
    /// `headers.<name>`: read from this response header of each page.
    ResponseHeader(String),
}

/// Fields of PAGE pagination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePagination {
    /// Name of the page-number parameter (`pageParamName`).
    pub page_parameter_name: String,
    /// Optional page-size parameter.
    pub page_size: Option<PageSize>,
    /// First page index (`initialPageIndex`, default 0).
    pub initial_page_index: u64,
    /// Optional last page index.
    pub end_page_index: Option<EndPageIndex>,
}

/// Request pacing shared by every pagination type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestPacing {
    /// `delayRequestMillis`: pause between two requests (0 when absent).
    pub delay_request_millis: u64,
    /// `maximumRequest`: cap on requests per run; for PAGE it defaults to
    /// [`DEFAULT_PAGE_MAXIMUM_REQUEST`], otherwise `None` means no cap.
    pub maximum_request: Option<u64>,
    /// Whether `maximum_request` is flowd's default rather than the spec's own: reaching a
    /// default cap is a guard (the API may hold more), reaching the spec's is its end.
    pub maximum_request_is_default: bool,
}

/// Incremental window parameters (`scheduleParams`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Window bounds sent as two parameters.
    Basic {
        /// `scheduleStartParamName` (`since_last_changed`).
        start_name: String,
        /// `scheduleEndParamName` (`before_last_changed`).
        end_name: String,
        /// `scheduleStartParamFormat`, or [`DEFAULT_SCHEDULE_PARAM_FORMAT`].
        start_format: DotNetDateFormat,
        /// `scheduleEndParamFormat`, or [`DEFAULT_SCHEDULE_PARAM_FORMAT`].
        end_format: DotNetDateFormat,
    },
    /// `type: ADVANCE`: an expression that replaces `{SCHEDULE_QUERY}`.
    Advance {
        /// `paramFormat` used for `{START_TIME}` and `{END_TIME}`.
        format: DotNetDateFormat,
        /// Expression for normal runs.
        incremental: String,
        /// Expression for the historical (backfill) run.
        backfill: String,
    },
}

/// Checks and compiles a fetch configuration found at `base_pointer` (e.g.
/// `/sourceSpec/attributes`, or `/params` of a source connection for template-shaped specs).
///
/// Every problem is reported, in document order; every `${name}` must be in `declared`.
pub fn resolve_fetch_config(
    attributes: &Value,
    base_pointer: &str,
    declared: &DeclaredNames,
) -> Result<FetchConfig, Vec<Problem>> {
    let Some(members) = attributes.as_object() else {
        return Err(vec![Problem::new(base_pointer, "must be an object")]);
    };
    let mut problems = Vec::new();
    let request_parts = request::resolve_request(members, base_pointer, declared, &mut problems);
    let content_path = match members.get("contentPath") {
        Some(content_path_value) => extraction::resolve_content_path(
            content_path_value,
            &child_pointer(base_pointer, "contentPath"),
            &mut problems,
        ),
        None => {
            problems.push(Problem::new(
                child_pointer(base_pointer, "contentPath"),
                "is required",
            ));
            None
        }
    };
    let explode_entity_path = members.get("explodeEntityPath").map(|explode_value| {
        extraction::resolve_content_path(
            explode_value,
            &child_pointer(base_pointer, "explodeEntityPath"),
            &mut problems,
        )
    });
    let pagination_and_pacing = match members.get("paginationParams") {
        Some(pagination_value) => pagination::resolve_pagination(
            pagination_value,
            &child_pointer(base_pointer, "paginationParams"),
            &mut problems,
        ),
        None => Some((
            Pagination::None,
            RequestPacing {
                delay_request_millis: 0,
                maximum_request: None,
                maximum_request_is_default: false,
            },
        )),
    };
    let schedule = members.get("scheduleParams").map(|schedule_value| {
        schedule::resolve_schedule(
            schedule_value,
            &child_pointer(base_pointer, "scheduleParams"),
            &mut problems,
        )
    });
    let schema = members.get("schema");
    if let Some(schema_value) = schema {
        problems.extend(crate::json_schema::schema_definition_problems(
            schema_value,
            &child_pointer(base_pointer, "schema"),
        ));
    }

    if !problems.is_empty() {
        sort_in_document_order(attributes, base_pointer, &mut problems);
        return Err(problems);
    }
    // Every `None` below came with a problem, so none can be reached with an empty list.
    let unreachable = || {
        vec![Problem::new(
            base_pointer,
            "internal error: unreported problem",
        )]
    };
    let request_parts = request_parts.ok_or_else(unreachable)?;
    let (pagination, pacing) = pagination_and_pacing.ok_or_else(unreachable)?;
    Ok(FetchConfig {
        url: request_parts.url,
        query_params: request_parts.query_params,
        header_params: request_parts.header_params,
        body: request_parts.body,
        content_path: content_path.ok_or_else(unreachable)?,
        explode_entity_path: match explode_entity_path {
            Some(resolved) => Some(resolved.ok_or_else(unreachable)?),
            None => None,
        },
        pagination,
        pacing,
        schedule: match schedule {
            Some(resolved) => Some(resolved.ok_or_else(unreachable)?),
            None => None,
        },
        schema: schema.cloned(),
    })
}
