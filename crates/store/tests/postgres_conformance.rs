//! The PostgreSQL backend against the exported conformance suites, on a throwaway cluster
//! (skipped with a message when none can be started, except under FLOWD_REQUIRE_POSTGRES=1),
//! plus what only a shared server can show: several processes migrating one database at once.

use std::sync::Arc;

use flowd_store::conformance::{PostgresCluster, check_all};
use flowd_store::{PostgresStore, ResourceKind, ResourceWrite, Scope, StoreUrl, open_store};
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
