//! A dataset batch driven from async code: the blocking calls of [`BatchWrite`] (Parquet
//! encoding, file writes, fsyncs, the publishing rename) never run on an async worker thread,
//! so a worker's async threads keep serving requests, heartbeats and other runs while a row
//! group is encoded.
//!
//! Writing is pipelined: pages go through a queue of [`QUEUED_PAGE_BYTES`] to one thread of the
//! batch's own (at a lower priority: `flowd_sink::lower_thread_priority`) that owns the writer
//! for the batch's life, so the run fetches and splits the next pages while this one is
//! observed and decoded into Arrow (and the row group before is encoded, on the file's own
//! thread). A write failure stops that thread; the next write or the commit reports it.
//! Beginning and committing run on tokio's blocking threads.

use std::sync::Arc;

use flowd_model::record_type::StructType;
use flowd_model::records::Records;
use flowd_sink::{BatchSummary, BatchWrite, DatasetStore, SinkError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

/// Bytes of pages (their response bodies) waiting for the writer thread, beyond the one it
/// is writing: enough to keep fetching while a row group is decoded (a page larger than this
/// waits for the queue to empty).
pub const QUEUED_PAGE_BYTES: usize = 2 * 1024 * 1024;

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
    pages: Option<mpsc::UnboundedSender<(Records, OwnedSemaphorePermit)>>,
    /// One permit per KiB of queued page bytes.
    room: Arc<Semaphore>,
    writer: Option<oneshot::Receiver<Result<Box<dyn BatchWrite>, SinkError>>>,
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

/// The columns a batch is written with.
pub enum BatchColumns {
    /// Inferred from the records, starting from the dataset's merged record type
    /// ([`DatasetStore::begin_batch`]).
    Inferred(StructType),
    /// The dataset's XDM schema's ([`DatasetStore::begin_typed_batch`]).
    Typed(Arc<flowd_model::xdm::XdmSchema>),
}

impl AsyncBatch {
    /// Begins the batch `batch_id` of `dataset_id` with `columns`.
    pub async fn begin(
        datasets: Arc<dyn DatasetStore>,
        dataset_id: String,
        batch_id: String,
        ingested_at: jiff::Timestamp,
        columns: BatchColumns,
    ) -> Result<AsyncBatch, BatchError> {
        let writer = blocking(move || match columns {
            BatchColumns::Inferred(seed) => {
                datasets.begin_batch(&dataset_id, &batch_id, &batch_id, ingested_at, &seed)
            }
            BatchColumns::Typed(schema) => {
                datasets.begin_typed_batch(&dataset_id, &batch_id, &batch_id, ingested_at, schema)
            }
        })
        .await??;
        let (pages, mut queued) = mpsc::unbounded_channel::<(Records, OwnedSemaphorePermit)>();
        let (done, written) = tokio::sync::oneshot::channel();
        // A thread of its own rather than one of the blocking pool: it runs at a lower
        // priority (see `flowd_sink::lower_thread_priority`), which must not stay with a pool
        // thread.
        std::thread::Builder::new()
            .name("flowd-batch".to_owned())
            .spawn(move || {
                flowd_sink::lower_thread_priority();
                let mut writer = writer;
                let outcome = loop {
                    match queued.blocking_recv() {
                        Some((records, permit)) => {
                            let written = writer.write_records(records);
                            drop(permit);
                            if let Err(error) = written {
                                break Err(error);
                            }
                        }
                        None => break Ok(writer),
                    }
                };
                let _ = done.send(outcome);
            })
            .map_err(|error| BatchError::Stopped(error.to_string()))?;
        Ok(AsyncBatch {
            pages: Some(pages),
            room: Arc::new(Semaphore::new(QUEUED_PAGE_BYTES / 1024)),
            writer: Some(written),
        })
    }

    /// Adds one page of records, whose response body had `page_bytes`: queued for the writer
    /// thread (waiting while [`QUEUED_PAGE_BYTES`] are queued). An error of an earlier page
    /// comes back here.
    pub async fn write(&mut self, records: Records, page_bytes: usize) -> Result<(), BatchError> {
        let pages = self
            .pages
            .as_ref()
            .ok_or_else(|| BatchError::Stopped("an earlier call failed".to_owned()))?;
        let wanted = (page_bytes / 1024).clamp(1, QUEUED_PAGE_BYTES / 1024) as u32;
        let permit = self
            .room
            .clone()
            .acquire_many_owned(wanted)
            .await
            .map_err(|_| BatchError::Stopped("the page queue closed".to_owned()))?;
        if pages.send((records, permit)).is_ok() {
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
            .map_err(|_| BatchError::Stopped("the dataset writer thread ended".to_owned()))??)
    }
}
