//! File-system steps of an atomic batch: names, fsync, and the rename that
//! publishes (or replaces) a batch directory.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::SinkError;

/// The directory under the datasets root where batches are written before
/// they are published, and where replaced batches go before removal. Its
/// leading `.` makes pyarrow skip it; it also lies outside every dataset
/// directory, so no glob over `datasets/<id>/` can ever match a staged file.
pub(crate) const STAGING_DIR_NAME: &str = ".flowd-staging";

/// Name prefix of a published batch directory inside a dataset directory.
pub(crate) const BATCH_DIR_PREFIX: &str = "batch-";

/// Name of the manifest file inside a batch directory (skipped by readers:
/// leading `_`, and not `*.parquet`).
pub(crate) const MANIFEST_FILE_NAME: &str = "_flowd_batch.json";

/// Checks that a dataset id or batch id is safe as one path component and is
/// not itself a name readers skip.
pub(crate) fn validate_name(kind: &'static str, value: &str) -> Result<(), SinkError> {
    let invalid = |reason| {
        Err(SinkError::InvalidName {
            kind,
            value: value.to_owned(),
            reason,
        })
    };
    if value.is_empty() {
        return invalid("must not be empty");
    }
    if value.len() > 128 {
        return invalid("must be at most 128 characters");
    }
    if value.starts_with(['_', '-']) {
        return invalid("must not start with '_' or '-'");
    }
    if !value
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
    {
        return invalid("may contain only ascii letters, digits, '_' and '-'");
    }
    Ok(())
}

pub(crate) fn create_dir_all(path: &Path) -> Result<(), SinkError> {
    std::fs::create_dir_all(path).map_err(SinkError::io("create directory", path))
}

/// Makes a directory's entries (creations, renames) durable.
pub(crate) fn sync_dir(path: &Path) -> Result<(), SinkError> {
    File::open(path)
        .and_then(|directory| directory.sync_all())
        .map_err(SinkError::io("fsync directory", path))
}

/// Removes a directory tree; a missing directory is not an error.
pub(crate) fn remove_dir_all_if_exists(path: &Path) -> Result<(), SinkError> {
    match std::fs::remove_dir_all(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(SinkError::io("remove directory", path)(error))
        }
        _ => Ok(()),
    }
}

/// Publishes the fully written and synced `staged` directory as `target`.
///
/// If `target` does not exist this is one `rename`. If it does (a retried
/// batch), on Linux the two directories are swapped with one
/// `renameat2(RENAME_EXCHANGE)`, so readers see the old batch or the new one
/// and never neither; the old one, now at `staged`, is then removed. Where
/// the exchange is unsupported, the old batch is first renamed to
/// `replaced` (under the staging directory) and the new one renamed in:
/// for an instant neither is visible, but never both, and never a part.
pub(crate) fn publish_dir(staged: &Path, target: &Path, replaced: &Path) -> Result<(), SinkError> {
    publish_dir_with(staged, target, replaced, exchange)
}

fn publish_dir_with(
    staged: &Path,
    target: &Path,
    replaced: &Path,
    exchange: fn(&Path, &Path) -> bool,
) -> Result<(), SinkError> {
    let target_exists = target
        .try_exists()
        .map_err(SinkError::io("inspect", target))?;
    if !target_exists {
        std::fs::rename(staged, target).map_err(SinkError::io("publish batch", target))?;
        return Ok(());
    }
    if exchange(staged, target) {
        // `staged` now holds the superseded batch.
        std::fs::rename(staged, replaced)
            .map_err(SinkError::io("set aside replaced batch", staged))?;
        return Ok(());
    }
    std::fs::rename(target, replaced).map_err(SinkError::io("set aside replaced batch", target))?;
    std::fs::rename(staged, target).map_err(SinkError::io("publish batch", target))?;
    Ok(())
}

#[cfg(target_os = "linux")]
fn exchange(first: &Path, second: &Path) -> bool {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, first, CWD, second, RenameFlags::EXCHANGE).is_ok()
}

#[cfg(not(target_os = "linux"))]
fn exchange(_first: &Path, _second: &Path) -> bool {
    false
}

/// The lock file of a staging directory: `<dir>.lock`, beside it (never inside, so it is
/// never published with the batch).
pub(crate) fn lock_path(staging_dir: &Path) -> PathBuf {
    let mut path = staging_dir.as_os_str().to_owned();
    path.push(".lock");
    PathBuf::from(path)
}

/// A live writer's claim on its staging directory: an exclusive `flock` on the directory's
/// lock file, held as long as the writer lives (the kernel drops it when the process dies,
/// whatever killed it), so a sweep by any process on the same files never removes a live
/// writer's batch. Removing the lock file is the writer's last step.
pub(crate) struct WriterLock {
    path: PathBuf,
    _file: File,
}

impl WriterLock {
    /// Creates and locks the lock file of `staging_dir` (before the directory exists).
    pub(crate) fn acquire(staging_dir: &Path) -> Result<WriterLock, SinkError> {
        let path = lock_path(staging_dir);
        let file = File::create_new(&path).map_err(SinkError::io("create", &path))?;
        lock_exclusive(&file).map_err(SinkError::io("lock", &path))?;
        Ok(WriterLock { path, _file: file })
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether a live writer holds the lock file at `path` (a missing file is no writer).
pub(crate) fn writer_alive(path: &Path) -> bool {
    match File::open(path) {
        Ok(file) => lock_exclusive(&file).is_err(),
        Err(_) => false,
    }
}

#[cfg(target_os = "linux")]
fn lock_exclusive(file: &File) -> std::io::Result<()> {
    rustix::fs::flock(file, rustix::fs::FlockOperation::NonBlockingLockExclusive)
        .map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn lock_exclusive(_file: &File) -> std::io::Result<()> {
    Ok(())
}

/// A fresh, unique staging path for a dataset.
pub(crate) fn unique_staging_path(staging_root: &Path, dataset_id: &str, label: &str) -> PathBuf {
    staging_root.join(format!(
        "{dataset_id}.{label}.{}",
        uuid::Uuid::new_v4().simple()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_marker(dir: &Path, text: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("marker"), text).unwrap();
    }

    fn check_replacement(exchange: fn(&Path, &Path) -> bool) {
        let root = tempfile::tempdir().unwrap();
        let (staged, target, replaced) = (
            root.path().join("staged"),
            root.path().join("target"),
            root.path().join("replaced"),
        );
        write_marker(&target, "old");
        write_marker(&staged, "new");
        publish_dir_with(&staged, &target, &replaced, exchange).unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("marker")).unwrap(),
            "new"
        );
        assert_eq!(
            std::fs::read_to_string(replaced.join("marker")).unwrap(),
            "old"
        );
        assert!(!staged.exists());
    }

    #[test]
    fn replacing_a_batch_with_exchange_keeps_the_old_one_aside() {
        check_replacement(exchange);
    }

    #[test]
    fn replacing_a_batch_without_exchange_keeps_the_old_one_aside() {
        check_replacement(|_, _| false);
    }

    #[test]
    fn publishing_a_new_batch_is_one_rename() {
        let root = tempfile::tempdir().unwrap();
        let (staged, target) = (root.path().join("staged"), root.path().join("target"));
        write_marker(&staged, "new");
        publish_dir(&staged, &target, &root.path().join("unused")).unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("marker")).unwrap(),
            "new"
        );
        assert!(!staged.exists());
    }
}
