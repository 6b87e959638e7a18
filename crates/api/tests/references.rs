//! References are enforced by the store: a resource cannot be created naming a resource that
//! a concurrent request deletes, and a resource cannot be deleted while one being created
//! names it. Each racing pair runs 50 times with both requests in flight at once; every round
//! must end with either the create or the delete refused, never a dangling reference.

mod common;

use axum::http::StatusCode;
use common::chain::{
    REST_STORAGE_TO_AEP, create, flow_body, list_spec_in_flow_spec, source_body, target_body,
};
use common::{Caller, Reply, TestApp, fixture};
use serde_json::json;

const ROUNDS: usize = 50;

/// A connection spec listed by the flow spec, and a base connection without a probe.
async fn spec_and_base(app: &TestApp, caller: &Caller) -> (String, String) {
    let spec_id = app
        .create_connection_spec(caller, &fixture("seed_mailchimp_update.json"))
        .await;
    list_spec_in_flow_spec(app, caller, &spec_id).await;
    let base_id = base_connection(app, caller, &spec_id).await;
    (spec_id, base_id)
}

async fn base_connection(app: &TestApp, caller: &Caller, spec_id: &str) -> String {
    let body = json!({
        "name": "base",
        "connectionSpec": {"id": spec_id, "version": "1.0"},
        "auth": {"specName": "Basic Authentication", "params": {
            "host": "https://api.example.test", "username": "u", "password": "p"
        }}
    });
    create(app, caller, "/connections", &body).await.0
}

/// Exactly one of the two racing requests won; a won create names only what still exists.
async fn check_round(
    app: &TestApp,
    caller: &Caller,
    round: usize,
    created: &Reply,
    deleted: &Reply,
    referenced_path: &str,
) {
    let create_won = created.status == StatusCode::CREATED;
    let delete_won = deleted.status.is_success();
    assert!(
        create_won != delete_won,
        "round {round}: create {} and delete {} ({} / {})",
        created.status,
        deleted.status,
        created.body,
        deleted.body
    );
    let referenced = app.get(caller, referenced_path).await.status;
    if create_won {
        assert_eq!(
            referenced,
            StatusCode::OK,
            "round {round}: the created resource names {referenced_path}, which must exist"
        );
        assert_eq!(
            deleted.body["report"]["referencedBy"][0]["id"], created.body["id"],
            "round {round}: the delete names what refers to it"
        );
    } else {
        assert_eq!(
            created.status,
            StatusCode::BAD_REQUEST,
            "round {round}: {}",
            created.body
        );
        assert!(created.body["problems"].is_array(), "{}", created.body);
    }
}

#[tokio::test]
async fn deleting_a_base_connection_races_creating_a_source_connection_on_it() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let (spec_id, _) = spec_and_base(&app, &caller).await;
    for round in 0..ROUNDS {
        let base_id = base_connection(&app, &caller, &spec_id).await;
        let path = format!("/connections/{base_id}");
        let body = source_body(&spec_id, &base_id);
        let (created, deleted) = tokio::join!(
            app.post(&caller, "/sourceConnections", &body),
            app.delete(&caller, &path)
        );
        check_round(&app, &caller, round, &created, &deleted, &path).await;
    }
}

#[tokio::test]
async fn deleting_a_dataset_races_creating_a_target_connection_on_it() {
    let app = TestApp::new().await;
    let caller = app.caller();
    for round in 0..ROUNDS {
        let dataset_id = app.create_dataset(&caller, "members").await;
        let body = target_body(&dataset_id);
        let dataset_path = format!("/dataSets/{dataset_id}");
        let (created, deleted) = tokio::join!(
            app.post(&caller, "/targetConnections", &body),
            app.catalog(&caller, "DELETE", &dataset_path, None)
        );
        let read_path = format!("/data/foundation/catalog/dataSets/{dataset_id}");
        let create_won = created.status == StatusCode::CREATED;
        assert!(
            create_won != deleted.status.is_success(),
            "round {round}: {} / {}",
            created.body,
            deleted.body
        );
        let still_there = app
            .catalog(&caller, "GET", &dataset_path, None)
            .await
            .status;
        assert_eq!(
            still_there == StatusCode::OK,
            create_won,
            "round {round}: {read_path} exists exactly when the target was created"
        );
    }
}

/// A source and a target connection ready for a flow.
async fn flow_parts(
    app: &TestApp,
    caller: &Caller,
    spec_id: &str,
    base_id: &str,
    dataset_id: &str,
) -> (String, String) {
    let (source_id, _) = create(
        app,
        caller,
        "/sourceConnections",
        &source_body(spec_id, base_id),
    )
    .await;
    let (target_id, _) = create(app, caller, "/targetConnections", &target_body(dataset_id)).await;
    (source_id, target_id)
}

#[tokio::test]
async fn deleting_a_source_or_target_connection_races_creating_a_flow_on_it() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let (spec_id, base_id) = spec_and_base(&app, &caller).await;
    let dataset_id = app.create_dataset(&caller, "members").await;
    for round in 0..ROUNDS {
        let (source_id, target_id) =
            flow_parts(&app, &caller, &spec_id, &base_id, &dataset_id).await;
        let body = flow_body(&source_id, &target_id);
        let path = format!("/sourceConnections/{source_id}");
        let (created, deleted) = tokio::join!(
            app.post(&caller, "/flows", &body),
            app.delete(&caller, &path)
        );
        check_round(&app, &caller, round, &created, &deleted, &path).await;

        let (source_id, target_id) =
            flow_parts(&app, &caller, &spec_id, &base_id, &dataset_id).await;
        let body = flow_body(&source_id, &target_id);
        let path = format!("/targetConnections/{target_id}");
        let (created, deleted) = tokio::join!(
            app.post(&caller, "/flows", &body),
            app.delete(&caller, &path)
        );
        check_round(&app, &caller, round, &created, &deleted, &path).await;
    }
    // The flow spec the flows name is the built-in one, listed and still there.
    let flow_spec = app
        .get(&caller, &format!("/flowSpecs/{REST_STORAGE_TO_AEP}"))
        .await;
    assert_eq!(flow_spec.status, StatusCode::OK);
}
