//! The store conformance suite: every backend must pass every check here.
//! Today the only backend is SQLite; a new backend adds one `#[tokio::test]`
//! that opens it and calls [`run_conformance_suite`].

use flowd_store::{
    DeleteOutcome, NewCredential, Reference, ReplaceOutcome, ResourceKind, Scope, SeedResource,
    SqliteStore, Store, StoreError,
};
use serde_json::json;

fn scope(org: &str, sandbox: &str) -> Scope {
    Scope {
        org_id: org.to_owned(),
        sandbox_name: sandbox.to_owned(),
    }
}

fn no_seed(_sandbox_id: &str) -> Vec<SeedResource> {
    Vec::new()
}

async fn credentials_are_found_by_token_hash_only(store: &dyn Store) {
    assert_eq!(store.count_credentials().await.unwrap(), 0);
    store
        .insert_credential(&NewCredential {
            id: "CRED1@AdobeID".into(),
            org_id: "ORG1@AdobeOrg".into(),
            api_key: "key-1".into(),
            token_hash: "aa".repeat(32),
            created_at: 5,
        })
        .await
        .unwrap();
    let found = store
        .find_credential_by_token_hash(&"aa".repeat(32))
        .await
        .unwrap()
        .expect("credential by hash");
    assert_eq!(found.id, "CRED1@AdobeID");
    assert_eq!(found.org_id, "ORG1@AdobeOrg");
    assert_eq!(found.api_key, "key-1");
    assert!(
        store
            .find_credential_by_token_hash(&"bb".repeat(32))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.count_credentials().await.unwrap(), 1);
}

async fn sandboxes_are_created_once_with_their_seed(store: &dyn Store) {
    let seeder = |sandbox_id: &str| {
        vec![SeedResource {
            kind: ResourceKind::FlowSpec,
            id: "builtin".into(),
            body: json!({"sandboxId": sandbox_id}),
        }]
    };
    let first = store.ensure_sandbox("ORG1", "prod", &seeder).await.unwrap();
    let again = store.ensure_sandbox("ORG1", "prod", &seeder).await.unwrap();
    assert_eq!(first, again, "a sandbox id is stable");
    let other_org = store.ensure_sandbox("ORG2", "prod", &seeder).await.unwrap();
    assert_ne!(first.id, other_org.id, "sandbox ids differ per org");
    let seeded = store
        .list_resources(&scope("ORG1", "prod"), ResourceKind::FlowSpec)
        .await
        .unwrap();
    assert_eq!(seeded.len(), 1, "the seed is inserted once");
    assert_eq!(seeded[0].body, json!({"sandboxId": first.id}));
}

async fn resources_round_trip_and_stay_in_their_scope(store: &dyn Store) {
    let mine = scope("ORG1", "dev");
    let body = json!({"name": "a", "extra": {"kept": [1, 2, 3]}});
    let stored = store
        .insert_resource(&mine, ResourceKind::ConnectionSpec, "id-1", &body)
        .await
        .unwrap();
    assert_eq!(stored.revision, 1);
    let duplicate = store
        .insert_resource(&mine, ResourceKind::ConnectionSpec, "id-1", &body)
        .await;
    assert!(matches!(duplicate, Err(StoreError::AlreadyExists { .. })));
    let read = store
        .get_resource(&mine, ResourceKind::ConnectionSpec, "id-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.body, body);
    for other in [scope("ORG2", "dev"), scope("ORG1", "prod")] {
        assert!(
            store
                .get_resource(&other, ResourceKind::ConnectionSpec, "id-1")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .list_resources(&other, ResourceKind::ConnectionSpec)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .replace_resource(&other, ResourceKind::ConnectionSpec, "id-1", &body, None)
                .await
                .unwrap(),
            ReplaceOutcome::NotFound
        );
        assert_eq!(
            store
                .delete_resource(&other, ResourceKind::ConnectionSpec, "id-1", &[])
                .await
                .unwrap(),
            DeleteOutcome::NotFound
        );
    }
    assert!(
        store
            .get_resource(&mine, ResourceKind::FlowSpec, "id-1")
            .await
            .unwrap()
            .is_none(),
        "kinds are separate namespaces"
    );
}

async fn replace_bumps_the_revision_and_honours_the_expected_one(store: &dyn Store) {
    let mine = scope("ORG1", "replace");
    store
        .insert_resource(&mine, ResourceKind::ConnectionSpec, "r", &json!({"v": 1}))
        .await
        .unwrap();
    let outcome = store
        .replace_resource(
            &mine,
            ResourceKind::ConnectionSpec,
            "r",
            &json!({"v": 2}),
            Some(1),
        )
        .await
        .unwrap();
    assert!(matches!(outcome, ReplaceOutcome::Replaced(ref stored) if stored.revision == 2));
    let stale = store
        .replace_resource(
            &mine,
            ResourceKind::ConnectionSpec,
            "r",
            &json!({"v": 3}),
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(stale, ReplaceOutcome::RevisionMismatch { current: 2 });
    let read = store
        .get_resource(&mine, ResourceKind::ConnectionSpec, "r")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.body, json!({"v": 2}));
}

async fn delete_is_refused_while_referenced(store: &dyn Store) {
    let mine = scope("ORG1", "refs");
    store
        .insert_resource(&mine, ResourceKind::ConnectionSpec, "spec-a", &json!({}))
        .await
        .unwrap();
    store
        .insert_resource(
            &mine,
            ResourceKind::FlowSpec,
            "flow-1",
            &json!({"sourceConnectionSpecIds": ["x", "spec-a"]}),
        )
        .await
        .unwrap();
    let references = [Reference {
        kind: ResourceKind::FlowSpec,
        field: "$.sourceConnectionSpecIds",
    }];
    let refused = store
        .delete_resource(&mine, ResourceKind::ConnectionSpec, "spec-a", &references)
        .await
        .unwrap();
    assert_eq!(
        refused,
        DeleteOutcome::Referenced(vec![(ResourceKind::FlowSpec, "flow-1".into())])
    );
    store
        .replace_resource(
            &mine,
            ResourceKind::FlowSpec,
            "flow-1",
            &json!({"sourceConnectionSpecIds": []}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .delete_resource(&mine, ResourceKind::ConnectionSpec, "spec-a", &references)
            .await
            .unwrap(),
        DeleteOutcome::Deleted
    );
    assert!(
        store
            .get_resource(&mine, ResourceKind::ConnectionSpec, "spec-a")
            .await
            .unwrap()
            .is_none()
    );
}

async fn run_conformance_suite(store: &dyn Store) {
    credentials_are_found_by_token_hash_only(store).await;
    sandboxes_are_created_once_with_their_seed(store).await;
    resources_round_trip_and_stay_in_their_scope(store).await;
    replace_bumps_the_revision_and_honours_the_expected_one(store).await;
    delete_is_refused_while_referenced(store).await;
}

#[tokio::test]
async fn sqlite_store_passes_the_conformance_suite() {
    let data_dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in_data_dir(data_dir.path())
        .await
        .unwrap();
    run_conformance_suite(&store).await;
    assert_eq!(
        store.integrity_check().await.unwrap(),
        vec!["ok".to_owned()]
    );
}

#[tokio::test]
async fn sqlite_store_keeps_data_across_reopen_and_migrates_once() {
    let data_dir = tempfile::tempdir().unwrap();
    let mine = scope("ORG1", "prod");
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
                &json!({"n": 1}),
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
}
