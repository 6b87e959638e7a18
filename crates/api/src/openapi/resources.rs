//! The resources' shapes in `components.schemas`: what flowd answers (server fields typed,
//! only what it always sends required, other members allowed: flowd keeps what clients send)
//! and the request bodies (the fields flowd reads; it checks them itself and answers every
//! problem at its pointer, so the schemas here only guide a client).

use serde_json::{Map, Value, json};

use super::builder::{
    any_object, array, as_written, boolean, integer, millis, object, schema_ref, string,
};

/// `{id, version}` of a spec a resource names.
fn spec_reference(noun: &str) -> Value {
    object(
        &[
            ("id", string(&format!("the {noun}'s id"))),
            ("version", string("its version (1.0)")),
        ],
        &["id"],
    )
}

/// A stored Flow Service document: the server-managed fields, then `properties`. Only `id` is
/// required (a search's `projectionFields` keeps it and what it names).
pub(super) fn stored(description: &str, properties: &[(&str, Value)]) -> Value {
    let mut all = vec![
        ("id", string("the resource's id")),
        ("createdAt", millis("created")),
        ("updatedAt", millis("last written")),
        ("createdBy", string("the principal that created it")),
        ("updatedBy", string("the principal that last wrote it")),
        ("createdClient", string("the x-api-key that created it")),
        ("updatedClient", string("the x-api-key that last wrote it")),
        ("sandboxId", string("the sandbox's id")),
        ("sandboxName", string("the sandbox's name")),
        ("imsOrgId", string("the org")),
    ];
    all.extend(properties.iter().cloned());
    let mut schema = object(&all, &["id"]);
    schema["description"] = json!(description);
    schema
}

/// An instance resource: the fields its client wrote (untyped, `client`), the lifecycle fields
/// and the fields flowd computes (`server`).
fn instance(description: &str, client: &[(&str, Value)], server: &[(&str, Value)]) -> Value {
    let mut all = as_written(
        &[
            &[
                ("name", string("its name")),
                ("description", string("its description")),
            ][..],
            client,
        ]
        .concat(),
    );
    all.extend([
        (
            "state",
            json!({"type": "string", "description": "enabled, disabled or draft"}),
        ),
        ("etag", string("the etag to send as If-Match")),
        ("version", string("the etag again, as AEP shows it")),
    ]);
    all.extend(server.iter().cloned());
    stored(description, &all)
}

fn columns() -> Value {
    array(object(
        &[("name", string("the column")), ("type", string("its type"))],
        &["name", "type"],
    ))
}

/// The schemas, by name.
pub fn schemas() -> Map<String, Value> {
    let mut schemas = Map::new();
    let mut add = |name: &str, schema: Value| {
        schemas.insert(name.to_owned(), schema);
    };
    let spec_fields = [
        ("name", string("the spec's name")),
        ("providerId", string("the provider's id")),
        ("version", string("its version")),
        ("type", string("generic-rest when absent")),
        ("attributes", any_object("free-form attributes")),
        (
            "authSpec",
            array(any_object("an auth spec: {name, type, spec}")),
        ),
        (
            "sourceSpec",
            any_object(
                "the fetch configuration and sourceSpec.spec (the source params' JSON Schema)",
            ),
        ),
        ("exploreSpec", any_object("the explore settings")),
    ];
    add(
        "ConnectionSpec",
        stored("a connection spec", &as_written(&spec_fields)),
    );
    let mut spec_body = object(&spec_fields, &["name", "providerId"]);
    spec_body["description"] = json!(
        "a connection spec (Self-Serve Sources SDK); every problem is answered at once, at its pointer"
    );
    add("ConnectionSpecBody", spec_body);
    let flow_spec_fields = [
        ("name", string("the flow spec's name")),
        ("providerId", string("the provider's id")),
        ("version", string("its version")),
        (
            "sourceConnectionSpecIds",
            array(string("a connection spec id")),
        ),
        (
            "targetConnectionSpecIds",
            array(string("a connection spec id")),
        ),
        (
            "transformationSpecs",
            array(any_object("a transformation spec")),
        ),
        (
            "scheduleSpec",
            any_object("the JSON Schema flows' scheduleParams must satisfy"),
        ),
        ("attributes", any_object("free-form attributes")),
    ];
    add(
        "FlowSpec",
        stored("a flow spec", &as_written(&flow_spec_fields)),
    );
    add(
        "FlowSpecBody",
        object(&flow_spec_fields, &["name", "providerId"]),
    );
    let auth = object(
        &[
            (
                "specName",
                string("the auth spec's name (or type), ignoring case and spacing"),
            ),
            (
                "params",
                any_object(
                    "the credentials, checked against the auth spec's JSON Schema; secrets shown as ********",
                ),
            ),
        ],
        &["specName", "params"],
    );
    let connection_fields = [
        ("connectionSpec", spec_reference("connection spec")),
        ("auth", auth),
    ];
    add(
        "Connection",
        instance(
            "a base connection (secrets masked)",
            &connection_fields,
            &[],
        ),
    );
    add(
        "ConnectionBody",
        object(
            &[
                &[
                    ("name", string("its name")),
                    ("description", string("its description")),
                ][..],
                &connection_fields[..],
            ]
            .concat(),
            &["name", "connectionSpec", "auth"],
        ),
    );
    let source_fields = [
        ("baseConnectionId", string("the base connection")),
        ("connectionSpec", spec_reference("connection spec")),
        ("data", object(&[("format", string("json"))], &[])),
        (
            "params",
            any_object("the source params, checked against sourceSpec.spec"),
        ),
        (
            "flowd",
            object(
                &[
                    (
                        "pageConcurrency",
                        integer("predicted pages fetched at once"),
                    ),
                    (
                        "requestsPerSecond",
                        json!({"type": "number", "description": "the rate limit of this source's runs"}),
                    ),
                ],
                &[],
            ),
        ),
    ];
    add(
        "SourceConnection",
        instance(
            "a source connection",
            &source_fields,
            &[(
                "inheritedAttributes",
                any_object("the base connection's id and connection spec"),
            )],
        ),
    );
    add(
        "SourceConnectionBody",
        object(
            &[
                &[
                    ("name", string("its name")),
                    ("description", string("its description")),
                ][..],
                &source_fields[..],
            ]
            .concat(),
            &["name", "connectionSpec"],
        ),
    );
    let target_fields = [
        (
            "connectionSpec",
            spec_reference("connection spec (the data lake's)"),
        ),
        (
            "data",
            object(
                &[
                    ("format", string("parquet_xdm or json")),
                    ("schema", any_object("{id, version}")),
                ],
                &[],
            ),
        ),
        (
            "params",
            object(&[("dataSetId", string("the dataset the flow writes"))], &[]),
        ),
    ];
    add(
        "TargetConnection",
        instance("a target connection", &target_fields, &[]),
    );
    add(
        "TargetConnectionBody",
        object(
            &[
                &[
                    ("name", string("its name")),
                    ("description", string("its description")),
                ][..],
                &target_fields[..],
            ]
            .concat(),
            &["connectionSpec", "params"],
        ),
    );
    let flow_fields = [
        ("flowSpec", spec_reference("flow spec")),
        (
            "sourceConnectionIds",
            array(string("a source connection id (exactly one)")),
        ),
        (
            "targetConnectionIds",
            array(string("a target connection id (exactly one)")),
        ),
        (
            "transformations",
            array(any_object(
                "a transformation, e.g. {name: Mapping, params: {mappingId, mappingVersion}}",
            )),
        ),
        (
            "scheduleParams",
            object(
                &[
                    (
                        "startTime",
                        json!({"type": ["integer", "string"], "description": "epoch seconds"}),
                    ),
                    ("frequency", string("once, minute, hour, day, week")),
                    ("interval", json!({"type": ["integer", "string"]})),
                    ("backfill", json!({"type": ["boolean", "string"]})),
                ],
                &[],
            ),
        ),
        ("partialIngestionPercent", json!({"type": "number"})),
    ];
    add(
        "Flow",
        instance(
            "a flow",
            &flow_fields,
            &[
                (
                    "inheritedAttributes",
                    any_object("its connections and the flow spec's properties"),
                ),
                ("lastOperation", any_object("the last lifecycle operation")),
                (
                    "lastRunDetails",
                    object(
                        &[
                            ("id", string("the run")),
                            ("state", string("pending, inProgress, success or failed")),
                            ("startedAtUTC", millis("started")),
                            ("completedAtUTC", millis("completed")),
                        ],
                        &[],
                    ),
                ),
                ("runs", string("the path listing its runs")),
                (
                    "nextRunAtUTC",
                    json!({"type": ["integer", "null"], "description": "when the planner next starts a scheduled run (epoch ms); null when disabled, a draft, or a once-flow that ran"}),
                ),
            ],
        ),
    );
    add(
        "FlowBody",
        object(
            &[
                &[
                    ("name", string("its name")),
                    ("description", string("its description")),
                ][..],
                &flow_fields[..],
            ]
            .concat(),
            &[
                "name",
                "flowSpec",
                "sourceConnectionIds",
                "targetConnectionIds",
            ],
        ),
    );
    add(
        "RunBody",
        object(
            &[
                ("flowId", string("the flow to run")),
                (
                    "params",
                    object(
                        &[
                            (
                                "windowStartTime",
                                json!({"type": ["integer", "string"], "description": "an RFC 3339 instant or epoch seconds; none is the beginning of time"}),
                            ),
                            (
                                "windowEndTime",
                                json!({"type": ["integer", "string"], "description": "an RFC 3339 instant or epoch seconds"}),
                            ),
                        ],
                        &["windowEndTime"],
                    ),
                ),
            ],
            &["flowId", "params"],
        ),
    );
    add(
        "PatchInstructions",
        array(object(
            &[
                (
                    "op",
                    json!({"type": "string", "description": "add, replace or remove"}),
                ),
                ("path", string("a JSON pointer")),
                ("value", json!({"description": "the new value"})),
            ],
            &["op", "path"],
        )),
    );
    add(
        "SearchBody",
        object(
            &[
                (
                    "queryString",
                    string("filters and list parameters: name==x&state==enabled"),
                ),
                (
                    "limit",
                    json!({"type": "integer", "minimum": 1, "maximum": 1000}),
                ),
                ("orderby", string("-createdAt")),
                ("count", json!({"type": ["boolean", "string"]})),
                (
                    "projectionFields",
                    string("comma-separated top-level fields (id is always kept)"),
                ),
            ],
            &[],
        ),
    );
    add(
        "Columns",
        object(
            &[(
                "items",
                array(object(
                    &[
                        ("columnName", string("the column")),
                        ("columnType", string("its type")),
                    ],
                    &["columnName", "columnType"],
                )),
            )],
            &["items"],
        ),
    );
    add(
        "ExplorePreview",
        object(
            &[
                ("format", string("hierarchical")),
                ("schema", object(&[("columns", columns())], &["columns"])),
                ("data", array(json!({"description": "a record"}))),
                (
                    "warnings",
                    array(string(
                        "what the run warned about (flowd's, only when it did)",
                    )),
                ),
            ],
            &["format", "schema"],
        ),
    );
    super::catalog::add_schemas(&mut add);
    super::data_prep::add_schemas(&mut add);
    schemas
}

/// `{"id", "etag"}` or the resource: the answer of a lifecycle action.
pub fn id_etag() -> Value {
    schema_ref("IdEtag")
}

/// `{"result": bool, "reason"?: text}` of a connection test.
pub fn connection_test() -> Value {
    object(
        &[
            ("result", boolean("whether the credentials were accepted")),
            ("reason", string("why not")),
            ("detail", string("why nothing was called")),
        ],
        &["result"],
    )
}
