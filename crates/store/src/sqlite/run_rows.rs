//! Run rows of SQLite: the one form runs are read in (`json_array` of
//! [`crate::sql::rows::run_columns`]), and the insert of a pending run (used by `POST /runs`,
//! the planner's schedule advances and imports).

use sqlx::Sqlite;

use super::is_unique_violation;
use crate::StoreError;
use crate::runs::NewRun;

/// A run as one SQLite JSON array (see [`crate::sql::rows::run_columns`]).
macro_rules! run_json_array {
    () => {
        concat!("json_array(", crate::sql::rows::run_columns!(), ")")
    };
}
pub(super) use run_json_array;

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
             error_message = ?, failed_records = ? WHERE id = ?",
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
        .bind(count(metrics.map(|metrics| metrics.failed_records)))
        .bind(&run.id)
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}
