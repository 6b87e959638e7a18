//! The operations outside AEP's services: the health routes and this document (no
//! credentials), the console's shell, sessions and sandbox list (`/`, `/console/...`), and
//! flowd's own API for the console (`/flowd/v1/...`).

use serde_json::{Value, json};

use super::builder::{
    Access, Operation, any_object, array, boolean, integer, millis, object, operation, schema_ref,
    string,
};

const OPERATIONS: &str = "Operations";
const CONSOLE: &str = "Console";
const FLOWD: &str = "flowd";

/// `/healthz`, `/readyz`, `/metrics`, `/openapi.json`: served without credentials.
pub fn operations() -> Vec<Operation> {
    vec![
        operation(
            "GET",
            "/healthz",
            "healthz",
            OPERATIONS,
            "Whether the process is up",
        )
        .access(Access::Public)
        .reply(
            200,
            "always, with the role and whether the store answers",
            object(
                &[
                    ("status", json!({"type": "string", "enum": ["ok"]})),
                    (
                        "role",
                        json!({"type": "string", "enum": ["all", "api", "worker"]}),
                    ),
                    (
                        "store",
                        json!({"type": "string", "enum": ["reachable", "unreachable"]}),
                    ),
                ],
                &["status", "role", "store"],
            ),
        ),
        operation(
            "GET",
            "/readyz",
            "readyz",
            OPERATIONS,
            "Whether the process can serve (the store answers)",
        )
        .access(Access::Public)
        .reply(
            200,
            "ready",
            object(&[("ready", boolean("true"))], &["ready"]),
        )
        .reply(
            503,
            "the store does not answer",
            object(
                &[("ready", boolean("false")), ("reason", string("why"))],
                &["ready", "reason"],
            ),
        ),
        operation(
            "GET",
            "/metrics",
            "metrics",
            OPERATIONS,
            "Prometheus metrics",
        )
        .access(Access::Public)
        .reply_as(
            200,
            "the Prometheus text exposition",
            &[("text/plain", json!({"type": "string"}))],
        ),
        operation(
            "GET",
            "/openapi.json",
            "openapi",
            OPERATIONS,
            "This document",
        )
        .access(Access::Public)
        .reply(
            200,
            "the OpenAPI 3.1 document of every route flowd serves",
            json!({"type": "object", "required": ["openapi", "paths"]}),
        ),
    ]
}

/// The session's answer.
fn session() -> Value {
    object(
        &[
            ("imsOrgId", string("the credential's org")),
            ("principalId", string("the credential's principal")),
            ("csrfToken", string("send as x-csrf-token on every write")),
            ("expiresAt", millis("when the session ends")),
        ],
        &["imsOrgId", "principalId", "csrfToken", "expiresAt"],
    )
}

/// The console's shell, sessions and sandboxes.
pub fn console_operations() -> Vec<Operation> {
    let html = || json!({"type": "string"});
    vec![
        operation("GET", "/", "console_index", CONSOLE, "The console's page")
            .access(Access::Public)
            .reply_as(200, "index.html", &[("text/html", html())]),
        operation(
            "GET",
            "/console/assets/{path}",
            "console_asset",
            CONSOLE,
            "A file of the console (scripts, styles, icons)",
        )
        .access(Access::Public)
        .path_param(
            "path",
            json!({"type": "string"}),
            "the file's path under the console's assets",
        )
        .reply_as(
            200,
            "the file, typed by its extension",
            &[("*/*", json!({"type": "string"}))],
        )
        .reply_empty(304, "not modified (If-None-Match named its ETag)")
        .error(404),
        operation(
            "POST",
            "/console/session",
            "create_session",
            CONSOLE,
            "Sign in: a session cookie from an API credential",
        )
        .access(Access::Public)
        .json_body(object(
            &[
                ("apiKey", string("the credential's apiKey")),
                ("accessToken", string("its accessToken")),
            ],
            &["apiKey", "accessToken"],
        ))
        .reply(
            201,
            "the session (Set-Cookie: flowd_session=…; HttpOnly; SameSite=Strict)",
            session(),
        )
        .errors(&[400, 401]),
        operation(
            "GET",
            "/console/session",
            "read_session",
            CONSOLE,
            "The current session",
        )
        .access(Access::Public)
        .reply(200, "the session of the cookie", session())
        .error(401),
        operation(
            "DELETE",
            "/console/session",
            "delete_session",
            CONSOLE,
            "Sign out: the session is deleted and its cookie refused from then on",
        )
        .access(Access::Public)
        .parameter("CsrfHeader")
        .reply_empty(204, "signed out (the cookie is cleared)")
        .errors(&[401, 403]),
        operation(
            "GET",
            "/console/sandboxes",
            "list_sandboxes",
            CONSOLE,
            "The sandboxes of the caller's org",
        )
        .access(Access::Org)
        .reply(
            200,
            "the sandboxes that exist",
            object(
                &[(
                    "items",
                    array(object(&[("name", string("the sandbox"))], &["name"])),
                )],
                &["items"],
            ),
        ),
    ]
}

fn flowd_path(suffix: &str) -> String {
    format!("/flowd/v1{suffix}")
}

/// `{name, type}` columns.
fn columns() -> Value {
    array(object(
        &[("name", string("the column")), ("type", string("its type"))],
        &["name", "type"],
    ))
}

/// flowd's own API for the console.
pub fn flowd_operations() -> Vec<Operation> {
    let problems = || array(schema_ref("Problem"));
    let window = object(
        &[
            (
                "start",
                json!({"type": ["string", "integer"], "description": "RFC 3339, or epoch seconds"}),
            ),
            (
                "end",
                json!({"type": ["string", "integer"], "description": "RFC 3339, or epoch seconds"}),
            ),
        ],
        &[],
    );
    let test_body = object(
        &[
            ("spec", schema_ref("ConnectionSpecBody")),
            (
                "auth",
                object(
                    &[
                        ("specName", string("the auth spec")),
                        ("params", any_object("the credentials")),
                    ],
                    &["specName"],
                ),
            ),
            ("params", any_object("the source params")),
            ("window", window),
            (
                "maxPages",
                json!({"type": "integer", "minimum": 1, "maximum": 50}),
            ),
            (
                "maxRecords",
                json!({"type": "integer", "minimum": 1, "maximum": 10000}),
            ),
        ],
        &["spec"],
    );
    let page = object(
        &[
            ("number", integer("the page, from 1")),
            (
                "request",
                object(
                    &[
                        ("method", string("GET or POST")),
                        ("url", string("the URL, secrets redacted")),
                        (
                            "headers",
                            array(object(
                                &[
                                    ("name", string("the header")),
                                    ("value", string("its value, secrets redacted")),
                                ],
                                &["name", "value"],
                            )),
                        ),
                    ],
                    &["method", "url"],
                ),
            ),
            ("status", integer("the HTTP status")),
            ("elapsedMs", integer("how long it took")),
            ("itemCount", integer("items on the page")),
            ("recordCount", integer("records extracted")),
            ("attempts", integer("requests made for it")),
        ],
        &["number"],
    );
    let test_answer = object(
        &[
            ("pages", array(page)),
            (
                "records",
                array(json!({"description": "a record (the first 100)"})),
            ),
            ("recordCount", integer("records in all")),
            ("schema", object(&[("columns", columns())], &["columns"])),
            (
                "summary",
                object(
                    &[
                        ("pages", integer("pages fetched")),
                        ("records", integer("records extracted")),
                        ("bytes", integer("bytes read")),
                        ("elapsedMs", integer("how long it took")),
                        ("stopReason", string("why it stopped")),
                    ],
                    &[],
                ),
            ),
            ("warnings", array(string("a warning"))),
            (
                "error",
                json!({"anyOf": [{"type": "null"}, object(&[("message", string("what failed upstream")), ("page", integer("on which page"))], &["message"])]}),
            ),
        ],
        &["pages", "records", "recordCount", "schema", "summary"],
    );
    vec![
        operation(
            "POST",
            &flowd_path("/connectionSpecs/validate"),
            "validate_connection_spec",
            FLOWD,
            "Validate a connection spec as POST /connectionSpecs would, storing nothing",
        )
        .json_body(schema_ref("ConnectionSpecBody"))
        .reply(
            200,
            "whether it is valid, and every problem at its pointer",
            object(
                &[("valid", boolean("no problems")), ("problems", problems())],
                &["valid", "problems"],
            ),
        ),
        operation(
            "POST",
            &flowd_path("/connectionSpecs/test"),
            "test_connection_spec",
            FLOWD,
            "Run a spec on the server as flowd spec test does",
        )
        .json_body(test_body)
        .reply(
            200,
            "the pages, records, schema and summary (an upstream failure sets error)",
            test_answer,
        ),
        operation(
            "GET",
            &flowd_path("/dataSets/{id}/rows"),
            "dataset_rows",
            FLOWD,
            "A dataset's first rows",
        )
        .path_param(
            "id",
            json!({"type": "string", "pattern": "^[0-9a-f]{24}$"}),
            "the dataset",
        )
        .query(
            "limit",
            json!({"type": "integer", "minimum": 1, "maximum": 500}),
            "rows (50)",
        )
        .reply(
            200,
            "the columns and rows",
            object(
                &[
                    ("columns", columns()),
                    ("rows", array(any_object("a record"))),
                    ("recordCount", integer("records in all")),
                ],
                &["columns", "rows", "recordCount"],
            ),
        )
        .error(404),
    ]
}
