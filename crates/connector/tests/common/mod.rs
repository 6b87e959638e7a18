//! Shared helpers of the connector's integration tests: connection specs
//! built as JSON and resolved through `flowd_spec` (so every test exercises
//! the real spec path), a fast HTTP client, run plans, and `collect`, which
//! drains a run into its pages and summary.
//!
//! Every integration test file includes this module, and none uses all of
//! it.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use flowd_connector::{
    AuthSession, HttpClient, HttpOptions, Page, RefreshedTokens, RunError, RunEvent, RunLimits,
    RunPlan, RunSummary, TokenCallback, Window,
};
use flowd_mockapi::RecordedRequest;
use futures::StreamExt;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Source params every test spec declares in `sourceSpec.spec`, so its
/// placeholders validate.
pub const DECLARED_SOURCE_PARAMS: [&str; 5] =
    ["listId", "region", "searchTerm", "pageLimit", "apiVersion"];

/// A generic-rest connection spec whose `sourceSpec.attributes` is
/// `attributes`, with one auth spec of each supported type.
pub fn connection_spec(attributes: Value) -> Value {
    let source_properties: Map<String, Value> = DECLARED_SOURCE_PARAMS
        .iter()
        .map(|name| ((*name).to_owned(), json!({"type": "string"})))
        .collect();
    json!({
        "name": "integration test source",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "type": "generic-rest",
        "authSpec": [
            {
                "name": "Basic Authentication",
                "type": "BasicAuthentication",
                "spec": {"type": "object", "properties": {
                    "host": {"type": "string"},
                    "username": {"type": "string"},
                    "password": {"type": "string", "format": "password"}
                }}
            },
            {
                "name": "OAuth2 Refresh Code",
                "type": "OAuth2RefreshCode",
                "spec": {"type": "object", "properties": {
                    "host": {"type": "string"},
                    "domain": {"type": "string"},
                    "accessToken": {"type": "string", "format": "password"},
                    "refreshToken": {"type": "string", "format": "password"},
                    "accessTokenUrl": {"type": "string"},
                    "clientId": {"type": "string"},
                    "clientSecret": {"type": "string", "format": "password"},
                    "expirationDate": {"type": "string"}
                }}
            },
            {
                "name": "API Key",
                "type": "KeyBased",
                "spec": {"type": "object", "properties": {
                    "host": {"type": "string"},
                    "authKey1": {"type": "string", "format": "password",
                                 "restAttributes": {"headerParamName": "X-Api-Key"}},
                    "authKey2": {"type": "string", "format": "password",
                                 "restAttributes": {"headerParamName": "X-Api-Secret"}}
                }}
            }
        ],
        "sourceSpec": {
            "spec": {"type": "object", "properties": source_properties},
            "attributes": attributes
        }
    })
}

/// `sourceSpec.attributes` for a GET of `host` + `path` with records at
/// `content_path` and the given `paginationParams` (`Value::Null` = none).
pub fn attributes(host: &str, path: &str, content_path: &str, pagination: Value) -> Value {
    let mut attributes = json!({
        "urlParams": {"host": host, "path": path, "method": "GET"},
        "contentPath": {"path": content_path}
    });
    if !pagination.is_null() {
        attributes["paginationParams"] = pagination;
    }
    attributes
}

/// The resolved fetch config of a connection spec (executable shape).
pub fn fetch_config(spec: &Value) -> Arc<flowd_spec::FetchConfig> {
    Arc::new(
        flowd_spec::resolve_source_fetch_config(spec, &json!({}))
            .unwrap_or_else(|problems| panic!("the test spec must resolve: {problems:?}")),
    )
}

/// HTTP options that keep retries fast.
pub fn fast_options() -> HttpOptions {
    HttpOptions {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        retries: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(2),
        requests_per_second: None,
        ..HttpOptions::default()
    }
}

pub fn client() -> HttpClient {
    client_with(fast_options())
}

pub fn client_with(options: HttpOptions) -> HttpClient {
    HttpClient::new(options).expect("the HTTP client builds")
}

/// A plan without auth, source params or window.
pub fn plan(spec: &Value) -> RunPlan {
    RunPlan {
        fetch: fetch_config(spec),
        auth: None,
        source_params: Map::new(),
        window: None,
        limits: RunLimits::default(),
    }
}

/// `plan` with source params.
pub fn plan_with_params(spec: &Value, source_params: Value) -> RunPlan {
    RunPlan {
        source_params: source_params
            .as_object()
            .cloned()
            .expect("source params are an object"),
        ..plan(spec)
    }
}

/// The auth session of `connection_auth` (`{"specName", "params"}`).
pub fn auth_session(
    spec: &Value,
    connection_auth: Value,
    on_refresh: Option<TokenCallback>,
) -> Arc<AuthSession> {
    let params = connection_auth["params"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let credentials = flowd_connector::Credentials {
        spec_name: connection_auth["specName"].as_str().unwrap_or_default(),
        params: &params,
    };
    flowd_connector::prepare_auth(spec, credentials, on_refresh)
        .expect("the test auth resolves")
        .session
}

/// A token callback and the tokens it received, in order.
pub fn token_recorder() -> (TokenCallback, Arc<Mutex<Vec<RefreshedTokens>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let callback: TokenCallback = Arc::new(TokenRecorder(received.clone()));
    (callback, received)
}

/// Keeps every token a refresh saved, in order.
struct TokenRecorder(Arc<Mutex<Vec<RefreshedTokens>>>);

#[async_trait::async_trait]
impl flowd_connector::TokenStore for TokenRecorder {
    async fn save(&self, tokens: &RefreshedTokens) {
        self.0.lock().expect("token sink").push(tokens.clone());
    }
}

/// Runs `plan` to its end: the pages and the summary, or the first error.
pub async fn run_to_end(
    client: HttpClient,
    plan: RunPlan,
) -> Result<(Vec<Page>, RunSummary), (Vec<Page>, RunError)> {
    let mut stream = std::pin::pin!(flowd_connector::run(client, plan));
    let mut pages = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(RunEvent::Page(page)) => pages.push(page),
            Ok(RunEvent::Retry { .. }) => {}
            Ok(RunEvent::Finished(summary)) => {
                assert!(
                    stream.next().await.is_none(),
                    "nothing may follow the summary"
                );
                return Ok((pages, summary));
            }
            Err(error) => {
                assert!(stream.next().await.is_none(), "nothing may follow an error");
                return Err((pages, error));
            }
        }
    }
    panic!("the run ended without a summary or an error");
}

/// Runs `plan` and returns its pages and summary; panics on a run error.
pub async fn collect(client: HttpClient, plan: RunPlan) -> (Vec<Page>, RunSummary) {
    match run_to_end(client, plan).await {
        Ok(done) => done,
        Err((_, error)) => panic!("the run failed: {error}"),
    }
}

/// Runs `plan`, expecting it to fail: the pages delivered before and the error.
pub async fn collect_error(client: HttpClient, plan: RunPlan) -> (Vec<Page>, RunError) {
    match run_to_end(client, plan).await {
        Ok((_, summary)) => panic!("the run should fail but finished: {summary:?}"),
        Err(failed) => failed,
    }
}

/// Every record of every page, in order.
pub fn records(pages: &[Page]) -> Vec<Value> {
    pages
        .iter()
        .flat_map(|page| page.clone().into_values().expect("records are JSON"))
        .collect()
}

/// Generated records `range` as the mock serves them.
pub fn generated(range: std::ops::Range<usize>) -> Vec<Value> {
    range.map(flowd_mockapi::generated_record).collect()
}

/// The mock's opaque cursor for record position `position`.
pub fn mock_token(position: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("pos:{position}"))
}

/// `(method, path, decoded query pairs in order)` of one request.
pub type RequestLine = (String, String, Vec<(String, String)>);

/// The [`RequestLine`] of each recorded request, for exact sequence
/// assertions.
pub fn sequence(requests: &[RecordedRequest]) -> Vec<RequestLine> {
    requests
        .iter()
        .map(|request| {
            (
                request.method.clone(),
                request.path.clone(),
                request.query_pairs.clone(),
            )
        })
        .collect()
}

/// One expected `(method, path, query pairs)`.
pub fn get(path: &str, pairs: &[(&str, &str)]) -> RequestLine {
    request("GET", path, pairs)
}

pub fn request(method: &str, path: &str, pairs: &[(&str, &str)]) -> RequestLine {
    (
        method.to_owned(),
        path.to_owned(),
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
    )
}

/// A window from RFC 3339 texts; `None` start is a backfill.
pub fn window(start: Option<jiff::Timestamp>, end: jiff::Timestamp) -> Window {
    Window { start, end }
}

/// An upstream that answers every request with `head` then `body_chunks` chunks from `chunk`,
/// producing the body as it goes rather than holding it.
pub async fn streaming_upstream(head: String, chunk: Vec<u8>, body_chunks: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let head = head.clone();
            let chunk = chunk.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => request.extend_from_slice(&buffer[..read]),
                    }
                }
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for _ in 0..body_chunks {
                    if socket.write_all(&chunk).await.is_err() {
                        return; // the client gave up, as it should
                    }
                }
            });
        }
    });
    format!("http://{address}")
}

/// The kernel's peak resident set of this process, in bytes.
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .expect("VmHWM in /proc/self/status");
    kib * 1024
}

/// Resets the peak to the current resident set (Linux ≥ 4.0).
pub fn reset_peak_rss() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
}
