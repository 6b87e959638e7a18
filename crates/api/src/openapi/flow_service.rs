//! The Flow Service operations under `/data/foundation/flowservice` (`crate::routes`): the
//! specs, the instance resources with their shared trio (GET/PATCH/DELETE by id, with and
//! without a trailing slash), actions, searches, previews and runs.

use serde_json::json;

use super::builder::{Operation, flow_list, items_of_one, operation, schema_ref};
use super::resources::{connection_test, id_etag};
use crate::FLOW_SERVICE_BASE_PATH;

const TAG: &str = "Flow Service";

fn path(suffix: &str) -> String {
    format!("{FLOW_SERVICE_BASE_PATH}{suffix}")
}

/// `GET` list and `POST` create of a collection whose create answers `created` with `answer`.
fn list_and_create(
    collection: &str,
    schema: &str,
    noun: &str,
    created: (u16, serde_json::Value),
    drafts: bool,
    linked: &[String],
) -> Vec<Operation> {
    let list = operation(
        "GET",
        &path(&format!("/{collection}")),
        &format!("list_{collection}"),
        TAG,
        &format!("List the sandbox's {noun}s"),
    )
    .flow_list_parameters()
    .reply(
        200,
        &format!("a page of {noun}s, or their count"),
        flow_list(schema_ref(schema)),
    );
    let mut create = operation(
        "POST",
        &path(&format!("/{collection}")),
        &format!("create_{collection}"),
        TAG,
        &format!("Create a {noun}"),
    )
    .json_body(schema_ref(&format!("{schema}Body")))
    .reply(created.0, &format!("the {noun} was created"), created.1)
    .links(created.0, linked);
    if drafts {
        create = create.query(
            "mode",
            json!({"type": "string", "enum": ["draft"]}),
            "draft: store an incomplete resource (only the fields Adobe requires are checked), never run",
        );
    }
    vec![list, create]
}

/// `GET`, `PATCH`, `DELETE` of an instance resource at `/{collection}/{id}` and `/{id}/`.
fn instance_trio(collection: &str, schema: &str, noun: &str) -> Vec<Operation> {
    let mut operations = Vec::new();
    for (slash, suffix) in [("", ""), ("/", "_slash")] {
        let at = path(&format!("/{collection}/{{id}}{slash}"));
        operations.push(read_by_id(
            &at,
            &format!("{collection}{suffix}"),
            schema,
            noun,
        ));
        operations.push(
            operation(
                "PATCH",
                &at,
                &format!("patch_{collection}{suffix}"),
                TAG,
                &format!("Change a {noun} with JSON Patch instructions"),
            )
            .uuid_id(noun)
            .parameter("IfMatch")
            .query(
                "if-match",
                json!({"type": "string"}),
                "the etag, when no If-Match header is sent",
            )
            .json_body(schema_ref("PatchInstructions"))
            .reply(200, "the new etag", id_etag())
            .errors(&[404, 412]),
        );
        operations.push(
            operation(
                "DELETE",
                &at,
                &format!("delete_{collection}{suffix}"),
                TAG,
                &format!("Delete a {noun}"),
            )
            .uuid_id(noun)
            .reply_empty(204, "deleted")
            .error(404),
        );
    }
    operations
}

/// `POST /{collection}/{id}/action?op=…`.
fn action(collection: &str, noun: &str, ops: &[&str]) -> Operation {
    operation(
        "POST",
        &path(&format!("/{collection}/{{id}}/action")),
        &format!("act_on_{collection}"),
        TAG,
        &format!("Carry out a lifecycle operation on a {noun}"),
    )
    .uuid_id(noun)
    .required_query(
        "op",
        json!({"type": "string"}),
        &format!("{} (any case, - or _)", ops.join(", ")),
    )
    .query(
        "subOp",
        json!({"type": "string"}),
        "APPLY, PROGRESS or ROLLBACK (comma-separated or repeated)",
    )
    .reply(200, "the resource's etag", id_etag())
    .error(404)
}

/// `POST /{collection}/search`.
fn search(collection: &str, schema: &str, noun: &str) -> Operation {
    operation(
        "POST",
        &path(&format!("/{collection}/search")),
        &format!("search_{collection}"),
        TAG,
        &format!("Search {noun}s with the list parameters in a body"),
    )
    .parameter("ContinuationToken")
    .json_body(schema_ref("SearchBody"))
    .reply(
        200,
        "the list GET would answer",
        flow_list(schema_ref(schema)),
    )
}

/// `GET` of one resource by id at `at`: `{"items": [it]}`, or 404 (`read_{id_suffix}`).
fn read_by_id(at: &str, id_suffix: &str, schema: &str, noun: &str) -> Operation {
    operation(
        "GET",
        at,
        &format!("read_{id_suffix}"),
        TAG,
        &format!("Read a {noun}"),
    )
    .uuid_id(noun)
    .reply(
        200,
        &format!("the {noun}"),
        items_of_one(schema_ref(schema)),
    )
    .error(404)
}

/// `GET`, `PUT` (and `DELETE`) of a spec by id.
fn spec_by_id(collection: &str, schema: &str, noun: &str, deletable: bool) -> Vec<Operation> {
    let at = path(&format!("/{collection}/{{id}}"));
    let mut operations = vec![
        read_by_id(&at, collection, schema, noun),
        operation(
            "PUT",
            &at,
            &format!("replace_{collection}"),
            TAG,
            &format!("Replace a {noun}"),
        )
        .uuid_id(noun)
        .json_body(schema_ref(&format!("{schema}Body")))
        .reply(200, &format!("the stored {noun}"), schema_ref(schema))
        .error(404),
    ];
    if deletable {
        operations.push(
            operation(
                "DELETE",
                &at,
                &format!("delete_{collection}"),
                TAG,
                &format!("Delete a {noun}"),
            )
            .uuid_id(noun)
            .reply_empty(204, "deleted")
            .error(404),
        );
    }
    operations
}

fn ids(operation_ids: &[&str]) -> Vec<String> {
    operation_ids.iter().map(|id| (*id).to_owned()).collect()
}

/// Every Flow Service operation.
pub fn operations() -> Vec<Operation> {
    let mut operations = Vec::new();
    operations.extend(list_and_create(
        "connectionSpecs",
        "ConnectionSpec",
        "connection spec",
        (201, schema_ref("ConnectionSpec")),
        false,
        &ids(&[
            "read_connectionSpecs",
            "replace_connectionSpecs",
            "delete_connectionSpecs",
            "connection_spec_configs",
            "explore_connection_spec",
        ]),
    ));
    operations.extend(spec_by_id(
        "connectionSpecs",
        "ConnectionSpec",
        "connection spec",
        true,
    ));
    operations.extend(list_and_create(
        "flowSpecs",
        "FlowSpec",
        "flow spec",
        (201, schema_ref("FlowSpec")),
        false,
        &ids(&["read_flowSpecs", "replace_flowSpecs"]),
    ));
    operations.extend(spec_by_id("flowSpecs", "FlowSpec", "flow spec", false));
    operations.push(search("flowSpecs", "FlowSpec", "flow spec"));
    for (collection, schema, noun) in [
        ("connections", "Connection", "connection"),
        ("sourceConnections", "SourceConnection", "source connection"),
        ("targetConnections", "TargetConnection", "target connection"),
        ("flows", "Flow", "flow"),
    ] {
        operations.extend(list_and_create(
            collection,
            schema,
            noun,
            (201, id_etag()),
            true,
            &[
                format!("read_{collection}"),
                format!("patch_{collection}"),
                format!("delete_{collection}"),
                format!("act_on_{collection}"),
            ],
        ));
        operations.extend(instance_trio(collection, schema, noun));
    }
    for collection in ["connections", "sourceConnections", "targetConnections"] {
        let noun = match collection {
            "connections" => "connection",
            "sourceConnections" => "source connection",
            _ => "target connection",
        };
        operations.push(action(
            collection,
            noun,
            &["PUBLISH", "FINALIZE", "FINALIZE_UPDATE"],
        ));
    }
    operations.push(action(
        "flows",
        "flow",
        &[
            "ENABLE",
            "DISABLE",
            "PUBLISH",
            "FINALIZE",
            "FINALIZE_UPDATE",
        ],
    ));
    operations.push(search("connections", "Connection", "connection"));
    operations.push(search("flows", "Flow", "flow"));
    operations.extend(previews());
    operations.extend(runs());
    operations
}

/// Configs, explore and the connection test.
fn previews() -> Vec<Operation> {
    let source_params = |operation: Operation| {
        operation.query(
            "sourceParams",
            json!({"type": "string"}),
            "base64 of a JSON object of source params",
        )
    };
    vec![
        operation(
            "GET",
            &path("/connectionSpecs/{id}/configs"),
            "connection_spec_configs",
            TAG,
            "The columns a connection spec declares",
        )
        .uuid_id("connection spec")
        .reply(
            200,
            "its declared columns ([] without a schema)",
            schema_ref("Columns"),
        )
        .error(404),
        source_params(
            operation(
                "GET",
                &path("/connectionSpecs/{id}/explore"),
                "explore_connection_spec",
                TAG,
                "The columns a connection spec declares",
            )
            .uuid_id("connection spec")
            .reply(200, "its declared columns", schema_ref("Columns"))
            .error(404),
        ),
        source_params(
            operation(
                "GET",
                &path("/connections/{id}/configs"),
                "connection_configs",
                TAG,
                "A connection's columns: declared, else previewed",
            )
            .uuid_id("connection")
            .reply(200, "the columns", schema_ref("Columns"))
            .error(404),
        ),
        operation(
            "GET",
            &path("/connections/{id}/test"),
            "test_connection",
            TAG,
            "Check a connection's credentials with its authorizationTestUrl",
        )
        .uuid_id("connection")
        .reply(
            200,
            "whether the credentials were accepted",
            connection_test(),
        )
        .error(404),
        source_params(
            operation(
                "GET",
                &path("/connections/{id}/explore"),
                "explore_connection",
                TAG,
                "Preview a connection's first page",
            )
            .uuid_id("connection")
            .query("objectType", json!({"type": "string"}), "rest")
            .query("object", json!({"type": "string"}), "json")
            .query("fileType", json!({"type": "string"}), "json")
            .query(
                "preview",
                json!({"type": "string", "enum": ["true", "false"]}),
                "false leaves the records out",
            )
            .reply(
                200,
                "the first page's schema and (at most 100) records",
                schema_ref("ExplorePreview"),
            )
            .error(404),
        ),
    ]
}

fn runs() -> Vec<Operation> {
    let run = schema_ref("Run");
    vec![
        operation(
            "GET",
            &path("/runs"),
            "list_runs",
            TAG,
            "List the sandbox's runs",
        )
        .flow_list_parameters()
        .reply(
            200,
            "a page of runs, or their count",
            flow_list(run.clone()),
        ),
        operation(
            "POST",
            &path("/runs"),
            "create_run",
            TAG,
            "Enqueue an ad hoc run of a flow over a window",
        )
        .json_body(schema_ref("RunBody"))
        .reply(201, "the run (Location: its path)", run.clone())
        .links(201, &ids(&["read_run", "update_run", "act_on_run"])),
        operation("GET", &path("/runs/{id}"), "read_run", TAG, "Read a run")
            .uuid_id("run")
            .reply(200, "the run", items_of_one(run.clone()))
            .error(404),
        operation(
            "PUT",
            &path("/runs/{id}"),
            "update_run",
            TAG,
            "The provider-side update: accepted when it changes nothing",
        )
        .uuid_id("run")
        .parameter("IfMatch")
        .json_body(json!({"type": "object"}))
        .reply(200, "the run", run.clone())
        .errors(&[404, 412]),
        operation(
            "POST",
            &path("/runs/{id}/action"),
            "act_on_run",
            TAG,
            "Re-trigger a run",
        )
        .uuid_id("run")
        .required_query(
            "op",
            json!({"type": "string"}),
            "RE_TRIGGER (any case, - or _)",
        )
        .reply(200, "the run, pending again", run)
        .error(404),
    ]
}
