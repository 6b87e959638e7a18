//! The data a flowd process works on: the store (`--store URL`, or the data directory's
//! embedded SQLite file) and the datasets, and their upkeep before workers start (staging
//! leftovers of a crash swept, statistics of datasets written by an older flowd rebuilt).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use flowd_sink::DatasetStore;
use flowd_store::{BatchCommit, ResourceKind, Scope, Store, StoreUrl};

/// Makes every file and folder this process creates its owner's alone (0600 and 0700),
/// whatever the umask it was started with: the data dir holds credentials' ciphertexts and
/// every tenant's records.
pub fn create_owner_only() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Takes away what others may do in `data_dir`, for a data dir created by a flowd that did
/// not (or under a laxer umask): the folder and the datasets folder 0700, the embedded
/// store's files 0600. Creates the data dir when it is missing.
pub fn restrict_data_dir(data_dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating the data dir {}", data_dir.display()))?;
    let restrict = |path: &Path, mode: u32| -> anyhow::Result<()> {
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            outcome => outcome.with_context(|| format!("restricting {}", path.display())),
        }
    };
    restrict(data_dir, 0o700)?;
    restrict(&data_dir.join("datasets"), 0o700)?;
    for suffix in ["", "-wal", "-shm"] {
        let store_file = format!("{}{suffix}", flowd_store::DATABASE_FILE_NAME);
        restrict(&data_dir.join(store_file), 0o600)?;
    }
    Ok(())
}

/// The store `--store` names, or the data directory's embedded SQLite file.
pub async fn open_store(data_dir: &Path, url: Option<&str>) -> anyhow::Result<Arc<dyn Store>> {
    let url = match url {
        Some(url) => StoreUrl::parse(url)?,
        None => StoreUrl::in_data_dir(data_dir),
    };
    let store = flowd_store::open_store(&url)
        .await
        .with_context(|| format!("opening the store {}", url.shown()))?;
    tracing::info!(store = %url.shown(), "store opened");
    Ok(store)
}

/// Before workers start: removes what runs interrupted by a crash left in the datasets'
/// staging areas, and rebuilds the statistics of datasets that have batches but none stored
/// (written by a flowd that did not keep them). Safe beside other processes writing the same
/// datasets: the sweep leaves every batch a live writer holds, and a batch recorded here and
/// again by the run that committed it is counted once (statistics are kept per batch id).
pub async fn prepare_datasets(store: &dyn Store, datasets: Arc<dyn DatasetStore>) {
    let all = match store.list_all_resources(ResourceKind::Dataset).await {
        Ok(all) => all,
        Err(error) => {
            tracing::warn!(%error, "could not list datasets to sweep their staging files");
            return;
        }
    };
    for (scope, dataset) in all {
        let swept = {
            let datasets = datasets.clone();
            let dataset_id = dataset.id.clone();
            tokio::task::spawn_blocking(move || datasets.sweep_staging(&dataset_id)).await
        };
        match swept {
            Ok(Ok(0)) => {}
            Ok(Ok(removed)) => {
                tracing::info!(dataset_id = %dataset.id, removed, "removed batches left unfinished by a crash")
            }
            Ok(Err(error)) => {
                tracing::warn!(dataset_id = %dataset.id, %error, "could not sweep the dataset's staging files")
            }
            Err(error) => tracing::warn!(dataset_id = %dataset.id, %error, "sweeping panicked"),
        }
        if let Err(error) =
            rebuild_missing_stats(store, datasets.clone(), &scope, &dataset.id).await
        {
            tracing::warn!(dataset_id = %dataset.id, error = %format!("{error:#}"), "could not rebuild the dataset's statistics");
        }
    }
}

/// Records the committed batches of `dataset_id` (read from its files) in the store's
/// statistics when the store has none for it yet.
pub async fn rebuild_missing_stats(
    store: &dyn Store,
    datasets: Arc<dyn DatasetStore>,
    scope: &Scope,
    dataset_id: &str,
) -> anyhow::Result<()> {
    if store.dataset_stats(scope, dataset_id).await?.is_some() {
        return Ok(());
    }
    let id = dataset_id.to_owned();
    let (batches, record_type) = tokio::task::spawn_blocking(move || {
        let batches = datasets.batches(&id)?;
        let record_type = datasets
            .schema(&id)?
            .map(|schema| flowd_sink::arrow_types::record_type_of_schema(&schema))
            .unwrap_or_default();
        Ok::<_, flowd_sink::SinkError>((batches, record_type))
    })
    .await??;
    if batches.is_empty() {
        return Ok(());
    }
    let schema = serde_json::to_string(&record_type)?;
    let merge = |_stored: Option<&str>| schema.clone();
    for batch in &batches {
        let commit = BatchCommit {
            dataset_id,
            batch_id: &batch.batch_id,
            record_count: batch.record_count,
            bytes: batch.bytes,
            file_count: batch.files.len() as u64,
            merge_schema: &merge,
        };
        store
            .record_batch(scope, Some(&batch.run_id), &commit)
            .await?;
    }
    tracing::info!(%dataset_id, batches = batches.len(), "rebuilt the dataset's statistics from its files");
    Ok(())
}
