//! SQLite statements of the run queue. Claims run inside `BEGIN IMMEDIATE`, so two workers
//! (or two flowd processes on one file) never claim the same run; the lease columns make a
//! dead worker's run claimable again.

use async_trait::async_trait;
use flowd_model::RunStatus;
use sqlx::{QueryBuilder, Sqlite};

use super::SqliteStore;
use super::run_rows::{insert_run_row, run_json_array};
use crate::model::Scope;
use crate::query::ListQuery;
use crate::runs::{
    DueFlow, FlowScheduleState, NewRun, RunCompletion, RunFilter, RunProgress, RunRecord,
    ScheduleAdvance,
};
use crate::sql::listing::{order_by, push_conditions, push_order_and_limit, run_column};
use crate::sql::rows::{run_from_json, runs_from_json};
use crate::{RunQueue, StoreError};

fn u64_column(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[async_trait]
impl RunQueue for SqliteStore {
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
        let mut transaction = self.begin_write().await?;
        // Candidates come from two partial indexes (pending by due time, in progress by lease
        // expiry), never from a scan of the history; the runs in progress per sandbox from
        // the second one. Their number is bounded by the workers, the candidates' by the
        // flows that are due.
        let run_id: Option<String> = sqlx::query_scalar(
            "WITH busy AS ( \
                 SELECT org_id, sandbox_name, COUNT(*) AS running FROM runs \
                 WHERE status = 'inProgress' AND lease_expires_at >= ?1 \
                 GROUP BY org_id, sandbox_name), \
             candidates AS ( \
                 SELECT id, org_id, sandbox_name, scheduled_at, window_end FROM runs \
                 WHERE status = 'pending' AND scheduled_at <= ?1 \
                 UNION ALL \
                 SELECT id, org_id, sandbox_name, scheduled_at, window_end FROM runs \
                 WHERE status = 'inProgress' AND lease_expires_at < ?1) \
             SELECT c.id FROM candidates c LEFT JOIN busy b \
                 ON b.org_id = c.org_id AND b.sandbox_name = c.sandbox_name \
             WHERE COALESCE(b.running, 0) < ?2 \
             ORDER BY COALESCE(b.running, 0), c.scheduled_at, c.window_end LIMIT 1",
        )
        .bind(now_ms)
        .bind(i64::from(max_per_sandbox.unwrap_or(u32::MAX)))
        .fetch_optional(&mut *transaction)
        .await?;
        let Some(run_id) = run_id else {
            return Ok(None);
        };
        let claimed: String = sqlx::query_scalar(concat!(
            "UPDATE runs SET status = 'inProgress', lease_owner = ?, lease_expires_at = ?, \
             attempts = attempts + 1, updated_at = ?, progress_pages = 0, progress_records = 0, \
             progress_at = ? WHERE id = ? RETURNING ",
            run_json_array!()
        ))
        .bind(worker_id)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(now_ms)
        .bind(&run_id)
        .fetch_one(&mut *transaction)
        .await?;
        transaction.commit().await?;
        run_from_json(&claimed).map(Some)
    }

    async fn heartbeat_run(
        &self,
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
            "UPDATE runs SET progress_pages = ?, progress_records = ?, progress_at = ? \
             WHERE id = ? AND status = 'inProgress' AND lease_owner = ?",
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
        let mut transaction = self.begin_write().await?;
        let mut released = 0;
        for worker_id in worker_ids {
            released += sqlx::query(
                "UPDATE runs SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, \
                 attempts = MAX(attempts - 1, 0), scheduled_at = ?, updated_at = ? \
                 WHERE status = 'inProgress' AND lease_owner = ?",
            )
            .bind(now_ms)
            .bind(now_ms)
            .bind(worker_id)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        }
        transaction.commit().await?;
        Ok(released)
    }

    async fn finish_run(
        &self,
        run_id: &str,
        worker_id: &str,
        completion: &RunCompletion<'_>,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.begin_write().await?;
        let metrics = &completion.metrics;
        let updated_at = metrics.completed_at.max(flowd_model::time::now_millis());
        let scope: Option<(String, String)> = sqlx::query_as(
            "UPDATE runs SET status = ?, scheduled_at = ?, lease_owner = NULL, \
             lease_expires_at = NULL, updated_at = ?, started_at = ?, completed_at = ?, \
             pages = ?, input_records = ?, input_bytes = ?, output_records = ?, \
             output_bytes = ?, output_files = ?, error_code = ?, error_message = ?, \
             warnings = ?, failed_records = ?, progress_pages = ?, progress_records = ?, \
             progress_at = ? WHERE id = ? AND status = 'inProgress' AND lease_owner = ? \
             RETURNING org_id, sandbox_name",
        )
        .bind(completion.status.as_str())
        .bind(completion.scheduled_at)
        .bind(updated_at)
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
        .bind(u64_column(metrics.pages))
        .bind(u64_column(metrics.input_records))
        .bind(updated_at)
        .bind(run_id)
        .bind(worker_id)
        .fetch_optional(&mut *transaction)
        .await?;
        let Some((org_id, sandbox_name)) = scope else {
            return Ok(false);
        };
        if completion.status == RunStatus::Success {
            super::schedules::release_flow(&mut transaction, run_id).await?;
            if let Some(batch) = &completion.batch {
                let scope = Scope {
                    org_id,
                    sandbox_name,
                };
                super::datasets::record_batch(&mut transaction, &scope, Some(run_id), batch)
                    .await?;
            }
        }
        transaction.commit().await?;
        Ok(true)
    }

    async fn get_run(&self, scope: &Scope, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        let run: Option<String> = sqlx::query_scalar(concat!(
            "SELECT ",
            run_json_array!(),
            " FROM runs WHERE org_id = ? AND sandbox_name = ? AND id = ?"
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
        // One row holding the page as a JSON array (see `latest_runs`).
        let order = order_by(query, run_column, "created_at, seq");
        let mut builder: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            concat!(
                "SELECT json_group_array(",
                run_json_array!(),
                "{}) FROM (SELECT * FROM runs WHERE org_id = "
            ),
            order
        ));
        builder.push_bind(scope.org_id.clone());
        builder.push(" AND sandbox_name = ");
        builder.push_bind(scope.sandbox_name.clone());
        if let Some(flow_ids) = &filter.flow_ids {
            if flow_ids.is_empty() {
                return Ok(Vec::new());
            }
            builder.push(" AND flow_id IN (");
            let mut separated = builder.separated(", ");
            for flow_id in flow_ids {
                separated.push_bind(flow_id.clone());
            }
            builder.push(")");
        }
        push_conditions(&mut builder, query, run_column);
        push_order_and_limit(&mut builder, query, run_column, "created_at, seq");
        builder.push(")");
        let page: String = builder.build_query_scalar().fetch_one(&self.pool).await?;
        runs_from_json(&page)
    }

    async fn find_run_by_window(
        &self,
        scope: &Scope,
        flow_id: &str,
        window_end: i64,
    ) -> Result<Option<RunRecord>, StoreError> {
        let run: Option<String> = sqlx::query_scalar(concat!(
            "SELECT ",
            run_json_array!(),
            " FROM runs WHERE org_id = ? AND sandbox_name = ? AND flow_id = ? AND window_end = ?"
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
        let run: Option<String> = sqlx::query_scalar(concat!(
            "SELECT ",
            run_json_array!(),
            " FROM runs WHERE org_id = ? AND sandbox_name = ? AND flow_id = ? AND window_end > ? \
             ORDER BY window_end LIMIT 1"
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
        if flow_ids.is_empty() {
            return Ok(Vec::new());
        }
        // One descending seek of the (flow, window end) index per flow, whatever the length of
        // its history.
        let mut builder: QueryBuilder<Sqlite> = QueryBuilder::new("WITH wanted (flow) AS (VALUES ");
        let mut separated = builder.separated(", ");
        for flow_id in flow_ids {
            separated.push("(");
            separated.push_bind_unseparated(flow_id.clone());
            separated.push_unseparated(")");
        }
        builder.push(concat!(
            ") SELECT json_group_array(",
            run_json_array!(),
            ") FROM wanted JOIN runs ON runs.seq = (SELECT latest.seq FROM runs AS latest \
             WHERE latest.org_id = "
        ));
        builder.push_bind(scope.org_id.clone());
        builder.push(" AND latest.sandbox_name = ");
        builder.push_bind(scope.sandbox_name.clone());
        builder.push(" AND latest.flow_id = wanted.flow ORDER BY latest.window_end DESC LIMIT 1)");
        let page: String = builder.build_query_scalar().fetch_one(&self.pool).await?;
        runs_from_json(&page)
    }

    async fn retrigger_run(
        &self,
        scope: &Scope,
        run_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE runs SET status = 'pending', scheduled_at = ?, lease_owner = NULL, \
             lease_expires_at = NULL, attempts = 0, trigger = 'retrigger', updated_at = ? \
             WHERE org_id = ? AND sandbox_name = ? AND id = ? AND status IN ('failed', 'success')",
        )
        .bind(now_ms)
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
        super::schedules::flow_schedule(&self.pool, scope, flow_id).await
    }

    async fn due_flows(&self, now_ms: i64, limit: usize) -> Result<Vec<DueFlow>, StoreError> {
        super::schedules::due_flows(&self.pool, now_ms, limit).await
    }

    async fn advance_schedules(
        &self,
        advances: &[ScheduleAdvance],
    ) -> Result<Vec<String>, StoreError> {
        let mut transaction = self.begin_write().await?;
        let enqueued = super::schedules::advance(&mut transaction, advances).await?;
        transaction.commit().await?;
        Ok(enqueued)
    }
}
