//! The run's shape in `components.schemas` (`#/components/schemas/Run`): the Flow Service run
//! `routes/run_shape.rs` presents, with flowd's `progress`.

use serde_json::{Value, json};

use super::builder::{any_object, array, integer, millis, object, string};

/// The run shape of `routes/run_shape.rs` (`#/components/schemas/Run`).
pub(super) fn run_schema() -> Value {
    let record_summary = object(
        &[
            (
                "inputRecordCount",
                integer("records fetched (so far, while in progress)"),
            ),
            ("outputRecordCount", integer("records written")),
            ("failedRecordCount", integer("records rejected")),
        ],
        &[],
    );
    let messages = array(object(
        &[
            ("code", string("the code")),
            ("message", string("what happened")),
        ],
        &["code", "message"],
    ));
    let metrics = object(
        &[
            (
                "durationSummary",
                object(
                    &[
                        ("startedAtUTC", millis("started")),
                        ("completedAtUTC", millis("completed")),
                    ],
                    &[],
                ),
            ),
            (
                "sizeSummary",
                object(
                    &[
                        ("inputBytes", integer("bytes fetched")),
                        ("outputBytes", integer("bytes written")),
                    ],
                    &[],
                ),
            ),
            ("recordSummary", record_summary.clone()),
            (
                "fileSummary",
                object(&[("outputFileCount", integer("files written"))], &[]),
            ),
            (
                "statusSummary",
                object(
                    &[
                        (
                            "status",
                            json!({"type": "string", "enum": ["pending", "inProgress", "success", "failed"]}),
                        ),
                        ("errors", messages.clone()),
                        ("warnings", messages),
                    ],
                    &["status", "errors"],
                ),
            ),
        ],
        &[
            "durationSummary",
            "sizeSummary",
            "recordSummary",
            "fileSummary",
            "statusSummary",
        ],
    );
    let activity = object(
        &[
            ("name", string("Copy Activity or Promotion Activity")),
            ("updatedAtUTC", millis("updated")),
            ("recordSummary", record_summary),
            (
                "fileSummary",
                any_object(
                    "the Promotion Activity's extensions.manifest.fileInfo: the batch's Data Access path",
                ),
            ),
        ],
        &["name"],
    );
    let mut schema = super::resources::stored(
        "a run of a flow over one window",
        &[
            ("flowId", string("the flow")),
            (
                "params",
                object(
                    &[
                        (
                            "windowStartTime",
                            integer("the window's start (epoch seconds)"),
                        ),
                        ("windowEndTime", integer("the window's end (epoch seconds)")),
                    ],
                    &["windowEndTime"],
                ),
            ),
            ("etag", string("the etag to send as If-Match")),
            ("version", string("the etag again")),
            ("attempts", integer("how many times a worker took the run")),
            (
                "trigger",
                json!({"type": "string", "enum": ["scheduled", "adhoc", "retrigger"]}),
            ),
            ("metrics", metrics),
            ("activities", array(activity)),
            (
                "progress",
                json!({"anyOf": [
                    {"type": "null", "description": "before a worker reported any"},
                    object(
                        &[
                            ("pages", integer("pages fetched so far")),
                            ("records", integer("records fetched so far")),
                            ("updatedAtUTC", millis("last reported")),
                        ],
                        &["pages", "records", "updatedAtUTC"],
                    ),
                ]}),
            ),
        ],
    );
    schema["required"] = json!([
        "id",
        "flowId",
        "params",
        "etag",
        "attempts",
        "trigger",
        "metrics",
        "activities"
    ]);
    schema
}
