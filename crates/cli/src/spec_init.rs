//! `flowd spec init`: prints a complete starter connection spec for a chosen pagination and
//! auth type. JSON has no comments, so the guidance sits in `description` members. The
//! starter's path, content path and pagination names are those of the demo API's route for
//! that pagination (`flowd demo-api`), so it runs as printed with `flowd spec test`; the
//! `exploreSpec` block is the fixed one every connection spec carries.

use std::process::ExitCode;

use clap::ValueEnum;
use serde_json::{Value, json};

#[derive(clap::Args, Debug)]
pub struct SpecInitArgs {
    /// How the API pages its records.
    #[arg(long, value_enum)]
    pagination: Pagination,
    /// How the API checks credentials.
    #[arg(long, value_enum)]
    auth: AuthKind,
    /// The spec's name.
    #[arg(long, default_value = "My REST source")]
    name: String,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pagination {
    Offset,
    Page,
    Pointer,
    ContinuationToken,
    None,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthKind {
    Basic,
    Oauth2,
    KeyBased,
}

pub fn run(args: &SpecInitArgs) -> ExitCode {
    let spec = starter_spec(args.pagination, args.auth, &args.name);
    match serde_json::to_string_pretty(&spec) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("flowd: error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The provider id of Adobe's generic REST connector, which every generic-rest spec names.
const GENERIC_REST_PROVIDER: &str = "0ed90a81-07f4-4586-8190-b40eccef1c5a";

/// The whole starter spec.
pub fn starter_spec(pagination: Pagination, auth: AuthKind, name: &str) -> Value {
    let (path, content_path, pagination_params) = pagination_block(pagination);
    let mut attributes = json!({
        "uiAttributes": {"isSource": true, "label": {"text": name}},
        "urlParams": {"path": path, "method": "GET"},
        "headerParams": {"Accept": "application/json"},
        "contentPath": {"path": content_path},
    });
    if let Some(params) = pagination_params {
        attributes["paginationParams"] = params;
    }
    json!({
        "name": name,
        "description": "Starter spec from `flowd spec init`. The host comes from the auth params' \
            `host` (so one spec serves any deployment of the API); sourceSpec.attributes.urlParams.path \
            is the resource path, contentPath.path the JSONPath of the records array in a response \
            (`$` when the body is a bare array), paginationParams how the next page is asked for. \
            As printed it matches the demo API (`flowd demo-api`); change those three to your API's, \
            then run `flowd spec validate` and `flowd spec test`. For incremental runs add \
            sourceSpec.attributes.scheduleParams (see examples/incremental).",
        "type": "generic-rest",
        "providerId": GENERIC_REST_PROVIDER,
        "version": "1.0",
        "authSpec": [auth_spec(auth)],
        "sourceSpec": {
            "attributes": attributes,
            "spec": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "description": "The source connection's params (`--params` of `flowd spec test`): \
                    declare each one here and use it in the path or query as ${name}.",
                "properties": {}
            }
        },
        "exploreSpec": explore_spec(),
    })
}

/// The path, content path and `paginationParams` of the demo API's route for `pagination`.
fn pagination_block(pagination: Pagination) -> (&'static str, &'static str, Option<Value>) {
    match pagination {
        Pagination::Offset => (
            "/offset",
            "$.items",
            Some(json!({
                "type": "OFFSET",
                "limitName": "limit",
                "limitValue": "100",
                "offSetName": "offset"
            })),
        ),
        Pagination::Page => (
            "/page",
            "$.records",
            Some(json!({
                "type": "PAGE",
                "limitName": "per_page",
                "limitValue": "100",
                "pageParamName": "page",
                "initialPageIndex": 0
            })),
        ),
        Pagination::Pointer => (
            "/pointer",
            "$.data",
            Some(json!({
                "type": "POINTER",
                "limitName": "limit",
                "limitValue": "100",
                "pointerPath": "$.paging.next"
            })),
        ),
        Pagination::ContinuationToken => (
            "/cursor",
            "$.results",
            Some(json!({
                "type": "CONTINUATION_TOKEN",
                "limitName": "page[size]",
                "limitValue": "100",
                "continuationTokenPath": "$.meta.after_cursor",
                "parameterType": "QUERYPARAM",
                "parameterName": "page[after]"
            })),
        ),
        Pagination::None => ("/none", "$.records", None),
    }
}

fn host_property() -> Value {
    json!({
        "type": "string",
        "description": "The API's base URL, scheme included (https://api.example.com); \
            urlParams.path is appended to it. The demo API: http://127.0.0.1:8081 plus \
            /basic, /oauth2 or /key."
    })
}

/// The `authSpec` entry of one auth type.
fn auth_spec(auth: AuthKind) -> Value {
    let schema = "http://json-schema.org/draft-07/schema#";
    match auth {
        AuthKind::Basic => json!({
            "name": "Basic Authentication",
            "type": "BasicAuthentication",
            "spec": {
                "$schema": schema,
                "type": "object",
                "description": "HTTP Basic: every request carries Authorization: Basic base64(username:password).",
                "properties": {
                    "host": host_property(),
                    "username": {"type": "string", "description": "The user name."},
                    "password": {"type": "string", "format": "password", "description": "The password (stored sealed)."}
                },
                "required": ["host", "username", "password"]
            }
        }),
        AuthKind::Oauth2 => json!({
            "name": "OAuth2 Refresh Code",
            "type": "OAuth2RefreshCode",
            "spec": {
                "$schema": schema,
                "type": "object",
                "description": "OAuth2 bearer token: requests carry Authorization: Bearer accessToken; \
                    on a 401 (or past expirationDate) flowd refreshes it at accessTokenUrl with \
                    refreshToken, clientId and clientSecret, and keeps the new tokens.",
                "properties": {
                    "host": host_property(),
                    "accessToken": {"type": "string", "format": "password", "description": "The current access token."},
                    "refreshToken": {"type": "string", "format": "password", "description": "The refresh token."},
                    "clientId": {"type": "string", "description": "The OAuth2 client id."},
                    "clientSecret": {"type": "string", "format": "password", "description": "The OAuth2 client secret."},
                    "accessTokenUrl": {"type": "string", "description": "The token endpoint (grant_type=refresh_token)."},
                    "authorizationTestUrl": {"type": "string", "description": "Optional: a URL that answers 200 with valid credentials, called by connection tests."}
                },
                "required": ["host", "accessToken"]
            }
        }),
        AuthKind::KeyBased => json!({
            "name": "API Key Authentication",
            "type": "KeyBased",
            "spec": {
                "$schema": schema,
                "type": "object",
                "description": "API key: each property with restAttributes.headerParamName is sent \
                    as that header (rename x-api-key to your API's header).",
                "properties": {
                    "host": host_property(),
                    "apiKey": {
                        "type": "string",
                        "format": "password",
                        "description": "The API key, sent in header x-api-key.",
                        "restAttributes": {"headerParamName": "x-api-key"}
                    }
                },
                "required": ["host", "apiKey"]
            }
        }),
    }
}

/// The fixed `exploreSpec` block: the same in every generic-rest connection spec.
fn explore_spec() -> Value {
    json!({
        "name": "Resource",
        "type": "Resource",
        "requestSpec": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object"
        },
        "responseSpec": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {
                "format": {"type": "string"},
                "schema": {
                    "type": "object",
                    "properties": {
                        "columns": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string"},
                                    "type": {"type": "string"}
                                }
                            }
                        }
                    }
                },
                "data": {"type": "array", "items": {"type": "object"}}
            }
        }
    })
}
