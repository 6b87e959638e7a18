//! Reading one published batch back as files, for serving them over HTTP (the API's Data Access
//! routes): the batch's manifest, and one of its Parquet files opened for reading from any
//! offset. Only files the manifest names are opened, so a name from a request can reach
//! nothing else (not the manifest, not a staged file, not another batch).

use std::io::{Read, Seek};

/// A reader of one published file that can start anywhere (a `Range` request).
pub trait ReadSeek: Read + Seek + Send {}

impl<T: Read + Seek + Send> ReadSeek for T {}

/// A file of a published batch, opened. The reader sees the file as it was when opened, whole:
/// a retry that replaces the batch meanwhile is not mixed into it (on disk the open file keeps
/// the replaced bytes; on object storage every read is conditional on the object's etag and
/// fails instead).
pub struct PublishedFile {
    /// The file's size in bytes.
    pub size: u64,
    pub reader: Box<dyn ReadSeek>,
}

impl std::fmt::Debug for PublishedFile {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PublishedFile")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}
