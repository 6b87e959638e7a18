//! The run queue and flow schedules on PostgreSQL, shared by every process of a fleet.
//!
//! A claim holds the claims lock for its one short transaction, so the fairness order and the
//! per-sandbox cap see every other process's claims; the chosen row is taken `FOR UPDATE SKIP
//! LOCKED`, so a claim never waits on (or takes) a run whose completion or hand-back is
//! committing. Heartbeats, completions and hand-backs are single statements fenced by the
//! lease owner. Planners in several processes may read the same due flow: the advance is
//! conditional on the schedule row being as they read it, so the window is enqueued once.

use async_trait::async_trait;
use flowd_model::RunStatus;
use sqlx::{Acquire, Postgres, QueryBuilder, Row};

use super::{Lock, PostgresStore, Transaction, is_unique_violation};
use crate::model::Scope;
use crate::query::ListQuery;
use crate::runs::{
    DueFlow, FlowScheduleState, ImportedRun, NewRun, RunCompletion, RunFilter, RunProgress,
    RunRecord, ScheduleAdvance,
};
use crate::sql::listing::{order_by, push_conditions, push_order_and_limit, run_column};
use crate::sql::rows::{due_flow_from_row, run_columns, run_from_json, runs_from_json};
use crate::{RunQueue, StoreError};

/// A run as one PostgreSQL JSON array (see [`run_columns`]), as text.
macro_rules! run_json_array {
    () => {
        concat!("json_build_array(", run_columns!(), ")::text")
    };
}

fn u64_column(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Inserts a pending run; `Ok(false)` when the flow already has a run for its window end.
async fn insert_run_row<'c, E>(executor: E, run: &NewRun) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    let result = sqlx::query(
        "INSERT INTO runs (id, org_id, sandbox_name, flow_id, trigger, window_start, window_end, \
         scheduled_at, status, created_at, created_by, created_client, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11, $9) \
         ON CONFLICT DO NOTHING",
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
    .execute(executor)
    .await;
    match result {
        Ok(done) => Ok(done.rows_affected() == 1),
        Err(error) if is_unique_violation(&error) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Inserts runs with their outcome as they are (see [`PostgresStore::import_runs`]).
pub(super) async fn import_runs(
    transaction: &mut Transaction,
    runs: &[ImportedRun],
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
            "UPDATE runs SET status = $1, attempts = $2, updated_at = $3, started_at = $4, \
             completed_at = $5, pages = $6, input_records = $7, input_bytes = $8, \
             output_records = $9, output_bytes = $10, output_files = $11, error_code = $12, \
             error_message = $13, failed_records = $14 WHERE id = $15",
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

#[async_trait]
impl RunQueue for PostgresStore {
    async fn insert_run(&self, run: &NewRun) -> Result<(), StoreError> {
        if insert_run_row(&self.pool, run).await? {
            Ok(())
        } else {
            Err(StoreError::AlreadyExists { id: run.id.clone() })
        }
    }

    async fn claim_run(
        &self,
        worker_id: &str,
        now_ms: i64,
        lease_ms: i64,
        max_per_sandbox: Option<u32>,
    ) -> Result<Option<RunRecord>, StoreError> {
        let mut transaction = self.begin_locked(Lock::Claims).await?;
        // Candidates come from two partial indexes (pending by due time, in progress by lease
        // expiry), never from a scan of the history, as on SQLite.
        let run_id: Option<String> = sqlx::query_scalar(
            "WITH busy AS ( \
                 SELECT org_id, sandbox_name, COUNT(*) AS running FROM runs \
                 WHERE status = 'inProgress' AND lease_expires_at >= $1 \
                 GROUP BY org_id, sandbox_name), \
             candidates AS ( \
                 SELECT id, org_id, sandbox_name, scheduled_at, window_end FROM runs \
                 WHERE status = 'pending' AND scheduled_at <= $1 \
                 UNION ALL \
                 SELECT id, org_id, sandbox_name, scheduled_at, window_end FROM runs \
                 WHERE status = 'inProgress' AND lease_expires_at < $1) \
             SELECT c.id FROM candidates c LEFT JOIN busy b \
                 ON b.org_id = c.org_id AND b.sandbox_name = c.sandbox_name \
             WHERE COALESCE(b.running, 0) < $2 \
             ORDER BY COALESCE(b.running, 0), c.scheduled_at, c.window_end, c.id LIMIT 1",
        )
        .bind(now_ms)
        .bind(i64::from(max_per_sandbox.unwrap_or(u32::MAX)))
        .fetch_optional(&mut *transaction)
        .await?;
        let Some(run_id) = run_id else {
            return Ok(None);
        };
        let claimed: Option<String> = sqlx::query_scalar(concat!(
            "UPDATE runs SET status = 'inProgress', lease_owner = $1, lease_expires_at = $2, \
             attempts = attempts + 1, updated_at = $3, progress_pages = 0, progress_records = 0, \
             progress_at = $3 WHERE id = (SELECT id FROM runs \
             WHERE id = $4 AND (status = 'pending' OR (status = 'inProgress' \
             AND lease_expires_at < $3)) FOR UPDATE SKIP LOCKED) RETURNING ",
            run_json_array!()
        ))
        .bind(worker_id)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(&run_id)
        .fetch_optional(&mut *transaction)
        .await?;
        transaction.commit().await?;
        // A run locked by a committing completion or hand-back is not taken; the next claim
        // sees it as it then is.
        claimed.as_deref().map(run_from_json).transpose()
    }

    async fn heartbeat_run(
        &self,
        run_id: &str,
        worker_id: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE runs SET lease_expires_at = $1 \
             WHERE id = $2 AND status = 'inProgress' AND lease_owner = $3",
        )
        .bind(now_ms + lease_ms)
        .bind(run_id)
        .bind(worker_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn record_progress(
        &self,
        run_id: &str,
        worker_id: &str,
        progress: &RunProgress,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE runs SET progress_pages = $1, progress_records = $2, progress_at = $3 \
             WHERE id = $4 AND status = 'inProgress' AND lease_owner = $5",
        )
        .bind(u64_column(progress.pages))
        .bind(u64_column(progress.records))
        .bind(progress.updated_at)
        .bind(run_id)
        .bind(worker_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn release_runs(&self, worker_ids: &[String], now_ms: i64) -> Result<u64, StoreError> {
        let released = sqlx::query(
            "UPDATE runs SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, \
             attempts = GREATEST(attempts - 1, 0), scheduled_at = $1, updated_at = $1 \
             WHERE status = 'inProgress' AND lease_owner = ANY($2)",
        )
        .bind(now_ms)
        .bind(worker_ids)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(released)
    }

    async fn finish_run(
        &self,
        run_id: &str,
        worker_id: &str,
        completion: &RunCompletion<'_>,
    ) -> Result<bool, StoreError> {
        // Locks in the order every writer takes them, the tenant's scope first: a completion
        // also writes the flow's schedule row and the dataset's statistics, which resource
        // writes of the same tenant write under the scope lock.
        let owner: Option<(String, String)> =
            sqlx::query_as("SELECT org_id, sandbox_name FROM runs WHERE id = $1")
                .bind(run_id)
                .fetch_optional(&self.pool)
                .await?;
        let Some((org_id, sandbox_name)) = owner else {
            return Ok(false);
        };
        let scope = Scope {
            org_id,
            sandbox_name,
        };
        let mut transaction = self.begin_scope_write(&scope).await?;
        let metrics = &completion.metrics;
        let updated: Option<i32> = sqlx::query_scalar(
            "UPDATE runs SET status = $1, scheduled_at = $2, lease_owner = NULL, \
             lease_expires_at = NULL, updated_at = $3, started_at = $4, completed_at = $5, \
             pages = $6, input_records = $7, input_bytes = $8, output_records = $9, \
             output_bytes = $10, output_files = $11, error_code = $12, error_message = $13, \
             warnings = $14, failed_records = $15, progress_pages = $6, progress_records = $7, \
             progress_at = $3 WHERE id = $16 AND status = 'inProgress' AND lease_owner = $17 \
             RETURNING 1",
        )
        .bind(completion.status.as_str())
        .bind(completion.scheduled_at)
        .bind(metrics.completed_at.max(flowd_model::time::now_millis()))
        .bind(metrics.started_at)
        .bind(metrics.completed_at)
        .bind(u64_column(metrics.pages))
        .bind(u64_column(metrics.input_records))
        .bind(u64_column(metrics.input_bytes))
        .bind(u64_column(metrics.output_records))
        .bind(u64_column(metrics.output_bytes))
        .bind(u64_column(metrics.output_files))
        .bind(completion.error.as_ref().map(|error| error.code.as_str()))
        .bind(
            completion
                .error
                .as_ref()
                .map(|error| error.message.as_str()),
        )
        .bind(
            (!completion.warnings.is_empty())
                .then(|| serde_json::to_string(&completion.warnings).expect("warnings serialize")),
        )
        .bind(u64_column(metrics.failed_records))
        .bind(run_id)
        .bind(worker_id)
        .fetch_optional(&mut *transaction)
        .await?;
        if updated.is_none() {
            return Ok(false);
        }
        if completion.status == RunStatus::Success {
            sqlx::query(
                "UPDATE flow_schedules SET blocked_by_run = NULL WHERE blocked_by_run = $1",
            )
            .bind(run_id)
            .execute(&mut *transaction)
            .await?;
            if let Some(batch) = &completion.batch {
                super::datasets::record_batch(&mut transaction, &scope, Some(run_id), batch)
                    .await?;
            }
        }
        transaction.commit().await?;
        Ok(true)
    }

    async fn get_run(&self, scope: &Scope, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        if run_id.contains('\0') {
            return Ok(None);
        }
        let run: Option<String> = sqlx::query_scalar(concat!(
            "SELECT ",
            run_json_array!(),
            " FROM runs WHERE org_id = $1 AND sandbox_name = $2 AND id = $3"
        ))
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(run_id)
        .fetch_optional(&self.pool)
        .await?;
        run.as_deref().map(run_from_json).transpose()
    }

    async fn list_runs(
        &self,
        scope: &Scope,
        filter: &RunFilter,
        query: &ListQuery,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let order = order_by(query, run_column, "created_at, seq");
        let mut builder: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            concat!(
                "SELECT COALESCE(json_agg(json_build_array(",
                run_columns!(),
                "){}), '[]')::text FROM (SELECT * FROM runs WHERE org_id = "
            ),
            order
        ));
        builder.push_bind(scope.org_id.clone());
        builder.push(" AND sandbox_name = ");
        builder.push_bind(scope.sandbox_name.clone());
        if let Some(flow_ids) = &filter.flow_ids {
            // An id holding U+0000 names no flow (PostgreSQL text cannot hold one).
            let flow_ids: Vec<String> = flow_ids
                .iter()
                .filter(|id| !id.contains('\0'))
                .cloned()
                .collect();
            if flow_ids.is_empty() {
                return Ok(Vec::new());
            }
            builder.push(" AND flow_id = ANY(");
            builder.push_bind(flow_ids);
            builder.push(")");
        }
        push_conditions(&mut builder, query, run_column);
        push_order_and_limit(&mut builder, query, run_column, "created_at, seq");
        builder.push(") AS page");
        let page: String = builder.build_query_scalar().fetch_one(&self.pool).await?;
        runs_from_json(&page)
    }

    async fn find_run_by_window(
        &self,
        scope: &Scope,
        flow_id: &str,
        window_end: i64,
    ) -> Result<Option<RunRecord>, StoreError> {
        if flow_id.contains('\0') {
            return Ok(None);
        }
        let run: Option<String> = sqlx::query_scalar(concat!(
            "SELECT ",
            run_json_array!(),
            " FROM runs WHERE org_id = $1 AND sandbox_name = $2 AND flow_id = $3 \
             AND window_end = $4"
        ))
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(flow_id)
        .bind(window_end)
        .fetch_optional(&self.pool)
        .await?;
        run.as_deref().map(run_from_json).transpose()
    }

    async fn find_overlapping_run(
        &self,
        scope: &Scope,
        flow_id: &str,
        window_start: Option<i64>,
        window_end: i64,
    ) -> Result<Option<RunRecord>, StoreError> {
        if flow_id.contains('\0') {
            return Ok(None);
        }
        let run: Option<String> = sqlx::query_scalar(concat!(
            "SELECT ",
            run_json_array!(),
            " FROM runs WHERE org_id = $1 AND sandbox_name = $2 AND flow_id = $3 \
             AND window_end > $4 ORDER BY window_end LIMIT 1"
        ))
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(flow_id)
        .bind(window_start.unwrap_or(i64::MIN))
        .fetch_optional(&self.pool)
        .await?;
        let next = run.as_deref().map(run_from_json).transpose()?;
        Ok(next.filter(|run| crate::runs::starts_before(run, window_end)))
    }

    async fn latest_runs(
        &self,
        scope: &Scope,
        flow_ids: &[String],
    ) -> Result<Vec<RunRecord>, StoreError> {
        let flow_ids: Vec<&String> = flow_ids.iter().filter(|id| !id.contains('\0')).collect();
        if flow_ids.is_empty() {
            return Ok(Vec::new());
        }
        // One descending seek of the (flow, window end) index per flow, whatever the length of
        // its history.
        let page: String = sqlx::query_scalar(concat!(
            "SELECT COALESCE(json_agg(json_build_array(",
            run_columns!(),
            ")), '[]')::text FROM unnest($3::text[]) AS wanted (flow) \
             CROSS JOIN LATERAL (SELECT * FROM runs WHERE org_id = $1 AND sandbox_name = $2 \
             AND flow_id = wanted.flow ORDER BY window_end DESC LIMIT 1) AS latest"
        ))
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(flow_ids)
        .fetch_one(&self.pool)
        .await?;
        runs_from_json(&page)
    }

    async fn retrigger_run(
        &self,
        scope: &Scope,
        run_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        if run_id.contains('\0') {
            return Ok(false);
        }
        let updated = sqlx::query(
            "UPDATE runs SET status = 'pending', scheduled_at = $1, lease_owner = NULL, \
             lease_expires_at = NULL, attempts = 0, trigger = 'retrigger', updated_at = $1 \
             WHERE org_id = $2 AND sandbox_name = $3 AND id = $4 AND status IN ('failed', 'success')",
        )
        .bind(now_ms)
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(run_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn flow_schedule(
        &self,
        scope: &Scope,
        flow_id: &str,
    ) -> Result<Option<FlowScheduleState>, StoreError> {
        if flow_id.contains('\0') {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT enabled, next_due_at, last_window_end, blocked_by_run, revision \
             FROM flow_schedules WHERE org_id = $1 AND sandbox_name = $2 AND flow_id = $3",
        )
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(flow_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| FlowScheduleState {
            enabled: row.get("enabled"),
            next_due_at: row.get("next_due_at"),
            last_window_end: row.get("last_window_end"),
            waiting_for_run: row.get("blocked_by_run"),
            revision: row.get("revision"),
        }))
    }

    async fn due_flows(&self, now_ms: i64, limit: usize) -> Result<Vec<DueFlow>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.org_id, s.sandbox_name, s.flow_id, s.last_window_end, s.revision, r.body \
             FROM flow_schedules AS s JOIN resources AS r ON r.org_id = s.org_id \
                AND r.sandbox_name = s.sandbox_name AND r.kind = 'flow' AND r.id = s.flow_id \
             WHERE s.enabled AND s.blocked_by_run IS NULL AND s.next_due_at IS NOT NULL \
             AND s.next_due_at <= $1 ORDER BY s.next_due_at LIMIT $2",
        )
        .bind(now_ms)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(due_flow_from_row).collect()
    }

    async fn advance_schedules(
        &self,
        advances: &[ScheduleAdvance],
    ) -> Result<Vec<String>, StoreError> {
        // Schedule rows are locked in one order by every planner (two planners advancing the
        // same flows in different orders would wait on each other).
        let mut ordered: Vec<&ScheduleAdvance> = advances.iter().collect();
        ordered.sort_by(|a, b| {
            (
                &a.flow.scope.org_id,
                &a.flow.scope.sandbox_name,
                &a.flow.flow_id,
            )
                .cmp(&(
                    &b.flow.scope.org_id,
                    &b.flow.scope.sandbox_name,
                    &b.flow.flow_id,
                ))
        });
        let mut transaction = self.pool.begin().await?;
        let mut enqueued = Vec::new();
        for advance in ordered {
            let flow = &advance.flow;
            let mut savepoint = transaction.begin().await?;
            let window_end = advance.run.as_ref().map(|run| run.window_end);
            // Another planner that advanced this flow first changed the row: then the
            // conditions fail (READ COMMITTED re-reads the row once its lock is released) and
            // nothing is enqueued twice.
            let updated = sqlx::query(
                "UPDATE flow_schedules SET next_due_at = $1, \
                 last_window_end = COALESCE($2, last_window_end), blocked_by_run = $3 \
                 WHERE org_id = $4 AND sandbox_name = $5 AND flow_id = $6 AND revision = $7 \
                 AND blocked_by_run IS NULL AND last_window_end IS NOT DISTINCT FROM $8",
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
                if !insert_run_row(&mut *savepoint, run).await? {
                    tracing::warn!(flow_id = %flow.flow_id, window_end = run.window_end, "the flow already has a run ending at its next scheduled time; the window waits");
                    savepoint.rollback().await?;
                    continue;
                }
                enqueued.push(run.id.clone());
            }
            savepoint.commit().await?;
        }
        transaction.commit().await?;
        Ok(enqueued)
    }
}
