//! SQLite statements of the run queue. Claims run inside `BEGIN IMMEDIATE`,
//! so two workers (or two flowd processes on one file) never claim the same
//! run; the lease columns make a dead worker's run claimable again.

use serde_json::Value;
use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};

use crate::StoreError;
use crate::model::Scope;
use crate::runs::{NewRun, RunRecord, RunStatus};

/// The columns of a run, as a macro so queries stay `&'static str` (sqlx
/// refuses runtime-built SQL).
macro_rules! run_columns {
    () => {
        "id, org_id, sandbox_name, flow_id, window_start, window_end, \
         scheduled_at, status, attempts, lease_owner, lease_expires_at, body"
    };
}

fn run_from_row(row: &SqliteRow) -> Result<RunRecord, StoreError> {
    let id: String = row.get("id");
    let body_text: String = row.get("body");
    let body = serde_json::from_str(&body_text).map_err(|source| StoreError::CorruptDocument {
        id: id.clone(),
        source,
    })?;
    let status_text: String = row.get("status");
    let status = RunStatus::from_stored_name(&status_text).unwrap_or(RunStatus::Failed);
    Ok(RunRecord {
        id,
        scope: Scope {
            org_id: row.get("org_id"),
            sandbox_name: row.get("sandbox_name"),
        },
        flow_id: row.get("flow_id"),
        window_start: row.get("window_start"),
        window_end: row.get("window_end"),
        scheduled_at: row.get("scheduled_at"),
        status,
        attempts: row.get("attempts"),
        lease_owner: row.get("lease_owner"),
        lease_expires_at: row.get("lease_expires_at"),
        body,
    })
}

pub(super) async fn insert_run(pool: &SqlitePool, run: &NewRun) -> Result<(), StoreError> {
    let result = sqlx::query(
        "INSERT INTO runs (id, org_id, sandbox_name, flow_id, window_start, window_end, \
         scheduled_at, status, body) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
    )
    .bind(&run.id)
    .bind(&run.scope.org_id)
    .bind(&run.scope.sandbox_name)
    .bind(&run.flow_id)
    .bind(run.window_start)
    .bind(run.window_end)
    .bind(run.scheduled_at)
    .bind(run.body.to_string())
    .execute(pool)
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            Err(StoreError::AlreadyExists { id: run.id.clone() })
        }
        Err(error) => Err(error.into()),
    }
}

pub(super) async fn claim_run(
    pool: &SqlitePool,
    worker_id: &str,
    now_ms: i64,
    lease_ms: i64,
) -> Result<Option<RunRecord>, StoreError> {
    let mut transaction = pool.begin_with("BEGIN IMMEDIATE").await?;
    let candidate: Option<String> = sqlx::query_scalar(
        "SELECT id FROM runs \
         WHERE (status = 'pending' AND scheduled_at <= ?) \
            OR (status = 'inProgress' AND lease_expires_at < ?) \
         ORDER BY scheduled_at, window_end LIMIT 1",
    )
    .bind(now_ms)
    .bind(now_ms)
    .fetch_optional(&mut *transaction)
    .await?;
    let Some(run_id) = candidate else {
        return Ok(None);
    };
    let claimed = sqlx::query(concat!(
        "UPDATE runs SET status = 'inProgress', lease_owner = ?, lease_expires_at = ?, \
         attempts = attempts + 1 WHERE id = ? RETURNING ",
        run_columns!()
    ))
    .bind(worker_id)
    .bind(now_ms + lease_ms)
    .bind(&run_id)
    .fetch_one(&mut *transaction)
    .await?;
    transaction.commit().await?;
    run_from_row(&claimed).map(Some)
}

pub(super) async fn heartbeat_run(
    pool: &SqlitePool,
    run_id: &str,
    worker_id: &str,
    now_ms: i64,
    lease_ms: i64,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE runs SET lease_expires_at = ? \
         WHERE id = ? AND status = 'inProgress' AND lease_owner = ?",
    )
    .bind(now_ms + lease_ms)
    .bind(run_id)
    .bind(worker_id)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

pub(super) async fn finish_run(
    pool: &SqlitePool,
    run_id: &str,
    worker_id: &str,
    status: RunStatus,
    scheduled_at: i64,
    body: &Value,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE runs SET status = ?, scheduled_at = ?, body = ?, lease_owner = NULL, \
         lease_expires_at = NULL \
         WHERE id = ? AND status = 'inProgress' AND lease_owner = ?",
    )
    .bind(status.as_str())
    .bind(scheduled_at)
    .bind(body.to_string())
    .bind(run_id)
    .bind(worker_id)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

pub(super) async fn get_run(
    pool: &SqlitePool,
    scope: &Scope,
    run_id: &str,
) -> Result<Option<RunRecord>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        run_columns!(),
        " FROM runs WHERE org_id = ? AND sandbox_name = ? AND id = ?"
    ))
    .bind(&scope.org_id)
    .bind(&scope.sandbox_name)
    .bind(run_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(run_from_row).transpose()
}

pub(super) async fn list_runs(
    pool: &SqlitePool,
    scope: &Scope,
    flow_id: Option<&str>,
) -> Result<Vec<RunRecord>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        run_columns!(),
        " FROM runs WHERE org_id = ? AND sandbox_name = ? \
         AND (? IS NULL OR flow_id = ?) ORDER BY flow_id, window_end"
    ))
    .bind(&scope.org_id)
    .bind(&scope.sandbox_name)
    .bind(flow_id)
    .bind(flow_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(run_from_row).collect()
}

pub(super) async fn retrigger_run(
    pool: &SqlitePool,
    scope: &Scope,
    run_id: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE runs SET status = 'pending', scheduled_at = ?, lease_owner = NULL, \
         lease_expires_at = NULL, attempts = 0 \
         WHERE org_id = ? AND sandbox_name = ? AND id = ? AND status = 'failed'",
    )
    .bind(now_ms)
    .bind(&scope.org_id)
    .bind(&scope.sandbox_name)
    .bind(run_id)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}
