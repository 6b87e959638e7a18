//! The embedded SQLite backend: one database file in WAL mode with full synchronous commits,
//! so that an acknowledged write survives `kill -9` and a crash at any moment leaves the file
//! consistent. Every write is one transaction started with `BEGIN IMMEDIATE`, so checks made
//! inside it (a reference exists, a lease is held, a revision matches) hold when it commits;
//! foreign keys back the reference edges up.

mod datasets;
mod migrations;
mod resources;
mod run_queue;
mod run_rows;
mod schedules;
mod sessions;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::model::{Credential, NewCredential};
use crate::{CredentialStore, StoreError};

/// The database file name inside the data directory.
pub const DATABASE_FILE_NAME: &str = "flowd.sqlite";

/// How much of the file each connection maps (SQLite's `mmap_size`).
const MMAP_BYTES: i64 = 256 * 1024 * 1024;

/// Page cache per connection, as SQLite's negative `cache_size` (KiB).
const CACHE_KIB: i64 = -16 * 1024;

/// A write transaction.
type Transaction = sqlx::Transaction<'static, sqlx::Sqlite>;

/// A store backed by one SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

/// Creates `data_dir` if needed, private to its owner: credentials, keys and datasets are
/// nobody else's business.
pub(crate) fn prepare_data_dir(data_dir: &Path) -> Result<(), StoreError> {
    let data_dir_error = |source| StoreError::DataDir {
        path: data_dir.display().to_string(),
        source,
    };
    if !data_dir.exists() {
        std::fs::create_dir_all(data_dir).map_err(data_dir_error)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
                .map_err(data_dir_error)?;
        }
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the store inside `data_dir` and migrates it.
    pub async fn open_in_data_dir(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        prepare_data_dir(data_dir)?;
        Self::open_file(&data_dir.join(DATABASE_FILE_NAME)).await
    }

    /// Opens (creating if needed) the database file and migrates it.
    pub async fn open_file(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_with_synchronous(path, SqliteSynchronous::Full).await
    }

    /// Opens the file without waiting for the disk at each commit: for loading benchmark
    /// fixtures only, never for data anyone relies on.
    pub async fn open_file_for_bulk_load(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_with_synchronous(path, SqliteSynchronous::Off).await
    }

    async fn open_with_synchronous(
        path: &Path,
        synchronous: SqliteSynchronous,
    ) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: the WAL is fsynced at every commit, so a write that was acknowledged to a
            // client is never lost, even on power failure.
            .synchronous(synchronous)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Reads through a memory map instead of one read(2) per page, and a page cache
            // per connection large enough for the hot indexes of a long history.
            .pragma("mmap_size", MMAP_BYTES.to_string())
            .pragma("cache_size", CACHE_KIB.to_string());
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        migrations::migrate(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// Imports finished runs as they are, in one transaction (history brought from elsewhere,
    /// or benchmark fixtures); flow schedules are not touched.
    pub async fn import_runs(&self, runs: &[crate::ImportedRun]) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        run_rows::import_runs(&mut transaction, runs).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Runs SQLite's own consistency check (`["ok"]` when sound).
    pub async fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|row| row.get::<String, _>(0)).collect())
    }

    /// The connection pool (copies between stores read and write rows directly).
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn begin_write(&self) -> Result<Transaction, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// Whether `error` is a unique-constraint violation.
fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.is_unique_violation())
}

#[async_trait]
impl CredentialStore for SqliteStore {
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

    async fn insert_first_credential(
        &self,
        credential: &NewCredential,
    ) -> Result<bool, StoreError> {
        // BEGIN IMMEDIATE: the count and the insert cannot interleave with another writer's.
        let mut transaction = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO credentials (id, org_id, api_key, token_hash, created_at) \
             SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM credentials)",
        )
        .bind(&credential.id)
        .bind(&credential.org_id)
        .bind(&credential.api_key)
        .bind(&credential.token_hash)
        .bind(credential.created_at)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        transaction.commit().await?;
        Ok(inserted == 1)
    }

    async fn secret_key_check(&self) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM store_settings WHERE name = 'secret_key_check'")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn set_secret_key_check(&self, check: &str) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO store_settings (name, value) VALUES ('secret_key_check', ?) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(check)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }
}
