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
    // 3: documents get their list fields as indexed columns; references become edges the
    // database enforces.
    "ALTER TABLE resources ADD COLUMN name TEXT;
    ALTER TABLE resources ADD COLUMN state TEXT;
    ALTER TABLE resources ADD COLUMN doc_created_at INTEGER;
    ALTER TABLE resources ADD COLUMN doc_updated_at INTEGER;
    UPDATE resources SET
        name = CASE json_type(body, '$.name') WHEN 'text' THEN json_extract(body, '$.name') END,
        state = CASE json_type(body, '$.state') WHEN 'text' THEN json_extract(body, '$.state') END,
        doc_created_at = CASE json_type(body, '$.createdAt')
            WHEN 'integer' THEN json_extract(body, '$.createdAt') END,
        doc_updated_at = CASE json_type(body, '$.updatedAt')
            WHEN 'integer' THEN json_extract(body, '$.updatedAt') END;
    CREATE INDEX resources_by_position ON resources (org_id, sandbox_name, kind, seq);
    CREATE INDEX resources_by_name ON resources (org_id, sandbox_name, kind, name, seq);
    CREATE INDEX resources_by_state ON resources (org_id, sandbox_name, kind, state, seq);
    CREATE INDEX resources_by_created ON resources (org_id, sandbox_name, kind, doc_created_at, seq);
    CREATE INDEX resources_by_updated ON resources (org_id, sandbox_name, kind, doc_updated_at, seq);
    CREATE TABLE resource_refs (
        org_id TEXT NOT NULL,
        sandbox_name TEXT NOT NULL,
        from_kind TEXT NOT NULL,
        from_id TEXT NOT NULL,
        to_kind TEXT NOT NULL,
        to_id TEXT NOT NULL,
        PRIMARY KEY (org_id, sandbox_name, from_kind, from_id, to_kind, to_id),
        FOREIGN KEY (org_id, sandbox_name, from_kind, from_id)
            REFERENCES resources (org_id, sandbox_name, kind, id) ON DELETE CASCADE,
        FOREIGN KEY (org_id, sandbox_name, to_kind, to_id)
            REFERENCES resources (org_id, sandbox_name, kind, id) ON DELETE RESTRICT
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX resource_refs_to ON resource_refs (org_id, sandbox_name, to_kind, to_id);
    INSERT OR IGNORE INTO resource_refs
        SELECT r.org_id, r.sandbox_name, r.kind, r.id, edge.to_kind, j.value
        FROM resources AS r
        JOIN (SELECT 'sourceConnection' AS from_kind, '$.baseConnectionId' AS field, 'connection' AS to_kind
              UNION ALL SELECT 'flow', '$.sourceConnectionIds', 'sourceConnection'
              UNION ALL SELECT 'flow', '$.targetConnectionIds', 'targetConnection'
              UNION ALL SELECT 'targetConnection', '$.params.dataSetId', 'dataSet'
              UNION ALL SELECT 'flowSpec', '$.sourceConnectionSpecIds', 'connectionSpec'
              UNION ALL SELECT 'flowSpec', '$.targetConnectionSpecIds', 'connectionSpec') AS edge
            ON edge.from_kind = r.kind,
        json_each(r.body, edge.field) AS j
        WHERE EXISTS (SELECT 1 FROM resources AS t WHERE t.org_id = r.org_id
            AND t.sandbox_name = r.sandbox_name AND t.kind = edge.to_kind AND t.id = j.value);",
    // 4: runs become typed columns (what workers and the API wrote into a JSON body), with
    // their trigger, and indexes for listing and claiming without scanning history.
    "CREATE TABLE typed_runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        org_id TEXT NOT NULL,
        sandbox_name TEXT NOT NULL,
        flow_id TEXT NOT NULL,
        trigger TEXT NOT NULL,
        window_start INTEGER,
        window_end INTEGER NOT NULL,
        scheduled_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_expires_at INTEGER,
        created_at INTEGER NOT NULL,
        created_by TEXT,
        created_client TEXT,
        updated_at INTEGER NOT NULL,
        started_at INTEGER,
        completed_at INTEGER,
        pages INTEGER,
        input_records INTEGER,
        input_bytes INTEGER,
        output_records INTEGER,
        output_bytes INTEGER,
        output_files INTEGER,
        error_code TEXT,
        error_message TEXT,
        UNIQUE (org_id, sandbox_name, flow_id, window_end)
    ) STRICT;
    INSERT INTO typed_runs (id, org_id, sandbox_name, flow_id, trigger, window_start, window_end,
        scheduled_at, status, attempts, lease_owner, lease_expires_at, created_at, created_by,
        created_client, updated_at, started_at, completed_at, pages, input_records, input_bytes,
        output_records, output_bytes, output_files, error_code, error_message)
    SELECT id, org_id, sandbox_name, flow_id,
        CASE json_extract(body, '$.trigger') WHEN 'adhoc' THEN 'adhoc' ELSE 'scheduled' END,
        window_start, window_end, scheduled_at, status, attempts, lease_owner, lease_expires_at,
        COALESCE(json_extract(body, '$.createdAt'), scheduled_at),
        json_extract(body, '$.createdBy'), json_extract(body, '$.createdClient'),
        MAX(COALESCE(json_extract(body, '$.updatedAt'), 0),
            COALESCE(json_extract(body, '$.metrics.durationSummary.completedAtUTC'), 0),
            COALESCE(json_extract(body, '$.createdAt'), scheduled_at)),
        json_extract(body, '$.metrics.durationSummary.startedAtUTC'),
        json_extract(body, '$.metrics.durationSummary.completedAtUTC'),
        json_extract(body, '$.pages'),
        json_extract(body, '$.metrics.recordSummary.inputRecordCount'),
        json_extract(body, '$.metrics.sizeSummary.inputBytes'),
        json_extract(body, '$.metrics.recordSummary.outputRecordCount'),
        json_extract(body, '$.metrics.sizeSummary.outputBytes'),
        json_extract(body, '$.metrics.fileSummary.outputFileCount'),
        json_extract(body, '$.errors[0].code'),
        json_extract(body, '$.errors[0].message')
    FROM runs ORDER BY rowid;
    DROP TABLE runs;
    ALTER TABLE typed_runs RENAME TO runs;
    CREATE INDEX runs_pending ON runs (scheduled_at, window_end) WHERE status = 'pending';
    CREATE INDEX runs_leased ON runs (lease_expires_at) WHERE status = 'inProgress';
    CREATE INDEX runs_by_created ON runs (org_id, sandbox_name, created_at, seq);
    CREATE INDEX runs_of_flow_by_created ON runs (org_id, sandbox_name, flow_id, created_at, seq);",
    // 5: the planner's view of flows: when each may next be due and which run it waits for.
    // Existing flows are due at once: the planner then recomputes the exact time.
    "CREATE TABLE flow_schedules (
        org_id TEXT NOT NULL,
        sandbox_name TEXT NOT NULL,
        flow_id TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'flow' CHECK (kind = 'flow'),
        enabled INTEGER NOT NULL,
        next_due_at INTEGER,
        last_window_end INTEGER,
        blocked_by_run TEXT,
        revision INTEGER NOT NULL,
        PRIMARY KEY (org_id, sandbox_name, flow_id),
        FOREIGN KEY (org_id, sandbox_name, kind, flow_id)
            REFERENCES resources (org_id, sandbox_name, kind, id) ON DELETE CASCADE
    ) STRICT;
    CREATE INDEX flow_schedules_due ON flow_schedules (next_due_at)
        WHERE enabled = 1 AND blocked_by_run IS NULL AND next_due_at IS NOT NULL;
    CREATE INDEX flow_schedules_blocked ON flow_schedules (blocked_by_run)
        WHERE blocked_by_run IS NOT NULL;
    INSERT INTO flow_schedules (org_id, sandbox_name, flow_id, enabled, next_due_at,
        last_window_end, blocked_by_run, revision)
    SELECT f.org_id, f.sandbox_name, f.id,
        COALESCE(json_extract(f.body, '$.state'), 'enabled') = 'enabled',
        CASE WHEN json_type(f.body, '$.scheduleParams') = 'object' THEN 0 END,
        latest.window_end,
        CASE WHEN latest.status <> 'success' THEN latest.id END,
        1
    FROM resources AS f
    LEFT JOIN runs AS latest ON latest.org_id = f.org_id AND latest.sandbox_name = f.sandbox_name
        AND latest.flow_id = f.id AND latest.trigger <> 'adhoc'
        AND latest.window_end = (SELECT MAX(window_end) FROM runs AS r WHERE r.org_id = f.org_id
            AND r.sandbox_name = f.sandbox_name AND r.flow_id = f.id AND r.trigger <> 'adhoc')
    WHERE f.kind = 'flow';",
    // 6: dataset statistics, kept when batches commit.
    "CREATE TABLE dataset_batches (
        org_id TEXT NOT NULL,
        sandbox_name TEXT NOT NULL,
        dataset_id TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'dataSet' CHECK (kind = 'dataSet'),
        batch_id TEXT NOT NULL,
        run_id TEXT,
        record_count INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        file_count INTEGER NOT NULL,
        committed_at INTEGER NOT NULL,
        PRIMARY KEY (org_id, sandbox_name, dataset_id, batch_id),
        FOREIGN KEY (org_id, sandbox_name, kind, dataset_id)
            REFERENCES resources (org_id, sandbox_name, kind, id) ON DELETE CASCADE
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE dataset_stats (
        org_id TEXT NOT NULL,
        sandbox_name TEXT NOT NULL,
        dataset_id TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'dataSet' CHECK (kind = 'dataSet'),
        batch_count INTEGER NOT NULL,
        record_count INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        schema TEXT,
        PRIMARY KEY (org_id, sandbox_name, dataset_id),
        FOREIGN KEY (org_id, sandbox_name, kind, dataset_id)
            REFERENCES resources (org_id, sandbox_name, kind, id) ON DELETE CASCADE
    ) STRICT;",
    // 7: what a finished attempt warns about (a JSON array of {code, message}).
    "ALTER TABLE runs ADD COLUMN warnings TEXT;",
    // 8: settings of the store itself (the secret-key check).
    "CREATE TABLE store_settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT, WITHOUT ROWID;",
    // 9: deleted datasets whose files are still to be removed.
    "CREATE TABLE deleted_datasets (
        dataset_id TEXT PRIMARY KEY,
        deleted_at INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;",
    // 10: batches listed as Catalog lists them: the first commit's time, the committing
    // attempt's times and input count, and the indexes that page and find them.
    "ALTER TABLE dataset_batches ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE dataset_batches ADD COLUMN started_at INTEGER;
    ALTER TABLE dataset_batches ADD COLUMN completed_at INTEGER;
    ALTER TABLE dataset_batches ADD COLUMN input_records INTEGER;
    UPDATE dataset_batches SET created_at = committed_at,
        started_at = (SELECT r.started_at FROM runs AS r WHERE r.id = dataset_batches.run_id
            AND r.org_id = dataset_batches.org_id
            AND r.sandbox_name = dataset_batches.sandbox_name),
        completed_at = (SELECT r.completed_at FROM runs AS r WHERE r.id = dataset_batches.run_id
            AND r.org_id = dataset_batches.org_id
            AND r.sandbox_name = dataset_batches.sandbox_name),
        input_records = (SELECT r.input_records FROM runs AS r WHERE r.id = dataset_batches.run_id
            AND r.org_id = dataset_batches.org_id
            AND r.sandbox_name = dataset_batches.sandbox_name);
    CREATE INDEX dataset_batches_by_created
        ON dataset_batches (org_id, sandbox_name, dataset_id, created_at, batch_id);
    CREATE INDEX dataset_batches_by_committed
        ON dataset_batches (org_id, sandbox_name, dataset_id, committed_at, batch_id);
    CREATE INDEX dataset_batches_of_sandbox
        ON dataset_batches (org_id, sandbox_name, created_at, batch_id);
    CREATE INDEX dataset_batches_by_id ON dataset_batches (org_id, sandbox_name, batch_id);",
    // 11: the records a finished attempt's promotion rejected (`failedRecordCount`); runs
    // finished before it read as none rejected.
    "ALTER TABLE runs ADD COLUMN failed_records INTEGER;",
    // 12: the console's sign-in sessions, by the SHA-256 of the cookie value; a session ends
    // with its credential.
    "CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY NOT NULL,
        credential_id TEXT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
        org_id TEXT NOT NULL,
        api_key TEXT NOT NULL,
        csrf_token TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    CREATE INDEX sessions_of_credential ON sessions (credential_id);",
    // 13: a run's progress while it runs (pages and records so far, when they were written),
    // and its final figures once it ends.
    "ALTER TABLE runs ADD COLUMN progress_pages INTEGER;
    ALTER TABLE runs ADD COLUMN progress_records INTEGER;
    ALTER TABLE runs ADD COLUMN progress_at INTEGER;",
];

/// Brings the database to the newest schema version.
pub(crate) async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    migrate_to(pool, STEPS.len()).await
}

/// Applies the steps up to schema version `target`.
async fn migrate_to(pool: &SqlitePool, target: usize) -> Result<(), StoreError> {
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
        let Some(&step) = STEPS
            .get(version as usize)
            .filter(|_| (version as usize) < target)
        else {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::{
        DeleteOutcome, FilterOp, FilterValue, IndexedField, IndexedFilter, ListQuery, ResourceKind,
        RunFilter, RunStatus, Scope, SqliteStore,
    };
    use flowd_model::RunTrigger;
    use serde_json::json;

    /// What a flowd of schema version 2 wrote: documents whose references live only in their
    /// bodies, and runs whose metrics live in a JSON body.
    async fn version_2_database(path: &std::path::Path) {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        let pool = SqlitePool::connect_with(options).await.unwrap();
        migrate_to(&pool, 2).await.unwrap();
        let resources = [
            (
                "connection",
                "base-1",
                json!({"name": "base", "state": "enabled", "createdAt": 5}),
            ),
            (
                "sourceConnection",
                "source-1",
                json!({"name": "source", "baseConnectionId": "base-1"}),
            ),
            ("dataSet", "0123456789abcdef01234567", json!({"name": "ds"})),
            (
                "targetConnection",
                "target-1",
                json!({"params": {"dataSetId": "0123456789abcdef01234567"}}),
            ),
            (
                "flow",
                "flow-1",
                json!({"name": "flow", "state": "enabled", "sourceConnectionIds": ["source-1"],
                "targetConnectionIds": ["target-1", "target-gone"],
                "scheduleParams": {"startTime": 1_700_000_000, "frequency": "hour", "interval": 1}}),
            ),
        ];
        for (kind, id, body) in resources {
            sqlx::query(
                "INSERT INTO resources (org_id, sandbox_name, kind, id, body, revision, created_at, updated_at) \
                 VALUES ('ORG', 'prod', ?, ?, ?, 1, 0, 0)",
            )
            .bind(kind)
            .bind(id)
            .bind(body.to_string())
            .execute(&pool)
            .await
            .unwrap();
        }
        let runs = [
            (
                "run-1",
                1_000,
                "success",
                json!({"trigger": "schedule", "createdAt": 10,
                "metrics": {"durationSummary": {"startedAtUTC": 11, "completedAtUTC": 19},
                            "recordSummary": {"inputRecordCount": 4, "outputRecordCount": 4},
                            "sizeSummary": {"inputBytes": 40, "outputBytes": 90},
                            "fileSummary": {"outputFileCount": 1}},
                "errors": [], "pages": 2}),
            ),
            (
                "run-2",
                2_000,
                "failed",
                json!({"trigger": "schedule", "createdAt": 20,
                "errors": [{"code": "UPSTREAM", "message": "503"}]}),
            ),
            (
                "run-3",
                9_000,
                "pending",
                json!({"trigger": "adhoc", "createdAt": 30, "createdBy": "ME@AdobeID"}),
            ),
        ];
        for (id, window_end, status, body) in runs {
            sqlx::query(
                "INSERT INTO runs (id, org_id, sandbox_name, flow_id, window_end, scheduled_at, status, body) \
                 VALUES (?, 'ORG', 'prod', 'flow-1', ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(window_end)
            .bind(window_end)
            .bind(status)
            .bind(body.to_string())
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
    }

    #[tokio::test]
    async fn a_version_2_database_migrates_with_its_references_runs_and_schedules() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flowd.sqlite");
        version_2_database(&path).await;
        let store = SqliteStore::open_file(&path).await.unwrap();
        let scope = Scope {
            org_id: "ORG".into(),
            sandbox_name: "prod".into(),
        };
        assert_eq!(
            store
                .delete_resource(&scope, ResourceKind::Connection, "base-1")
                .await
                .unwrap(),
            DeleteOutcome::Referenced(vec![(ResourceKind::SourceConnection, "source-1".into())]),
            "references found in bodies became edges"
        );
        assert!(matches!(
            store
                .delete_resource(&scope, ResourceKind::Dataset, "0123456789abcdef01234567")
                .await
                .unwrap(),
            DeleteOutcome::Referenced(_)
        ));
        assert!(
            matches!(
                store
                    .delete_resource(&scope, ResourceKind::TargetConnection, "target-1")
                    .await
                    .unwrap(),
                DeleteOutcome::Referenced(_)
            ),
            "a reference to something that is gone was left out, the others kept"
        );
        let by_name = ListQuery {
            filters: vec![IndexedFilter {
                field: IndexedField::Name,
                op: FilterOp::In,
                values: vec![FilterValue::Text("base".into())],
            }],
            ..ListQuery::default()
        };
        assert_eq!(
            store
                .list_resources(&scope, ResourceKind::Connection, &by_name)
                .await
                .unwrap()
                .len(),
            1,
            "indexed columns were filled from the documents"
        );
        let first = store.get_run(&scope, "run-1").await.unwrap().unwrap();
        assert_eq!(first.trigger, RunTrigger::Scheduled);
        let metrics = first.metrics.unwrap();
        assert_eq!(
            (
                metrics.started_at,
                metrics.completed_at,
                metrics.pages,
                metrics.output_records,
                metrics.output_bytes
            ),
            (11, 19, 2, 4, 90)
        );
        assert_eq!(
            metrics.failed_records, 0,
            "runs finished before the count existed rejected nothing"
        );
        assert_eq!(first.created_at, 10);
        let failed = store.get_run(&scope, "run-2").await.unwrap().unwrap();
        assert_eq!(failed.status, RunStatus::Failed);
        assert_eq!(failed.error.unwrap().code, "UPSTREAM");
        let adhoc = store.get_run(&scope, "run-3").await.unwrap().unwrap();
        assert_eq!(adhoc.trigger, RunTrigger::Adhoc);
        assert_eq!(adhoc.created_by.as_deref(), Some("ME@AdobeID"));
        let all = store
            .list_runs(&scope, &RunFilter::default(), &ListQuery::default())
            .await
            .unwrap();
        assert_eq!(all.len(), 3);
        let schedule = store
            .flow_schedule(&scope, "flow-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                schedule.enabled,
                schedule.last_window_end,
                schedule.waiting_for_run.as_deref()
            ),
            (true, Some(2_000), Some("run-2")),
            "the flow waits for its failed scheduled run; the ad hoc run does not count"
        );
        assert_eq!(store.due_flows(i64::MAX, 10).await.unwrap().len(), 0);
        assert_eq!(store.integrity_check().await.unwrap(), ["ok"]);
    }
}
