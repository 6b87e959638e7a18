//! A dataset batch driven from async code: every call of the blocking [`BatchWrite`] (Parquet
//! encoding, file writes, fsyncs, the publishing rename) runs on tokio's blocking threads, so
//! a worker's async thread keeps serving requests, heartbeats and other runs while a row group
//! is encoded.
//!
//! Writing is pipelined: pages go through a queue of [`PAGES_QUEUED`] to one blocking thread
//! that owns the writer for the batch's life, so the run fetches and splits the next pages
//! while this one is observed, decoded into Arrow and encoded. A write failure stops that
//! thread; the next write or the commit reports it.

use std::sync::Arc;

use flowd_model::record_type::StructType;
use flowd_model::records::Records;
use flowd_sink::{BatchSummary, BatchWrite, DatasetStore, SinkError};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Pages waiting for the writer thread, beyond the one it is writing.
pub const PAGES_QUEUED: usize = 2;

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
    pages: Option<mpsc::Sender<Records>>,
    writer: Option<JoinHandle<Result<Box<dyn BatchWrite>, SinkError>>>,
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
        let (pages, mut queued) = mpsc::channel::<Records>(PAGES_QUEUED);
        let writer = tokio::task::spawn_blocking(move || {
            let mut writer = writer;
            while let Some(records) = queued.blocking_recv() {
                writer.write_records(records)?;
            }
            Ok(writer)
        });
        Ok(AsyncBatch {
            pages: Some(pages),
            writer: Some(writer),
        })
    }

    /// Adds one page of records: queued for the writer thread (waiting while the queue is
    /// full). An error of an earlier page comes back here.
    pub async fn write(&mut self, records: Records) -> Result<(), BatchError> {
        let pages = self
            .pages
            .as_ref()
            .ok_or_else(|| BatchError::Stopped("an earlier call failed".to_owned()))?;
        if pages.send(records).await.is_ok() {
            return Ok(());
        }
        // The writer thread stopped on an error: report it.
        self.pages = None;
        match self.finish_writing().await {
            Ok(_) => Err(BatchError::Stopped(
                "the dataset writer stopped early".to_owned(),
            )),
            Err(error) => Err(error),
        }
    }

    /// Publishes the batch once every queued page is written.
    pub async fn commit(mut self) -> Result<BatchSummary, BatchError> {
        let writer = self.finish_writing().await?;
        Ok(blocking(move || writer.commit()).await??)
    }

    /// Discards the batch (best effort: what it staged is swept at the next start otherwise).
    pub async fn abort(mut self) {
        if let Ok(writer) = self.finish_writing().await {
            let _ = blocking(move || writer.abort()).await;
        }
    }

    /// Closes the queue and takes the writer back from its thread.
    async fn finish_writing(&mut self) -> Result<Box<dyn BatchWrite>, BatchError> {
        self.pages = None;
        let writer = self
            .writer
            .take()
            .ok_or_else(|| BatchError::Stopped("an earlier call failed".to_owned()))?;
        Ok(writer
            .await
            .map_err(|error| BatchError::Stopped(error.to_string()))??)
    }
}
