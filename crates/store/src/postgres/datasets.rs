//! Dataset statistics on PostgreSQL: the same rows as on SQLite (totals and merged schema per
//! dataset; one row per batch, so a recommitted batch replaces its counts, which `/batches`
//! lists), written under the scope's lock so that two batches committing at once merge their
//! schemas one after the other.

use async_trait::async_trait;

use super::{PostgresStore, Transaction};
use crate::datasets::{BatchQuery, BatchRecord, DatasetStats};
use crate::model::Scope;
use crate::runs::BatchCommit;
use crate::sql::batches::{batch_from_row, newest_of, one_batch, page_of};
use crate::sql::rows::dataset_stats_from_row;
use crate::{DatasetStatsStore, StoreError};

fn stored_count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Adds (or replaces) `batch` in the dataset's statistics; nothing when the dataset no longer
/// exists. The caller holds the scope's lock.
pub(super) async fn record_batch(
    transaction: &mut Transaction,
    scope: &Scope,
    run_id: Option<&str>,
    batch: &BatchCommit<'_>,
) -> Result<(), StoreError> {
    let exists: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM resources WHERE org_id = $1 AND sandbox_name = $2 AND kind = 'dataSet' \
         AND id = $3",
    )
    .bind(&scope.org_id)
    .bind(&scope.sandbox_name)
    .bind(batch.dataset_id)
    .fetch_optional(&mut **transaction)
    .await?;
    if exists.is_none() {
        return Ok(());
    }
    let previous: Option<(i64, i64)> = sqlx::query_as(
        "SELECT record_count, bytes FROM dataset_batches \
         WHERE org_id = $1 AND sandbox_name = $2 AND dataset_id = $3 AND batch_id = $4",
    )
    .bind(&scope.org_id)
    .bind(&scope.sandbox_name)
    .bind(batch.dataset_id)
    .bind(batch.batch_id)
    .fetch_optional(&mut **transaction)
    .await?;
    // The first commit's time is kept; the rest is the latest commit's, with the times and
    // input count of the run attempt that committed it (its row is already written).
    let committed_at = flowd_model::time::now_millis();
    sqlx::query(
        "INSERT INTO dataset_batches (org_id, sandbox_name, dataset_id, batch_id, run_id, \
         record_count, bytes, file_count, committed_at, created_at, started_at, completed_at, \
         input_records) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $9, run.started_at, run.completed_at, \
         run.input_records FROM (SELECT 1) AS one LEFT JOIN runs AS run \
         ON run.id = $5 AND run.org_id = $1 AND run.sandbox_name = $2 \
         ON CONFLICT (org_id, sandbox_name, dataset_id, batch_id) DO UPDATE SET \
         run_id = excluded.run_id, record_count = excluded.record_count, bytes = excluded.bytes, \
         file_count = excluded.file_count, committed_at = excluded.committed_at, \
         started_at = excluded.started_at, completed_at = excluded.completed_at, \
         input_records = excluded.input_records",
    )
    .bind(&scope.org_id)
    .bind(&scope.sandbox_name)
    .bind(batch.dataset_id)
    .bind(batch.batch_id)
    .bind(run_id)
    .bind(stored_count(batch.record_count))
    .bind(stored_count(batch.bytes))
    .bind(stored_count(batch.file_count))
    .bind(committed_at)
    .execute(&mut **transaction)
    .await?;
    let stored_schema: Option<Option<String>> = sqlx::query_scalar(
        "SELECT schema FROM dataset_stats WHERE org_id = $1 AND sandbox_name = $2 \
         AND dataset_id = $3",
    )
    .bind(&scope.org_id)
    .bind(&scope.sandbox_name)
    .bind(batch.dataset_id)
    .fetch_optional(&mut **transaction)
    .await?;
    let merged = (batch.merge_schema)(stored_schema.flatten().as_deref());
    let (new_batches, previous_records, previous_bytes) = match previous {
        Some((records, bytes)) => (0_i64, records, bytes),
        None => (1, 0, 0),
    };
    sqlx::query(
        "INSERT INTO dataset_stats (org_id, sandbox_name, dataset_id, batch_count, \
         record_count, bytes, schema) VALUES ($1, $2, $3, 1, $4, $5, $6) \
         ON CONFLICT (org_id, sandbox_name, dataset_id) DO UPDATE SET \
         batch_count = dataset_stats.batch_count + $7, \
         record_count = dataset_stats.record_count + $4 - $8, \
         bytes = dataset_stats.bytes + $5 - $9, schema = excluded.schema",
    )
    .bind(&scope.org_id)
    .bind(&scope.sandbox_name)
    .bind(batch.dataset_id)
    .bind(stored_count(batch.record_count))
    .bind(stored_count(batch.bytes))
    .bind(&merged)
    .bind(new_batches)
    .bind(previous_records)
    .bind(previous_bytes)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

#[async_trait]
impl DatasetStatsStore for PostgresStore {
    async fn dataset_stats(
        &self,
        scope: &Scope,
        dataset_id: &str,
    ) -> Result<Option<DatasetStats>, StoreError> {
        let row = sqlx::query(
            "SELECT batch_count, record_count, bytes, schema FROM dataset_stats \
             WHERE org_id = $1 AND sandbox_name = $2 AND dataset_id = $3",
        )
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(dataset_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(dataset_stats_from_row))
    }

    async fn record_batch(
        &self,
        scope: &Scope,
        run_id: Option<&str>,
        batch: &BatchCommit<'_>,
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_scope_write(scope).await?;
        record_batch(&mut transaction, scope, run_id, batch).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn list_batches(
        &self,
        scope: &Scope,
        query: &BatchQuery,
    ) -> Result<Vec<BatchRecord>, StoreError> {
        let rows = page_of::<sqlx::Postgres>(scope, query)
            .build()
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(batch_from_row).collect())
    }

    async fn get_batch(
        &self,
        scope: &Scope,
        batch_id: &str,
    ) -> Result<Option<BatchRecord>, StoreError> {
        let row = one_batch::<sqlx::Postgres>(scope, batch_id)
            .build()
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(batch_from_row))
    }

    async fn newest_batches(
        &self,
        scope: &Scope,
        dataset_ids: &[String],
    ) -> Result<Vec<BatchRecord>, StoreError> {
        if dataset_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = newest_of::<sqlx::Postgres>(scope, dataset_ids)
            .build()
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(batch_from_row).collect())
    }

    async fn deleted_datasets(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT dataset_id FROM deleted_datasets ORDER BY deleted_at, dataset_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn forget_deleted_dataset(&self, dataset_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM deleted_datasets WHERE dataset_id = $1")
            .bind(dataset_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
