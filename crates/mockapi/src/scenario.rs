//! What a [`MockApi`](crate::MockApi) serves and how it misbehaves.
//!
//! A [`Scenario`] is plain data: every field is public and has a sensible
//! default, so tests either use struct-update syntax
//! (`Scenario { auth: Auth::Bearer, ..Scenario::generated(250) }`) or the
//! `with_*` builder methods. Nothing here is consulted after the server has
//! started except through the server's own shared state, so a scenario can be
//! reused for several servers.

use std::time::Duration;

use serde_json::Value;

/// Default Mailchimp-like list id served under `/3.0/lists/{list_id}/members`.
pub const DEFAULT_LIST_ID: &str = "a1b2c3d4e5";

/// The dataset every data route serves (each route paginates the same records).
#[derive(Debug, Clone)]
pub enum Records {
    /// Records given verbatim; each should be a JSON object. A `last_changed`
    /// string member (RFC 3339 or flowd's schedule formats) makes the record
    /// subject to window filtering; records without one are never filtered out.
    Explicit(Vec<Value>),
    /// `n` deterministic synthetic records, see [`crate::generated_record`].
    /// Rendered on the fly so that millions cost no memory.
    Generated(usize),
}

/// Credentials every data route (and `GET /auth/test`) demands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// No check at all.
    #[default]
    None,
    /// `Authorization: Basic base64(username:password)`.
    Basic {
        /// Expected user name.
        username: String,
        /// Expected password (may contain `:`).
        password: String,
    },
    /// `Authorization: Bearer <current access token>`; the token is the one in
    /// [`Scenario::oauth`] until `POST /oauth/token` mints a new one.
    Bearer,
    /// Every listed `(header name, value)` pair must be present (names are
    /// compared case-insensitively, values exactly).
    ApiKeys(Vec<(String, String)>),
}

/// Names of the members of the token endpoint's JSON response, so tests can
/// exercise `requestParameterOverride.accessTokenField` and friends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFields {
    /// Default `access_token`.
    pub access_token: String,
    /// Default `refresh_token`.
    pub refresh_token: String,
    /// Default `expires_in`.
    pub expires_in: String,
}

impl Default for TokenFields {
    fn default() -> Self {
        Self {
            access_token: "access_token".into(),
            refresh_token: "refresh_token".into(),
            expires_in: "expires_in".into(),
        }
    }
}

/// The OAuth2 refresh-token endpoint (`POST`/`GET /oauth/token`) and the
/// initial bearer token accepted by [`Auth::Bearer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthOptions {
    /// Access token valid at start (default `initial-access-token`).
    pub access_token: String,
    /// When true the initial access token is already rejected, so the first
    /// data request answers 401 and the runtime must refresh (default false).
    pub start_expired: bool,
    /// Refresh token the endpoint accepts at start (default `initial-refresh-token`).
    pub refresh_token: String,
    /// Expected client id (default `client-id`).
    pub client_id: String,
    /// Expected client secret (default `client-secret`).
    pub client_secret: String,
    /// Form/query parameter carrying the client id (default `client_id`).
    pub client_id_param: String,
    /// Form/query parameter carrying the client secret (default `client_secret`).
    pub client_secret_param: String,
    /// When true each refresh also mints a new refresh token and invalidates
    /// the old one; when false the response omits the refresh-token member,
    /// so the runtime must keep the one it has (default true).
    pub rotate_refresh_token: bool,
    /// `expires_in` value reported (seconds, default 3600). Not enforced:
    /// use [`MockApi::expire_access_token`](crate::MockApi::expire_access_token).
    pub expires_in: u64,
    /// Response member names.
    pub fields: TokenFields,
}

impl Default for OAuthOptions {
    fn default() -> Self {
        Self {
            access_token: "initial-access-token".into(),
            start_expired: false,
            refresh_token: "initial-refresh-token".into(),
            client_id: "client-id".into(),
            client_secret: "client-secret".into(),
            client_id_param: "client_id".into(),
            client_secret_param: "client_secret".into(),
            rotate_refresh_token: true,
            expires_in: 3600,
            fields: TokenFields::default(),
        }
    }
}

/// `GET /offset` parameter names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetOptions {
    /// Default `limit`.
    pub limit_param: String,
    /// Default `offset`.
    pub offset_param: String,
}

impl Default for OffsetOptions {
    fn default() -> Self {
        Self {
            limit_param: "limit".into(),
            offset_param: "offset".into(),
        }
    }
}

/// How `GET /pointer` tells the client where the next page is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PointerStyle {
    /// `paging.next` = `http://127.0.0.1:PORT/pointer?limit=L&cursor=T`.
    #[default]
    AbsoluteUrl,
    /// `paging.next` = `/pointer?limit=L&cursor=T`.
    RelativeUrl,
    /// `paging.next` = `T`, a bare token the client sends back as the query
    /// parameter named here (e.g. `next`).
    Token {
        /// Query parameter the token comes back in (e.g. `next`).
        param: String,
    },
}

/// What the last page's pointer (or, for `/search`, cursor) looks like.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LastPointer {
    /// `"next": null`.
    #[default]
    Null,
    /// The member is left out.
    Absent,
    /// `"next": ""`.
    EmptyString,
}

/// `GET /pointer` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointerOptions {
    /// Default `limit`.
    pub limit_param: String,
    /// Default [`PointerStyle::AbsoluteUrl`].
    pub style: PointerStyle,
    /// Default [`LastPointer::Null`].
    pub last: LastPointer,
}

impl Default for PointerOptions {
    fn default() -> Self {
        Self {
            limit_param: "limit".into(),
            style: PointerStyle::default(),
            last: LastPointer::default(),
        }
    }
}

/// Where a continuation token is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenLocation {
    /// Query parameter of this name (default `page[after]`).
    Query(String),
    /// Request header of this name (compared case-insensitively).
    Header(String),
}

impl Default for TokenLocation {
    fn default() -> Self {
        Self::Query("page[after]".into())
    }
}

/// How `GET /cursor` marks its last page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CursorEnd {
    /// `after_cursor: null, has_more: false`.
    NullCursor,
    /// `has_more: false` with a non-null `after_cursor` (Zendesk). Following
    /// that cursor yields an empty page.
    #[default]
    HasMoreFalse,
}

/// `GET /cursor` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorOptions {
    /// Optional page-size query parameter (default `page[size]`).
    pub size_param: String,
    /// Default query parameter `page[after]`.
    pub token: TokenLocation,
    /// Default [`CursorEnd::HasMoreFalse`].
    pub end: CursorEnd,
    /// When true the token names the last record's `id` (a keyset cursor: the next page is
    /// the records with a larger id, stable while records come and go); when false (the
    /// default) it names a position.
    pub keyset: bool,
}

impl Default for CursorOptions {
    fn default() -> Self {
        Self {
            size_param: "page[size]".into(),
            token: TokenLocation::default(),
            end: CursorEnd::default(),
            keyset: false,
        }
    }
}

/// `GET /page` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageOptions {
    /// Default `page`.
    pub page_param: String,
    /// Default `per_page`.
    pub per_page_param: String,
    /// Index of the first page: 0 (default) or 1; with 1, page 0 answers as page 1 (as
    /// json-server does).
    pub first_index: usize,
    /// Response header carrying the number of pages (default `x-pagecount`).
    pub page_count_header: String,
}

impl Default for PageOptions {
    fn default() -> Self {
        Self {
            page_param: "page".into(),
            per_page_param: "per_page".into(),
            first_index: 0,
            page_count_header: "x-pagecount".into(),
        }
    }
}

/// Query parameters that restrict every GET data route to records whose
/// `last_changed` lies in `[since, before)` (half-open so that back-to-back
/// windows neither overlap nor leave gaps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowOptions {
    /// Default `since_last_changed`.
    pub since_param: String,
    /// Default `before_last_changed`.
    pub before_param: String,
}

impl Default for WindowOptions {
    fn default() -> Self {
        Self {
            since_param: "since_last_changed".into(),
            before_param: "before_last_changed".into(),
        }
    }
}

/// `Retry-After` header value sent with [`FailFirst`] responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryAfter {
    /// Delta seconds, e.g. `Retry-After: 2`.
    Seconds(u64),
    /// An HTTP date this far after the moment of the response.
    DateIn(Duration),
    /// Sent verbatim (for malformed-header tests).
    Raw(String),
}

/// The first `count` data requests answer `status` instead of data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailFirst {
    /// How many data requests fail (counted over all data routes).
    pub count: usize,
    /// E.g. 429, 500, 503.
    pub status: u16,
    /// Optional `Retry-After`.
    pub retry_after: Option<RetryAfter>,
}

/// Body served instead of a [`BadPage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadBody {
    /// A `text/html` error page (as from a misbehaving proxy).
    Html,
    /// The real page's JSON cut in half, still labelled `application/json`.
    TruncatedJson,
}

/// One page of every paginated route answers garbage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPage {
    /// Zero-based page number (position of the page's first record divided
    /// by the page size; for `/page` the page parameter minus the first index).
    pub page: usize,
    /// What to send.
    pub body: BadBody,
    /// Status code of the bad answer (200 when the server lies, 502 for a proxy).
    pub status: u16,
    /// How many times it is served before the page recovers; `None` = forever.
    pub times: Option<usize>,
}

/// A change of the dataset between two requests, as when records are created and deleted
/// upstream while a run pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetChange {
    /// Applied just before the data request with this zero-based number is answered.
    pub before_request: usize,
    /// Records added (placed by `id`, so an id-ordered dataset stays ordered).
    pub insert: Vec<Value>,
    /// Ids of records removed.
    pub delete_ids: Vec<i64>,
}

/// How pages travel: real APIs compress and stream, and sometimes stall mid-body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transport {
    /// Pages are gzip-compressed (`Content-Encoding: gzip`), whatever the client asked.
    pub gzip: bool,
    /// Pages are sent chunked (no `Content-Length`) in pieces of this many bytes.
    pub chunk_bytes: Option<usize>,
    /// One page's body stops after some bytes and resumes after a pause (or never).
    pub stalled_body: Option<StalledBody>,
}

/// A body that stops in the middle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StalledBody {
    /// Zero-based page number (as [`BadPage::page`]).
    pub page: usize,
    /// Bytes sent before the pause.
    pub after_bytes: usize,
    /// How long the body stalls (then the rest is sent).
    pub pause: Duration,
    /// How many times the page stalls before it is served whole; `None` = forever.
    pub times: Option<usize>,
}

/// A route that always fails with a JSON error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteError {
    /// Exact request path, e.g. `/offset` or `/3.0/lists/x/members`.
    pub path: String,
    /// E.g. 403 or 404.
    pub status: u16,
}

/// Fault injection; everything is off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Added before answering every request (the benchmark uses 20 ms).
    pub latency: Duration,
    /// Transient failures at the start of a run.
    pub fail_first: Option<FailFirst>,
    /// A page that answers HTML or truncated JSON.
    pub bad_page: Option<BadPage>,
    /// The "repeating last page" server bug: requests past the end get the
    /// last page again, still announcing more (same next pointer/token,
    /// `has_more: true`), forever.
    pub repeat_last_page: bool,
    /// Routes answering 403/404/... with `{"error": ...}`.
    pub route_errors: Vec<RouteError>,
    /// Records inserted and deleted while a client pages (explicit datasets only).
    pub changes: Vec<DatasetChange>,
    /// The largest page the server answers whatever the request asks (`limit=1000` answered
    /// with this many records, silently), on every paged route.
    pub max_page_size: Option<usize>,
}

/// Everything one mock server serves. See the crate docs for the routes.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The dataset.
    pub records: Records,
    /// Page size when the request names none (default 100; the Mailchimp
    /// route uses Mailchimp's own default of 10).
    pub default_page_size: usize,
    /// Credentials demanded by the data routes (default [`Auth::None`]).
    pub auth: Auth,
    /// Token endpoint and initial bearer token.
    pub oauth: OAuthOptions,
    /// `/offset` parameter names.
    pub offset: OffsetOptions,
    /// `/pointer` style.
    pub pointer: PointerOptions,
    /// `/cursor` style.
    pub cursor: CursorOptions,
    /// `/page` style.
    pub page: PageOptions,
    /// Incremental-window parameter names.
    pub window: WindowOptions,
    /// List ids known to the Mailchimp route (default [`DEFAULT_LIST_ID`]).
    pub list_ids: Vec<String>,
    /// Fault injection.
    pub faults: Faults,
    /// Compression, chunking and stalls of page bodies.
    pub transport: Transport,
    /// Keep every request for [`MockApi::requests`](crate::MockApi::requests)
    /// (default true; long benchmark runs turn it off to keep memory flat).
    pub record_requests: bool,
}

impl Scenario {
    /// A scenario serving the given records with every option at its default.
    pub fn explicit(records: Vec<Value>) -> Self {
        Self::with_records(Records::Explicit(records))
    }

    /// A scenario serving `n` generated records with every option at its default.
    pub fn generated(n: usize) -> Self {
        Self::with_records(Records::Generated(n))
    }

    fn with_records(records: Records) -> Self {
        Self {
            records,
            default_page_size: 100,
            auth: Auth::None,
            oauth: OAuthOptions::default(),
            offset: OffsetOptions::default(),
            pointer: PointerOptions::default(),
            cursor: CursorOptions::default(),
            page: PageOptions::default(),
            window: WindowOptions::default(),
            list_ids: vec![DEFAULT_LIST_ID.into()],
            faults: Faults::default(),
            transport: Transport::default(),
            record_requests: true,
        }
    }

    /// Demand these credentials on every data route.
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Demand bearer tokens issued per `oauth`.
    pub fn with_oauth(mut self, oauth: OAuthOptions) -> Self {
        self.auth = Auth::Bearer;
        self.oauth = oauth;
        self
    }

    /// Add a fixed delay to every answer.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.faults.latency = latency;
        self
    }

    /// Sends pages as `transport` says.
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// Replace all fault settings.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Set the page size used when a request names none.
    pub fn with_default_page_size(mut self, size: usize) -> Self {
        self.default_page_size = size;
        self
    }
}
