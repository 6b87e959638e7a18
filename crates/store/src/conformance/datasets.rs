//! Checks of dataset statistics.

use std::sync::Arc;

use serde_json::json;

use super::scope;
use crate::{BatchCommit, DatasetStats, ResourceKind, ResourceWrite, Store};

pub async fn committed_batches_add_up_and_a_recommitted_batch_replaces_itself(
    store: Arc<dyn Store>,
) {
    let mine = scope("ORG1", "datasets");
    let dataset_id = "0123456789abcdef01234567";
    store
        .insert_resource(
            &mine,
            ResourceKind::Dataset,
            dataset_id,
            ResourceWrite::document(&json!({})),
        )
        .await
        .unwrap();
    assert_eq!(store.dataset_stats(&mine, dataset_id).await.unwrap(), None);
    let append = |seen: Option<&str>| format!("{}+", seen.unwrap_or_default());
    let batch = |batch_id: &'static str, record_count: u64| BatchCommit {
        dataset_id,
        batch_id,
        record_count,
        bytes: record_count * 10,
        file_count: 1,
        merge_schema: &append,
    };
    store
        .record_batch(&mine, Some("run-1"), &batch("run-1", 5))
        .await
        .unwrap();
    store
        .record_batch(&mine, Some("run-2"), &batch("run-2", 7))
        .await
        .unwrap();
    store
        .record_batch(&mine, Some("run-1"), &batch("run-1", 6))
        .await
        .unwrap();
    assert_eq!(
        store.dataset_stats(&mine, dataset_id).await.unwrap(),
        Some(DatasetStats {
            batch_count: 2,
            record_count: 13,
            bytes: 130,
            schema: Some("+++".into()),
        }),
        "the retried batch replaced its counts; the schema merged every commit"
    );
    assert_eq!(
        store
            .dataset_stats(&scope("ORG2", "datasets"), dataset_id)
            .await
            .unwrap(),
        None
    );
    store
        .record_batch(
            &mine,
            None,
            &BatchCommit {
                dataset_id: "ffffffffffffffffffffffff",
                ..batch("x", 1)
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .dataset_stats(&mine, "ffffffffffffffffffffffff")
            .await
            .unwrap(),
        None,
        "a batch of a dataset that no longer exists is not counted"
    );
    store
        .delete_resource(&mine, ResourceKind::Dataset, dataset_id)
        .await
        .unwrap();
    assert_eq!(
        store.dataset_stats(&mine, dataset_id).await.unwrap(),
        None,
        "deleted with its dataset"
    );
}

pub async fn a_deleted_dataset_is_listed_until_its_files_are_gone(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "deleted");
    let dataset_id = "a0000000000000000000000a";
    store
        .insert_resource(
            &mine,
            ResourceKind::Dataset,
            dataset_id,
            ResourceWrite::document(&json!({})),
        )
        .await
        .unwrap();
    assert!(store.deleted_datasets().await.unwrap().is_empty());
    assert_eq!(
        store
            .delete_resource(&mine, ResourceKind::Dataset, dataset_id)
            .await
            .unwrap(),
        crate::DeleteOutcome::Deleted
    );
    assert_eq!(store.deleted_datasets().await.unwrap(), [dataset_id]);
    store.forget_deleted_dataset(dataset_id).await.unwrap();
    assert!(store.deleted_datasets().await.unwrap().is_empty());
}
