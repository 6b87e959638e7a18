//! flowd's metadata store: the store traits, their embedded SQLite backend and the PostgreSQL
//! backend a fleet of processes shares.
//!
//! Five traits, one per concern, that every backend implements: [`ResourceStore`]
//! (sandboxes and resource documents with their reference edges and flow schedule rows),
//! [`CredentialStore`] (API credentials), [`SessionStore`] (the console's sign-in sessions),
//! [`RunQueue`] (runs, leases and the planner's view of flow schedules) and
//! [`DatasetStatsStore`] (per-dataset totals). [`Store`] is all five; a backend is opened from
//! a URL by [`open_store`].
//!
//! Architecture invariant: this is the only crate that knows SQL. It stores resources as
//! opaque JSON documents scoped by tenant ([`Scope`]: org and sandbox) and knows nothing of
//! their rules, of HTTP or of the network: callers hand it the references and schedule a
//! document implies (`flowd_model` computes them), and it enforces them in the transaction
//! that writes. Every query takes the scope, so a tenant can never read another tenant's rows.

#[cfg(feature = "conformance")]
pub mod conformance;
mod copy;
mod datasets;
mod error;
mod model;
mod postgres;
mod query;
mod runs;
mod sql;
mod sqlite;
mod url;

pub use copy::{CopyEnd, CopyReport, copy_between, copy_store};
pub use datasets::{BatchOrderField, BatchQuery, BatchRecord, DatasetStats};
pub use error::StoreError;
pub use flowd_model::{ResourceKind, ResourceRef, RunStatus, RunTrigger};
pub use model::{
    Credential, DeleteOutcome, EnsuredSandbox, NewCredential, ReplaceOutcome, ResourceWrite,
    Sandbox, ScheduleWrite, Scope, SeedResource, Session, StoredResource,
};
pub use postgres::PostgresStore;
pub use query::{Cursor, FilterOp, FilterValue, IndexedField, IndexedFilter, ListQuery};
pub use runs::{
    BatchCommit, DueFlow, FlowScheduleState, ImportedRun, NewRun, RunCompletion, RunFilter,
    RunProgress, RunRecord, ScheduleAdvance,
};
pub use sqlite::{DATABASE_FILE_NAME, SqliteStore};
pub use url::{StoreUrl, open_store};

use async_trait::async_trait;

/// The store traits, for code that calls them on a concrete backend (`use
/// flowd_store::prelude::*`); through `dyn Store` they need no import.
pub mod prelude {
    pub use crate::{
        CredentialStore, DatasetStatsStore, ResourceStore, RunQueue, SessionStore, Store,
    };
}

/// Builds the built-in resources a sandbox starts with, given its new id.
pub type SandboxSeeder<'a> = dyn Fn(&str) -> Vec<SeedResource> + Send + Sync + 'a;

/// API credentials.
#[async_trait]
pub trait CredentialStore: Send + Sync + 'static {
    /// Stores a new API credential (the token only as a hash).
    async fn insert_credential(&self, credential: &NewCredential) -> Result<(), StoreError>;

    /// Finds the credential whose access-token hash is `token_hash`.
    async fn find_credential_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<Credential>, StoreError>;

    /// Number of credentials ever created (used to bootstrap the first one).
    async fn count_credentials(&self) -> Result<u64, StoreError>;

    /// Stores `credential` only if the store has no credential yet, in one transaction:
    /// `false` (nothing written) when one exists. Several processes starting together on an
    /// empty store bootstrap exactly one.
    async fn insert_first_credential(&self, credential: &NewCredential)
    -> Result<bool, StoreError>;

    /// The secret-key check: a token sealed with the key that seals the store's connection
    /// secrets, so a process started with another key refuses to start instead of failing
    /// run by run. `None` before it is first written.
    async fn secret_key_check(&self) -> Result<Option<String>, StoreError>;

    /// Writes the secret-key check, replacing an earlier one (after a key rotation).
    async fn set_secret_key_check(&self, check: &str) -> Result<(), StoreError>;
}

/// The console's sign-in sessions, shared by every process of the store so a fleet accepts a
/// session wherever it was created and a sign-out revokes it everywhere.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Stores a new session. Its credential must exist.
    async fn insert_session(&self, session: &Session) -> Result<(), StoreError>;

    /// The session whose id hash is `id_hash`, unless it expired at or before `now_ms`.
    async fn find_session(&self, id_hash: &str, now_ms: i64)
    -> Result<Option<Session>, StoreError>;

    /// Deletes a session (a sign-out); whether it existed.
    async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError>;

    /// Deletes every session expired at `now_ms`; how many.
    async fn purge_expired_sessions(&self, now_ms: i64) -> Result<u64, StoreError>;
}

/// Sandboxes and the resource documents of each.
#[async_trait]
pub trait ResourceStore: Send + Sync + 'static {
    /// Returns the sandbox `(org_id, sandbox_name)`, creating it on first use together with
    /// the resources `seeder` returns, in one transaction; `created` says which. Of calls
    /// racing to create one sandbox, exactly one reports it created.
    async fn ensure_sandbox(
        &self,
        org_id: &str,
        sandbox_name: &str,
        seeder: &SandboxSeeder<'_>,
    ) -> Result<EnsuredSandbox, StoreError>;

    /// The sandboxes of `org_id` that exist (each made by its first request), by name.
    async fn list_sandboxes(&self, org_id: &str) -> Result<Vec<Sandbox>, StoreError>;

    /// Inserts a resource with its references and schedule. Fails with
    /// [`StoreError::AlreadyExists`] when the id is taken in that scope, and with
    /// [`StoreError::MissingReference`] (writing nothing) when a referenced resource does not
    /// exist in the scope.
    async fn insert_resource(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
        write: ResourceWrite<'_>,
    ) -> Result<StoredResource, StoreError>;

    /// Reads one resource of the scope.
    async fn get_resource(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
    ) -> Result<Option<StoredResource>, StoreError>;

    /// The resources of one kind in the scope that pass `query`'s filters, in its order,
    /// after its cursor, at most its limit.
    async fn list_resources(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        query: &ListQuery,
    ) -> Result<Vec<StoredResource>, StoreError>;

    /// How many resources of one kind in the scope pass `query`'s filters.
    async fn count_resources(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        query: &ListQuery,
    ) -> Result<u64, StoreError>;

    /// Every resource of one kind across all scopes, oldest first (maintenance tasks that
    /// visit every dataset; never a request path).
    async fn list_all_resources(
        &self,
        kind: ResourceKind,
    ) -> Result<Vec<(Scope, StoredResource)>, StoreError>;

    /// Replaces a resource's body (and, when given, its references and schedule). With
    /// `expected_revision`, the write happens only if the stored revision still matches.
    /// Fails with [`StoreError::MissingReference`] like an insert.
    async fn replace_resource(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
        write: ResourceWrite<'_>,
        expected_revision: Option<i64>,
    ) -> Result<ReplaceOutcome, StoreError>;

    /// Deletes a resource unless a resource of the scope refers to it; the check and the
    /// delete are one transaction.
    async fn delete_resource(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
    ) -> Result<DeleteOutcome, StoreError>;

    /// Closes the store's connections once the process is done with it (no call may follow).
    async fn close(&self);
}

/// Runs, their leases, and the planner's view of flow schedules.
#[async_trait]
pub trait RunQueue: Send + Sync + 'static {
    /// Enqueues a run. Fails with [`StoreError::AlreadyExists`] when the flow already has a
    /// run for that window end.
    async fn insert_run(&self, run: &NewRun) -> Result<(), StoreError>;

    /// Claims a due run for `worker_id` with a lease of `lease_ms`: a pending run whose time
    /// has come, or a run whose lease expired. Fair across sandboxes: the run comes from the
    /// sandbox (org and sandbox name) with the fewest runs in progress, then the oldest
    /// scheduled; with `max_per_sandbox`, a sandbox that already has that many runs in
    /// progress gets none. A run whose lease expired does not count as in progress. The claimed
    /// attempt's progress starts at zero.
    async fn claim_run(
        &self,
        worker_id: &str,
        now_ms: i64,
        lease_ms: i64,
        max_per_sandbox: Option<u32>,
    ) -> Result<Option<RunRecord>, StoreError>;

    /// Extends the lease; `false` when `worker_id` no longer holds it.
    async fn heartbeat_run(
        &self,
        run_id: &str,
        worker_id: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Writes how far the run in progress got, in one statement fenced by the lease: `false`
    /// (nothing written) when `worker_id` no longer holds it. The worker writes it every few
    /// seconds while something changed; [`RunQueue::finish_run`] writes the final figures.
    async fn record_progress(
        &self,
        run_id: &str,
        worker_id: &str,
        progress: &RunProgress,
    ) -> Result<bool, StoreError>;

    /// Hands back the runs in progress whose lease one of `worker_ids` holds (a process
    /// stopping without finishing them): pending again, due at `now_ms`, claimable at once by
    /// any worker, and the handed-back attempt not counted. Returns how many.
    async fn release_runs(&self, worker_ids: &[String], now_ms: i64) -> Result<u64, StoreError>;

    /// Records an attempt's outcome and releases the lease, in one transaction: the run's
    /// status, metrics and error; for a success, the release of the flow schedule waiting for
    /// it and the committed batch in the dataset's statistics; the run's progress becomes the
    /// attempt's final pages and input records. `false` (nothing written) when
    /// `worker_id` no longer holds the lease.
    async fn finish_run(
        &self,
        run_id: &str,
        worker_id: &str,
        completion: &RunCompletion<'_>,
    ) -> Result<bool, StoreError>;

    /// One run of the scope.
    async fn get_run(&self, scope: &Scope, run_id: &str) -> Result<Option<RunRecord>, StoreError>;

    /// The runs of the scope that pass `filter` and `query` (fields `Id`, `FlowId`,
    /// `CreatedAt`), in its order (default: creation, then position), at most its limit.
    async fn list_runs(
        &self,
        scope: &Scope,
        filter: &RunFilter,
        query: &ListQuery,
    ) -> Result<Vec<RunRecord>, StoreError>;

    /// The run of `flow_id` whose window ends at `window_end`.
    async fn find_run_by_window(
        &self,
        scope: &Scope,
        flow_id: &str,
        window_end: i64,
    ) -> Result<Option<RunRecord>, StoreError>;

    /// The run of `flow_id` with the earliest window end whose window overlaps the half-open
    /// `[window_start, window_end)` (`window_start` `None`: from the beginning of time).
    ///
    /// One index seek, whatever the flow's history: the windows of a flow never overlap (the
    /// planner and `POST /runs` keep them so), so the run with the first window end after
    /// `window_start` is the only one that can.
    async fn find_overlapping_run(
        &self,
        scope: &Scope,
        flow_id: &str,
        window_start: Option<i64>,
        window_end: i64,
    ) -> Result<Option<RunRecord>, StoreError>;

    /// Each flow's run with the latest window end, for the flows of `flow_ids` that have one.
    async fn latest_runs(
        &self,
        scope: &Scope,
        flow_ids: &[String],
    ) -> Result<Vec<RunRecord>, StoreError>;

    /// Puts a failed or successful run of the scope back in the queue (`RE_TRIGGER`): pending,
    /// due at `now_ms`, without a lease, with a fresh retry budget (attempts back to 0),
    /// trigger `retrigger`; its window, metrics and error are kept (a successful run's batch
    /// stays until the new attempt replaces it). `false` (nothing written) when the run is not
    /// in the scope or neither `Failed` nor `Success`.
    async fn retrigger_run(
        &self,
        scope: &Scope,
        run_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError>;

    /// The schedule row of a flow of the scope (`None`: no such flow).
    async fn flow_schedule(
        &self,
        scope: &Scope,
        flow_id: &str,
    ) -> Result<Option<FlowScheduleState>, StoreError>;

    /// Enabled flows whose next run may be due at `now_ms` and that wait for no run, oldest
    /// due first, at most `limit`.
    async fn due_flows(&self, now_ms: i64, limit: usize) -> Result<Vec<DueFlow>, StoreError>;

    /// Applies the planner's decisions in one transaction: for each flow whose schedule
    /// revision still matches, enqueue its run (the flow then waits for it) and store when it
    /// may be due next. Returns the ids of the runs enqueued.
    async fn advance_schedules(
        &self,
        advances: &[ScheduleAdvance],
    ) -> Result<Vec<String>, StoreError>;
}

/// Per-dataset statistics and the committed batches.
#[async_trait]
pub trait DatasetStatsStore: Send + Sync + 'static {
    /// The dataset's totals; `None` before its first batch.
    async fn dataset_stats(
        &self,
        scope: &Scope,
        dataset_id: &str,
    ) -> Result<Option<DatasetStats>, StoreError>;

    /// Records a batch committed outside a run (statistics rebuilt from a dataset's files).
    /// A batch id recorded before is replaced, not counted twice.
    async fn record_batch(
        &self,
        scope: &Scope,
        run_id: Option<&str>,
        batch: &BatchCommit<'_>,
    ) -> Result<(), StoreError>;

    /// The committed batches of the scope that `query` asks for (one dataset's, or every
    /// dataset's), in its order, after its offset, at most its limit.
    async fn list_batches(
        &self,
        scope: &Scope,
        query: &BatchQuery,
    ) -> Result<Vec<BatchRecord>, StoreError>;

    /// The committed batch `batch_id` of the scope, whatever its dataset.
    async fn get_batch(
        &self,
        scope: &Scope,
        batch_id: &str,
    ) -> Result<Option<BatchRecord>, StoreError>;

    /// The newest batch (by first commit) of each of `dataset_ids` that has one, in no order.
    async fn newest_batches(
        &self,
        scope: &Scope,
        dataset_ids: &[String],
    ) -> Result<Vec<BatchRecord>, StoreError>;

    /// Datasets deleted (in any scope) whose files may still be on disk: deleting a dataset
    /// records its id here in the same transaction, and the process that removes its files
    /// then forgets it.
    async fn deleted_datasets(&self) -> Result<Vec<String>, StoreError>;

    /// Forgets a deleted dataset whose files are gone.
    async fn forget_deleted_dataset(&self, dataset_id: &str) -> Result<(), StoreError>;
}

/// Everything flowd persists.
pub trait Store:
    CredentialStore + SessionStore + ResourceStore + RunQueue + DatasetStatsStore
{
}

impl<T: CredentialStore + SessionStore + ResourceStore + RunQueue + DatasetStatsStore> Store for T {}
