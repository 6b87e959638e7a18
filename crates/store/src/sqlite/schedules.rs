//! Flow schedule rows: the planner reads the due ones through a partial index and advances
//! them in one transaction per tick; a scheduled run's success releases its flow.

use sqlx::sqlite::SqlitePool;
use sqlx::{Acquire, Row};

use super::Transaction;
use super::run_rows::insert_run_row;
use crate::StoreError;
use crate::model::Scope;
use crate::runs::{DueFlow, FlowScheduleState, ScheduleAdvance};
use crate::sql::rows::due_flow_from_row;

pub(super) async fn flow_schedule(
    pool: &SqlitePool,
    scope: &Scope,
    flow_id: &str,
) -> Result<Option<FlowScheduleState>, StoreError> {
    let row = sqlx::query(
        "SELECT enabled, next_due_at, last_window_end, blocked_by_run, revision \
         FROM flow_schedules WHERE org_id = ? AND sandbox_name = ? AND flow_id = ?",
    )
    .bind(&scope.org_id)
    .bind(&scope.sandbox_name)
    .bind(flow_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| FlowScheduleState {
        enabled: row.get::<i64, _>("enabled") != 0,
        next_due_at: row.get("next_due_at"),
        last_window_end: row.get("last_window_end"),
        waiting_for_run: row.get("blocked_by_run"),
        revision: row.get("revision"),
    }))
}

pub(super) async fn due_flows(
    pool: &SqlitePool,
    now_ms: i64,
    limit: usize,
) -> Result<Vec<DueFlow>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.org_id, s.sandbox_name, s.flow_id, s.last_window_end, s.revision, r.body \
         FROM flow_schedules AS s JOIN resources AS r ON r.org_id = s.org_id \
            AND r.sandbox_name = s.sandbox_name AND r.kind = 'flow' AND r.id = s.flow_id \
         WHERE s.enabled = 1 AND s.blocked_by_run IS NULL AND s.next_due_at IS NOT NULL \
         AND s.next_due_at <= ? ORDER BY s.next_due_at LIMIT ?",
    )
    .bind(now_ms)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    rows.iter().map(due_flow_from_row).collect()
}

/// Applies each advance whose flow is unchanged since the planner read it (same revision,
/// same last window, waiting for nothing); a run whose window end the flow already has is not
/// enqueued and leaves the flow as it was.
pub(super) async fn advance(
    transaction: &mut Transaction,
    advances: &[ScheduleAdvance],
) -> Result<Vec<String>, StoreError> {
    let mut enqueued = Vec::new();
    for advance in advances {
        let flow = &advance.flow;
        let mut savepoint = transaction.begin().await?;
        let window_end = advance.run.as_ref().map(|run| run.window_end);
        let updated = sqlx::query(
            "UPDATE flow_schedules SET next_due_at = ?, \
             last_window_end = COALESCE(?, last_window_end), blocked_by_run = ? \
             WHERE org_id = ? AND sandbox_name = ? AND flow_id = ? AND revision = ? \
             AND blocked_by_run IS NULL AND last_window_end IS ?",
        )
        .bind(advance.next_due_at)
        .bind(window_end)
        .bind(advance.run.as_ref().map(|run| run.id.as_str()))
        .bind(&flow.scope.org_id)
        .bind(&flow.scope.sandbox_name)
        .bind(&flow.flow_id)
        .bind(flow.revision)
        .bind(flow.last_window_end)
        .execute(&mut *savepoint)
        .await?
        .rows_affected();
        if updated == 0 {
            savepoint.rollback().await?;
            continue;
        }
        if let Some(run) = &advance.run {
            let connection = savepoint.acquire().await?;
            if !insert_run_row(connection, run).await? {
                tracing::warn!(flow_id = %flow.flow_id, window_end = run.window_end, "the flow already has a run ending at its next scheduled time; the window waits");
                savepoint.rollback().await?;
                continue;
            }
            enqueued.push(run.id.clone());
        }
        savepoint.commit().await?;
    }
    Ok(enqueued)
}

/// A scheduled run succeeded: the flow waiting for it may be due again.
pub(super) async fn release_flow(
    transaction: &mut Transaction,
    run_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE flow_schedules SET blocked_by_run = NULL WHERE blocked_by_run = ?")
        .bind(run_id)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}
