//! Sandboxes and resource documents: each write also maintains the document's indexed
//! columns, its reference edges (checked to exist in the same transaction) and, for flows, its
//! schedule row.

use async_trait::async_trait;
use serde_json::Value;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::{SqliteStore, Transaction, is_unique_violation};
use crate::model::{
    DeleteOutcome, EnsuredSandbox, ReplaceOutcome, ResourceWrite, Sandbox, ScheduleWrite, Scope,
    StoredResource,
};
use crate::query::ListQuery;
use crate::sql::IndexedColumns;
use crate::sql::listing::{order_by, push_conditions, push_order_and_limit, resource_column};
use crate::sql::rows::{resource_from_row, resources_from_json};
use crate::{ResourceKind, ResourceRef, ResourceStore, SandboxSeeder, StoreError};

async fn insert_row(
    transaction: &mut Transaction,
    scope: &Scope,
    kind: ResourceKind,
    id: &str,
    body: &Value,
) -> Result<i64, StoreError> {
    let columns = IndexedColumns::of(body);
    let now = flowd_model::time::now_millis();
    let result = sqlx::query(
        "INSERT INTO resources (org_id, sandbox_name, kind, id, body, revision, created_at, \
         updated_at, name, state, doc_created_at, doc_updated_at) \
         VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&scope.org_id)
    .bind(&scope.sandbox_name)
    .bind(kind.as_str())
    .bind(id)
    .bind(body.to_string())
    .bind(now)
    .bind(now)
    .bind(columns.name)
    .bind(columns.state)
    .bind(columns.created_at)
    .bind(columns.updated_at)
    .execute(&mut **transaction)
    .await;
    match result {
        Ok(done) => Ok(done.last_insert_rowid()),
        Err(error) if is_unique_violation(&error) => {
            Err(StoreError::AlreadyExists { id: id.to_owned() })
        }
        Err(error) => Err(error.into()),
    }
}

/// Replaces the edges from `kind`/`id`, each target checked to exist in the scope.
async fn write_references(
    transaction: &mut Transaction,
    scope: &Scope,
    kind: ResourceKind,
    id: &str,
    references: &[ResourceRef],
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM resource_refs WHERE org_id = ? AND sandbox_name = ? AND from_kind = ? \
         AND from_id = ?",
    )
    .bind(&scope.org_id)
    .bind(&scope.sandbox_name)
    .bind(kind.as_str())
    .bind(id)
    .execute(&mut **transaction)
    .await?;
    for reference in references {
        let inserted = sqlx::query(
            "INSERT OR IGNORE INTO resource_refs \
             (org_id, sandbox_name, from_kind, from_id, to_kind, to_id) \
             SELECT ?, ?, ?, ?, kind, id FROM resources \
             WHERE org_id = ? AND sandbox_name = ? AND kind = ? AND id = ?",
        )
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(kind.as_str())
        .bind(id)
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(reference.kind.as_str())
        .bind(&reference.id)
        .execute(&mut **transaction)
        .await?
        .rows_affected();
        if inserted == 0 {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM resources WHERE org_id = ? AND sandbox_name = ? AND kind = ? \
                 AND id = ?",
            )
            .bind(&scope.org_id)
            .bind(&scope.sandbox_name)
            .bind(reference.kind.as_str())
            .bind(&reference.id)
            .fetch_optional(&mut **transaction)
            .await?;
            // Zero rows with an existing target means a duplicate edge (the same reference
            // twice), which is fine.
            if exists.is_none() {
                return Err(StoreError::MissingReference {
                    kind: reference.kind,
                    id: reference.id.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Creates or updates a flow's schedule row; the planner's state (last window, awaited run)
/// is kept and the revision moves, so a planner decision taken on the old row is refused.
async fn write_schedule(
    transaction: &mut Transaction,
    scope: &Scope,
    flow_id: &str,
    schedule: ScheduleWrite,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO flow_schedules (org_id, sandbox_name, flow_id, enabled, next_due_at, \
         revision) VALUES (?, ?, ?, ?, ?, 1) \
         ON CONFLICT (org_id, sandbox_name, flow_id) DO UPDATE SET \
         enabled = excluded.enabled, next_due_at = excluded.next_due_at, \
         revision = flow_schedules.revision + 1",
    )
    .bind(&scope.org_id)
    .bind(&scope.sandbox_name)
    .bind(flow_id)
    .bind(schedule.enabled)
    .bind(schedule.due_hint)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

async fn write_extras(
    transaction: &mut Transaction,
    scope: &Scope,
    kind: ResourceKind,
    id: &str,
    write: &ResourceWrite<'_>,
) -> Result<(), StoreError> {
    if let Some(references) = write.references {
        write_references(transaction, scope, kind, id, references).await?;
    }
    if let Some(schedule) = write.schedule {
        write_schedule(transaction, scope, id, schedule).await?;
    }
    Ok(())
}

fn new_sandbox_id() -> String {
    flowd_model::ids::new_resource_id()
}

#[async_trait]
impl ResourceStore for SqliteStore {
    async fn ensure_sandbox(
        &self,
        org_id: &str,
        sandbox_name: &str,
        seeder: &SandboxSeeder<'_>,
    ) -> Result<EnsuredSandbox, StoreError> {
        let sandbox = |id: String, created: bool| EnsuredSandbox {
            sandbox: Sandbox {
                id,
                org_id: org_id.to_owned(),
                name: sandbox_name.to_owned(),
            },
            created,
        };
        let find = "SELECT id FROM sandboxes WHERE org_id = ? AND name = ?";
        let existing: Option<String> = sqlx::query_scalar(find)
            .bind(org_id)
            .bind(sandbox_name)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(id) = existing {
            return Ok(sandbox(id, false));
        }
        let mut transaction = self.begin_write().await?;
        // Another request may have created it between the read and the lock.
        let raced: Option<String> = sqlx::query_scalar(find)
            .bind(org_id)
            .bind(sandbox_name)
            .fetch_optional(&mut *transaction)
            .await?;
        let (sandbox_id, created) = match raced {
            Some(id) => (id, false),
            None => {
                let sandbox_id = new_sandbox_id();
                sqlx::query(
                    "INSERT INTO sandboxes (id, org_id, name, created_at) VALUES (?, ?, ?, ?)",
                )
                .bind(&sandbox_id)
                .bind(org_id)
                .bind(sandbox_name)
                .bind(flowd_model::time::now_millis())
                .execute(&mut *transaction)
                .await?;
                let scope = Scope {
                    org_id: org_id.to_owned(),
                    sandbox_name: sandbox_name.to_owned(),
                };
                for seed in seeder(&sandbox_id) {
                    insert_row(&mut transaction, &scope, seed.kind, &seed.id, &seed.body).await?;
                    write_references(
                        &mut transaction,
                        &scope,
                        seed.kind,
                        &seed.id,
                        &seed.references,
                    )
                    .await?;
                }
                (sandbox_id, true)
            }
        };
        transaction.commit().await?;
        Ok(sandbox(sandbox_id, created))
    }

    async fn list_sandboxes(&self, org_id: &str) -> Result<Vec<Sandbox>, StoreError> {
        let rows = sqlx::query(r#"SELECT id, name FROM sandboxes WHERE org_id = ? ORDER BY name"#)
            .bind(org_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|row| Sandbox {
                id: row.get("id"),
                org_id: org_id.to_owned(),
                name: row.get("name"),
            })
            .collect())
    }

    async fn insert_resource(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
        write: ResourceWrite<'_>,
    ) -> Result<StoredResource, StoreError> {
        let mut transaction = self.begin_write().await?;
        let position = insert_row(&mut transaction, scope, kind, id, write.body).await?;
        write_extras(&mut transaction, scope, kind, id, &write).await?;
        transaction.commit().await?;
        Ok(StoredResource {
            id: id.to_owned(),
            body: write.body.clone(),
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
        query: &ListQuery,
    ) -> Result<Vec<StoredResource>, StoreError> {
        // One row holding the page as a JSON array: sqlx hands SQLite's rows to the async
        // side one at a time across threads, which cost more than the rows themselves.
        let order = order_by(query, resource_column, "seq");
        let mut builder: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT json_group_array(json_array(seq, id, revision, body){order}) \
             FROM (SELECT seq, id, revision, body, name, state, doc_created_at, doc_updated_at \
             FROM resources WHERE org_id = "
        ));
        builder.push_bind(scope.org_id.clone());
        builder.push(" AND sandbox_name = ");
        builder.push_bind(scope.sandbox_name.clone());
        builder.push(" AND kind = ");
        builder.push_bind(kind.as_str());
        push_conditions(&mut builder, query, resource_column);
        push_order_and_limit(&mut builder, query, resource_column, "seq");
        builder.push(")");
        let page: String = builder.build_query_scalar().fetch_one(&self.pool).await?;
        resources_from_json(&page, kind)
    }

    async fn count_resources(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        query: &ListQuery,
    ) -> Result<u64, StoreError> {
        let mut builder: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT COUNT(*) FROM resources WHERE org_id = ");
        builder.push_bind(scope.org_id.clone());
        builder.push(" AND sandbox_name = ");
        builder.push_bind(scope.sandbox_name.clone());
        builder.push(" AND kind = ");
        builder.push_bind(kind.as_str());
        let filters_only = ListQuery {
            filters: query.filters.clone(),
            ..ListQuery::default()
        };
        push_conditions(&mut builder, &filters_only, resource_column);
        let count: i64 = builder.build_query_scalar().fetch_one(&self.pool).await?;
        Ok(count as u64)
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
        write: ResourceWrite<'_>,
        expected_revision: Option<i64>,
    ) -> Result<ReplaceOutcome, StoreError> {
        let mut transaction = self.begin_write().await?;
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
        let columns = IndexedColumns::of(write.body);
        sqlx::query(
            "UPDATE resources SET body = ?, revision = ?, updated_at = ?, name = ?, state = ?, \
             doc_created_at = ?, doc_updated_at = ? \
             WHERE org_id = ? AND sandbox_name = ? AND kind = ? AND id = ?",
        )
        .bind(write.body.to_string())
        .bind(revision)
        .bind(flowd_model::time::now_millis())
        .bind(columns.name)
        .bind(columns.state)
        .bind(columns.created_at)
        .bind(columns.updated_at)
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(kind.as_str())
        .bind(id)
        .execute(&mut *transaction)
        .await?;
        write_extras(&mut transaction, scope, kind, id, &write).await?;
        transaction.commit().await?;
        Ok(ReplaceOutcome::Replaced(StoredResource {
            id: id.to_owned(),
            body: write.body.clone(),
            revision,
            position,
        }))
    }

    async fn delete_resource(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
    ) -> Result<DeleteOutcome, StoreError> {
        let mut transaction = self.begin_write().await?;
        let referencing: Vec<(String, String)> = sqlx::query_as(
            "SELECT e.from_kind, e.from_id FROM resource_refs AS e \
             JOIN resources AS r ON r.org_id = e.org_id AND r.sandbox_name = e.sandbox_name \
                AND r.kind = e.from_kind AND r.id = e.from_id \
             WHERE e.org_id = ? AND e.sandbox_name = ? AND e.to_kind = ? AND e.to_id = ? \
             ORDER BY r.seq",
        )
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(kind.as_str())
        .bind(id)
        .fetch_all(&mut *transaction)
        .await?;
        if !referencing.is_empty() {
            return Ok(DeleteOutcome::Referenced(
                referencing
                    .into_iter()
                    .filter_map(|(from_kind, from_id)| {
                        ResourceKind::from_stored_name(&from_kind).map(|kind| (kind, from_id))
                    })
                    .collect(),
            ));
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
        if deleted == 1 && kind == ResourceKind::Dataset {
            // Its files are removed by a process that writes datasets (see `deleted_datasets`).
            sqlx::query(
                "INSERT OR IGNORE INTO deleted_datasets (dataset_id, deleted_at) VALUES (?, ?)",
            )
            .bind(id)
            .bind(flowd_model::time::now_millis())
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(if deleted == 0 {
            DeleteOutcome::NotFound
        } else {
            DeleteOutcome::Deleted
        })
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
