//! The PostgreSQL backend against the exported conformance suites, on a throwaway cluster
//! (skipped with a message when none can be started, except under FLOWD_REQUIRE_POSTGRES=1),
//! plus what only a shared server can show (several processes migrating one database at once)
//! and a whole store copied from SQLite to PostgreSQL and back.

use std::sync::Arc;

use flowd_model::RunMetrics;
use flowd_store::conformance::{PostgresCluster, check_all};
use flowd_store::prelude::*;
use flowd_store::{
    BatchCommit, DeleteOutcome, ListQuery, NewCredential, NewRun, PostgresStore, ResourceKind,
    ResourceRef, ResourceWrite, RunCompletion, RunFilter, RunStatus, RunTrigger, ScheduleWrite,
    Scope, SqliteStore, StoreUrl, copy_between, open_store,
};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_store_passes_the_conformance_suites() {
    let Some(cluster) =
        PostgresCluster::start_or_skip("postgres_store_passes_the_conformance_suites")
    else {
        return;
    };
    let cluster = Arc::new(cluster);
    check_all(|| {
        let cluster = Arc::clone(&cluster);
        async move {
            let url = cluster.fresh_database().await;
            let store = PostgresStore::connect(&url).await.unwrap();
            let guard: Box<dyn std::any::Any + Send> = Box::new(cluster);
            (Arc::new(store) as Arc<dyn flowd_store::Store>, guard)
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn processes_starting_together_migrate_one_database_once_and_share_it() {
    let Some(cluster) = PostgresCluster::start_or_skip(
        "processes_starting_together_migrate_one_database_once_and_share_it",
    ) else {
        return;
    };
    let url = cluster.fresh_database().await;
    let url = StoreUrl::parse(&url).unwrap();
    let opened = futures::future::join_all((0..6).map(|_| open_store(&url))).await;
    let stores: Vec<_> = opened.into_iter().map(|store| store.unwrap()).collect();
    let scope = Scope {
        org_id: "ORG".into(),
        sandbox_name: "prod".into(),
    };
    stores[0]
        .insert_resource(
            &scope,
            ResourceKind::ConnectionSpec,
            "spec-1",
            ResourceWrite::document(&json!({"name": "shared"})),
        )
        .await
        .unwrap();
    for store in &stores {
        let read = store
            .get_resource(&scope, ResourceKind::ConnectionSpec, "spec-1")
            .await
            .unwrap()
            .expect("every process reads what one wrote");
        assert_eq!(read.body["name"], "shared");
        assert_eq!(store.count_credentials().await.unwrap(), 0);
    }
}

#[tokio::test]
async fn an_unreachable_postgres_store_fails_with_its_url_masked() {
    // A port nothing listens on: the error names the store without its password.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = StoreUrl::parse(&format!(
        "postgres://flowd:s3cr3t-pass@127.0.0.1:{port}/flowd"
    ))
    .unwrap();
    let error = match open_store(&url).await {
        Ok(_) => panic!("nothing listens on port {port}"),
        Err(error) => error.to_string(),
    };
    assert!(!error.contains("s3cr3t-pass"), "{error}");
    assert!(!format!("{url:?}").contains("s3cr3t-pass"));
}

/// Everything a client or a worker can read of a store, for comparing two of them.
async fn contents(store: &dyn flowd_store::Store, scope: &Scope) -> Vec<String> {
    let mut seen = Vec::new();
    for kind in [
        ResourceKind::Connection,
        ResourceKind::SourceConnection,
        ResourceKind::Dataset,
        ResourceKind::TargetConnection,
        ResourceKind::Flow,
    ] {
        for resource in store
            .list_resources(scope, kind, &ListQuery::default())
            .await
            .unwrap()
        {
            seen.push(format!(
                "{} {} r{} p{} {}",
                kind.as_str(),
                resource.id,
                resource.revision,
                resource.position,
                resource.body
            ));
        }
    }
    for run in store
        .list_runs(scope, &RunFilter::default(), &ListQuery::default())
        .await
        .unwrap()
    {
        seen.push(format!("{run:?}"));
    }
    seen.push(format!(
        "{:?}",
        store.dataset_stats(scope, "dataset-1").await.unwrap()
    ));
    seen.push(format!(
        "{:?}",
        store.flow_schedule(scope, "flow-1").await.unwrap()
    ));
    seen.push(format!("{:?}", store.secret_key_check().await.unwrap()));
    seen.push(format!(
        "{:?}",
        store
            .find_credential_by_token_hash(&"cd".repeat(32))
            .await
            .unwrap()
    ));
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_copied_to_postgres_and_back_holds_the_same_and_keeps_its_rules() {
    let Some(cluster) = PostgresCluster::start_or_skip(
        "a_store_copied_to_postgres_and_back_holds_the_same_and_keeps_its_rules",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let source_path = dir.path().join("source.sqlite");
    let source = SqliteStore::open_file(&source_path).await.unwrap();
    let scope = Scope {
        org_id: "ORG".into(),
        sandbox_name: "prod".into(),
    };
    source
        .ensure_sandbox("ORG", "prod", &|_| Vec::new())
        .await
        .unwrap();
    source
        .insert_credential(&NewCredential {
            id: "CRED@AdobeID".into(),
            org_id: "ORG".into(),
            api_key: "key".into(),
            token_hash: "cd".repeat(32),
            created_at: 7,
        })
        .await
        .unwrap();
    source.set_secret_key_check("sealed-check").await.unwrap();
    let chain: [(ResourceKind, &str, serde_json::Value, Vec<ResourceRef>); 5] = [
        (
            ResourceKind::Connection,
            "conn-1",
            json!({"name": "a\u{0}b", "state": "enabled"}),
            vec![],
        ),
        (
            ResourceKind::SourceConnection,
            "source-1",
            json!({"name": "source"}),
            vec![ResourceRef::new(ResourceKind::Connection, "conn-1", "/ref")],
        ),
        (
            ResourceKind::Dataset,
            "dataset-1",
            json!({"name": "ds"}),
            vec![],
        ),
        (
            ResourceKind::TargetConnection,
            "target-1",
            json!({"name": "target"}),
            vec![ResourceRef::new(ResourceKind::Dataset, "dataset-1", "/ref")],
        ),
        (
            ResourceKind::Flow,
            "flow-1",
            json!({"name": "flow", "state": "enabled"}),
            vec![
                ResourceRef::new(ResourceKind::SourceConnection, "source-1", "/ref"),
                ResourceRef::new(ResourceKind::TargetConnection, "target-1", "/ref"),
            ],
        ),
    ];
    for (kind, id, body, references) in &chain {
        let schedule = (*kind == ResourceKind::Flow).then_some(ScheduleWrite {
            enabled: true,
            due_hint: Some(1_000),
        });
        source
            .insert_resource(
                &scope,
                *kind,
                id,
                ResourceWrite {
                    references: Some(references),
                    schedule,
                    ..ResourceWrite::document(body)
                },
            )
            .await
            .unwrap();
    }
    for (index, window_end) in [10_000_i64, 20_000, 30_000].into_iter().enumerate() {
        source
            .insert_run(&NewRun {
                id: format!("run-{index}"),
                scope: scope.clone(),
                flow_id: "flow-1".into(),
                trigger: RunTrigger::Scheduled,
                window_start: Some(window_end - 10_000),
                window_end,
                scheduled_at: window_end,
                created_at: window_end,
                created_by: None,
                created_client: None,
            })
            .await
            .unwrap();
    }
    let claimed = source
        .claim_run("worker", 100_000, 60_000, None)
        .await
        .unwrap()
        .unwrap();
    let merge = |_: Option<&str>| "schema-1".to_owned();
    let finished = source
        .finish_run(
            &claimed.id,
            "worker",
            &RunCompletion {
                status: RunStatus::Success,
                scheduled_at: claimed.scheduled_at,
                metrics: RunMetrics {
                    started_at: 1,
                    completed_at: 2,
                    pages: 1,
                    input_records: 5,
                    input_bytes: 40,
                    output_records: 3,
                    output_bytes: 900,
                    output_files: 1,
                    failed_records: 2,
                },
                error: None,
                warnings: Vec::new(),
                batch: Some(BatchCommit {
                    dataset_id: "dataset-1",
                    batch_id: &claimed.id,
                    record_count: 3,
                    bytes: 900,
                    file_count: 1,
                    merge_schema: &merge,
                }),
            },
        )
        .await
        .unwrap();
    assert!(finished);
    let before = contents(&source, &scope).await;
    source.close().await;

    let postgres_url = cluster.fresh_database().await;
    let from = StoreUrl::Sqlite(source_path.clone());
    let to = StoreUrl::parse(&postgres_url).unwrap();
    let report = copy_between(&from, &to).await.unwrap();
    assert!(report.tables.contains(&("runs", 3)), "{report:?}");
    let copied = PostgresStore::connect(&postgres_url).await.unwrap();
    assert_eq!(contents(&copied, &scope).await, before);
    // The copy keeps the store's rules: references block deletes, new rows come after.
    assert!(matches!(
        copied
            .delete_resource(&scope, ResourceKind::Dataset, "dataset-1")
            .await
            .unwrap(),
        DeleteOutcome::Referenced(_)
    ));
    let added = copied
        .insert_resource(
            &scope,
            ResourceKind::Connection,
            "conn-2",
            ResourceWrite::document(&json!({"name": "later"})),
        )
        .await
        .unwrap();
    let positions: Vec<i64> = copied
        .list_resources(&scope, ResourceKind::Connection, &ListQuery::default())
        .await
        .unwrap()
        .iter()
        .map(|resource| resource.position)
        .collect();
    assert_eq!(positions.last(), Some(&added.position), "{positions:?}");
    assert!(positions.windows(2).all(|pair| pair[0] < pair[1]));
    copied
        .delete_resource(&scope, ResourceKind::Connection, "conn-2")
        .await
        .unwrap();
    // A second copy into it is refused.
    assert!(matches!(
        copy_between(&from, &to).await,
        Err(flowd_store::StoreError::TargetNotEmpty)
    ));
    copied.close().await;

    // And back into a new file: the same again.
    let back_path = dir.path().join("back.sqlite");
    copy_between(&to, &StoreUrl::Sqlite(back_path.clone()))
        .await
        .unwrap();
    let back = SqliteStore::open_file(&back_path).await.unwrap();
    assert_eq!(contents(&back, &scope).await, before);
    assert_eq!(back.integrity_check().await.unwrap(), ["ok"]);
}
