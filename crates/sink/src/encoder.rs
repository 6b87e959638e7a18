//! One Parquet file encoded on a thread of its own, so that a batch's next row group is
//! observed and decoded into Arrow while the previous one is encoded and compressed.
//!
//! Row groups are handed to the thread one at a time (a rendezvous): at most two row groups of
//! a file are in memory, one being decoded and one being encoded. The thread owns the file; finishing
//! writes the footer and hands the file back for its fsync.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

use crate::SinkError;

/// A Parquet file being written by its encoding thread.
pub(crate) struct FileEncoder {
    path: PathBuf,
    row_groups: Option<SyncSender<RecordBatch>>,
    thread: Option<JoinHandle<Result<File, SinkError>>>,
}

impl FileEncoder {
    /// Creates `path` (which must not exist) and starts its thread.
    pub(crate) fn create(
        path: &Path,
        schema: SchemaRef,
        properties: WriterProperties,
    ) -> Result<FileEncoder, SinkError> {
        let file = File::create_new(path).map_err(SinkError::io("create", path))?;
        let writer = ArrowWriter::try_new(file, schema, Some(properties))
            .map_err(SinkError::parquet(path))?;
        let (row_groups, queued) = sync_channel::<RecordBatch>(0);
        let thread_path = path.to_owned();
        let thread = std::thread::Builder::new()
            .name("flowd-parquet".to_owned())
            .spawn(move || {
                crate::lower_thread_priority();
                let mut writer = writer;
                for row_group in queued {
                    writer
                        .write(&row_group)
                        .and_then(|()| writer.flush())
                        .map_err(SinkError::parquet(&thread_path))?;
                    drop(row_group);
                    fail::fail_point!("sink-row-group-staged", |_| Err(SinkError::Io {
                        action: "stage a row group of",
                        path: thread_path.clone(),
                        source: std::io::Error::other("failpoint"),
                    }));
                }
                writer
                    .into_inner()
                    .map_err(SinkError::parquet(&thread_path))
            })
            .map_err(SinkError::io("start the encoding thread of", path))?;
        Ok(FileEncoder {
            path: path.to_owned(),
            row_groups: Some(row_groups),
            thread: Some(thread),
        })
    }

    /// Queues one row group (waits while the thread is still encoding the one before).
    pub(crate) fn write(&mut self, row_group: RecordBatch) -> Result<(), SinkError> {
        let sent = self
            .row_groups
            .as_ref()
            .is_some_and(|row_groups| row_groups.send(row_group).is_ok());
        if sent {
            return Ok(());
        }
        // The thread stopped on an error: that error is the answer.
        match self.join() {
            Err(error) => Err(error),
            Ok(_) => Err(SinkError::Io {
                action: "encode",
                path: self.path.clone(),
                source: std::io::Error::other("the encoding thread stopped"),
            }),
        }
    }

    /// Encodes what is queued, writes the footer and returns the file.
    pub(crate) fn finish(mut self) -> Result<File, SinkError> {
        self.join()
    }

    fn join(&mut self) -> Result<File, SinkError> {
        self.row_groups = None;
        let thread = self.thread.take().ok_or_else(|| SinkError::Io {
            action: "encode",
            path: self.path.clone(),
            source: std::io::Error::other("the encoding thread already stopped"),
        })?;
        thread.join().unwrap_or_else(|_| {
            Err(SinkError::Io {
                action: "encode",
                path: self.path.clone(),
                source: std::io::Error::other("the encoding thread panicked"),
            })
        })
    }
}

impl Drop for FileEncoder {
    /// A dropped file (an aborted batch) still waits for its thread, so nothing writes into
    /// the staging directory once it is removed.
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.join();
        }
    }
}
