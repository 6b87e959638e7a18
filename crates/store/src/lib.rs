//! flowd's metadata store: the [`Store`] trait and its embedded SQLite backend.
//!
//! Architecture invariant: this is the only crate that knows SQL. It stores
//! resources as opaque JSON documents scoped by tenant ([`Scope`]: org and
//! sandbox) and knows nothing of their rules, of HTTP or of the network. Every
//! query takes the scope, so a tenant can never read another tenant's rows.

mod error;
mod model;
mod runs;
mod sqlite;

pub use error::StoreError;
pub use model::{
    Credential, DeleteOutcome, NewCredential, Reference, ReplaceOutcome, ResourceKind, Sandbox,
    Scope, SeedResource, StoredResource,
};
pub use runs::{NewRun, RunRecord, RunStatus};
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use serde_json::Value;

/// Builds the built-in resources a sandbox starts with, given its new id.
pub type SandboxSeeder<'a> = dyn Fn(&str) -> Vec<SeedResource> + Send + Sync + 'a;

/// Everything the service persists, behind one trait so that other backends
/// (PostgreSQL) can be added without touching the API.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores a new API credential (the token only as a hash).
    async fn insert_credential(&self, credential: &NewCredential) -> Result<(), StoreError>;

    /// Finds the credential whose access-token hash is `token_hash`.
    async fn find_credential_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<Credential>, StoreError>;

    /// Number of credentials ever created (used to bootstrap the first one).
    async fn count_credentials(&self) -> Result<u64, StoreError>;

    /// Returns the sandbox `(org_id, sandbox_name)`, creating it on first use
    /// together with the resources `seeder` returns, in one transaction.
    async fn ensure_sandbox(
        &self,
        org_id: &str,
        sandbox_name: &str,
        seeder: &SandboxSeeder<'_>,
    ) -> Result<Sandbox, StoreError>;

    /// Inserts a resource. Fails with [`StoreError::AlreadyExists`] when the id
    /// is taken in that scope.
    async fn insert_resource(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
        body: &Value,
    ) -> Result<StoredResource, StoreError>;

    /// Reads one resource of the scope.
    async fn get_resource(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
    ) -> Result<Option<StoredResource>, StoreError>;

    /// Lists the resources of one kind in the scope, oldest first.
    async fn list_resources(
        &self,
        scope: &Scope,
        kind: ResourceKind,
    ) -> Result<Vec<StoredResource>, StoreError>;

    /// Every resource of one kind across all scopes (the scheduler scans
    /// every sandbox's flows), oldest first.
    async fn list_all_resources(
        &self,
        kind: ResourceKind,
    ) -> Result<Vec<(Scope, StoredResource)>, StoreError>;

    /// Replaces a resource's body. With `expected_revision`, the write happens
    /// only if the stored revision still matches (optimistic concurrency).
    async fn replace_resource(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        expected_revision: Option<i64>,
    ) -> Result<ReplaceOutcome, StoreError>;

    /// Enqueues a run. Fails with [`StoreError::AlreadyExists`] when the flow
    /// already has a run for that window end.
    async fn insert_run(&self, run: &NewRun) -> Result<(), StoreError>;

    /// Claims the oldest due run for `worker_id` with a lease of `lease_ms`:
    /// a pending run whose time has come, or a run whose lease expired.
    async fn claim_run(
        &self,
        worker_id: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<RunRecord>, StoreError>;

    /// Extends the lease; `false` when `worker_id` no longer holds it.
    async fn heartbeat_run(
        &self,
        run_id: &str,
        worker_id: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Records the outcome (`Success`, `Failed`, or `Pending` again with a
    /// later `scheduled_at` for a retry) and releases the lease; `false` when
    /// `worker_id` no longer holds it (nothing is written then).
    async fn finish_run(
        &self,
        run_id: &str,
        worker_id: &str,
        status: RunStatus,
        scheduled_at: i64,
        body: &Value,
    ) -> Result<bool, StoreError>;

    /// One run of the scope.
    async fn get_run(&self, scope: &Scope, run_id: &str) -> Result<Option<RunRecord>, StoreError>;

    /// The runs of the scope, of one flow when given, oldest window first.
    async fn list_runs(
        &self,
        scope: &Scope,
        flow_id: Option<&str>,
    ) -> Result<Vec<RunRecord>, StoreError>;

    /// Puts a failed run of the scope back in the queue (`RE_TRIGGER`): pending,
    /// due at `now_ms`, without a lease, with a fresh retry budget (attempts
    /// back to 0); its window and body are kept. `false` (nothing written) when the run is not in the scope or not
    /// `Failed`.
    async fn retrigger_run(
        &self,
        scope: &Scope,
        run_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Deletes a resource unless a resource of the scope refers to it through
    /// one of `references`; the check and the delete are one transaction.
    async fn delete_resource(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
        references: &[Reference],
    ) -> Result<DeleteOutcome, StoreError>;
}
