//! The SQLite backend against the exported conformance suites, plus what only a file-backed
//! store can show (reopening, migrations, directory permissions).

use std::sync::Arc;

use flowd_store::conformance::{OpenedStore, check_all};
use flowd_store::{
    ListQuery, ResourceKind, ResourceStore, ResourceWrite, Scope, SeedResource, SqliteStore,
};
use serde_json::json;

async fn open_temporary_sqlite() -> OpenedStore {
    let data_dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in_data_dir(data_dir.path())
        .await
        .unwrap();
    (Arc::new(store), Box::new(data_dir))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_store_passes_the_conformance_suites() {
    check_all(open_temporary_sqlite).await;
}

fn no_seed(_sandbox_id: &str) -> Vec<SeedResource> {
    Vec::new()
}

#[tokio::test]
async fn sqlite_store_keeps_data_across_reopen_and_stays_sound() {
    let data_dir = tempfile::tempdir().unwrap();
    let mine = Scope {
        org_id: "ORG1".into(),
        sandbox_name: "prod".into(),
    };
    {
        let store = SqliteStore::open_in_data_dir(data_dir.path())
            .await
            .unwrap();
        store
            .ensure_sandbox("ORG1", "prod", &no_seed)
            .await
            .unwrap();
        store
            .insert_resource(
                &mine,
                ResourceKind::ConnectionSpec,
                "kept",
                ResourceWrite::document(&json!({"n": 1})),
            )
            .await
            .unwrap();
        store.close().await;
    }
    let reopened = SqliteStore::open_in_data_dir(data_dir.path())
        .await
        .unwrap();
    let read = reopened
        .get_resource(&mine, ResourceKind::ConnectionSpec, "kept")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.body, json!({"n": 1}));
    let listed = reopened
        .list_resources(&mine, ResourceKind::ConnectionSpec, &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        reopened.integrity_check().await.unwrap(),
        vec!["ok".to_owned()]
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_data_dir_created_by_the_store_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("flowd-data");
    SqliteStore::open_in_data_dir(&data_dir).await.unwrap();
    let mode = std::fs::metadata(&data_dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}
