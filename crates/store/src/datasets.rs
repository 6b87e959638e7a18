//! Dataset statistics, persisted when a batch commits so that reading them costs one row
//! whatever the dataset's history.

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
