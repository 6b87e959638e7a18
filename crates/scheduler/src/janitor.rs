//! The files of deleted datasets: deleting a dataset through the API records it in the store
//! (`DatasetStatsStore::deleted_datasets`, in the delete's transaction); a process that runs
//! flows removes its files here, once no live writer holds a batch of it, then forgets it.
//! A run still targeting it fails on its own: its dataset is gone from the store.

use std::sync::Arc;
use std::time::Duration;

use flowd_sink::DatasetStore;
use flowd_store::Store;
use tokio::sync::watch;

/// Removes the files of every deleted dataset no writer still holds; returns how many.
pub async fn remove_deleted_datasets(store: &dyn Store, datasets: &Arc<dyn DatasetStore>) -> usize {
    let deleted = match store.deleted_datasets().await {
        Ok(deleted) => deleted,
        Err(error) => {
            tracing::warn!(%error, "could not list deleted datasets");
            return 0;
        }
    };
    let mut removed = 0;
    for dataset_id in deleted {
        let sink = datasets.clone();
        let id = dataset_id.clone();
        match tokio::task::spawn_blocking(move || sink.delete_dataset(&id)).await {
            Ok(Ok(true)) => {
                if let Err(error) = store.forget_deleted_dataset(&dataset_id).await {
                    tracing::warn!(%dataset_id, %error, "could not forget a deleted dataset");
                    continue;
                }
                tracing::info!(%dataset_id, "removed the files of a deleted dataset");
                removed += 1;
            }
            Ok(Ok(false)) => {
                tracing::debug!(%dataset_id, "a deleted dataset still has a writer; its files are removed later")
            }
            Ok(Err(error)) => {
                tracing::warn!(%dataset_id, %error, "could not remove a deleted dataset's files")
            }
            Err(error) => tracing::warn!(%dataset_id, %error, "removing a dataset's files stopped"),
        }
    }
    removed
}

/// Removes deleted datasets' files every `every` until `shutdown` turns true.
pub async fn run_janitor(
    store: Arc<dyn Store>,
    datasets: Arc<dyn DatasetStore>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        remove_deleted_datasets(store.as_ref(), &datasets).await;
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {}
        }
    }
}
