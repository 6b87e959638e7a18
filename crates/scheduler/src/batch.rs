//! A dataset batch driven from async code: every call of the blocking [`BatchWrite`] (Parquet
//! encoding, file writes, fsyncs, the publishing rename) runs on tokio's blocking threads, so
//! a worker's async thread keeps serving requests, heartbeats and other runs while a row group
//! is encoded.

use std::sync::Arc;

use flowd_model::record_type::StructType;
use flowd_sink::{BatchSummary, BatchWrite, DatasetStore, SinkError};
use serde_json::Value;

/// Why a blocking call could not deliver its result.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error("the dataset writer stopped: {0}")]
    Stopped(String),
}

/// One batch being written from async code.
pub struct AsyncBatch {
    writer: Option<Box<dyn BatchWrite>>,
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, BatchError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| BatchError::Stopped(error.to_string()))
}

/// The batch `batch_id` of `dataset_id` if it was published (see
/// [`DatasetStore::published_batch`]).
pub async fn published_batch(
    datasets: Arc<dyn DatasetStore>,
    dataset_id: String,
    batch_id: String,
) -> Result<Option<BatchSummary>, BatchError> {
    Ok(blocking(move || datasets.published_batch(&dataset_id, &batch_id)).await??)
}

impl AsyncBatch {
    /// Begins the batch `batch_id` of `dataset_id` (see [`DatasetStore::begin_batch`]).
    pub async fn begin(
        datasets: Arc<dyn DatasetStore>,
        dataset_id: String,
        batch_id: String,
        ingested_at: jiff::Timestamp,
        seed: StructType,
    ) -> Result<AsyncBatch, BatchError> {
        let writer = blocking(move || {
            datasets.begin_batch(&dataset_id, &batch_id, &batch_id, ingested_at, &seed)
        })
        .await??;
        Ok(AsyncBatch {
            writer: Some(writer),
        })
    }

    /// Adds one page of records.
    pub async fn write(&mut self, records: Vec<Value>) -> Result<(), BatchError> {
        let mut writer = self.take()?;
        let (writer, result) = blocking(move || {
            let result = writer.write(records);
            (writer, result)
        })
        .await?;
        self.writer = Some(writer);
        Ok(result?)
    }

    /// Publishes the batch.
    pub async fn commit(mut self) -> Result<BatchSummary, BatchError> {
        let writer = self.take()?;
        Ok(blocking(move || writer.commit()).await??)
    }

    /// Discards the batch (best effort: what it staged is swept at the next start otherwise).
    pub async fn abort(mut self) {
        if let Ok(writer) = self.take() {
            let _ = blocking(move || writer.abort()).await;
        }
    }

    fn take(&mut self) -> Result<Box<dyn BatchWrite>, BatchError> {
        self.writer
            .take()
            .ok_or_else(|| BatchError::Stopped("an earlier call failed".to_owned()))
    }
}
