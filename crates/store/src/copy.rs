//! Copying a whole store into an empty one of either backend (`flowd store copy`): moving a
//! single-node install onto PostgreSQL, or a PostgreSQL store back into one file.
//!
//! Both backends hold the same tables with the same columns (PostgreSQL's first migration is
//! the schema SQLite reached), so the copy goes table by table in reference order, row by row
//! as JSON arrays of the columns, inserted in chunks inside one transaction of the target: the
//! target is either complete or untouched. Positions (`seq`) are kept, so lists page and sort
//! exactly as before, and PostgreSQL's sequences are moved past them. Memory is bounded by the
//! chunk, not by the history.
//!
//! The console's sign-in sessions (`sessions`) are not copied: they last hours and hold no
//! data, so after the move a user signs in again.

use futures::TryStreamExt;
use serde_json::Value;
use sqlx::{Postgres, QueryBuilder, Sqlite};

use crate::{PostgresStore, SqliteStore, StoreError, StoreUrl};

/// How a column is bound on the target.
#[derive(Clone, Copy)]
enum Type {
    Text,
    Integer,
    /// A boolean (an integer 0/1 on SQLite).
    Boolean,
}

use Type::{Boolean, Integer, Text};

/// Every table with its columns, in the order that satisfies the foreign keys.
const TABLES: &[(&str, &[(&str, Type)])] = &[
    (
        "credentials",
        &[
            ("id", Text),
            ("org_id", Text),
            ("api_key", Text),
            ("token_hash", Text),
            ("created_at", Integer),
        ],
    ),
    (
        "sandboxes",
        &[
            ("id", Text),
            ("org_id", Text),
            ("name", Text),
            ("created_at", Integer),
        ],
    ),
    (
        "resources",
        &[
            ("seq", Integer),
            ("org_id", Text),
            ("sandbox_name", Text),
            ("kind", Text),
            ("id", Text),
            ("body", Text),
            ("revision", Integer),
            ("created_at", Integer),
            ("updated_at", Integer),
            ("name", Text),
            ("state", Text),
            ("doc_created_at", Integer),
            ("doc_updated_at", Integer),
        ],
    ),
    (
        "resource_refs",
        &[
            ("org_id", Text),
            ("sandbox_name", Text),
            ("from_kind", Text),
            ("from_id", Text),
            ("to_kind", Text),
            ("to_id", Text),
        ],
    ),
    (
        "runs",
        &[
            ("seq", Integer),
            ("id", Text),
            ("org_id", Text),
            ("sandbox_name", Text),
            ("flow_id", Text),
            ("trigger", Text),
            ("window_start", Integer),
            ("window_end", Integer),
            ("scheduled_at", Integer),
            ("status", Text),
            ("attempts", Integer),
            ("lease_owner", Text),
            ("lease_expires_at", Integer),
            ("created_at", Integer),
            ("created_by", Text),
            ("created_client", Text),
            ("updated_at", Integer),
            ("started_at", Integer),
            ("completed_at", Integer),
            ("pages", Integer),
            ("input_records", Integer),
            ("input_bytes", Integer),
            ("output_records", Integer),
            ("output_bytes", Integer),
            ("output_files", Integer),
            ("error_code", Text),
            ("error_message", Text),
            ("warnings", Text),
            ("failed_records", Integer),
            ("progress_pages", Integer),
            ("progress_records", Integer),
            ("progress_at", Integer),
        ],
    ),
    (
        "flow_schedules",
        &[
            ("org_id", Text),
            ("sandbox_name", Text),
            ("flow_id", Text),
            ("enabled", Boolean),
            ("next_due_at", Integer),
            ("last_window_end", Integer),
            ("blocked_by_run", Text),
            ("revision", Integer),
        ],
    ),
    (
        "dataset_batches",
        &[
            ("org_id", Text),
            ("sandbox_name", Text),
            ("dataset_id", Text),
            ("batch_id", Text),
            ("run_id", Text),
            ("record_count", Integer),
            ("bytes", Integer),
            ("file_count", Integer),
            ("committed_at", Integer),
            ("created_at", Integer),
            ("started_at", Integer),
            ("completed_at", Integer),
            ("input_records", Integer),
        ],
    ),
    (
        "dataset_stats",
        &[
            ("org_id", Text),
            ("sandbox_name", Text),
            ("dataset_id", Text),
            ("batch_count", Integer),
            ("record_count", Integer),
            ("bytes", Integer),
            ("schema", Text),
        ],
    ),
    ("store_settings", &[("name", Text), ("value", Text)]),
    (
        "deleted_datasets",
        &[("dataset_id", Text), ("deleted_at", Integer)],
    ),
];

/// Rows per insert statement (well under both databases' parameter limits).
const CHUNK: usize = 500;

/// What a copy moved, per table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// `(table, rows)` in copy order.
    pub tables: Vec<(&'static str, u64)>,
}

/// A store a copy reads from or writes into.
pub enum CopyEnd<'a> {
    Sqlite(&'a SqliteStore),
    Postgres(&'a PostgresStore),
}

fn columns_of(columns: &[(&str, Type)]) -> String {
    columns
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn corrupt(table: &str, source: serde_json::Error) -> StoreError {
    StoreError::CorruptDocument {
        id: format!("a row of {table}"),
        source,
    }
}

/// Opens the stores `from` and `to` name (the source must exist; the target is created and
/// migrated if needed) and copies `from` into `to` with [`copy_store`].
pub async fn copy_between(from: &StoreUrl, to: &StoreUrl) -> Result<CopyReport, StoreError> {
    if from == to {
        return Err(StoreError::InvalidUrl {
            shown: to.shown(),
            reason: "is the store being copied".to_owned(),
        });
    }
    if let StoreUrl::Sqlite(path) = from
        && !path.is_file()
    {
        return Err(StoreError::InvalidUrl {
            shown: from.shown(),
            reason: "names no existing database file".to_owned(),
        });
    }
    let source = Opened::open(from).await?;
    let target = Opened::open(to).await?;
    let report = copy_store(source.end(), target.end()).await;
    source.close().await;
    target.close().await;
    report
}

/// A concrete store opened for a copy.
enum Opened {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Opened {
    async fn open(url: &StoreUrl) -> Result<Opened, StoreError> {
        Ok(match url {
            StoreUrl::Sqlite(path) => {
                if let Some(parent) = path
                    .parent()
                    .filter(|parent| !parent.as_os_str().is_empty())
                {
                    crate::sqlite::prepare_data_dir(parent)?;
                }
                Opened::Sqlite(SqliteStore::open_file(path).await?)
            }
            StoreUrl::Postgres(text) => Opened::Postgres(PostgresStore::connect(text).await?),
        })
    }

    fn end(&self) -> CopyEnd<'_> {
        match self {
            Opened::Sqlite(store) => CopyEnd::Sqlite(store),
            Opened::Postgres(store) => CopyEnd::Postgres(store),
        }
    }

    async fn close(self) {
        match self {
            Opened::Sqlite(store) => store.pool().close().await,
            Opened::Postgres(store) => store.pool().close().await,
        }
    }
}

/// Copies every row of `from` into `to`, which must be empty (no credential, sandbox,
/// resource or run): [`StoreError::TargetNotEmpty`] otherwise, with nothing written.
pub async fn copy_store(from: CopyEnd<'_>, to: CopyEnd<'_>) -> Result<CopyReport, StoreError> {
    match to {
        CopyEnd::Postgres(target) => copy_into_postgres(&from, target).await,
        CopyEnd::Sqlite(target) => copy_into_sqlite(&from, target).await,
    }
}

/// Whether any of the tables that say "this store is in use" has a row, on a connection
/// of the target's transaction.
const IN_USE: &str = "SELECT (SELECT COUNT(*) FROM credentials) + (SELECT COUNT(*) FROM sandboxes) \
     + (SELECT COUNT(*) FROM resources) + (SELECT COUNT(*) FROM runs)";

/// Streams `table`'s rows from `from` as JSON arrays, `CHUNK` at a time, into `sink`.
async fn each_chunk<F, Fut>(
    from: &CopyEnd<'_>,
    table: &'static str,
    columns: &[(&str, Type)],
    mut sink: F,
) -> Result<u64, StoreError>
where
    F: FnMut(Vec<Vec<Value>>) -> Fut,
    Fut: std::future::Future<Output = Result<(), StoreError>>,
{
    let list = columns_of(columns);
    let order = if columns.iter().any(|(name, _)| *name == "seq") {
        " ORDER BY seq"
    } else {
        ""
    };
    let mut copied = 0;
    let mut chunk = Vec::with_capacity(CHUNK);
    macro_rules! drain {
        ($stream:expr) => {{
            let mut stream = $stream;
            while let Some(text) = stream.try_next().await? {
                let row: Vec<Value> =
                    serde_json::from_str(&text).map_err(|source| corrupt(table, source))?;
                chunk.push(row);
                if chunk.len() == CHUNK {
                    copied += chunk.len() as u64;
                    sink(std::mem::take(&mut chunk)).await?;
                }
            }
        }};
    }
    match from {
        CopyEnd::Sqlite(store) => {
            let sql = format!("SELECT json_array({list}) FROM {table}{order}");
            drain!(sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).fetch(store.pool()));
        }
        CopyEnd::Postgres(store) => {
            let sql = format!("SELECT json_build_array({list})::text FROM {table}{order}");
            drain!(sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).fetch(store.pool()));
        }
    }
    if !chunk.is_empty() {
        copied += chunk.len() as u64;
        sink(chunk).await?;
    }
    Ok(copied)
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Bool(flag) => Some(i64::from(*flag)),
        other => other.as_i64(),
    }
}

fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::Null => None,
        other => other.as_i64().map(|number| number != 0),
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

async fn copy_into_postgres(
    from: &CopyEnd<'_>,
    target: &PostgresStore,
) -> Result<CopyReport, StoreError> {
    let transaction = std::sync::Arc::new(tokio::sync::Mutex::new(target.pool().begin().await?));
    let in_use: i64 = sqlx::query_scalar(IN_USE)
        .fetch_one(&mut **transaction.lock().await)
        .await?;
    if in_use > 0 {
        return Err(StoreError::TargetNotEmpty);
    }
    let mut report = CopyReport::default();
    for &(table, columns) in TABLES {
        let has_identity = columns.iter().any(|(name, _)| *name == "seq");
        let copied = each_chunk(from, table, columns, |rows| {
            let transaction = transaction.clone();
            async move {
                let mut builder: QueryBuilder<Postgres> = QueryBuilder::new(format!(
                    "INSERT INTO {table} ({}){} ",
                    columns_of(columns),
                    if has_identity {
                        " OVERRIDING SYSTEM VALUE"
                    } else {
                        ""
                    }
                ));
                builder.push_values(rows, |mut values, row| {
                    for ((name, kind), value) in columns.iter().zip(row.iter()) {
                        match kind {
                            // PostgreSQL text cannot hold U+0000: an indexed copy of a
                            // document field that has one is left empty, as the PostgreSQL
                            // backend writes it (the document keeps it, escaped).
                            Text if matches!(*name, "name" | "state") => {
                                values.push_bind(text(value).filter(|text| !text.contains('\0')))
                            }
                            Text => values.push_bind(text(value)),
                            Integer => values.push_bind(integer(value)),
                            Boolean => values.push_bind(boolean(value)),
                        };
                    }
                });
                builder
                    .build()
                    .execute(&mut **transaction.lock().await)
                    .await?;
                Ok(())
            }
        })
        .await?;
        if has_identity {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'seq'), \
                 GREATEST(COALESCE((SELECT MAX(seq) FROM {table}), 0), 1), \
                 (SELECT MAX(seq) FROM {table}) IS NOT NULL)"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut **transaction.lock().await)
                .await?;
        }
        report.tables.push((table, copied));
    }
    let transaction = std::sync::Arc::into_inner(transaction)
        .expect("no chunk holds the transaction any more")
        .into_inner();
    transaction.commit().await?;
    Ok(report)
}

async fn copy_into_sqlite(
    from: &CopyEnd<'_>,
    target: &SqliteStore,
) -> Result<CopyReport, StoreError> {
    let transaction = std::sync::Arc::new(tokio::sync::Mutex::new(
        target.pool().begin_with("BEGIN IMMEDIATE").await?,
    ));
    let in_use: i64 = sqlx::query_scalar(IN_USE)
        .fetch_one(&mut **transaction.lock().await)
        .await?;
    if in_use > 0 {
        return Err(StoreError::TargetNotEmpty);
    }
    let mut report = CopyReport::default();
    for &(table, columns) in TABLES {
        let copied = each_chunk(from, table, columns, |rows| {
            let transaction = transaction.clone();
            async move {
                let mut builder: QueryBuilder<Sqlite> =
                    QueryBuilder::new(format!("INSERT INTO {table} ({}) ", columns_of(columns)));
                builder.push_values(rows, |mut values, row| {
                    for ((_, kind), value) in columns.iter().zip(row.iter()) {
                        match kind {
                            Text => values.push_bind(text(value)),
                            Integer | Boolean => values.push_bind(integer(value)),
                        };
                    }
                });
                builder
                    .build()
                    .execute(&mut **transaction.lock().await)
                    .await?;
                Ok(())
            }
        })
        .await?;
        report.tables.push((table, copied));
    }
    let transaction = std::sync::Arc::into_inner(transaction)
        .expect("no chunk holds the transaction any more")
        .into_inner();
    transaction.commit().await?;
    Ok(report)
}
