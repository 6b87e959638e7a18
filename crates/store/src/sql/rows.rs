//! How every backend reads rows back: runs and pages of resources as JSON arrays, and single
//! resources, due flows and dataset totals by column name, decoded here once for all of them.

use flowd_model::{RunErrorRecord, RunMetrics, RunStatus, RunTrigger};
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::datasets::DatasetStats;
use crate::model::{Scope, StoredResource};
use crate::runs::{DueFlow, RunProgress, RunRecord};
use crate::{ResourceKind, StoreError};

/// The columns of a run, in the order [`RunRow`] reads them. Every backend reads a run as one
/// JSON array of these (SQLite's `json_array`, PostgreSQL's `json_build_array`), and a page of
/// runs as an array of those: one value crosses from the database to the async side instead
/// of a row at a time, and both backends decode runs with the same code.
macro_rules! run_columns {
    () => {
        "seq, id, org_id, sandbox_name, flow_id, trigger, window_start, window_end, \
         scheduled_at, status, attempts, lease_owner, lease_expires_at, created_at, created_by, \
         created_client, updated_at, started_at, completed_at, pages, input_records, \
         input_bytes, output_records, output_bytes, output_files, error_code, error_message, \
         warnings, failed_records, progress_pages, progress_records, progress_at"
    };
}
pub(crate) use run_columns;

fn corrupt(source: serde_json::Error) -> StoreError {
    StoreError::CorruptDocument {
        id: "a run row".to_owned(),
        source,
    }
}

/// One run array, field by field in its order.
#[derive(serde::Deserialize)]
struct RunRow(
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    i64,
    i64,
    String,
    i64,
    Option<String>,
    Option<i64>,
    i64,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

impl From<RunRow> for RunRecord {
    fn from(row: RunRow) -> RunRecord {
        let count = |value: Option<i64>| {
            value
                .and_then(|value| u64::try_from(value).ok())
                .unwrap_or(0)
        };
        let metrics = row.17.map(|started_at| RunMetrics {
            started_at,
            completed_at: row.18.unwrap_or(started_at),
            pages: count(row.19),
            input_records: count(row.20),
            input_bytes: count(row.21),
            output_records: count(row.22),
            output_bytes: count(row.23),
            output_files: count(row.24),
            failed_records: count(row.28),
        });
        RunRecord {
            position: row.0,
            id: row.1,
            scope: Scope {
                org_id: row.2,
                sandbox_name: row.3,
            },
            flow_id: row.4,
            trigger: RunTrigger::from_stored_name(&row.5).unwrap_or(RunTrigger::Scheduled),
            window_start: row.6,
            window_end: row.7,
            scheduled_at: row.8,
            status: RunStatus::from_stored_name(&row.9).unwrap_or(RunStatus::Failed),
            attempts: row.10,
            lease_owner: row.11,
            lease_expires_at: row.12,
            created_at: row.13,
            created_by: row.14,
            created_client: row.15,
            updated_at: row.16,
            metrics,
            error: row.25.map(|code| RunErrorRecord {
                code,
                message: row.26.unwrap_or_default(),
            }),
            warnings: row
                .27
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default(),
            progress: row.31.map(|updated_at| RunProgress {
                pages: count(row.29),
                records: count(row.30),
                updated_at,
            }),
        }
    }
}

/// Runs from a JSON array of run arrays (see [`run_columns`]).
pub(crate) fn runs_from_json(page: &str) -> Result<Vec<RunRecord>, StoreError> {
    let rows: Vec<RunRow> = serde_json::from_str(page).map_err(corrupt)?;
    Ok(rows.into_iter().map(RunRecord::from).collect())
}

/// One run from a run array (see [`run_columns`]).
pub(crate) fn run_from_json(run: &str) -> Result<RunRecord, StoreError> {
    let row: RunRow = serde_json::from_str(run).map_err(corrupt)?;
    Ok(row.into())
}

/// A page of resources from a JSON array of `[seq, id, revision, body]` arrays, the body as
/// the JSON text it was stored as.
pub(crate) fn resources_from_json(
    page: &str,
    kind: ResourceKind,
) -> Result<Vec<StoredResource>, StoreError> {
    let rows: Vec<(i64, String, i64, String)> =
        serde_json::from_str(page).map_err(|source| StoreError::CorruptDocument {
            id: format!("a page of {}", kind.as_str()),
            source,
        })?;
    rows.into_iter()
        .map(|(position, id, revision, body)| {
            let body =
                serde_json::from_str(&body).map_err(|source| StoreError::CorruptDocument {
                    id: id.clone(),
                    source,
                })?;
            Ok(StoredResource {
                id,
                body,
                revision,
                position,
            })
        })
        .collect()
}

/// A resource from a row with `id`, `body` (JSON text), `revision` and `seq`.
pub(crate) fn resource_from_row<R: Row>(row: &R) -> Result<StoredResource, StoreError>
where
    for<'c> &'c str: ColumnIndex<R>,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
    let id: String = row.get("id");
    let body_text: String = row.get("body");
    let body = serde_json::from_str(&body_text).map_err(|source| StoreError::CorruptDocument {
        id: id.clone(),
        source,
    })?;
    Ok(StoredResource {
        id,
        body,
        revision: row.get("revision"),
        position: row.get("seq"),
    })
}

/// A due flow from a row of `flow_schedules` joined with the flow's `body`.
pub(crate) fn due_flow_from_row<R: Row>(row: &R) -> Result<DueFlow, StoreError>
where
    for<'c> &'c str: ColumnIndex<R>,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
    let flow_id: String = row.get("flow_id");
    let body: String = row.get("body");
    let document = serde_json::from_str(&body).map_err(|source| StoreError::CorruptDocument {
        id: flow_id.clone(),
        source,
    })?;
    Ok(DueFlow {
        scope: Scope {
            org_id: row.get("org_id"),
            sandbox_name: row.get("sandbox_name"),
        },
        flow_id,
        document,
        last_window_end: row.get("last_window_end"),
        revision: row.get("revision"),
    })
}

/// A dataset's totals from a row of `dataset_stats`.
pub(crate) fn dataset_stats_from_row<R: Row>(row: &R) -> DatasetStats
where
    for<'c> &'c str: ColumnIndex<R>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
    let count = |column: &str| u64::try_from(row.get::<i64, _>(column)).unwrap_or(0);
    DatasetStats {
        batch_count: count("batch_count"),
        record_count: count("record_count"),
        bytes: count("bytes"),
        schema: row.get("schema"),
    }
}
