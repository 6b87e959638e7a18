//! [`LocalDatasets`]: the [`DatasetStore`] of datasets as directories under one root on local
//! disk (see the crate documentation for the layout and the atomicity argument).

use std::path::{Path, PathBuf};

use arrow_schema::Schema;
use flowd_model::record_type::StructType;
use serde_json::Value;

use crate::manifest::BatchInfo;
use crate::writer::{BatchSummary, BatchWriter};
use crate::{BatchWrite, Dataset, DatasetStore, PublishedFile, SinkError, WriterOptions};

/// The directory of the data dir that holds the datasets.
pub const DATASETS_DIR_NAME: &str = "datasets";

/// Datasets under one directory.
#[derive(Debug, Clone)]
pub struct LocalDatasets {
    root: PathBuf,
    writer_options: WriterOptions,
}

impl LocalDatasets {
    /// Datasets under `root`.
    pub fn new(root: impl Into<PathBuf>) -> LocalDatasets {
        LocalDatasets {
            root: root.into(),
            writer_options: WriterOptions::default(),
        }
    }

    /// The datasets at `location` (`--datasets-url`): a local path or a `file://` URL of one,
    /// such as a shared filesystem every process of a fleet mounts; `None` is
    /// `<data_dir>/datasets`. Object storage (`s3://…`) is not available in this build.
    pub fn at_location(
        location: Option<&str>,
        data_dir: &Path,
    ) -> Result<LocalDatasets, SinkError> {
        let Some(location) = location.map(str::trim).filter(|text| !text.is_empty()) else {
            return Ok(LocalDatasets::in_data_dir(data_dir));
        };
        let invalid = |reason: &str| SinkError::InvalidLocation {
            shown: location.to_owned(),
            reason: reason.to_owned(),
        };
        let path = match location.split_once("://") {
            None => PathBuf::from(location),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("file") => {
                let path = rest.strip_prefix("localhost").unwrap_or(rest);
                if !path.starts_with('/') {
                    return Err(invalid("a file URL names an absolute path: file:///PATH"));
                }
                PathBuf::from(path)
            }
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("s3") => {
                return Err(invalid(
                    "is object storage, not a local directory (open it with open_datasets)",
                ));
            }
            Some(_) => {
                return Err(invalid(
                    "use a local path, file:///PATH or s3://BUCKET/PREFIX",
                ));
            }
        };
        Ok(LocalDatasets::new(path))
    }

    /// The datasets of a flowd data directory (`<data_dir>/datasets`).
    pub fn in_data_dir(data_dir: &Path) -> LocalDatasets {
        LocalDatasets::new(data_dir.join(DATASETS_DIR_NAME))
    }

    /// The options batches begin with.
    pub fn writer_options(&self) -> &WriterOptions {
        &self.writer_options
    }

    /// Uses `writer_options` for the batches begun from now on.
    pub fn with_writer_options(mut self, writer_options: WriterOptions) -> LocalDatasets {
        self.writer_options = writer_options;
        self
    }

    /// Where the datasets live.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory handle of one dataset.
    pub fn dataset(&self, dataset_id: &str) -> Result<Dataset, SinkError> {
        Ok(Dataset::open(&self.root, dataset_id)?.with_writer_options(self.writer_options.clone()))
    }
}

impl BatchWrite for BatchWriter {
    fn write_records(&mut self, records: flowd_model::records::Records) -> Result<(), SinkError> {
        BatchWriter::write_records(self, records)
    }

    fn record_count(&self) -> u64 {
        BatchWriter::record_count(self)
    }

    fn commit(self: Box<Self>) -> Result<BatchSummary, SinkError> {
        BatchWriter::commit(*self)
    }

    fn abort(self: Box<Self>) -> Result<(), SinkError> {
        BatchWriter::abort(*self)
    }
}

impl DatasetStore for LocalDatasets {
    fn begin_batch(
        &self,
        dataset_id: &str,
        batch_id: &str,
        run_id: &str,
        ingested_at: jiff::Timestamp,
        seed: &StructType,
    ) -> Result<Box<dyn BatchWrite>, SinkError> {
        let writer = self
            .dataset(dataset_id)?
            .begin_batch(batch_id, run_id, ingested_at, seed)?;
        Ok(Box::new(writer))
    }

    fn begin_typed_batch(
        &self,
        dataset_id: &str,
        batch_id: &str,
        run_id: &str,
        ingested_at: jiff::Timestamp,
        schema: std::sync::Arc<flowd_model::xdm::XdmSchema>,
    ) -> Result<Box<dyn BatchWrite>, SinkError> {
        let writer =
            self.dataset(dataset_id)?
                .begin_typed_batch(batch_id, run_id, ingested_at, schema)?;
        Ok(Box::new(writer))
    }

    fn batches(&self, dataset_id: &str) -> Result<Vec<BatchInfo>, SinkError> {
        self.dataset(dataset_id)?.batches()
    }

    fn published_batch(
        &self,
        dataset_id: &str,
        batch_id: &str,
    ) -> Result<Option<BatchSummary>, SinkError> {
        self.dataset(dataset_id)?.published_batch(batch_id)
    }

    fn batch(&self, dataset_id: &str, batch_id: &str) -> Result<Option<BatchInfo>, SinkError> {
        self.dataset(dataset_id)?.published_manifest(batch_id)
    }

    fn open_batch_file(
        &self,
        dataset_id: &str,
        batch_id: &str,
        name: &str,
    ) -> Result<Option<PublishedFile>, SinkError> {
        self.dataset(dataset_id)?
            .open_published_file(batch_id, name)
    }

    fn head(&self, dataset_id: &str, limit: usize) -> Result<Vec<Value>, SinkError> {
        self.dataset(dataset_id)?.head(limit)
    }

    fn schema(&self, dataset_id: &str) -> Result<Option<Schema>, SinkError> {
        self.dataset(dataset_id)?.schema()
    }

    fn sweep_staging(&self, dataset_id: &str) -> Result<usize, SinkError> {
        self.dataset(dataset_id)?.sweep_staging()
    }

    fn location(&self, dataset_id: &str) -> String {
        self.root.join(dataset_id).display().to_string()
    }

    fn delete_dataset(&self, dataset_id: &str) -> Result<bool, SinkError> {
        self.dataset(dataset_id)?.delete()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasets_locations_are_local_paths_or_file_urls() {
        let data_dir = Path::new("/srv/flowd");
        let root = |location| {
            LocalDatasets::at_location(location, data_dir)
                .map(|datasets| datasets.root().to_owned())
        };
        assert_eq!(root(None).unwrap(), Path::new("/srv/flowd/datasets"));
        assert_eq!(root(Some("  ")).unwrap(), Path::new("/srv/flowd/datasets"));
        assert_eq!(
            root(Some("/mnt/shared/datasets")).unwrap(),
            Path::new("/mnt/shared/datasets")
        );
        assert_eq!(
            root(Some("relative/datasets")).unwrap(),
            Path::new("relative/datasets")
        );
        assert_eq!(
            root(Some("file:///mnt/shared")).unwrap(),
            Path::new("/mnt/shared")
        );
        assert_eq!(
            root(Some("FILE://localhost/mnt/x")).unwrap(),
            Path::new("/mnt/x")
        );
        for refused in ["file://relative", "s3://bucket/prefix", "gs://bucket"] {
            let error = root(Some(refused)).unwrap_err().to_string();
            assert!(error.contains(refused), "{error}");
        }
    }
}
