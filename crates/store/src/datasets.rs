//! Dataset statistics, persisted when a batch commits so that reading them costs one row
//! whatever the dataset's history, and the committed batches themselves (one row each), which
//! Catalog's `/batches` lists with an index seek per page.

/// A dataset's totals over its committed batches.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DatasetStats {
    pub batch_count: u64,
    pub record_count: u64,
    /// Bytes of the committed Parquet files.
    pub bytes: u64,
    /// The merged record schema, as the writer stored it (opaque to the store).
    pub schema: Option<String>,
}

/// A committed batch, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord {
    pub dataset_id: String,
    pub batch_id: String,
    /// The run that committed it (`None`: recorded outside a run, statistics rebuilt from files).
    pub run_id: Option<String>,
    /// Records in the batch's files.
    pub record_count: u64,
    /// Records the run read from its source (`None` without a run).
    pub input_record_count: Option<u64>,
    /// Bytes of the batch's Parquet files.
    pub bytes: u64,
    pub file_count: u64,
    /// When the batch was first committed, epoch milliseconds.
    pub created_at: i64,
    /// When the batch was last committed (a retried run commits it again), epoch milliseconds.
    pub committed_at: i64,
    /// When the committing attempt of its run started and completed, epoch milliseconds.
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
}

/// A field batches can be listed in the order of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOrderField {
    /// The first commit ([`BatchRecord::created_at`]).
    Created,
    /// The last commit ([`BatchRecord::committed_at`]).
    Updated,
    /// The batch id (text, by bytes).
    Id,
}

/// Which batches of a scope a list asks for: one dataset's or all, in an order (ties, and the
/// end of every order, by batch id), skipping `offset` and returning at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchQuery {
    pub dataset_id: Option<String>,
    /// The fields and whether each is descending; empty: oldest first.
    pub order: Vec<(BatchOrderField, bool)>,
    pub offset: u64,
    pub limit: u64,
}
