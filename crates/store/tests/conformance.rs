//! The store conformance suite: every backend must pass every check here.
//! Today the only backend is SQLite; a new backend adds one `#[tokio::test]`
//! that opens it and calls [`run_conformance_suite`].

use flowd_store::{
    DeleteOutcome, NewCredential, NewRun, Reference, ReplaceOutcome, ResourceKind, RunStatus,
    Scope, SeedResource, SqliteStore, Store, StoreError,
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
    let everywhere = store
        .list_all_resources(ResourceKind::ConnectionSpec)
        .await
        .unwrap();
    assert!(
        everywhere
            .iter()
            .any(|(scope, resource)| scope == &mine && resource.id == "id-1"),
        "listing across scopes names each resource's scope"
    );
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

fn new_run(id: &str, scope: &Scope, window_end: i64, scheduled_at: i64) -> NewRun {
    NewRun {
        id: id.to_owned(),
        scope: scope.clone(),
        flow_id: "flow-1".to_owned(),
        window_start: Some(window_end - 1000),
        window_end,
        scheduled_at,
        body: json!({"id": id}),
    }
}

async fn runs_are_claimed_once_in_order_and_only_when_due(store: &dyn Store) {
    let mine = scope("ORG1", "runs");
    store
        .insert_run(&new_run("run-b", &mine, 2000, 200))
        .await
        .unwrap();
    store
        .insert_run(&new_run("run-a", &mine, 1000, 100))
        .await
        .unwrap();
    store
        .insert_run(&new_run("run-later", &mine, 3000, 10_000))
        .await
        .unwrap();
    let same_window = store
        .insert_run(&new_run("run-dup", &mine, 1000, 100))
        .await;
    assert!(
        matches!(same_window, Err(StoreError::AlreadyExists { .. })),
        "one run per window"
    );

    let first = store
        .claim_run("worker-1", 500, 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, "run-a", "the oldest due run first");
    assert_eq!(first.status, RunStatus::InProgress);
    assert_eq!(first.attempts, 1);
    assert_eq!(first.lease_owner.as_deref(), Some("worker-1"));
    let second = store
        .claim_run("worker-2", 500, 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.id, "run-b", "a claimed run is not claimed again");
    assert!(
        store
            .claim_run("worker-3", 500, 60_000)
            .await
            .unwrap()
            .is_none(),
        "run-later is not due"
    );

    assert!(
        store
            .heartbeat_run("run-a", "worker-1", 600, 60_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .heartbeat_run("run-a", "worker-2", 600, 60_000)
            .await
            .unwrap(),
        "only the owner heartbeats"
    );
    assert!(
        store
            .finish_run(
                "run-a",
                "worker-1",
                RunStatus::Success,
                100,
                &json!({"done": true})
            )
            .await
            .unwrap()
    );
    let done = store.get_run(&mine, "run-a").await.unwrap().unwrap();
    assert_eq!(done.status, RunStatus::Success);
    assert_eq!(done.body, json!({"done": true}));
    assert_eq!(done.lease_owner, None);
    assert!(
        !store
            .finish_run("run-a", "worker-1", RunStatus::Failed, 100, &json!({}))
            .await
            .unwrap(),
        "a finished run cannot be finished again"
    );
    assert!(
        store
            .get_run(&scope("ORG2", "runs"), "run-a")
            .await
            .unwrap()
            .is_none(),
        "runs are scoped"
    );
}

async fn an_expired_lease_is_taken_over_and_the_old_worker_is_fenced(store: &dyn Store) {
    let mine = scope("ORG1", "leases");
    store
        .insert_run(&new_run("run-x", &mine, 1000, 0))
        .await
        .unwrap();
    let claimed = store
        .claim_run("dying-worker", 100, 1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, "run-x");
    assert!(
        store
            .claim_run("other", 500, 1_000)
            .await
            .unwrap()
            .is_none(),
        "the lease still holds"
    );
    let taken = store
        .claim_run("other", 1_200, 1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.id, "run-x", "an expired lease is taken over");
    assert_eq!(taken.attempts, 2);
    assert!(
        !store
            .heartbeat_run("run-x", "dying-worker", 1_300, 1_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_run("run-x", "dying-worker", RunStatus::Success, 0, &json!({}))
            .await
            .unwrap(),
        "the old worker cannot overwrite the new one's outcome"
    );
    // A retry: back to pending, due later.
    assert!(
        store
            .finish_run(
                "run-x",
                "other",
                RunStatus::Pending,
                5_000,
                &json!({"retry": 1})
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_run("other", 4_000, 1_000)
            .await
            .unwrap()
            .is_none()
    );
    let retried = store
        .claim_run("other", 5_000, 1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((retried.id.as_str(), retried.attempts), ("run-x", 3));
    let listed = store.list_runs(&mine, Some("flow-1")).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        store
            .list_runs(&mine, Some("other-flow"))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Runs after the two tests above: their runs are then either not due before
/// 6_000 (run-x's lease, run-later) or leased until 60_500 (run-b).
async fn only_a_failed_run_of_the_scope_is_retriggered(store: &dyn Store) {
    let mine = scope("ORG1", "retrigger");
    let mut run = new_run("run-f", &mine, 1000, 0);
    run.flow_id = "flow-f".to_owned();
    store.insert_run(&run).await.unwrap();
    assert!(
        !store.retrigger_run(&mine, "run-f", 5_100).await.unwrap(),
        "a pending run is not retriggered"
    );
    let claimed = store
        .claim_run("worker-f", 5_500, 1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, "run-f");
    assert!(
        !store.retrigger_run(&mine, "run-f", 5_510).await.unwrap(),
        "a run in progress is not retriggered"
    );
    assert!(
        store
            .finish_run(
                "run-f",
                "worker-f",
                RunStatus::Failed,
                0,
                &json!({"errors": [{"code": "x", "message": "y"}]})
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .retrigger_run(&scope("ORG2", "retrigger"), "run-f", 5_550)
            .await
            .unwrap(),
        "another scope's run is not retriggered"
    );
    assert!(
        !store
            .retrigger_run(&mine, "no-such-run", 5_550)
            .await
            .unwrap()
    );
    assert!(store.retrigger_run(&mine, "run-f", 5_600).await.unwrap());
    let pending = store.get_run(&mine, "run-f").await.unwrap().unwrap();
    assert_eq!(pending.status, RunStatus::Pending);
    assert_eq!(pending.scheduled_at, 5_600);
    assert_eq!(
        (pending.lease_owner, pending.lease_expires_at),
        (None, None)
    );
    assert_eq!(
        pending.attempts, 0,
        "a re-triggered run gets a fresh retry budget"
    );
    assert_eq!(
        (pending.window_start, pending.window_end),
        (Some(0), 1000),
        "the window is kept"
    );
    assert_eq!(pending.body["errors"][0]["code"], "x", "the body is kept");
    assert!(
        !store.retrigger_run(&mine, "run-f", 5_650).await.unwrap(),
        "a retriggered run is pending, not failed"
    );
    let reclaimed = store
        .claim_run("worker-g", 5_700, 1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((reclaimed.id.as_str(), reclaimed.attempts), ("run-f", 1));
    let done = store
        .finish_run("run-f", "worker-g", RunStatus::Success, 0, &json!({}))
        .await
        .unwrap();
    assert!(done);
    assert!(
        !store.retrigger_run(&mine, "run-f", 5_800).await.unwrap(),
        "a successful run is not retriggered"
    );
}

async fn run_conformance_suite(store: &dyn Store) {
    runs_are_claimed_once_in_order_and_only_when_due(store).await;
    an_expired_lease_is_taken_over_and_the_old_worker_is_fenced(store).await;
    only_a_failed_run_of_the_scope_is_retriggered(store).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_never_claim_the_same_run() {
    let data_dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(
        SqliteStore::open_in_data_dir(data_dir.path())
            .await
            .unwrap(),
    );
    let mine = scope("ORG1", "busy");
    for n in 0..60 {
        store
            .insert_run(&new_run(&format!("run-{n:02}"), &mine, 1000 + n, 0))
            .await
            .unwrap();
    }
    let mut workers = Vec::new();
    for worker in 0..4 {
        let store = store.clone();
        workers.push(tokio::spawn(async move {
            let mut claimed = Vec::new();
            while let Some(run) = store
                .claim_run(&format!("worker-{worker}"), 10, 60_000)
                .await
                .unwrap()
            {
                claimed.push(run.id);
            }
            claimed
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "a run was claimed twice");
    assert_eq!(all.len(), 60, "every run was claimed");
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
