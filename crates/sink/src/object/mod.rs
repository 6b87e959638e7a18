//! Datasets on S3-compatible object storage (`--datasets-url s3://BUCKET/PREFIX`).
//!
//! # Layout and the reader guarantee
//!
//! ```text
//! PREFIX/<dataSetId>/batch-<batchId>/part-00000.parquet   the batch: always one object
//! PREFIX/<dataSetId>/batch-<batchId>/_flowd_batch.json    its manifest (readers skip `_`)
//! ```
//!
//! Object stores have no rename, but a single object appears atomically: a PUT, or the
//! completion of a multipart upload, makes the whole object visible at once, and overwriting
//! a key swaps the old object for the new one. So a batch is **one** Parquet object: a reader
//! that lists `PREFIX/<dataSetId>/` and reads every `*.parquet` key sees each batch whole or not
//! at all, at every moment, including across a crash of the writer (an interrupted upload is
//! never visible). The batch is written to a local staging directory first (the local
//! writer, with its bounded row groups), then uploaded; a batch that needed several files
//! (a row group widened the schema) is rewritten as one file with the batch's final schema,
//! the records of the earlier files conformed to it as the writer conforms a widened row
//! group.
//!
//! A retried batch (same id) overwrites its object at the same key, so readers see the old
//! batch or the new one and never both: no window is visible twice. Its manifest is removed
//! before the overwrite and written after it, so flowd never pairs a manifest with another
//! attempt's data ([`DatasetStore::published_batch`] then finds nothing and the run is
//! simply done again). A batch without records removes an earlier object of its id.
//!
//! # Memory and leftovers
//!
//! Uploads stream the staged file in parts of [`PART_BYTES`] with at most [`PARTS_IN_FLIGHT`]
//! parts in flight, so an upload holds about 16 MiB whatever the batch size (files of up to
//! one part go up in one PUT). A writer killed mid-upload leaves an incomplete multipart
//! upload, which no reader sees; object stores expire those with a lifecycle rule
//! (`AbortIncompleteMultipartUpload`), which a bucket for flowd should have. Local staging
//! left by a crash is swept like the local backend's.
//!
//! Reads (`batches`, `published_batch`, `schema`, `head`) copy the objects they need into a
//! private local directory and read them there with the local code; serving one batch's file
//! (`batch`, `open_batch_file`, `published.rs`) reads its manifest and ranged parts of its
//! object directly, one part in memory at a time.

mod one_file;
mod published;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::Schema;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use serde_json::Value;
use tokio::io::AsyncReadExt;

use flowd_model::record_type::StructType;

use crate::fsutil::{self, BATCH_DIR_PREFIX, MANIFEST_FILE_NAME};
use crate::manifest::{BatchFile, BatchInfo, BatchManifest};
use crate::{BatchSummary, BatchWrite, Dataset, DatasetStore, LocalDatasets, SinkError};

/// Size of one part of a multipart upload (S3's minimum is 5 MiB).
pub const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts of one upload sent at once.
pub const PARTS_IN_FLIGHT: usize = 2;
/// The one Parquet object of a batch.
const BATCH_FILE_NAME: &str = "part-00000.parquet";

/// Datasets in a bucket, under a prefix.
pub struct ObjectDatasets {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn ObjectStore>,
    /// `s3://BUCKET/PREFIX`, as locations are shown.
    url: String,
    /// `s3://BUCKET`, under which keys are shown.
    bucket_url: String,
    prefix: ObjectPath,
    /// Where batches are staged before they are uploaded.
    staging: LocalDatasets,
    /// Where reads copy the objects they need.
    mirrors: PathBuf,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Inner {
    /// Runs `future` to completion on the store's runtime, from any thread (async or not).
    fn block<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        let handle = self
            .runtime
            .as_ref()
            .expect("the runtime lives as long as the store")
            .handle()
            .clone();
        std::thread::scope(|scope| {
            scope
                .spawn(move || handle.block_on(future))
                .join()
                .expect("an object-store call panicked")
        })
    }

    fn dataset_prefix(&self, dataset_id: &str) -> ObjectPath {
        self.prefix.clone().join(dataset_id)
    }

    fn batch_key(&self, dataset_id: &str, batch_id: &str, name: &str) -> ObjectPath {
        self.dataset_prefix(dataset_id)
            .join(format!("{BATCH_DIR_PREFIX}{batch_id}"))
            .join(name)
    }

    /// An error about `key`, shown under the bucket's URL (object-store messages name keys
    /// and endpoints, never credentials, which travel in headers).
    fn error(
        &self,
        action: &'static str,
        key: &ObjectPath,
    ) -> impl FnOnce(object_store::Error) -> SinkError {
        let key = format!("{}/{key}", self.bucket_url);
        move |source| SinkError::ObjectStore {
            action,
            key,
            message: source.to_string(),
        }
    }

    /// The keys under `prefix` (recursively).
    async fn list(&self, prefix: &ObjectPath) -> Result<Vec<ObjectPath>, SinkError> {
        self.store
            .list(Some(prefix))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(self.error("list", prefix))
    }

    async fn delete(&self, key: &ObjectPath) -> Result<(), SinkError> {
        match self.store.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(self.error("delete", key)(error)),
        }
    }

    /// Removes a batch's objects, its manifest first (flowd stops counting it before readers
    /// stop seeing it).
    async fn delete_batch(&self, dataset_id: &str, batch_id: &str) -> Result<(), SinkError> {
        self.delete(&self.batch_key(dataset_id, batch_id, MANIFEST_FILE_NAME))
            .await?;
        let batch_prefix = self
            .dataset_prefix(dataset_id)
            .join(format!("{BATCH_DIR_PREFIX}{batch_id}"));
        for key in self.list(&batch_prefix).await? {
            self.delete(&key).await?;
        }
        Ok(())
    }

    /// Streams a local file to `key`: one PUT up to a part, else a multipart upload with
    /// bounded parts in flight (aborted on failure).
    async fn upload(&self, file: &Path, key: &ObjectPath) -> Result<(), SinkError> {
        let size = std::fs::metadata(file)
            .map_err(SinkError::io("inspect", file))?
            .len();
        if size <= PART_BYTES as u64 {
            let bytes = tokio::fs::read(file)
                .await
                .map_err(SinkError::io("read", file))?;
            self.store
                .put(key, PutPayload::from(bytes))
                .await
                .map_err(self.error("upload", key))?;
            return Ok(());
        }
        let upload = self
            .store
            .put_multipart(key)
            .await
            .map_err(self.error("start uploading", key))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut source = tokio::fs::File::open(file)
            .await
            .map_err(SinkError::io("open", file))?;
        let mut buffer = vec![0_u8; 1024 * 1024];
        let sent: Result<(), SinkError> = async {
            loop {
                let read = source
                    .read(&mut buffer)
                    .await
                    .map_err(SinkError::io("read", file))?;
                if read == 0 {
                    return Ok(());
                }
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(self.error("upload", key))?;
                writer.write(&buffer[..read]);
            }
        }
        .await;
        match sent {
            Ok(()) => {
                writer.finish().await.map_err(self.error("upload", key))?;
                Ok(())
            }
            Err(error) => {
                let _ = writer.abort().await;
                Err(error)
            }
        }
    }

    /// Copies the objects of `dataset_id` (of its batch `only_batch`, when given) whose names
    /// `wanted` accepts into a fresh local directory laid out as the local backend's, and
    /// reads it with `read`.
    fn with_mirror<T>(
        &self,
        dataset_id: &str,
        only_batch: Option<&str>,
        wanted: impl Fn(&str) -> bool + Send + Sync,
        read: impl FnOnce(&Dataset) -> Result<T, SinkError>,
    ) -> Result<T, SinkError> {
        fsutil::validate_name("dataset id", dataset_id)?;
        fsutil::create_dir_all(&self.mirrors)?;
        let root = self
            .mirrors
            .join(format!("{dataset_id}.{}", uuid::Uuid::new_v4().simple()));
        let dataset_dir = root.join(dataset_id);
        let copied = self.block(async {
            let prefix = self.dataset_prefix(dataset_id);
            // One batch is listed by its own prefix: a run's check for its published batch
            // costs the same whatever the dataset's history.
            let listed = match only_batch {
                Some(batch_id) => prefix.clone().join(format!("{BATCH_DIR_PREFIX}{batch_id}")),
                None => prefix.clone(),
            };
            for key in self.list(&listed).await? {
                let parts: Vec<_> = key
                    .prefix_match(&prefix)
                    .map(|parts| parts.map(|part| part.as_ref().to_owned()).collect())
                    .unwrap_or_default();
                let [batch_dir, name] = parts.as_slice() else {
                    continue;
                };
                if !batch_dir.starts_with(BATCH_DIR_PREFIX) || !wanted(name) {
                    continue;
                }
                let bytes = match self.store.get(&key).await {
                    Ok(result) => result.bytes().await.map_err(self.error("download", &key))?,
                    // Removed since the listing (a batch replaced or deleted): skip it.
                    Err(object_store::Error::NotFound { .. }) => continue,
                    Err(error) => return Err(self.error("download", &key)(error)),
                };
                let local_dir = dataset_dir.join(batch_dir);
                fsutil::create_dir_all(&local_dir)?;
                let local = local_dir.join(name);
                tokio::fs::write(&local, &bytes)
                    .await
                    .map_err(SinkError::io("write", &local))?;
            }
            Ok::<(), SinkError>(())
        });
        let result = copied.and_then(|()| {
            // A batch whose manifest is gone (being replaced or deleted) is not published.
            if let Ok(entries) = std::fs::read_dir(&dataset_dir) {
                for entry in entries.flatten() {
                    if !entry.path().join(MANIFEST_FILE_NAME).exists() {
                        let _ = std::fs::remove_dir_all(entry.path());
                    }
                }
            }
            read(&Dataset::open(&root, dataset_id)?)
        });
        let _ = std::fs::remove_dir_all(&root);
        result
    }
}

impl ObjectDatasets {
    /// Datasets at `url` (`s3://BUCKET` or `s3://BUCKET/PREFIX`), configured from the standard
    /// AWS variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
    /// `AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`), staging batches under
    /// `local_dir`.
    pub fn from_url(url: &str, local_dir: &Path) -> Result<ObjectDatasets, SinkError> {
        let invalid = |reason: &str| SinkError::InvalidLocation {
            shown: url.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = url
            .split_once("://")
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("s3"))
            .map(|(_, rest)| rest)
            .ok_or_else(|| invalid("use s3://BUCKET/PREFIX"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid("names no bucket: use s3://BUCKET/PREFIX"));
        }
        let store = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(|error| invalid(&error.to_string()))?;
        ObjectDatasets::with_store(Arc::new(store), url, prefix, local_dir)
    }

    /// Datasets in `store` under `prefix` (`url` is how they are shown), staging under
    /// `local_dir`.
    pub fn with_store(
        store: Arc<dyn ObjectStore>,
        url: &str,
        prefix: &str,
        local_dir: &Path,
    ) -> Result<ObjectDatasets, SinkError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("flowd-object-store")
            .enable_all()
            .build()
            .map_err(SinkError::io("start the object-store runtime", local_dir))?;
        let url = url.trim_end_matches('/');
        let prefix = prefix.trim_matches('/');
        let bucket_url = url
            .strip_suffix(prefix)
            .unwrap_or(url)
            .trim_end_matches('/')
            .to_owned();
        Ok(ObjectDatasets {
            inner: Arc::new(Inner {
                store,
                url: url.to_owned(),
                bucket_url,
                prefix: ObjectPath::from(prefix),
                staging: LocalDatasets::new(local_dir.join("staging"))
                    .with_writer_options(staging_options(crate::WriterOptions::default())),
                mirrors: local_dir.join("mirrors"),
                runtime: Some(runtime),
            }),
        })
    }
}

impl ObjectDatasets {
    /// Row-group sizes of the local staging writer (the upload is one object whatever they are).
    pub fn with_writer_options(mut self, writer_options: crate::WriterOptions) -> ObjectDatasets {
        let inner =
            Arc::get_mut(&mut self.inner).expect("options are set before the store is shared");
        let staging = std::mem::replace(&mut inner.staging, LocalDatasets::new(PathBuf::new()));
        inner.staging = staging.with_writer_options(staging_options(writer_options));
        self
    }
}

/// The staging writer's options: one file per batch whatever its size (a batch goes up as one
/// object, and rewriting several staged files into one would read the whole batch again).
fn staging_options(writer_options: crate::WriterOptions) -> crate::WriterOptions {
    crate::WriterOptions {
        max_row_groups_per_file: None,
        ..writer_options
    }
}

/// A batch staged locally, uploaded on commit.
struct ObjectBatch {
    inner: Arc<Inner>,
    local: Box<dyn BatchWrite>,
    dataset_id: String,
    batch_id: String,
    /// Held from the start of the batch until its upload ends: a deletion of the dataset waits.
    _upload_lock: fsutil::WriterLock,
}

impl BatchWrite for ObjectBatch {
    fn write_records(&mut self, records: flowd_model::records::Records) -> Result<(), SinkError> {
        self.local.write_records(records)
    }

    fn record_count(&self) -> u64 {
        self.local.record_count()
    }

    fn commit(self: Box<Self>) -> Result<BatchSummary, SinkError> {
        let ObjectBatch {
            inner,
            local,
            dataset_id,
            batch_id,
            _upload_lock,
        } = *self;
        let mut summary = local.commit()?;
        let staged_dir = inner
            .staging
            .root()
            .join(&dataset_id)
            .join(format!("{BATCH_DIR_PREFIX}{batch_id}"));
        let uploaded = (|| {
            if summary.batch.files.is_empty() {
                return inner.block(inner.delete_batch(&dataset_id, &batch_id));
            }
            let compression = inner.staging.writer_options().compression;
            let file =
                one_file::one_file(&staged_dir, &summary.batch.files, &summary, compression)?;
            let bytes = std::fs::metadata(&file)
                .map_err(SinkError::io("inspect", &file))?
                .len();
            summary.batch.files = vec![BatchFile {
                name: BATCH_FILE_NAME.to_owned(),
                record_count: summary.batch.record_count,
                bytes,
            }];
            summary.batch.bytes = bytes;
            let manifest = staged_dir.join(format!("{MANIFEST_FILE_NAME}.upload"));
            BatchManifest::from_info(&summary.batch).write(&manifest)?;
            inner.block(async {
                let manifest_key = inner.batch_key(&dataset_id, &batch_id, MANIFEST_FILE_NAME);
                inner.delete(&manifest_key).await?;
                fail::fail_point!("object-batch-uploading");
                inner
                    .upload(
                        &file,
                        &inner.batch_key(&dataset_id, &batch_id, BATCH_FILE_NAME),
                    )
                    .await?;
                fail::fail_point!("object-batch-before-manifest");
                inner.upload(&manifest, &manifest_key).await
            })
        })();
        fsutil::remove_dir_all_if_exists(&staged_dir)?;
        uploaded.map(|()| summary)
    }

    fn abort(self: Box<Self>) -> Result<(), SinkError> {
        self.local.abort()
    }
}

impl ObjectDatasets {
    /// Begins an upload of `batch_id` whose files `begin_local` stages on local disk.
    fn begin_upload(
        &self,
        dataset_id: &str,
        batch_id: &str,
        begin_local: impl FnOnce(&LocalDatasets) -> Result<Box<dyn BatchWrite>, SinkError>,
    ) -> Result<Box<dyn BatchWrite>, SinkError> {
        fsutil::validate_name("dataset id", dataset_id)?;
        fsutil::validate_name("batch id", batch_id)?;
        let staging_root = self.inner.staging.root().join(fsutil::STAGING_DIR_NAME);
        fsutil::create_dir_all(&staging_root)?;
        let upload_lock = fsutil::WriterLock::acquire(&fsutil::unique_staging_path(
            &staging_root,
            dataset_id,
            &format!("{batch_id}-upload"),
        ))?;
        let local = begin_local(&self.inner.staging)?;
        Ok(Box::new(ObjectBatch {
            inner: self.inner.clone(),
            local,
            dataset_id: dataset_id.to_owned(),
            batch_id: batch_id.to_owned(),
            _upload_lock: upload_lock,
        }))
    }
}

impl DatasetStore for ObjectDatasets {
    fn begin_batch(
        &self,
        dataset_id: &str,
        batch_id: &str,
        run_id: &str,
        ingested_at: jiff::Timestamp,
        seed: &StructType,
    ) -> Result<Box<dyn BatchWrite>, SinkError> {
        self.begin_upload(dataset_id, batch_id, |staging| {
            staging.begin_batch(dataset_id, batch_id, run_id, ingested_at, seed)
        })
    }

    fn begin_typed_batch(
        &self,
        dataset_id: &str,
        batch_id: &str,
        run_id: &str,
        ingested_at: jiff::Timestamp,
        schema: std::sync::Arc<flowd_model::xdm::XdmSchema>,
    ) -> Result<Box<dyn BatchWrite>, SinkError> {
        self.begin_upload(dataset_id, batch_id, |staging| {
            staging.begin_typed_batch(dataset_id, batch_id, run_id, ingested_at, schema)
        })
    }

    fn batches(&self, dataset_id: &str) -> Result<Vec<BatchInfo>, SinkError> {
        self.inner.with_mirror(
            dataset_id,
            None,
            |name| name == MANIFEST_FILE_NAME,
            Dataset::batches,
        )
    }

    fn published_batch(
        &self,
        dataset_id: &str,
        batch_id: &str,
    ) -> Result<Option<BatchSummary>, SinkError> {
        fsutil::validate_name("batch id", batch_id)?;
        self.inner.with_mirror(
            dataset_id,
            Some(batch_id),
            |_| true,
            |dataset| dataset.published_batch(batch_id),
        )
    }

    fn batch(&self, dataset_id: &str, batch_id: &str) -> Result<Option<BatchInfo>, SinkError> {
        self.inner.published_manifest(dataset_id, batch_id)
    }

    fn open_batch_file(
        &self,
        dataset_id: &str,
        batch_id: &str,
        name: &str,
    ) -> Result<Option<crate::PublishedFile>, SinkError> {
        published::open_published_file(&self.inner, dataset_id, batch_id, name)
    }

    fn head(&self, dataset_id: &str, limit: usize) -> Result<Vec<Value>, SinkError> {
        self.inner
            .with_mirror(dataset_id, None, |_| true, |dataset| dataset.head(limit))
    }

    fn schema(&self, dataset_id: &str) -> Result<Option<Schema>, SinkError> {
        self.inner
            .with_mirror(dataset_id, None, |_| true, Dataset::schema)
    }

    fn sweep_staging(&self, dataset_id: &str) -> Result<usize, SinkError> {
        self.inner.staging.sweep_staging(dataset_id)
    }

    fn location(&self, dataset_id: &str) -> String {
        format!("{}/{dataset_id}/", self.inner.url)
    }

    fn delete_dataset(&self, dataset_id: &str) -> Result<bool, SinkError> {
        fsutil::validate_name("dataset id", dataset_id)?;
        // A live writer (its upload lock is held) keeps the dataset until it is done.
        if !self.inner.staging.delete_dataset(dataset_id)? {
            return Ok(false);
        }
        self.inner.block(async {
            let prefix = self.inner.dataset_prefix(dataset_id);
            let keys = self.inner.list(&prefix).await?;
            // Manifests first: flowd stops counting a batch before readers stop seeing it;
            // each batch then disappears whole, as its one object goes.
            let (manifests, others): (Vec<_>, Vec<_>) = keys
                .into_iter()
                .partition(|key| key.filename() == Some(MANIFEST_FILE_NAME));
            for key in manifests.iter().chain(others.iter()) {
                self.inner.delete(key).await?;
            }
            Ok(true)
        })
    }
}
