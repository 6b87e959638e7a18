//! Reading a published batch of object storage back without a local copy: its manifest (one
//! small GET) and its one Parquet object, read in ranged GETs of [`PART_BYTES`] as the caller
//! reads, so a download holds one part whatever the object's size. Every GET is conditional on
//! the etag the object had when it was opened: a retry overwriting the batch meanwhile fails
//! the read instead of mixing two attempts' bytes.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStoreExt};

use super::{Inner, PART_BYTES};
use crate::fsutil::{self, MANIFEST_FILE_NAME};
use crate::manifest::{BatchInfo, BatchManifest};
use crate::{PublishedFile, SinkError};

impl Inner {
    /// The manifest of the published batch `batch_id`; `None` when there is none.
    pub(super) fn published_manifest(
        &self,
        dataset_id: &str,
        batch_id: &str,
    ) -> Result<Option<BatchInfo>, SinkError> {
        fsutil::validate_name("dataset id", dataset_id)?;
        fsutil::validate_name("batch id", batch_id)?;
        let key = self.batch_key(dataset_id, batch_id, MANIFEST_FILE_NAME);
        let bytes = self.block(async {
            match self.store.get(&key).await {
                Ok(result) => result
                    .bytes()
                    .await
                    .map(Some)
                    .map_err(self.error("download", &key)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(error) => Err(self.error("download", &key)(error)),
            }
        })?;
        bytes
            .map(|bytes| {
                BatchManifest::parse(&bytes, &PathBuf::from(format!("{}/{key}", self.bucket_url)))
            })
            .transpose()
    }
}

/// Opens `name` of the published batch `batch_id`, if its manifest names it.
pub(super) fn open_published_file(
    inner: &Arc<Inner>,
    dataset_id: &str,
    batch_id: &str,
    name: &str,
) -> Result<Option<PublishedFile>, SinkError> {
    let Some(batch) = inner.published_manifest(dataset_id, batch_id)? else {
        return Ok(None);
    };
    if !batch.files.iter().any(|file| file.name == name) {
        return Ok(None);
    }
    let key = inner.batch_key(dataset_id, batch_id, name);
    let meta = inner.block(async {
        match inner.store.head(&key).await {
            Ok(meta) => Ok(Some(meta)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(inner.error("inspect", &key)(error)),
        }
    })?;
    Ok(meta.map(|meta| PublishedFile {
        size: meta.size,
        reader: Box::new(RangedObjectReader {
            inner: inner.clone(),
            key,
            e_tag: meta.e_tag,
            size: meta.size,
            position: 0,
            buffer: Vec::new(),
            buffer_start: 0,
        }),
    }))
}

/// A blocking reader of one object by ranged GETs of up to one part.
struct RangedObjectReader {
    inner: Arc<Inner>,
    key: ObjectPath,
    e_tag: Option<String>,
    size: u64,
    position: u64,
    /// The part read last, starting at `buffer_start`.
    buffer: Vec<u8>,
    buffer_start: u64,
}

impl RangedObjectReader {
    /// Reads the part that starts at `position` into the buffer.
    fn fill(&mut self) -> std::io::Result<()> {
        let end = self.size.min(self.position + PART_BYTES as u64);
        let options = GetOptions {
            if_match: self.e_tag.clone(),
            range: Some(GetRange::Bounded(self.position..end)),
            ..GetOptions::default()
        };
        let inner = &self.inner;
        let key = &self.key;
        let bytes = inner
            .block(async {
                let result = inner
                    .store
                    .get_opts(key, options)
                    .await
                    .map_err(inner.error("download", key))?;
                result.bytes().await.map_err(inner.error("download", key))
            })
            .map_err(std::io::Error::other)?;
        self.buffer = bytes.to_vec();
        self.buffer_start = self.position;
        Ok(())
    }
}

impl Read for RangedObjectReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.position >= self.size || out.is_empty() {
            return Ok(0);
        }
        let buffered_end = self.buffer_start + self.buffer.len() as u64;
        if self.position < self.buffer_start || self.position >= buffered_end {
            self.fill()?;
        }
        let offset = (self.position - self.buffer_start) as usize;
        let available = &self.buffer[offset..];
        if available.is_empty() {
            // The object is shorter than its size said: it changed under the reader.
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the object ended before its size",
            ));
        }
        let count = available.len().min(out.len());
        out[..count].copy_from_slice(&available[..count]);
        self.position += count as u64;
        Ok(count)
    }
}

impl Seek for RangedObjectReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.size.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        self.position = target.ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start of the object",
            )
        })?;
        Ok(self.position)
    }
}
