//! The PostgreSQL backend, for a fleet of flowd processes sharing one database.
//!
//! The tables, indexes and statements mirror the SQLite backend's, and both read rows back
//! through the same decoding (`crate::sql`). What differs is how writes exclude each other:
//! SQLite has one writer at a time (`BEGIN IMMEDIATE`), PostgreSQL runs transactions at READ
//! COMMITTED concurrently. So each write that checks before it acts takes a transaction-scoped
//! advisory lock first, which gives it the same isolation SQLite's write lock gives, over a
//! narrower range:
//! - resource writes, sandbox creation and dataset statistics lock their scope (org and
//!   sandbox), so a reference check, a delete's "is it referenced" and a statistics update see
//!   no concurrent write of the same tenant; other tenants' writes go on in parallel;
//! - claims lock the queue, so the per-sandbox cap and the fairness order hold across every
//!   process; the chosen row is also taken `FOR UPDATE SKIP LOCKED`, so a claim never waits
//!   on a run another transaction is finishing or handing back;
//! - the first-credential bootstrap and migrations lock their own keys, so several processes
//!   starting together on an empty database bootstrap one credential and migrate once.
//!
//! Statements that need no check (a heartbeat, a hand-back, a retrigger) are single
//! `UPDATE … WHERE` statements whose row lock is enough. Every writer takes its locks in one
//! order — the scope lock before any row, schedule rows sorted by flow — so no two writers
//! ever wait on each other. Foreign keys back the reference edges
//! up as on SQLite. Text columns that lists sort or compare use the `C` collation, so a list
//! orders exactly as on SQLite (byte order) whatever the database's locale.

mod datasets;
mod migrations;
mod resources;
mod run_queue;
mod sessions;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::model::{Credential, NewCredential, Scope};
use crate::{CredentialStore, StoreError};

/// A write transaction.
type Transaction = sqlx::Transaction<'static, sqlx::Postgres>;

/// Connections per process: API requests, workers and the planner share them.
const MAX_CONNECTIONS: u32 = 16;

/// Advisory-lock namespaces (the first key of `pg_advisory_xact_lock(int, int)`).
#[derive(Clone, Copy)]
#[repr(i32)]
enum Lock {
    /// One tenant's resources, sandbox and dataset statistics (second key: a hash of the scope).
    Scope = 0x666c_0001,
    /// The run queue's claims.
    Claims = 0x666c_0002,
    /// The first-credential bootstrap.
    Bootstrap = 0x666c_0003,
    /// Schema migrations.
    Migrations = 0x666c_0004,
}

/// A store backed by a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://USER:PASS@HOST:PORT/DB`, with any of
    /// libpq's URL parameters such as `sslmode`) and migrates it.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("flowd");
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        migrations::migrate(&pool).await?;
        Ok(PostgresStore { pool })
    }

    /// Imports finished runs as they are, in one transaction (history brought from elsewhere,
    /// or benchmark fixtures); flow schedules are not touched.
    pub async fn import_runs(&self, runs: &[crate::ImportedRun]) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        run_queue::import_runs(&mut transaction, runs).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The connection pool (copies between stores read and write rows directly).
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A transaction holding the advisory lock `lock`.
    async fn begin_locked(&self, lock: Lock) -> Result<Transaction, StoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, 0)")
            .bind(lock as i32)
            .execute(&mut *transaction)
            .await?;
        Ok(transaction)
    }

    /// A transaction holding the lock of `scope`.
    async fn begin_scope_write(&self, scope: &Scope) -> Result<Transaction, StoreError> {
        let mut transaction = self.pool.begin().await?;
        lock_scope(&mut transaction, scope).await?;
        Ok(transaction)
    }
}

/// Takes the lock of `scope` in `transaction` (held until it ends).
async fn lock_scope(transaction: &mut Transaction, scope: &Scope) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2 || chr(31) || $3))")
        .bind(Lock::Scope as i32)
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// Whether `error` is a unique-constraint violation.
fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.is_unique_violation())
}

/// Whether `error` is a foreign-key violation.
fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.is_foreign_key_violation())
}

#[async_trait]
impl CredentialStore for PostgresStore {
    async fn insert_credential(&self, credential: &NewCredential) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO credentials (id, org_id, api_key, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
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
            "SELECT id, org_id, api_key, created_at FROM credentials WHERE token_hash = $1",
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
        // The bootstrap lock: at READ COMMITTED, two transactions could both see no
        // credential; under the lock the second sees the first's.
        let mut transaction = self.begin_locked(Lock::Bootstrap).await?;
        let inserted = sqlx::query(
            "INSERT INTO credentials (id, org_id, api_key, token_hash, created_at) \
             SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM credentials)",
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
        sqlx::query(
            "INSERT INTO store_settings (name, value) VALUES ('secret_key_check', $1) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(check)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
