//! Schema migrations, applied in order inside one transaction each and
//! recorded in SQLite's `user_version`. Published steps are never edited;
//! a change is a new step.

use sqlx::SqlitePool;

use crate::StoreError;

/// Each step moves the schema from version `index` to `index + 1`.
const STEPS: &[&str] = &[
    // 1: credentials, sandboxes and the resource documents.
    "CREATE TABLE credentials (
        id TEXT PRIMARY KEY NOT NULL,
        org_id TEXT NOT NULL,
        api_key TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE sandboxes (
        id TEXT PRIMARY KEY NOT NULL,
        org_id TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (org_id, name)
    ) STRICT;
    CREATE TABLE resources (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id TEXT NOT NULL,
        sandbox_name TEXT NOT NULL,
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        body TEXT NOT NULL CHECK (json_valid(body)),
        revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (org_id, sandbox_name, kind, id)
    ) STRICT;",
    // 2: the run queue.
    "CREATE TABLE runs (
        id TEXT PRIMARY KEY NOT NULL,
        org_id TEXT NOT NULL,
        sandbox_name TEXT NOT NULL,
        flow_id TEXT NOT NULL,
        window_start INTEGER,
        window_end INTEGER NOT NULL,
        scheduled_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_expires_at INTEGER,
        body TEXT NOT NULL CHECK (json_valid(body)),
        UNIQUE (org_id, sandbox_name, flow_id, window_end)
    ) STRICT;
    CREATE INDEX runs_due ON runs (status, scheduled_at);
    CREATE INDEX runs_of_flow ON runs (org_id, sandbox_name, flow_id, window_end);",
];

/// Brings the database to the newest schema version.
pub(crate) async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let supported = STEPS.len() as i64;
    loop {
        let mut transaction = pool.begin_with("BEGIN IMMEDIATE").await?;
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&mut *transaction)
            .await?;
        if version > supported {
            return Err(StoreError::SchemaTooNew {
                found: version,
                supported,
            });
        }
        let Some(&step) = STEPS.get(version as usize) else {
            return Ok(());
        };
        sqlx::raw_sql(step).execute(&mut *transaction).await?;
        // PRAGMA takes no bound parameters; the value is our own integer.
        let set_version = format!("PRAGMA user_version = {}", version + 1);
        sqlx::raw_sql(sqlx::AssertSqlSafe(set_version))
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        tracing::info!(version = version + 1, "store schema migrated");
    }
}
