//! The one error type of the crate: every failure of writing or reading a dataset.

use std::path::PathBuf;

/// Why a dataset operation failed. Messages are lowercase, without a trailing period.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// A dataset id or batch id cannot be used as a directory name.
    #[error("invalid {kind} {value:?}: {reason}")]
    InvalidName {
        kind: &'static str,
        value: String,
        reason: &'static str,
    },
    /// `--datasets-url` names no location this build can write.
    #[error("datasets location {shown}: {reason}")]
    InvalidLocation { shown: String, reason: String },
    /// A record handed to a batch writer is not a JSON object.
    #[error("record {index} of the page is not a json object")]
    RecordNotAnObject { index: usize },
    /// A record handed to a batch writer as text is not valid JSON (or holds a number no
    /// 64-bit float can represent).
    #[error("record {index} of the page is not valid json: {source}")]
    InvalidRecord {
        index: usize,
        #[source]
        source: serde_json::Error,
    },
    /// A file-system operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Encoding or decoding a Parquet file failed.
    #[error("parquet file {}: {source}", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// Converting records to or from Arrow arrays failed.
    #[error("arrow conversion: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// An object-storage request failed (the message never holds credentials).
    #[error("cannot {action} {key}: {message}")]
    ObjectStore {
        action: &'static str,
        key: String,
        message: String,
    },
    /// A batch manifest cannot be written or read.
    #[error("batch manifest {}: {source}", path.display())]
    Manifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl SinkError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> SinkError {
        let path = path.into();
        move |source| SinkError::Io {
            action,
            path,
            source,
        }
    }

    pub(crate) fn parquet(
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(parquet::errors::ParquetError) -> SinkError {
        let path = path.into();
        move |source| SinkError::Parquet { path, source }
    }
}
