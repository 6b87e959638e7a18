//! The data a flowd process works on: the store (`--store URL`, or the data directory's
//! embedded SQLite file) and the datasets, and their upkeep before workers start (staging
//! leftovers of a crash swept, statistics of datasets written by an older flowd rebuilt).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use flowd_sink::DatasetStore;
use flowd_store::{BatchCommit, ResourceKind, Scope, Store, StoreUrl};

/// The store `--store` names, or the data directory's embedded SQLite file.
pub async fn open_store(data_dir: &Path, url: Option<&str>) -> anyhow::Result<Arc<dyn Store>> {
    let url = match url {
        Some(url) => StoreUrl::parse(url)?,
        None => StoreUrl::in_data_dir(data_dir),
    };
    flowd_store::open_store(&url)
        .await
        .with_context(|| format!("opening the store {}", url.shown()))
}

/// Before workers start: removes what runs interrupted by a crash left in the datasets'
/// staging areas, and rebuilds the statistics of datasets that have batches but none stored
/// (written by a flowd that did not keep them). Safe only before this process's workers start,
/// and only while no other flowd process writes to the same datasets (the embedded store
/// makes the data dir one process's own).
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
