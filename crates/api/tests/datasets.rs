//! Catalog `/dataSets` under `/data/foundation/catalog`: Catalog's shapes
//! (reference arrays, objects keyed by id, 24-hex ids), validation, the
//! delete refusal while a target connection writes to the dataset, and
//! isolation across orgs and sandboxes.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{CATALOG_BASE, Reply, TestApp, assert_flow_error};
use serde_json::{Value, json};

fn dataset_body() -> Value {
    json!({
        "name": "MailChimp members",
        "description": "one row per member",
        "schemaRef": {
            "id": "https://ns.adobe.com/tenant/schemas/570630b9",
            "contentType": "application/vnd.adobe.xed-full+json;version=1"
        }
    })
}

fn pointers(reply: &Reply) -> Vec<String> {
    assert_flow_error(reply, "1100-400");
    reply.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["pointer"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn datasets_answer_in_catalog_shapes() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mut body = dataset_body();
    body["created"] = json!(1);
    body["id"] = json!("ffffffffffffffffffffffff");
    let created = app.catalog(&caller, "POST", "/dataSets", Some(&body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let reference = created.body.as_array().unwrap();
    assert_eq!(reference.len(), 1);
    let id = reference[0]
        .as_str()
        .unwrap()
        .strip_prefix("@/dataSets/")
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 24);
    assert!(
        id.bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)),
        "{id}"
    );

    let read = app
        .catalog(&caller, "GET", &format!("/dataSets/{id}"), None)
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let object = read.body.as_object().unwrap();
    assert_eq!(object.keys().collect::<Vec<_>>(), [&id]);
    let dataset = &read.body[&id];
    assert_eq!(dataset["id"], id.as_str());
    assert_eq!(dataset["name"], "MailChimp members");
    assert_eq!(dataset["schemaRef"], dataset_body()["schemaRef"]);
    assert_eq!(dataset["imsOrgId"], caller.org.as_str());
    assert_eq!(dataset["sandboxName"], "prod");
    let created_at = dataset["createdAt"].as_i64().unwrap();
    assert_eq!(dataset["created"], created_at, "client's created ignored");
    assert_eq!(dataset["updated"], created_at);
    assert!(dataset.get("etag").is_none());

    let second = app.create_dataset(&caller, "second").await;
    let listed = app.catalog(&caller, "GET", "/dataSets", None).await;
    assert_eq!(listed.status, StatusCode::OK);
    let listed = listed.body.as_object().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[&id]["name"], "MailChimp members");
    assert_eq!(listed[&second]["name"], "second");
    // Ids are canonical lower case, whatever case the path uses.
    assert_eq!(
        app.catalog(
            &caller,
            "GET",
            &format!("/dataSets/{}/", id.to_uppercase()),
            None
        )
        .await
        .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn dataset_bodies_and_paths_are_checked() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let post = |body: Value| {
        let app = &app;
        let caller = &caller;
        async move { app.catalog(caller, "POST", "/dataSets", Some(&body)).await }
    };
    let mut no_name = dataset_body();
    no_name.as_object_mut().unwrap().remove("name");
    assert_eq!(pointers(&post(no_name).await), ["/name"]);
    let mut no_schema = dataset_body();
    no_schema.as_object_mut().unwrap().remove("schemaRef");
    assert_eq!(pointers(&post(no_schema).await), ["/schemaRef"]);
    let mut bad_schema = dataset_body();
    bad_schema["schemaRef"] = json!({"id": 5, "contentType": true});
    assert_eq!(
        pointers(&post(bad_schema).await),
        ["/schemaRef/id", "/schemaRef/contentType"]
    );
    let mut many = dataset_body();
    many["name"] = json!("");
    many["description"] = json!([]);
    many["schemaRef"] = json!("https://ns.adobe.com/x");
    assert_eq!(
        pointers(&post(many).await),
        ["/name", "/description", "/schemaRef"]
    );
    assert_eq!(pointers(&post(json!("dataset")).await), [""]);

    let no_content_type = Request::builder()
        .method("POST")
        .uri(format!("{CATALOG_BASE}/dataSets"))
        .header("authorization", format!("Bearer {}", caller.token))
        .header("x-api-key", &caller.api_key)
        .header("x-gw-ims-org-id", &caller.org)
        .header("x-sandbox-name", &caller.sandbox)
        .body(Body::from(dataset_body().to_string()))
        .unwrap();
    assert_eq!(
        app.raw(no_content_type).await.status,
        StatusCode::BAD_REQUEST
    );
    let mut anonymous = caller.clone();
    anonymous.token = "not-a-token".into();
    let refused = app.catalog(&anonymous, "GET", "/dataSets", None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.body["error_code"], "401013");

    for bad_id in [
        "not-an-id",
        "00000000-0000-4000-8000-000000000000",
        "5f3c3cedb2805c194ff0b69",
        "5f3c3cedb2805c194ff0b69g",
    ] {
        for method in ["GET", "DELETE"] {
            assert_flow_error(
                &app.catalog(&caller, method, &format!("/dataSets/{bad_id}"), None)
                    .await,
                "1411-400",
            );
        }
    }
    let missing = app
        .catalog(&caller, "GET", "/dataSets/5f3c3cedb2805c194ff0b69a", None)
        .await;
    assert_flow_error(&missing, "1439-404");
    assert_eq!(missing.body["report"]["type"], "dataSets");
    assert_eq!(
        app.catalog(&caller, "GET", "/dataSets", None).await.body,
        json!({})
    );
    assert_eq!(
        app.catalog(&caller, "GET", "/batches", None).await.body,
        json!({}),
        "no batch committed yet"
    );
}

#[tokio::test]
async fn a_dataset_in_use_by_a_target_connection_is_not_deleted() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let id = app.create_dataset(&caller, "members").await;
    let target = app
        .post(
            &caller,
            "/targetConnections",
            &json!({
                "name": "members target",
                "connectionSpec": {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"},
                "data": {"format": "parquet_xdm"},
                "params": {"dataSetId": id}
            }),
        )
        .await;
    assert_eq!(target.status, StatusCode::CREATED, "{}", target.body);
    let target_id = target.body["id"].as_str().unwrap();
    let refused = app
        .catalog(&caller, "DELETE", &format!("/dataSets/{id}"), None)
        .await;
    assert_flow_error(&refused, "1447-400");
    assert_eq!(
        refused.body["report"]["referencedBy"],
        json!([{"type": "targetConnection", "id": target_id}])
    );
    let target_deleted = app
        .delete(&caller, &format!("/targetConnections/{target_id}"))
        .await;
    assert_eq!(target_deleted.status, StatusCode::NO_CONTENT);
    let deleted = app
        .catalog(&caller, "DELETE", &format!("/dataSets/{id}/"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(deleted.body, json!([format!("@/dataSets/{id}")]));
    assert_flow_error(
        &app.catalog(&caller, "GET", &format!("/dataSets/{id}"), None)
            .await,
        "1439-404",
    );
    assert_flow_error(
        &app.catalog(&caller, "DELETE", &format!("/dataSets/{id}"), None)
            .await,
        "1439-404",
    );
}

#[tokio::test]
async fn datasets_are_isolated_across_orgs_and_sandboxes() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let id = app.create_dataset(&caller, "members").await;
    let mut other_sandbox = caller.clone();
    other_sandbox.sandbox = "dev".into();
    let other_org = app.caller_for_new_org("ORG2@AdobeOrg").await;
    for intruder in [&other_sandbox, &other_org] {
        let path = format!("/dataSets/{id}");
        assert_flow_error(&app.catalog(intruder, "GET", &path, None).await, "1439-404");
        assert_flow_error(
            &app.catalog(intruder, "DELETE", &path, None).await,
            "1439-404",
        );
        assert_eq!(
            app.catalog(intruder, "GET", "/dataSets", None).await.body,
            json!({})
        );
    }
    assert_eq!(
        app.catalog(&caller, "GET", &format!("/dataSets/{id}"), None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_dataset_shows_the_batches_records_and_columns_its_statistics_hold() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let id = app.create_dataset(&caller, "members").await;

    // Nothing ingested yet: zeros and no columns.
    let read = app
        .catalog(&caller, "GET", &format!("/dataSets/{id}"), None)
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body[&id]["batchCount"], 0);
    assert_eq!(read.body[&id]["recordCount"], 0);
    assert_eq!(
        read.body[&id]["schema"],
        json!({"columns": [], "typed": false})
    );

    // Two batches committed, as a worker records them with the run's outcome.
    let records = [
        json!({"id": 1, "email": "a@example.com"}),
        json!({"id": 2, "email": "b@example.com"}),
    ];
    let record_type = flowd_model::record_type::StructType::of_records(records.iter());
    let merge = |stored: Option<&str>| {
        let mut merged: flowd_model::record_type::StructType = stored
            .map(|text| serde_json::from_str(text).unwrap())
            .unwrap_or_default();
        merged.merge(&record_type);
        serde_json::to_string(&merged).unwrap()
    };
    let scope = flowd_store::Scope {
        org_id: caller.org.clone(),
        sandbox_name: caller.sandbox.clone(),
    };
    for run in ["run-1", "run-2"] {
        let batch = flowd_store::BatchCommit {
            dataset_id: &id,
            batch_id: run,
            record_count: 2,
            bytes: 100,
            file_count: 1,
            merge_schema: &merge,
        };
        app.store
            .record_batch(&scope, Some(run), &batch)
            .await
            .unwrap();
    }

    let read = app
        .catalog(&caller, "GET", &format!("/dataSets/{id}"), None)
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let document = &read.body[&id];
    assert_eq!(document["name"], "members");
    assert_eq!(document["batchCount"], 2, "{document}");
    assert_eq!(document["recordCount"], 4, "{document}");
    let columns = document["schema"]["columns"].as_array().unwrap();
    let column = |name: &str| {
        columns
            .iter()
            .find(|column| column["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in {columns:?}"))
            .clone()
    };
    assert_eq!(column("id")["type"], "Int64");
    assert_eq!(column("email")["type"], "Utf8");
    column("_flowd_run_id");
    column("_flowd_ingested_at");
}
