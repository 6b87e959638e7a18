//! Sandboxes and resource documents on PostgreSQL: each write holds its scope's lock and also
//! maintains the document's indexed columns, its reference edges (checked to exist in the same
//! transaction) and, for flows, its schedule row.

use async_trait::async_trait;
use serde_json::Value;
use sqlx::{Postgres, QueryBuilder, Row};

use super::{PostgresStore, Transaction, is_foreign_key_violation, is_unique_violation};
use crate::model::{
    DeleteOutcome, EnsuredSandbox, ReplaceOutcome, ResourceWrite, Sandbox, ScheduleWrite, Scope,
    StoredResource,
};
use crate::query::ListQuery;
use crate::sql::IndexedColumns;
use crate::sql::listing::{order_by, push_conditions, push_order_and_limit, resource_column};
use crate::sql::rows::{resource_from_row, resources_from_json};
use crate::{ResourceKind, ResourceRef, ResourceStore, SandboxSeeder, StoreError};

/// PostgreSQL text cannot hold U+0000: an indexed copy that has one is left empty (the
/// document itself, stored as JSON text, keeps it escaped).
fn indexable(text: Option<&str>) -> Option<&str> {
    text.filter(|text| !text.contains('\0'))
}

async fn insert_row(
    transaction: &mut Transaction,
    scope: &Scope,
    kind: ResourceKind,
    id: &str,
    body: &Value,
) -> Result<i64, StoreError> {
    let columns = IndexedColumns::of(body);
    let now = flowd_model::time::now_millis();
    let result = sqlx::query_scalar(
        "INSERT INTO resources (org_id, sandbox_name, kind, id, body, revision, created_at, \
         updated_at, name, state, doc_created_at, doc_updated_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $6, $7, $8, $9, $10) \
         ON CONFLICT (org_id, sandbox_name, kind, id) DO NOTHING RETURNING seq",
    )
    .bind(&scope.org_id)
    .bind(&scope.sandbox_name)
    .bind(kind.as_str())
    .bind(id)
    .bind(body.to_string())
    .bind(now)
    .bind(indexable(columns.name))
    .bind(indexable(columns.state))
    .bind(columns.created_at)
    .bind(columns.updated_at)
    .fetch_optional(&mut **transaction)
    .await;
    match result {
        Ok(Some(position)) => Ok(position),
        Ok(None) => Err(StoreError::AlreadyExists { id: id.to_owned() }),
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
        "DELETE FROM resource_refs WHERE org_id = $1 AND sandbox_name = $2 AND from_kind = $3 \
         AND from_id = $4",
    )
    .bind(&scope.org_id)
    .bind(&scope.sandbox_name)
    .bind(kind.as_str())
    .bind(id)
    .execute(&mut **transaction)
    .await?;
    for reference in references {
        // The scope lock keeps the target from being deleted before this commits; the foreign
        // key would refuse a dangling edge anyway.
        let target_exists: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM resources WHERE org_id = $1 AND sandbox_name = $2 AND kind = $3 \
             AND id = $4",
        )
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(reference.kind.as_str())
        .bind(&reference.id)
        .fetch_optional(&mut **transaction)
        .await?;
        if target_exists.is_none() {
            return Err(StoreError::MissingReference {
                kind: reference.kind,
                id: reference.id.clone(),
            });
        }
        let inserted = sqlx::query(
            "INSERT INTO resource_refs (org_id, sandbox_name, from_kind, from_id, to_kind, to_id) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(&scope.org_id)
        .bind(&scope.sandbox_name)
        .bind(kind.as_str())
        .bind(id)
        .bind(reference.kind.as_str())
        .bind(&reference.id)
        .execute(&mut **transaction)
        .await;
        match inserted {
            Ok(_) => {}
            Err(error) if is_foreign_key_violation(&error) => {
                return Err(StoreError::MissingReference {
                    kind: reference.kind,
                    id: reference.id.clone(),
                });
            }
            Err(error) => return Err(error.into()),
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
         revision) VALUES ($1, $2, $3, $4, $5, 1) \
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

/// The scope's resources of `kind` as one `[seq, id, revision, body]` JSON array per row,
/// filtered, ordered and limited by `query`.
fn page_query(scope: &Scope, kind: ResourceKind, query: &ListQuery) -> QueryBuilder<Postgres> {
    let order = order_by(query, resource_column, "seq");
    let mut builder: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT COALESCE(json_agg(json_build_array(seq, id, revision, body){order}), '[]')::text \
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
    builder.push(") AS page");
    builder
}

#[async_trait]
impl ResourceStore for PostgresStore {
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
        let find = "SELECT id FROM sandboxes WHERE org_id = $1 AND name = $2";
        let existing: Option<String> = sqlx::query_scalar(find)
            .bind(org_id)
            .bind(sandbox_name)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(id) = existing {
            return Ok(sandbox(id, false));
        }
        let scope = Scope {
            org_id: org_id.to_owned(),
            sandbox_name: sandbox_name.to_owned(),
        };
        let mut transaction = self.begin_scope_write(&scope).await?;
        // Another request (or process) may have created it between the read and the lock.
        let raced: Option<String> = sqlx::query_scalar(find)
            .bind(org_id)
            .bind(sandbox_name)
            .fetch_optional(&mut *transaction)
            .await?;
        let (sandbox_id, created) = match raced {
            Some(id) => (id, false),
            None => {
                let sandbox_id = flowd_model::ids::new_resource_id();
                sqlx::query(
                    "INSERT INTO sandboxes (id, org_id, name, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&sandbox_id)
                .bind(org_id)
                .bind(sandbox_name)
                .bind(flowd_model::time::now_millis())
                .execute(&mut *transaction)
                .await?;
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
        let rows = sqlx::query(
            r#"SELECT id, name FROM sandboxes WHERE org_id = $1 ORDER BY name COLLATE "C""#,
        )
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
        let mut transaction = self.begin_scope_write(scope).await?;
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
        if id.contains('\0') {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT seq, id, body, revision FROM resources \
             WHERE org_id = $1 AND sandbox_name = $2 AND kind = $3 AND id = $4",
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
        let mut builder = page_query(scope, kind, query);
        let page: String = builder.build_query_scalar().fetch_one(&self.pool).await?;
        resources_from_json(&page, kind)
    }

    async fn count_resources(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        query: &ListQuery,
    ) -> Result<u64, StoreError> {
        let mut builder: QueryBuilder<Postgres> =
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
             WHERE kind = $1 ORDER BY seq",
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
        if id.contains('\0') {
            return Ok(ReplaceOutcome::NotFound);
        }
        let mut transaction = self.begin_scope_write(scope).await?;
        let current: Option<(i64, i64)> = sqlx::query_as(
            "SELECT revision, seq FROM resources \
             WHERE org_id = $1 AND sandbox_name = $2 AND kind = $3 AND id = $4",
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
            "UPDATE resources SET body = $1, revision = $2, updated_at = $3, name = $4, \
             state = $5, doc_created_at = $6, doc_updated_at = $7 \
             WHERE org_id = $8 AND sandbox_name = $9 AND kind = $10 AND id = $11",
        )
        .bind(write.body.to_string())
        .bind(revision)
        .bind(flowd_model::time::now_millis())
        .bind(indexable(columns.name))
        .bind(indexable(columns.state))
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
        if id.contains('\0') {
            return Ok(DeleteOutcome::NotFound);
        }
        let mut transaction = self.begin_scope_write(scope).await?;
        let referencing: Vec<(String, String)> = sqlx::query_as(
            "SELECT e.from_kind, e.from_id FROM resource_refs AS e \
             JOIN resources AS r ON r.org_id = e.org_id AND r.sandbox_name = e.sandbox_name \
                AND r.kind = e.from_kind AND r.id = e.from_id \
             WHERE e.org_id = $1 AND e.sandbox_name = $2 AND e.to_kind = $3 AND e.to_id = $4 \
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
            "DELETE FROM resources WHERE org_id = $1 AND sandbox_name = $2 AND kind = $3 \
             AND id = $4",
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
                "INSERT INTO deleted_datasets (dataset_id, deleted_at) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
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
