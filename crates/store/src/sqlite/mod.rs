//! The embedded SQLite backend: one database file in WAL mode with full
//! synchronous commits, so that an acknowledged write survives `kill -9` and
//! a crash at any moment leaves the file consistent.

mod migrations;
mod run_queue;

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde_json::Value;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

use crate::model::{
    Credential, DeleteOutcome, NewCredential, Reference, ReplaceOutcome, ResourceKind, Sandbox,
    Scope, StoredResource,
};
use crate::runs::{NewRun, RunRecord, RunStatus};
use crate::{SandboxSeeder, Store, StoreError};

/// The database file name inside the data directory.
pub const DATABASE_FILE_NAME: &str = "flowd.sqlite";

/// A [`Store`] backed by one SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the store inside `data_dir` and migrates it.
    pub async fn open_in_data_dir(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        let data_dir_error = |source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        };
        if !data_dir.exists() {
            std::fs::create_dir_all(data_dir).map_err(data_dir_error)?;
            // A data dir flowd creates is its own: credentials, keys and
            // datasets are nobody else's business.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(data_dir_error)?;
            }
        }
        Self::open_file(&data_dir.join(DATABASE_FILE_NAME)).await
    }

    /// Opens (creating if needed) the database file and migrates it.
    pub async fn open_file(path: &Path) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: the WAL is fsynced at every commit, so a write that was
            // acknowledged to a client is never lost, even on power failure.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        migrations::migrate(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// Runs SQLite's own consistency check; `Ok(())` when it reports "ok".
    pub async fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|row| row.get::<String, _>(0)).collect())
    }

    /// Closes every connection (checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or_default()
}

fn resource_from_row(row: &SqliteRow) -> Result<StoredResource, StoreError> {
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

#[async_trait]
impl Store for SqliteStore {
    async fn insert_credential(&self, credential: &NewCredential) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO credentials (id, org_id, api_key, token_hash, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&credential.id)
        .bind(&credential.org_id)
        .bind(&credential.api_key)
        .bind(&credential.token_hash)
        .bind(credential.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_credential_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<Credential>, StoreError> {
        let row = sqlx::query(
            "SELECT id, org_id, api_key, created_at FROM credentials WHERE token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| Credential {
            id: row.get("id"),
            org_id: row.get("org_id"),
            api_key: row.get("api_key"),
            created_at: row.get("created_at"),
        }))
    }

    async fn count_credentials(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM credentials")
            .fetch_one(&self.pool)
            .await?;
        Ok(count as u64)
    }

    async fn ensure_sandbox(
        &self,
        org_id: &str,
        sandbox_name: &str,
        seeder: &SandboxSeeder<'_>,
    ) -> Result<Sandbox, StoreError> {
        let existing = sqlx::query("SELECT id FROM sandboxes WHERE org_id = ? AND name = ?")
            .bind(org_id)
            .bind(sandbox_name)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(row) = existing {
            return Ok(Sandbox {
                id: row.get("id"),
                org_id: org_id.to_owned(),
                name: sandbox_name.to_owned(),
            });
        }
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // Another request may have created it between the read and the lock.
        let raced: Option<String> =
            sqlx::query_scalar("SELECT id FROM sandboxes WHERE org_id = ? AND name = ?")
                .bind(org_id)
                .bind(sandbox_name)
                .fetch_optional(&mut *transaction)
                .await?;
        let sandbox_id = match raced {
            Some(id) => id,
            None => {
                let sandbox_id = new_sandbox_id();
                let created_at = now_millis();
                sqlx::query(
                    "INSERT INTO sandboxes (id, org_id, name, created_at) VALUES (?, ?, ?, ?)",
                )
                .bind(&sandbox_id)
                .bind(org_id)
                .bind(sandbox_name)
                .bind(created_at)
                .execute(&mut *transaction)
                .await?;
                for seed in seeder(&sandbox_id) {
                    insert_resource_row(
                        &mut transaction,
                        org_id,
                        sandbox_name,
                        seed.kind,
                        &seed.id,
                        &seed.body,
                        created_at,
                    )
                    .await?;
                }
                sandbox_id
            }
        };
        transaction.commit().await?;
        Ok(Sandbox {
            id: sandbox_id,
            org_id: org_id.to_owned(),
            name: sandbox_name.to_owned(),
        })
    }

    async fn insert_resource(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
        body: &Value,
    ) -> Result<StoredResource, StoreError> {
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let position = insert_resource_row(
            &mut transaction,
            &scope.org_id,
            &scope.sandbox_name,
            kind,
            id,
            body,
            now_millis(),
        )
        .await?;
        transaction.commit().await?;
        Ok(StoredResource {
            id: id.to_owned(),
            body: body.clone(),
            revision: 1,
            position,
        })
    }

    async fn get_resource(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
    ) -> Result<Option<StoredResource>, StoreError> {
        let row = sqlx::query(
            "SELECT seq, id, body, revision FROM resources \
             WHERE org_id = ? AND sandbox_name = ? AND kind = ? AND id = ?",
        )
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(kind.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(resource_from_row).transpose()
    }

    async fn list_resources(
        &self,
        scope: &Scope,
        kind: ResourceKind,
    ) -> Result<Vec<StoredResource>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, id, body, revision FROM resources \
             WHERE org_id = ? AND sandbox_name = ? AND kind = ? ORDER BY seq",
        )
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(resource_from_row).collect()
    }

    async fn list_all_resources(
        &self,
        kind: ResourceKind,
    ) -> Result<Vec<(Scope, StoredResource)>, StoreError> {
        let rows = sqlx::query(
            "SELECT org_id, sandbox_name, seq, id, body, revision FROM resources \
             WHERE kind = ? ORDER BY seq",
        )
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let scope = Scope {
                    org_id: row.get("org_id"),
                    sandbox_name: row.get("sandbox_name"),
                };
                resource_from_row(row).map(|resource| (scope, resource))
            })
            .collect()
    }

    async fn replace_resource(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        expected_revision: Option<i64>,
    ) -> Result<ReplaceOutcome, StoreError> {
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let current: Option<(i64, i64)> = sqlx::query_as(
            "SELECT revision, seq FROM resources \
             WHERE org_id = ? AND sandbox_name = ? AND kind = ? AND id = ?",
        )
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(kind.as_str())
        .bind(id)
        .fetch_optional(&mut *transaction)
        .await?;
        let Some((current, position)) = current else {
            return Ok(ReplaceOutcome::NotFound);
        };
        if expected_revision.is_some_and(|expected| expected != current) {
            return Ok(ReplaceOutcome::RevisionMismatch { current });
        }
        let revision = current + 1;
        sqlx::query(
            "UPDATE resources SET body = ?, revision = ?, updated_at = ? \
             WHERE org_id = ? AND sandbox_name = ? AND kind = ? AND id = ?",
        )
        .bind(body.to_string())
        .bind(revision)
        .bind(now_millis())
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(kind.as_str())
        .bind(id)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(ReplaceOutcome::Replaced(StoredResource {
            id: id.to_owned(),
            body: body.clone(),
            revision,
            position,
        }))
    }

    async fn insert_run(&self, run: &NewRun) -> Result<(), StoreError> {
        run_queue::insert_run(&self.pool, run).await
    }

    async fn claim_run(
        &self,
        worker_id: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<RunRecord>, StoreError> {
        run_queue::claim_run(&self.pool, worker_id, now_ms, lease_ms).await
    }

    async fn heartbeat_run(
        &self,
        run_id: &str,
        worker_id: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<bool, StoreError> {
        run_queue::heartbeat_run(&self.pool, run_id, worker_id, now_ms, lease_ms).await
    }

    async fn finish_run(
        &self,
        run_id: &str,
        worker_id: &str,
        status: RunStatus,
        scheduled_at: i64,
        body: &Value,
    ) -> Result<bool, StoreError> {
        run_queue::finish_run(&self.pool, run_id, worker_id, status, scheduled_at, body).await
    }

    async fn get_run(&self, scope: &Scope, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        run_queue::get_run(&self.pool, scope, run_id).await
    }

    async fn list_runs(
        &self,
        scope: &Scope,
        flow_id: Option<&str>,
    ) -> Result<Vec<RunRecord>, StoreError> {
        run_queue::list_runs(&self.pool, scope, flow_id).await
    }

    async fn retrigger_run(
        &self,
        scope: &Scope,
        run_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        run_queue::retrigger_run(&self.pool, scope, run_id, now_ms).await
    }

    async fn delete_resource(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
        references: &[Reference],
    ) -> Result<DeleteOutcome, StoreError> {
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut referencing = Vec::new();
        for reference in references {
            // json_each over a scalar yields the scalar itself, so one query
            // serves fields holding one id and fields holding an array of ids.
            let rows = sqlx::query(
                "SELECT DISTINCT r.id FROM resources AS r, json_each(r.body, ?) AS j \
                 WHERE r.org_id = ? AND r.sandbox_name = ? AND r.kind = ? AND j.value = ? \
                 ORDER BY r.seq",
            )
            .bind(reference.field)
            .bind(&scope.org_id)
            .bind(&scope.sandbox_name)
            .bind(reference.kind.as_str())
            .bind(id)
            .fetch_all(&mut *transaction)
            .await?;
            referencing.extend(
                rows.iter()
                    .map(|row| (reference.kind, row.get::<String, _>("id"))),
            );
        }
        if !referencing.is_empty() {
            return Ok(DeleteOutcome::Referenced(referencing));
        }
        let deleted = sqlx::query(
            "DELETE FROM resources WHERE org_id = ? AND sandbox_name = ? AND kind = ? AND id = ?",
        )
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(kind.as_str())
        .bind(id)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        transaction.commit().await?;
        Ok(if deleted == 0 {
            DeleteOutcome::NotFound
        } else {
            DeleteOutcome::Deleted
        })
    }
}

async fn insert_resource_row(
    transaction: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    org_id: &str,
    sandbox_name: &str,
    kind: ResourceKind,
    id: &str,
    body: &Value,
    created_at: i64,
) -> Result<i64, StoreError> {
    let result = sqlx::query(
        "INSERT INTO resources (org_id, sandbox_name, kind, id, body, revision, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
    )
    .bind(org_id)
    .bind(sandbox_name)
    .bind(kind.as_str())
    .bind(id)
    .bind(body.to_string())
    .bind(created_at)
    .bind(created_at)
    .execute(&mut **transaction)
    .await;
    match result {
        Ok(done) => Ok(done.last_insert_rowid()),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            Err(StoreError::AlreadyExists { id: id.to_owned() })
        }
        Err(error) => Err(error.into()),
    }
}

fn new_sandbox_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
