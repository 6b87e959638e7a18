//! SQL for committed batches, the same on every backend (the query builder writes each one's
//! placeholders): a page of a [`BatchQuery`], one batch by id, and the newest batch of each of
//! some datasets. Every statement is scoped by org and sandbox and answered by an index of
//! `dataset_batches` (by dataset and first commit, by dataset and last commit, by sandbox and
//! first commit, by sandbox and batch id; the primary key orders one dataset's by id).

use sqlx::{ColumnIndex, Database, Decode, QueryBuilder, Row, Type};

use super::listing::ListingDatabase;
use crate::datasets::{BatchOrderField, BatchQuery, BatchRecord};
use crate::model::Scope;

/// The columns a [`BatchRecord`] is read from, in [`batch_from_row`]'s names.
pub(crate) const BATCH_COLUMNS: &str = "dataset_id, batch_id, run_id, record_count, \
     input_records, bytes, file_count, created_at, committed_at, started_at, completed_at";

fn column(field: BatchOrderField) -> &'static str {
    match field {
        BatchOrderField::Created => "created_at",
        BatchOrderField::Updated => "committed_at",
        BatchOrderField::Id => "batch_id",
    }
}

fn push_scope<DB: ListingDatabase>(builder: &mut QueryBuilder<DB>, scope: &Scope) {
    builder.push(" WHERE org_id = ");
    DB::push_text(builder, scope.org_id.clone());
    builder.push(" AND sandbox_name = ");
    DB::push_text(builder, scope.sandbox_name.clone());
}

/// `SELECT` of one page of `query` in `scope`.
pub(crate) fn page_of<DB: ListingDatabase>(scope: &Scope, query: &BatchQuery) -> QueryBuilder<DB> {
    let mut builder = QueryBuilder::new(format!("SELECT {BATCH_COLUMNS} FROM dataset_batches"));
    push_scope(&mut builder, scope);
    if let Some(dataset_id) = &query.dataset_id {
        builder.push(" AND dataset_id = ");
        DB::push_text(&mut builder, dataset_id.clone());
    }
    let mut terms: Vec<String> = query
        .order
        .iter()
        .map(|(field, descending)| {
            let direction = if *descending { "DESC" } else { "ASC" };
            format!("{} {direction}", column(*field))
        })
        .collect();
    if terms.is_empty() {
        terms.push("created_at ASC".to_owned());
    }
    if !query
        .order
        .iter()
        .any(|(field, _)| *field == BatchOrderField::Id)
    {
        terms.push("batch_id ASC".to_owned());
    }
    builder.push(" ORDER BY ");
    builder.push(terms.join(", "));
    builder.push(" LIMIT ");
    DB::push_integer(&mut builder, i64::try_from(query.limit).unwrap_or(i64::MAX));
    builder.push(" OFFSET ");
    DB::push_integer(
        &mut builder,
        i64::try_from(query.offset).unwrap_or(i64::MAX),
    );
    builder
}

/// `SELECT` of the batch `batch_id` in `scope` (of any dataset).
pub(crate) fn one_batch<DB: ListingDatabase>(scope: &Scope, batch_id: &str) -> QueryBuilder<DB> {
    let mut builder = QueryBuilder::new(format!("SELECT {BATCH_COLUMNS} FROM dataset_batches"));
    push_scope(&mut builder, scope);
    builder.push(" AND batch_id = ");
    DB::push_text(&mut builder, batch_id.to_owned());
    // A batch id names one run; should two datasets hold it, the newest commit answers.
    builder.push(" ORDER BY committed_at DESC LIMIT 1");
    builder
}

/// `SELECT` of the newest batch (by first commit, then id) of each of `dataset_ids` that has
/// one: one index seek per dataset.
pub(crate) fn newest_of<DB: ListingDatabase>(
    scope: &Scope,
    dataset_ids: &[String],
) -> QueryBuilder<DB> {
    let mut builder = QueryBuilder::new("");
    for (index, dataset_id) in dataset_ids.iter().enumerate() {
        if index > 0 {
            builder.push(" UNION ALL ");
        }
        builder.push(format!(
            "SELECT * FROM (SELECT {BATCH_COLUMNS} FROM dataset_batches"
        ));
        push_scope(&mut builder, scope);
        builder.push(" AND dataset_id = ");
        DB::push_text(&mut builder, dataset_id.clone());
        builder.push(format!(
            " ORDER BY created_at DESC, batch_id DESC LIMIT 1) AS newest_{index}"
        ));
    }
    builder
}

/// A row of [`BATCH_COLUMNS`].
pub(crate) fn batch_from_row<R: Row>(row: &R) -> BatchRecord
where
    for<'c> &'c str: ColumnIndex<R>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    R::Database: Database,
{
    let count = |value: i64| u64::try_from(value).unwrap_or(0);
    BatchRecord {
        dataset_id: row.get("dataset_id"),
        batch_id: row.get("batch_id"),
        run_id: row.get("run_id"),
        record_count: count(row.get("record_count")),
        input_record_count: row.get::<Option<i64>, _>("input_records").map(count),
        bytes: count(row.get("bytes")),
        file_count: count(row.get("file_count")),
        created_at: row.get("created_at"),
        committed_at: row.get("committed_at"),
        started_at: row.get("started_at"),
        completed_at: row.get("completed_at"),
    }
}
