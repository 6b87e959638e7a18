//! Runs as rows: the columns, a row read back as a [`RunRecord`], and the insert of a pending
//! run (used by `POST /runs` and by the planner's schedule advances).

use flowd_model::{RunErrorRecord, RunMetrics, RunStatus, RunTrigger};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite};

use super::is_unique_violation;
use crate::StoreError;
use crate::model::Scope;
use crate::runs::{NewRun, RunRecord};

/// The columns of a run, as a macro so queries stay `&'static str`.
macro_rules! run_columns {
    () => {
        "seq, id, org_id, sandbox_name, flow_id, trigger, window_start, window_end, \
         scheduled_at, status, attempts, lease_owner, lease_expires_at, created_at, created_by, \
         created_client, updated_at, started_at, completed_at, pages, input_records, \
         input_bytes, output_records, output_bytes, output_files, error_code, error_message"
    };
}
pub(super) use run_columns;

fn count(row: &SqliteRow, column: &str) -> u64 {
    row.get::<Option<i64>, _>(column)
        .and_then(|value| u64::try_from(value).ok())
        .unwrap_or(0)
}

pub(super) fn run_from_row(row: &SqliteRow) -> RunRecord {
    let status_text: String = row.get("status");
    let trigger_text: String = row.get("trigger");
    let metrics = row
        .get::<Option<i64>, _>("started_at")
        .map(|started_at| RunMetrics {
            started_at,
            completed_at: row
                .get::<Option<i64>, _>("completed_at")
                .unwrap_or(started_at),
            pages: count(row, "pages"),
            input_records: count(row, "input_records"),
            input_bytes: count(row, "input_bytes"),
            output_records: count(row, "output_records"),
            output_bytes: count(row, "output_bytes"),
            output_files: count(row, "output_files"),
        });
    let error = row
        .get::<Option<String>, _>("error_code")
        .map(|code| RunErrorRecord {
            code,
            message: row
                .get::<Option<String>, _>("error_message")
                .unwrap_or_default(),
        });
    RunRecord {
        id: row.get("id"),
        position: row.get("seq"),
        scope: Scope {
            org_id: row.get("org_id"),
            sandbox_name: row.get("sandbox_name"),
        },
        flow_id: row.get("flow_id"),
        trigger: RunTrigger::from_stored_name(&trigger_text).unwrap_or(RunTrigger::Scheduled),
        window_start: row.get("window_start"),
        window_end: row.get("window_end"),
        scheduled_at: row.get("scheduled_at"),
        status: RunStatus::from_stored_name(&status_text).unwrap_or(RunStatus::Failed),
        attempts: row.get("attempts"),
        lease_owner: row.get("lease_owner"),
        lease_expires_at: row.get("lease_expires_at"),
        created_at: row.get("created_at"),
        created_by: row.get("created_by"),
        created_client: row.get("created_client"),
        updated_at: row.get("updated_at"),
        metrics,
        error,
    }
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
