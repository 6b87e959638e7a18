//! Catalog's datasets and batches (`/data/foundation/catalog`) and the Data Access API's files
//! and error diagnostics (`/data/foundation/export`): objects keyed by id, `["@/dataSets/<id>"]`
//! answers, `{data, _page}` pages, Parquet parts and JSON Lines.

use serde_json::{Value, json};

use super::builder::{
    Operation, any_object, array, as_written, data_page, integer, millis, object, operation,
    schema_ref, string,
};
use crate::{CATALOG_BASE_PATH, DATA_ACCESS_BASE_PATH};

const CATALOG: &str = "Catalog";
const DATA_ACCESS: &str = "Data Access";

/// An object keyed by id, each member a `schema`.
fn keyed(schema: &str) -> Value {
    json!({"type": "object", "additionalProperties": schema_ref(schema),
           "description": "keyed by id"})
}

/// Catalog's schemas.
pub fn add_schemas(add: &mut dyn FnMut(&str, Value)) {
    let dataset_fields = [
        ("name", string("its name")),
        ("description", string("its description")),
        (
            "schemaRef",
            object(
                &[
                    ("id", string("the schema's $id or meta:altId")),
                    (
                        "contentType",
                        string("application/vnd.adobe.xed+json;version=1"),
                    ),
                ],
                &["id"],
            ),
        ),
        ("classification", any_object("dataBehavior and managedBy")),
        (
            "tags",
            json!({"type": "object", "additionalProperties": array(string("a tag value"))}),
        ),
    ];
    let mut dataset = object(
        &[
            &as_written(&dataset_fields)[..],
            &[
                ("created", millis("created")),
                ("updated", millis("updated")),
                ("imsOrg", string("the org")),
                ("sandboxId", string("the sandbox's id")),
                ("version", string("1.0.0")),
                ("lastBatchId", string("its last committed batch")),
                ("lastBatchStatus", string("success")),
                ("batchCount", integer("batches committed (a read by id)")),
                ("recordCount", integer("records committed (a read by id)")),
                (
                    "schema",
                    object(
                        &[
                            (
                                "columns",
                                array(object(
                                    &[("name", string("the column")), ("type", string("its Arrow type"))],
                                    &["name", "type"],
                                )),
                            ),
                            ("typed", json!({"type": "boolean", "description": "whether a registry schema types it"})),
                        ],
                        &["columns"],
                    ),
                ),
            ][..],
        ]
        .concat(),
        &[],
    );
    dataset["description"] = json!("a dataset (fields may be left out with properties=)");
    add("Dataset", dataset);
    add(
        "DatasetBody",
        object(&dataset_fields, &["name", "schemaRef"]),
    );
    add(
        "DatasetReference",
        json!({"type": "array", "items": {"type": "string", "pattern": "^@/dataSets/[0-9a-f]{24}$"},
               "minItems": 1, "maxItems": 1}),
    );
    let batch = object(
        &[
            ("id", string("the batch (the run's id)")),
            (
                "status",
                json!({"type": "string", "enum": ["success", "failed"]}),
            ),
            ("recordCount", integer("records written")),
            (
                "metrics",
                any_object(
                    "recordCount, inputRecordCount, outputRecordCount, failedRecordCount, outputByteSize, outputFileCount, startTime, endTime",
                ),
            ),
            (
                "errors",
                array(any_object(
                    "a reason records were rejected, with its recordCount",
                )),
            ),
            (
                "tags",
                any_object("acp_enableErrorDiagnostics, acp_partialIngestionPercent"),
            ),
            (
                "relatedObjects",
                array(object(
                    &[
                        ("type", string("dataSet or flowRun")),
                        ("id", string("its id")),
                    ],
                    &["type", "id"],
                )),
            ),
            ("created", millis("created")),
            ("updated", millis("committed")),
        ],
        &[],
    );
    add("Batch", batch);
    add(
        "FilePart",
        object(
            &[
                ("name", string("the part's name")),
                ("length", string("its size in bytes")),
                ("_links", any_object("self.href")),
            ],
            &["name", "length"],
        ),
    );
}

fn catalog(suffix: &str) -> String {
    format!("{CATALOG_BASE_PATH}{suffix}")
}

fn export(suffix: &str) -> String {
    format!("{DATA_ACCESS_BASE_PATH}{suffix}")
}

fn dataset_id(operation: Operation) -> Operation {
    operation.path_param(
        "id",
        json!({"type": "string", "pattern": "^[0-9a-f]{24}$"}),
        "the dataset's id (24 hex characters; anything else is FLOW-1411-400)",
    )
}

fn batch_id(operation: Operation) -> Operation {
    operation.path_param(
        "id",
        json!({"type": "string"}),
        "the batch's id (its run's id)",
    )
}

/// Catalog's and Data Access's operations.
pub fn operations() -> Vec<Operation> {
    let mut operations = vec![
        operation(
            "GET",
            &catalog("/dataSets"),
            "list_datasets",
            CATALOG,
            "List the sandbox's datasets",
        )
        .catalog_list_parameters()
        .reply(
            200,
            "datasets keyed by id ({} past the end)",
            keyed("Dataset"),
        ),
        operation(
            "POST",
            &catalog("/dataSets"),
            "create_dataset",
            CATALOG,
            "Create a dataset",
        )
        .json_body(schema_ref("DatasetBody"))
        .reply(201, "its reference", schema_ref("DatasetReference")),
    ];
    for (slash, suffix) in [("", ""), ("/", "_slash")] {
        let at = catalog(&format!("/dataSets/{{id}}{slash}"));
        operations.push(
            dataset_id(operation(
                "GET",
                &at,
                &format!("read_dataset{suffix}"),
                CATALOG,
                "Read a dataset with its counts and columns",
            ))
            .parameter("CatalogProperties")
            .reply(200, "the dataset, keyed by its id", keyed("Dataset"))
            .error(404),
        );
        operations.push(
            dataset_id(operation(
                "DELETE",
                &at,
                &format!("delete_dataset{suffix}"),
                CATALOG,
                "Delete a dataset",
            ))
            .reply(200, "its reference", schema_ref("DatasetReference"))
            .error(404),
        );
    }
    for (slash, suffix) in [("", ""), ("/", "_slash")] {
        operations.push(
            operation(
                "GET",
                &catalog(&format!("/batches{slash}")),
                &format!("list_batches{suffix}"),
                CATALOG,
                "List the committed batches",
            )
            .catalog_list_parameters()
            .query(
                "dataSet",
                json!({"type": "string"}),
                "only the batches of this dataset",
            )
            .reply(200, "batches keyed by id", keyed("Batch")),
        );
        operations.push(
            batch_id(operation(
                "GET",
                &catalog(&format!("/batches/{{id}}{slash}")),
                &format!("read_batch{suffix}"),
                CATALOG,
                "Read a batch",
            ))
            .parameter("CatalogProperties")
            .reply(200, "the batch, keyed by its id", keyed("Batch"))
            .error(404),
        );
    }
    let page_parameters = |operation: Operation| {
        operation
            .parameter("CatalogLimit")
            .parameter("CatalogStart")
    };
    let json_lines = || json!({"type": "string", "description": "one rejected record a line, with its _errors or _validationErrors and _filename"});
    operations.extend([
        page_parameters(batch_id(operation(
            "GET",
            &export("/batches/{id}/files"),
            "list_batch_files",
            DATA_ACCESS,
            "A batch's file",
        )))
        .reply(
            200,
            "the batch's one file (<batchId>-1)",
            data_page(any_object(
                "dataSetFileId, dataSetId, isValid, _links.self.href",
            )),
        )
        .error(404),
        page_parameters(
            operation(
                "GET",
                &export("/files/{id}"),
                "read_file",
                DATA_ACCESS,
                "A file's parts, or (?path=) a part's bytes",
            )
            .path_param(
                "id",
                json!({"type": "string"}),
                "the dataSetFileId (<batchId>-1)",
            ),
        )
        .query(
            "path",
            json!({"type": "string"}),
            "a part's name: answer its bytes",
        )
        .parameter("Range")
        .reply_as(
            200,
            "the parts, or a part's bytes",
            &[
                ("application/json", data_page(schema_ref("FilePart"))),
                (
                    "application/octet-stream",
                    json!({"type": "string", "contentMediaType": "application/octet-stream"}),
                ),
            ],
        )
        .reply_as(
            206,
            "the bytes of the Range",
            &[("application/octet-stream", json!({"type": "string"}))],
        )
        .errors(&[404, 416]),
        page_parameters(batch_id(operation(
            "GET",
            &export("/batches/{id}/meta"),
            "read_batch_meta",
            DATA_ACCESS,
            "A batch's error diagnostics files, or one of them",
        )))
        .required_query(
            "path",
            json!({"type": "string"}),
            "input_files, row_errors or row_errors/<file>",
        )
        .reply_as(
            200,
            "the files, or a file as JSON Lines",
            &[
                ("application/json", data_page(schema_ref("FilePart"))),
                ("application/x-ndjson", json_lines()),
            ],
        )
        .error(404),
        page_parameters(batch_id(operation(
            "GET",
            &export("/batches/{id}/failed"),
            "read_batch_failed",
            DATA_ACCESS,
            "A batch's rejected records (the older API)",
        )))
        .query(
            "path",
            json!({"type": "string"}),
            "a file name, conversion_errors, parse_errors or validation_errors",
        )
        .reply_as(
            200,
            "the files, or the records as JSON Lines",
            &[
                ("application/json", data_page(schema_ref("FilePart"))),
                ("application/x-ndjson", json_lines()),
            ],
        )
        .error(404),
    ]);
    operations
}
