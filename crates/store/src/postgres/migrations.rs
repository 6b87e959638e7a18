//! PostgreSQL schema migrations, numbered apart from SQLite's (the first step is the schema
//! SQLite reached in its nine), applied in order inside one transaction each under the
//! migrations lock and recorded in `flowd_schema`. Published steps are never edited; a change
//! is a new step.

use sqlx::PgPool;

use super::Lock;
use crate::StoreError;

/// Each step moves the schema from version `index` to `index + 1`.
const STEPS: &[&str] = &[
    // 1: credentials, sandboxes, resource documents with their indexed columns and reference
    // edges, runs, flow schedules, dataset statistics, store settings, deleted datasets.
    r#"CREATE TABLE credentials (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        api_key TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL
    );
    CREATE TABLE sandboxes (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        UNIQUE (org_id, name)
    );
    CREATE TABLE resources (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        org_id TEXT NOT NULL,
        sandbox_name TEXT NOT NULL,
        kind TEXT NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        body TEXT NOT NULL,
        revision BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        name TEXT COLLATE "C",
        state TEXT COLLATE "C",
        doc_created_at BIGINT,
        doc_updated_at BIGINT,
        UNIQUE (org_id, sandbox_name, kind, id)
    );
    CREATE INDEX resources_by_position ON resources (org_id, sandbox_name, kind, seq);
    CREATE INDEX resources_by_name ON resources (org_id, sandbox_name, kind, name, seq);
    CREATE INDEX resources_by_state ON resources (org_id, sandbox_name, kind, state, seq);
    CREATE INDEX resources_by_created ON resources (org_id, sandbox_name, kind, doc_created_at, seq);
    CREATE INDEX resources_by_updated ON resources (org_id, sandbox_name, kind, doc_updated_at, seq);
    CREATE TABLE resource_refs (
        org_id TEXT NOT NULL,
        sandbox_name TEXT NOT NULL,
        from_kind TEXT NOT NULL,
        from_id TEXT COLLATE "C" NOT NULL,
        to_kind TEXT NOT NULL,
        to_id TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (org_id, sandbox_name, from_kind, from_id, to_kind, to_id),
        FOREIGN KEY (org_id, sandbox_name, from_kind, from_id)
            REFERENCES resources (org_id, sandbox_name, kind, id) ON DELETE CASCADE,
        FOREIGN KEY (org_id, sandbox_name, to_kind, to_id)
            REFERENCES resources (org_id, sandbox_name, kind, id) ON DELETE RESTRICT
    );
    CREATE INDEX resource_refs_to ON resource_refs (org_id, sandbox_name, to_kind, to_id);
    CREATE TABLE runs (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id TEXT COLLATE "C" NOT NULL UNIQUE,
        org_id TEXT NOT NULL,
        sandbox_name TEXT NOT NULL,
        flow_id TEXT COLLATE "C" NOT NULL,
        trigger TEXT NOT NULL,
        window_start BIGINT,
        window_end BIGINT NOT NULL,
        scheduled_at BIGINT NOT NULL,
        status TEXT NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_expires_at BIGINT,
        created_at BIGINT NOT NULL,
        created_by TEXT,
        created_client TEXT,
        updated_at BIGINT NOT NULL,
        started_at BIGINT,
        completed_at BIGINT,
        pages BIGINT,
        input_records BIGINT,
        input_bytes BIGINT,
        output_records BIGINT,
        output_bytes BIGINT,
        output_files BIGINT,
        error_code TEXT,
        error_message TEXT,
        warnings TEXT,
        UNIQUE (org_id, sandbox_name, flow_id, window_end)
    );
    CREATE INDEX runs_pending ON runs (scheduled_at, window_end) WHERE status = 'pending';
    CREATE INDEX runs_leased ON runs (lease_expires_at) WHERE status = 'inProgress';
    CREATE INDEX runs_by_created ON runs (org_id, sandbox_name, created_at, seq);
    CREATE INDEX runs_of_flow_by_created ON runs (org_id, sandbox_name, flow_id, created_at, seq);
    CREATE TABLE flow_schedules (
        org_id TEXT NOT NULL,
        sandbox_name TEXT NOT NULL,
        flow_id TEXT COLLATE "C" NOT NULL,
        kind TEXT NOT NULL DEFAULT 'flow' CHECK (kind = 'flow'),
        enabled BOOLEAN NOT NULL,
        next_due_at BIGINT,
        last_window_end BIGINT,
        blocked_by_run TEXT COLLATE "C",
        revision BIGINT NOT NULL,
        PRIMARY KEY (org_id, sandbox_name, flow_id),
        FOREIGN KEY (org_id, sandbox_name, kind, flow_id)
            REFERENCES resources (org_id, sandbox_name, kind, id) ON DELETE CASCADE
    );
    CREATE INDEX flow_schedules_due ON flow_schedules (next_due_at)
        WHERE enabled AND blocked_by_run IS NULL AND next_due_at IS NOT NULL;
    CREATE INDEX flow_schedules_blocked ON flow_schedules (blocked_by_run)
        WHERE blocked_by_run IS NOT NULL;
    CREATE TABLE dataset_batches (
        org_id TEXT NOT NULL,
        sandbox_name TEXT NOT NULL,
        dataset_id TEXT COLLATE "C" NOT NULL,
        kind TEXT NOT NULL DEFAULT 'dataSet' CHECK (kind = 'dataSet'),
        batch_id TEXT NOT NULL,
        run_id TEXT,
        record_count BIGINT NOT NULL,
        bytes BIGINT NOT NULL,
        file_count BIGINT NOT NULL,
        committed_at BIGINT NOT NULL,
        PRIMARY KEY (org_id, sandbox_name, dataset_id, batch_id),
        FOREIGN KEY (org_id, sandbox_name, kind, dataset_id)
            REFERENCES resources (org_id, sandbox_name, kind, id) ON DELETE CASCADE
    );
    CREATE TABLE dataset_stats (
        org_id TEXT NOT NULL,
        sandbox_name TEXT NOT NULL,
        dataset_id TEXT COLLATE "C" NOT NULL,
        kind TEXT NOT NULL DEFAULT 'dataSet' CHECK (kind = 'dataSet'),
        batch_count BIGINT NOT NULL,
        record_count BIGINT NOT NULL,
        bytes BIGINT NOT NULL,
        schema TEXT,
        PRIMARY KEY (org_id, sandbox_name, dataset_id),
        FOREIGN KEY (org_id, sandbox_name, kind, dataset_id)
            REFERENCES resources (org_id, sandbox_name, kind, id) ON DELETE CASCADE
    );
    CREATE TABLE store_settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE deleted_datasets (
        dataset_id TEXT PRIMARY KEY,
        deleted_at BIGINT NOT NULL
    );"#,
    // 2: batches listed as Catalog lists them: the first commit's time, the committing
    // attempt's times and input count, and the indexes that page and find them.
    r#"ALTER TABLE dataset_batches ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE dataset_batches ADD COLUMN started_at BIGINT;
    ALTER TABLE dataset_batches ADD COLUMN completed_at BIGINT;
    ALTER TABLE dataset_batches ADD COLUMN input_records BIGINT;
    UPDATE dataset_batches AS b SET created_at = b.committed_at, started_at = r.started_at,
        completed_at = r.completed_at, input_records = r.input_records
    FROM runs AS r
    WHERE r.id = b.run_id AND r.org_id = b.org_id AND r.sandbox_name = b.sandbox_name;
    UPDATE dataset_batches SET created_at = committed_at WHERE created_at = 0;
    ALTER TABLE dataset_batches ALTER COLUMN batch_id SET DATA TYPE TEXT COLLATE "C";
    CREATE INDEX dataset_batches_by_created
        ON dataset_batches (org_id, sandbox_name, dataset_id, created_at, batch_id);
    CREATE INDEX dataset_batches_by_committed
        ON dataset_batches (org_id, sandbox_name, dataset_id, committed_at, batch_id);
    CREATE INDEX dataset_batches_of_sandbox
        ON dataset_batches (org_id, sandbox_name, created_at, batch_id);
    CREATE INDEX dataset_batches_by_id ON dataset_batches (org_id, sandbox_name, batch_id);"#,
    // 3: the records a finished attempt's promotion rejected (`failedRecordCount`); runs
    // finished before it read as none rejected.
    r#"ALTER TABLE runs ADD COLUMN failed_records BIGINT;"#,
    // 4: the console's sign-in sessions, by the SHA-256 of the cookie value; a session ends
    // with its credential.
    r#"CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        credential_id TEXT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
        org_id TEXT NOT NULL,
        api_key TEXT NOT NULL,
        csrf_token TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    );
    CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    CREATE INDEX sessions_of_credential ON sessions (credential_id);"#,
    // 5: a run's progress while it runs (pages and records so far, when they were written),
    // and its final figures once it ends.
    r#"ALTER TABLE runs ADD COLUMN progress_pages BIGINT;
    ALTER TABLE runs ADD COLUMN progress_records BIGINT;
    ALTER TABLE runs ADD COLUMN progress_at BIGINT;"#,
];

/// Brings the database to the newest schema version.
pub(super) async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let supported = STEPS.len() as i64;
    loop {
        let mut transaction = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, 0)")
            .bind(Lock::Migrations as i32)
            .execute(&mut *transaction)
            .await?;
        sqlx::raw_sql("CREATE TABLE IF NOT EXISTS flowd_schema (version BIGINT NOT NULL)")
            .execute(&mut *transaction)
            .await?;
        let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM flowd_schema")
            .fetch_one(&mut *transaction)
            .await?;
        let version = version.unwrap_or(0);
        if version > supported {
            return Err(StoreError::SchemaTooNew {
                found: version,
                supported,
            });
        }
        let Some(&step) = STEPS.get(version as usize) else {
            transaction.commit().await?;
            return Ok(());
        };
        sqlx::raw_sql(step).execute(&mut *transaction).await?;
        sqlx::query("INSERT INTO flowd_schema (version) VALUES ($1)")
            .bind(version + 1)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        tracing::info!(version = version + 1, "store schema migrated");
    }
}
