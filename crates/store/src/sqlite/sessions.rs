//! The console's sessions on SQLite: one row per session, found by the SHA-256 of its cookie,
//! written in `BEGIN IMMEDIATE` transactions like every other write.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use crate::model::Session;
use crate::{SessionStore, StoreError};

fn session_of_row(row: &SqliteRow) -> Session {
    Session {
        id_hash: row.get("id_hash"),
        credential_id: row.get("credential_id"),
        org_id: row.get("org_id"),
        api_key: row.get("api_key"),
        csrf_token: row.get("csrf_token"),
        created_at: row.get("created_at"),
        expires_at: row.get("expires_at"),
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, credential_id, org_id, api_key, csrf_token, \
             created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&session.id_hash)
        .bind(&session.credential_id)
        .bind(&session.org_id)
        .bind(&session.api_key)
        .bind(&session.csrf_token)
        .bind(session.created_at)
        .bind(session.expires_at)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn find_session(
        &self,
        id_hash: &str,
        now_ms: i64,
    ) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(
            "SELECT id_hash, credential_id, org_id, api_key, csrf_token, created_at, expires_at \
             FROM sessions WHERE id_hash = ? AND expires_at > ?",
        )
        .bind(id_hash)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(session_of_row))
    }

    async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        let mut transaction = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(id_hash)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        transaction.commit().await?;
        Ok(deleted == 1)
    }

    async fn purge_expired_sessions(&self, now_ms: i64) -> Result<u64, StoreError> {
        let mut transaction = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        transaction.commit().await?;
        Ok(deleted)
    }
}
