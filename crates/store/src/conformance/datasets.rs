//! Checks of dataset statistics and committed batches.

use std::sync::Arc;

use serde_json::json;

use super::scope;
use crate::{
    BatchCommit, BatchOrderField, BatchQuery, BatchRecord, DatasetStats, ResourceKind,
    ResourceWrite, Store,
};

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

pub async fn batches_are_listed_in_order_paged_found_by_id_and_scoped(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "batches");
    let datasets = ["b0000000000000000000000b", "c0000000000000000000000c"];
    for dataset_id in datasets {
        store
            .insert_resource(
                &mine,
                ResourceKind::Dataset,
                dataset_id,
                ResourceWrite::document(&json!({})),
            )
            .await
            .unwrap();
    }
    let keep = |seen: Option<&str>| seen.unwrap_or_default().to_owned();
    let commit = |dataset_id: &'static str, batch_id: &'static str, record_count: u64| {
        let store = store.clone();
        let mine = mine.clone();
        async move {
            store
                .record_batch(
                    &mine,
                    Some(batch_id),
                    &BatchCommit {
                        dataset_id,
                        batch_id,
                        record_count,
                        bytes: record_count * 10,
                        file_count: 1,
                        merge_schema: &keep,
                    },
                )
                .await
                .unwrap();
            // Commits a millisecond apart order by time, not only by id.
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        }
    };
    commit(datasets[0], "z-first", 1).await;
    commit(datasets[0], "a-second", 2).await;
    commit(datasets[1], "m-other", 3).await;
    commit(datasets[0], "k-third", 4).await;
    let ids = |batches: Vec<BatchRecord>| -> Vec<String> {
        batches.into_iter().map(|batch| batch.batch_id).collect()
    };
    let query = |order: Vec<(BatchOrderField, bool)>, offset: u64, limit: u64| BatchQuery {
        dataset_id: Some(datasets[0].to_owned()),
        order,
        offset,
        limit,
    };
    assert_eq!(
        ids(store
            .list_batches(&mine, &query(vec![], 0, 10))
            .await
            .unwrap()),
        ["z-first", "a-second", "k-third"],
        "oldest first by default"
    );
    assert_eq!(
        ids(store
            .list_batches(&mine, &query(vec![(BatchOrderField::Created, true)], 0, 10))
            .await
            .unwrap()),
        ["k-third", "a-second", "z-first"]
    );
    assert_eq!(
        ids(store
            .list_batches(&mine, &query(vec![(BatchOrderField::Id, false)], 0, 10))
            .await
            .unwrap()),
        ["a-second", "k-third", "z-first"]
    );
    let mut paged = Vec::new();
    for offset in 0..4 {
        paged.extend(ids(store
            .list_batches(&mine, &query(vec![], offset, 1))
            .await
            .unwrap()));
    }
    assert_eq!(
        paged,
        ["z-first", "a-second", "k-third"],
        "an offset past the end is empty"
    );
    let every_dataset = BatchQuery {
        dataset_id: None,
        ..query(vec![(BatchOrderField::Created, false)], 1, 2)
    };
    assert_eq!(
        ids(store.list_batches(&mine, &every_dataset).await.unwrap()),
        ["a-second", "m-other"]
    );

    // A recommitted batch keeps its first commit's time and takes the new counts.
    let first = store.get_batch(&mine, "z-first").await.unwrap().unwrap();
    commit(datasets[0], "z-first", 9).await;
    let again = store.get_batch(&mine, "z-first").await.unwrap().unwrap();
    assert_eq!(again.dataset_id, datasets[0]);
    assert_eq!(again.run_id.as_deref(), Some("z-first"));
    assert_eq!(
        (again.record_count, again.bytes, again.file_count),
        (9, 90, 1)
    );
    assert_eq!(again.created_at, first.created_at);
    assert!(again.committed_at > first.committed_at, "{again:?}");
    assert_eq!(
        ids(store
            .list_batches(&mine, &query(vec![(BatchOrderField::Updated, true)], 0, 1))
            .await
            .unwrap()),
        ["z-first"]
    );

    let mut newest = ids(store
        .newest_batches(
            &mine,
            &[
                datasets[0].to_owned(),
                datasets[1].to_owned(),
                "d0000000000000000000000d".into(),
            ],
        )
        .await
        .unwrap());
    newest.sort();
    assert_eq!(newest, ["k-third", "m-other"]);
    assert!(store.newest_batches(&mine, &[]).await.unwrap().is_empty());

    let other = scope("ORG2", "batches");
    assert!(store.get_batch(&other, "z-first").await.unwrap().is_none());
    assert!(
        store
            .list_batches(
                &other,
                &BatchQuery {
                    dataset_id: None,
                    ..query(vec![], 0, 10)
                }
            )
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .newest_batches(&other, &[datasets[0].to_owned()])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.get_batch(&mine, "missing").await.unwrap().is_none());

    store
        .delete_resource(&mine, ResourceKind::Dataset, datasets[0])
        .await
        .unwrap();
    assert!(
        store.get_batch(&mine, "k-third").await.unwrap().is_none(),
        "deleted with its dataset"
    );
}
