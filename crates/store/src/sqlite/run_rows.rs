//! Runs as rows: the one form runs are read in (a JSON array per run, read back as a
//! [`RunRecord`]), and the insert of a pending run (used by `POST /runs`, the planner's
//! schedule advances and imports).

use flowd_model::{RunErrorRecord, RunMetrics, RunStatus, RunTrigger};
use sqlx::Sqlite;

use super::is_unique_violation;
use crate::StoreError;
use crate::model::Scope;
use crate::runs::{NewRun, RunRecord};

/// A run as one JSON array, the one form every run query reads: a run, or a page of them in
/// `json_group_array`, crosses from SQLite's thread to the async side as one value (sqlx
/// hands rows over one at a time, which costs more than decoding them).
macro_rules! run_json_array {
    () => {
        "json_array(seq, id, org_id, sandbox_name, flow_id, trigger, window_start, window_end, \
         scheduled_at, status, attempts, lease_owner, lease_expires_at, created_at, created_by, \
         created_client, updated_at, started_at, completed_at, pages, input_records, \
         input_bytes, output_records, output_bytes, output_files, error_code, error_message, warnings)"
    };
}
pub(super) use run_json_array;

fn corrupt(source: serde_json::Error) -> StoreError {
    StoreError::CorruptDocument {
        id: "a run row".to_owned(),
        source,
    }
}

/// One [`run_json_array`] value, field by field in its order.
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
        }
    }
}

/// Runs from a JSON array of [`run_json_array`] values.
pub(super) fn runs_from_json(page: &str) -> Result<Vec<RunRecord>, StoreError> {
    let rows: Vec<RunRow> = serde_json::from_str(page).map_err(corrupt)?;
    Ok(rows.into_iter().map(RunRecord::from).collect())
}

/// One run from a [`run_json_array`] value.
pub(super) fn run_from_json(run: &str) -> Result<RunRecord, StoreError> {
    let row: RunRow = serde_json::from_str(run).map_err(corrupt)?;
    Ok(row.into())
}

/// Inserts a pending run; `Ok(false)` when the flow already has a run for its window end.
pub(super) async fn insert_run_row<'c, E>(executor: E, run: &NewRun) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'c, Database = Sqlite>,
{
    let result = sqlx::query(
        "INSERT INTO runs (id, org_id, sandbox_name, flow_id, trigger, window_start, window_end, \
         scheduled_at, status, created_at, created_by, created_client, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
    )
    .bind(&run.id)
    .bind(&run.scope.org_id)
    .bind(&run.scope.sandbox_name)
    .bind(&run.flow_id)
    .bind(run.trigger.as_str())
    .bind(run.window_start)
    .bind(run.window_end)
    .bind(run.scheduled_at)
    .bind(run.created_at)
    .bind(&run.created_by)
    .bind(&run.created_client)
    .bind(run.created_at)
    .execute(executor)
    .await;
    match result {
        Ok(_) => Ok(true),
        Err(error) if is_unique_violation(&error) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Inserts runs with their outcome as they are, in one transaction: the history an import
/// brings (benchmark fixtures, a store being moved). Existing window ends are refused.
pub(super) async fn import_runs(
    transaction: &mut super::Transaction,
    runs: &[crate::runs::ImportedRun],
) -> Result<(), StoreError> {
    for imported in runs {
        let run = &imported.run;
        if !insert_run_row(&mut **transaction, run).await? {
            return Err(StoreError::AlreadyExists { id: run.id.clone() });
        }
        let metrics = imported.metrics;
        let count =
            |value: Option<u64>| value.map(|value| i64::try_from(value).unwrap_or(i64::MAX));
        sqlx::query(
            "UPDATE runs SET status = ?, attempts = ?, updated_at = ?, started_at = ?, \
             completed_at = ?, pages = ?, input_records = ?, input_bytes = ?, \
             output_records = ?, output_bytes = ?, output_files = ?, error_code = ?, \
             error_message = ? WHERE id = ?",
        )
        .bind(imported.status.as_str())
        .bind(imported.attempts)
        .bind(metrics.map_or(run.created_at, |metrics| metrics.completed_at))
        .bind(metrics.map(|metrics| metrics.started_at))
        .bind(metrics.map(|metrics| metrics.completed_at))
        .bind(count(metrics.map(|metrics| metrics.pages)))
        .bind(count(metrics.map(|metrics| metrics.input_records)))
        .bind(count(metrics.map(|metrics| metrics.input_bytes)))
        .bind(count(metrics.map(|metrics| metrics.output_records)))
        .bind(count(metrics.map(|metrics| metrics.output_bytes)))
        .bind(count(metrics.map(|metrics| metrics.output_files)))
        .bind(imported.error.as_ref().map(|error| error.code.as_str()))
        .bind(imported.error.as_ref().map(|error| error.message.as_str()))
        .bind(&run.id)
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}
