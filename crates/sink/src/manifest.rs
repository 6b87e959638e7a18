//! The published form of a batch: `_flowd_batch.json`, written into the batch directory before
//! it is published, and what it records ([`BatchInfo`], [`BatchFile`]).

use std::fs::File;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::SinkError;

/// A published batch, as recorded in its manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchInfo {
    pub batch_id: String,
    pub run_id: String,
    pub ingested_at: jiff::Timestamp,
    pub record_count: u64,
    /// Total size of the batch's Parquet files.
    pub bytes: u64,
    /// The batch's Parquet files, in write order (names inside the batch directory).
    pub files: Vec<BatchFile>,
}

/// One Parquet file of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchFile {
    pub name: String,
    pub record_count: u64,
    pub bytes: u64,
}

/// `_flowd_batch.json`, written into the batch directory before it is published.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct BatchManifest {
    format_version: u32,
    batch_id: String,
    run_id: String,
    ingested_at_ms: i64,
    record_count: u64,
    files: Vec<BatchFile>,
}

impl BatchManifest {
    pub(crate) fn from_info(info: &BatchInfo) -> BatchManifest {
        BatchManifest {
            format_version: 1,
            batch_id: info.batch_id.clone(),
            run_id: info.run_id.clone(),
            ingested_at_ms: info.ingested_at.as_millisecond(),
            record_count: info.record_count,
            files: info.files.clone(),
        }
    }

    pub(crate) fn write(&self, path: &Path) -> Result<(), SinkError> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|source| SinkError::Manifest {
            path: path.to_owned(),
            source,
        })?;
        let mut file = File::create_new(path).map_err(SinkError::io("create", path))?;
        std::io::Write::write_all(&mut file, &bytes).map_err(SinkError::io("write", path))?;
        file.sync_all().map_err(SinkError::io("fsync", path))
    }

    pub(crate) fn read(path: &Path) -> Result<BatchInfo, SinkError> {
        let bytes = std::fs::read(path).map_err(SinkError::io("read", path))?;
        BatchManifest::parse(&bytes, path)
    }

    /// A manifest's bytes, read from `shown` (named in errors).
    pub(crate) fn parse(bytes: &[u8], shown: &Path) -> Result<BatchInfo, SinkError> {
        let manifest: BatchManifest =
            serde_json::from_slice(bytes).map_err(|source| SinkError::Manifest {
                path: shown.to_owned(),
                source,
            })?;
        let ingested_at = jiff::Timestamp::from_millisecond(manifest.ingested_at_ms)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        Ok(BatchInfo {
            batch_id: manifest.batch_id,
            run_id: manifest.run_id,
            ingested_at,
            record_count: manifest.record_count,
            bytes: manifest.files.iter().map(|file| file.bytes).sum(),
            files: manifest.files,
        })
    }
}
