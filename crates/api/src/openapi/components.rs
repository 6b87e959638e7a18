//! `components` of the document: the error bodies of `crate::error` (Flow Service's and the
//! gateway's), the shared envelopes, the reusable parameters (the AEP headers, the list
//! parameters), the error responses, and the security schemes (bearer token + `x-api-key`, the
//! console's session cookie). The resources' own shapes are in `resources.rs`.

use serde_json::{Map, Value, json};

use super::builder::{integer, object, schema_ref, string};
use super::{resources, runs};

/// The `components` object.
pub fn components() -> Value {
    let mut schemas = Map::new();
    schemas.insert("FlowError".into(), flow_error());
    schemas.insert("GatewayError".into(), gateway_error());
    schemas.insert(
        "Problem".into(),
        object(
            &[
                (
                    "pointer",
                    string("RFC 6901 JSON pointer to the field (\"\" is the body itself)"),
                ),
                ("message", string("what is wrong with it")),
            ],
            &["pointer", "message"],
        ),
    );
    schemas.insert(
        "Links".into(),
        object(
            &[(
                "next",
                object(
                    &[(
                        "href",
                        string("the next page: the path with a continuationToken"),
                    )],
                    &["href"],
                ),
            )],
            &[],
        ),
    );
    schemas.insert(
        "Count".into(),
        object(
            &[("count", integer("how many resources match (count=true)"))],
            &["count"],
        ),
    );
    schemas.insert(
        "IdEtag".into(),
        object(
            &[
                ("id", string("the resource's id")),
                (
                    "etag",
                    string("its new etag (a quoted value), for If-Match"),
                ),
            ],
            &["id", "etag"],
        ),
    );
    schemas.extend(resources::schemas());
    schemas.insert("Run".into(), runs::run_schema());
    json!({
        "schemas": schemas,
        "parameters": parameters(),
        "headers": {
            "SandboxCreated": {
                "description": "present (true) on the response of the request that created its sandbox: a new, empty one, as a mistyped x-sandbox-name makes",
                "schema": {"type": "string", "enum": ["true"]},
            },
        },
        "responses": responses(),
        "securitySchemes": {
            "bearerToken": {
                "type": "http", "scheme": "bearer",
                "description": "Authorization: Bearer <accessToken> of a flowd credential (sent with x-api-key)",
            },
            "apiKey": {
                "type": "apiKey", "in": "header", "name": "x-api-key",
                "description": "the apiKey the access token was issued with",
            },
            "sessionCookie": {
                "type": "apiKey", "in": "cookie", "name": "flowd_session",
                "description": "the console's session (POST /console/session); a write also needs x-csrf-token. Ignored when an Authorization header is sent",
            },
        },
    })
}

/// Flow Service's body (`crate::error::FlowError`).
fn flow_error() -> Value {
    let mut schema = object(
        &[
            (
                "type",
                json!({"type": "string", "pattern": "^https://ns\\.adobe\\.com/aep/errors/FLOW-[0-9]+-[0-9]{3}$",
                       "description": "https://ns.adobe.com/aep/errors/FLOW-<code>-<status>"}),
            ),
            ("title", string("the code's title")),
            ("status", integer("the HTTP status")),
            (
                "report",
                object(
                    &[
                        ("detailed-message", string("what went wrong, in a sentence")),
                        ("request-id", string("the request's x-request-id")),
                    ],
                    &["detailed-message", "request-id"],
                ),
            ),
            ("errorMessage", string("the detailed message again")),
            ("errorDetails", string("the detailed message again")),
            (
                "problems",
                json!({"type": "array", "items": schema_ref("Problem"),
                       "description": "every validation problem, each at its pointer"}),
            ),
        ],
        &[
            "type",
            "title",
            "status",
            "report",
            "errorMessage",
            "errorDetails",
        ],
    );
    schema["description"] = json!("Flow Service's error body, for every error but credentials");
    schema
}

/// The gateway's body (`crate::error::GatewayError`).
fn gateway_error() -> Value {
    let mut schema = object(
        &[
            (
                "error_code",
                json!({"type": "string", "pattern": "^[0-9]{6}$",
                       "description": "403010, 401013, 403000, 403003, 400003, 403025 …"}),
            ),
            ("message", string("what is wrong with the credentials")),
        ],
        &["error_code", "message"],
    );
    schema["description"] = json!("the API gateway's body, for credential and session problems");
    schema
}

fn parameters() -> Value {
    let header = |name: &str, required: bool, schema: Value, description: &str| json!({"name": name, "in": "header", "required": required, "schema": schema, "description": description});
    let query = |name: &str, schema: Value, description: &str| json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description});
    json!({
        "OrgHeader": header("x-gw-ims-org-id", false, json!({"type": "string"}),
            "the org the credential is bound to (ORG@AdobeOrg): required with a bearer token; with the session cookie the session's org, and if sent it must be that one"),
        "SandboxHeader": header("x-sandbox-name", true,
            json!({"type": "string", "pattern": "^[a-z0-9_-]{1,128}$"}),
            "the sandbox (lowercase letters, digits, '-' and '_'); it exists from its first request"),
        "CsrfHeader": header("x-csrf-token", false, json!({"type": "string"}),
            "the session's csrfToken: required with the session cookie on every write, unused with a bearer token"),
        "IfMatch": header("If-Match", false, json!({"type": "string"}),
            "the resource's current etag (required: FLOW-1403-400 without it, 1404-412 when stale; also accepted as ?if-match=)"),
        "Range": header("Range", false, json!({"type": "string"}),
            "bytes=START-END of a part (answered with 206; none of the file's bytes is 1100-416)"),
        "Property": query("property", json!({"type": "string"}),
            "a filter: name==x, id==a,b, name!=x, createdAt>n, dotted paths, [] over arrays; repeatable (ANDed)"),
        "OrderBy": query("orderby", json!({"type": "string"}),
            "a sortable field with an optional + or - prefix (-createdAt)"),
        "Limit": query("limit", json!({"type": "integer", "minimum": 1}),
            "the page size (not with count=true)"),
        "Count": query("count", json!({"type": "string", "enum": ["true", "false", "True", "False", "TRUE", "FALSE"]}),
            "true answers {count: n} instead of the items"),
        "ContinuationToken": query("continuationToken", json!({"type": "string"}),
            "the token of _links.next.href; it carries the filters, order and limit"),
        "CatalogLimit": query("limit", json!({"type": "integer", "minimum": 1, "maximum": 100}),
            "the page size (20 by default)"),
        "CatalogStart": query("start", json!({"type": "integer", "minimum": 0}),
            "the offset of the page"),
        "CatalogOrderBy": query("orderBy", json!({"type": "string"}),
            "asc:name, desc:created, several comma-separated"),
        "CatalogProperties": query("properties", json!({"type": "string"}),
            "comma-separated top-level fields to keep"),
    })
}

fn responses() -> Value {
    let body = |description: &str, schema: Value| json!({"description": description, "content": {"application/json": {"schema": schema}}});
    json!({
        "Error": body("an error, in Flow Service's format or (credentials) the gateway's",
            json!({"anyOf": [schema_ref("FlowError"), schema_ref("GatewayError")]})),
        "BadRequest": body("a malformed request or body (Flow Service's format), or a missing org header (the gateway's 400003)",
            json!({"anyOf": [schema_ref("FlowError"), schema_ref("GatewayError")]})),
        "GatewayRefusal": body("no, a wrong or an expired credential or session, or a missing or wrong CSRF token",
            schema_ref("GatewayError")),
        "FlowError": body("a Flow Service error", schema_ref("FlowError")),
    })
}
