//! `/sourceConnections` and `/targetConnections`: every validation rule and
//! its code, PATCH with etags, delete refusals while referenced, isolation
//! across orgs and sandboxes, and the chain spec → base connection →
//! source connection → dataset → target connection → flow.

mod common;

use axum::http::StatusCode;
use common::chain::{
    DATA_LAKE, PASSWORD, REST_STORAGE_TO_AEP, base_connection, create, flow_body,
    list_spec_in_flow_spec, mock, pointers, source_body, target_body,
};
use common::{TestApp, assert_flow_error, fixture};
use flowd_mockapi::DEFAULT_LIST_ID;
use serde_json::{Value, json};

const UNKNOWN_UUID: &str = "00000000-0000-4000-8000-000000000000";

#[tokio::test]
async fn a_source_connection_inherits_its_base_connection() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock().await;
    let (spec_id, base_id) = base_connection(&app, &caller, &mock).await;
    // An id in upper case is stored in the canonical form the base
    // connection is stored under, so the delete reference check finds it.
    let (id, etag) = create(
        &app,
        &caller,
        "/sourceConnections",
        &source_body(&spec_id, &base_id.to_uppercase()),
    )
    .await;
    let read = app.get(&caller, &format!("/sourceConnections/{id}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let item = &read.body["items"][0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["state"], "enabled");
    assert_eq!(item["etag"], etag.as_str());
    assert_eq!(item["version"], etag.as_str());
    assert_eq!(item["baseConnectionId"], base_id.as_str());
    assert_eq!(item["params"], json!({"listId": DEFAULT_LIST_ID}));
    assert_eq!(item["data"], json!({"format": "json"}));
    assert_eq!(
        item["inheritedAttributes"],
        json!({"baseConnection": {"id": base_id, "connectionSpec": {"id": spec_id, "version": "1.0"}}})
    );
    for field in [
        "createdAt",
        "updatedAt",
        "createdBy",
        "sandboxId",
        "imsOrgId",
    ] {
        assert!(!item[field].is_null(), "{field} in {item}");
    }
    assert_eq!(item["sandboxName"], "prod");
    let listed = app
        .get(
            &caller,
            &format!("/sourceConnections?property=baseConnectionId=={base_id}"),
        )
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&caller, &format!("/sourceConnections/{id}/"))
            .await
            .status,
        StatusCode::OK
    );
    assert_flow_error(
        &app.get(&caller, "/sourceConnections/not-a-uuid").await,
        "1411-400",
    );
    assert_flow_error(
        &app.get(&caller, &format!("/sourceConnections/{UNKNOWN_UUID}"))
            .await,
        "1439-404",
    );
}

#[tokio::test]
async fn source_connection_rules_get_their_codes_and_pointers() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock().await;
    let (spec_id, base_id) = base_connection(&app, &caller, &mock).await;
    let post = |body: Value| {
        let app = &app;
        let caller = &caller;
        async move { app.post(caller, "/sourceConnections", &body).await }
    };

    let mut unknown_spec = source_body(&spec_id, &base_id);
    unknown_spec["connectionSpec"]["id"] = json!(UNKNOWN_UUID);
    let refused = post(unknown_spec).await;
    assert_flow_error(&refused, "1413-400");
    assert_eq!(refused.body["problems"][0]["pointer"], "/connectionSpec/id");

    for base_connection_id in [UNKNOWN_UUID, "not-a-uuid"] {
        let refused = post(source_body(&spec_id, base_connection_id)).await;
        assert_eq!(pointers(&refused), ["/baseConnectionId"]);
    }
    let mut no_base = source_body(&spec_id, &base_id);
    no_base.as_object_mut().unwrap().remove("baseConnectionId");
    assert_eq!(pointers(&post(no_base).await), ["/baseConnectionId"]);

    // Another spec than the base connection's.
    let mut other_spec = fixture("seed_mailchimp_update.json");
    other_spec["name"] = json!("Another MailChimp");
    let other_spec_id = app.create_connection_spec(&caller, &other_spec).await;
    assert_eq!(
        pointers(&post(source_body(&other_spec_id, &base_id)).await),
        ["/connectionSpec/id"]
    );

    for format in [json!("parquet"), json!(1)] {
        let mut bad_format = source_body(&spec_id, &base_id);
        bad_format["data"]["format"] = format;
        assert_eq!(pointers(&post(bad_format).await), ["/data/format"]);
    }
    let mut no_data = source_body(&spec_id, &base_id);
    no_data.as_object_mut().unwrap().remove("data");
    assert_eq!(pointers(&post(no_data).await), ["/data/format"]);

    let mut bad_params = source_body(&spec_id, &base_id);
    bad_params["params"] = json!({"listId": 5});
    assert_eq!(pointers(&post(bad_params).await), ["/params/listId"]);
    let mut params_not_object = source_body(&spec_id, &base_id);
    params_not_object["params"] = json!("listId");
    assert_eq!(pointers(&post(params_not_object).await), ["/params"]);

    // Every problem at once, in the order of the body's fields.
    let mut many = source_body(&spec_id, &base_id);
    many["name"] = json!("");
    many["description"] = json!(7);
    many["data"]["format"] = json!("csv");
    many["params"]["listId"] = json!(false);
    assert_eq!(
        pointers(&post(many).await),
        ["/name", "/description", "/data/format", "/params/listId"]
    );
    assert_flow_error(
        &app.post(&caller, "/sourceConnections", &json!([])).await,
        "1100-400",
    );
    assert_eq!(
        app.get(&caller, "/sourceConnections").await.body["items"],
        json!([]),
        "nothing refused was stored"
    );
}

#[tokio::test]
async fn template_shaped_specs_check_the_fetch_config_in_params() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let template: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../spec/testdata/connection_specs/valid/generic_template_fetch_schema_in_source_spec.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let spec_id = app.create_connection_spec(&caller, &template).await;
    let (base_id, _) = create(
        &app,
        &caller,
        "/connections",
        &json!({
            "name": "generic rest",
            "connectionSpec": {"id": spec_id, "version": "1.0"},
            "auth": {"specName": "Basic Authentication", "params": {
                "host": "https://api.example.com", "username": "u", "password": PASSWORD
            }}
        }),
    )
    .await;
    let params = json!({
        "urlParams": {"path": "/v1/items", "method": "GET"},
        "contentPath": {"path": "$.items"},
        "paginationParams": {"type": "POINTER", "limitName": "limit", "limitValue": "10",
                             "pointerPath": "$.next"},
        "scheduleParams": {"scheduleStartParamName": "since", "scheduleEndParamName": "until"}
    });
    let mut body = source_body(&spec_id, &base_id);
    body["params"] = params.clone();
    create(&app, &caller, "/sourceConnections", &body).await;

    // Valid for the schema, but the path names a placeholder nothing declares.
    body["params"]["urlParams"]["path"] = json!("/v1/${undeclared}");
    let refused = app.post(&caller, "/sourceConnections", &body).await;
    assert_eq!(pointers(&refused), ["/params/urlParams/path"]);
    // Not valid for the schema: the schema's problems come first.
    body["params"] = params;
    body["params"]["paginationParams"]["type"] = json!("SOMETIMES");
    let refused = app.post(&caller, "/sourceConnections", &body).await;
    assert_eq!(pointers(&refused)[0], "/params/paginationParams/type");
}

#[tokio::test]
async fn source_connection_patch_needs_the_etag_and_revalidates() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock().await;
    let (spec_id, base_id) = base_connection(&app, &caller, &mock).await;
    let (id, etag) = create(
        &app,
        &caller,
        "/sourceConnections",
        &source_body(&spec_id, &base_id),
    )
    .await;
    let path = format!("/sourceConnections/{id}");
    let rename = json!([{"op": "replace", "path": "/name", "value": "renamed"}]);
    assert_flow_error(&app.patch(&caller, &path, None, &rename).await, "1403-400");
    assert_flow_error(
        &app.patch(&caller, &path, Some("\"stale\""), &rename).await,
        "1404-412",
    );
    assert_flow_error(
        &app.patch(
            &caller,
            &path,
            Some(&etag),
            &json!([{"op": "copy", "from": "/name", "path": "/description"}]),
        )
        .await,
        "1434-400",
    );
    for immutable in [
        json!({"op": "replace", "path": "/baseConnectionId", "value": UNKNOWN_UUID}),
        json!({"op": "replace", "path": "/connectionSpec/id", "value": UNKNOWN_UUID}),
        json!({"op": "remove", "path": "/connectionSpec"}),
        json!({"op": "replace", "path": "/inheritedAttributes", "value": {}}),
        json!({"op": "replace", "path": "/state", "value": "disabled"}),
        json!({"op": "replace", "path": "/params/nope/deeper", "value": 1}),
    ] {
        assert_flow_error(
            &app.patch(&caller, &path, Some(&etag), &immutable).await,
            "1455-400",
        );
    }
    let bad_format = app
        .patch(
            &caller,
            &path,
            Some(&etag),
            &json!({"op": "replace", "path": "/data/format", "value": "csv"}),
        )
        .await;
    assert_eq!(pointers(&bad_format), ["/data/format"]);
    let bad_params = app
        .patch(
            &caller,
            &path,
            Some(&etag),
            &json!({"op": "add", "path": "/params/listId", "value": 42}),
        )
        .await;
    assert_eq!(pointers(&bad_params), ["/params/listId"]);
    let no_name = app
        .patch(
            &caller,
            &path,
            Some(&etag),
            &json!({"op": "remove", "path": "/name"}),
        )
        .await;
    assert_eq!(pointers(&no_name), ["/name"]);

    let unquoted = etag.trim_matches('"');
    let patched = app
        .patch(
            &caller,
            &format!("{path}/?if-match={unquoted}"),
            None,
            &json!([
                {"op": "REPLACE", "path": "/name", "value": "renamed"},
                {"op": "replace", "path": "/params", "value": {"listId": "other"}}
            ]),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["id"], id.as_str());
    let new_etag = patched.body["etag"].as_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let item = app.get(&caller, &path).await.body["items"][0].clone();
    assert_eq!(item["name"], "renamed");
    assert_eq!(item["params"], json!({"listId": "other"}));
    assert_eq!(item["etag"], new_etag.as_str());
    assert_eq!(item["version"], new_etag.as_str());
    assert_eq!(item["state"], "enabled");
    assert_eq!(
        item["inheritedAttributes"]["baseConnection"]["id"],
        base_id.as_str()
    );
    assert_flow_error(
        &app.patch(&caller, &path, Some(&etag), &rename).await,
        "1404-412",
    );
}

#[tokio::test]
async fn target_connections_write_into_a_dataset_of_the_sandbox() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let dataset_id = app.create_dataset(&caller, "members").await;
    let (id, etag) = create(
        &app,
        &caller,
        "/targetConnections",
        &target_body(&dataset_id),
    )
    .await;
    let item = app
        .get(&caller, &format!("/targetConnections/{id}"))
        .await
        .body["items"][0]
        .clone();
    assert_eq!(item["state"], "enabled");
    assert_eq!(item["etag"], etag.as_str());
    assert_eq!(item["version"], etag.as_str());
    assert_eq!(item["params"], json!({"dataSetId": dataset_id}));
    assert_eq!(item["data"], target_body(&dataset_id)["data"]);
    assert_eq!(
        item["connectionSpec"],
        json!({"id": DATA_LAKE, "version": "1.0"})
    );
    assert!(item.get("inheritedAttributes").is_none(), "{item}");

    // json is the other accepted format, and schema and name are optional.
    let mut json_format = target_body(&dataset_id);
    json_format["data"] = json!({"format": "json"});
    json_format.as_object_mut().unwrap().remove("name");
    create(&app, &caller, "/targetConnections", &json_format).await;
    // An upper-case dataset id is stored in canonical form.
    create(
        &app,
        &caller,
        "/targetConnections",
        &target_body(&dataset_id.to_uppercase()),
    )
    .await;

    let post = |body: Value| {
        let app = &app;
        let caller = &caller;
        async move { app.post(caller, "/targetConnections", &body).await }
    };
    let mailchimp = app
        .create_connection_spec(&caller, &fixture("seed_mailchimp_update.json"))
        .await;
    for spec_id in [mailchimp.as_str(), UNKNOWN_UUID] {
        let mut other_spec = target_body(&dataset_id);
        other_spec["connectionSpec"]["id"] = json!(spec_id);
        assert_eq!(pointers(&post(other_spec).await), ["/connectionSpec/id"]);
    }
    for format in [json!("delimited"), json!("PARQUET_XDM"), json!(null)] {
        let mut bad_format = target_body(&dataset_id);
        bad_format["data"]["format"] = format;
        assert_eq!(pointers(&post(bad_format).await), ["/data/format"]);
    }
    let mut bad_schema = target_body(&dataset_id);
    bad_schema["data"]["schema"] = json!({"version": 1});
    assert_eq!(
        pointers(&post(bad_schema).await),
        ["/data/schema/version", "/data/schema/id"]
    );
    for (params, pointer) in [
        (
            json!({"dataSetId": "5f3c3cedb2805c194ff0b69a"}),
            "/params/dataSetId",
        ),
        (json!({"dataSetId": "not-a-dataset"}), "/params/dataSetId"),
        (json!({"dataSetId": 5}), "/params/dataSetId"),
        (json!({}), "/params/dataSetId"),
        (json!(["x"]), "/params"),
    ] {
        let mut bad_params = target_body(&dataset_id);
        bad_params["params"] = params;
        assert_eq!(pointers(&post(bad_params).await), [pointer]);
    }
    let mut no_params = target_body(&dataset_id);
    no_params.as_object_mut().unwrap().remove("params");
    assert_eq!(pointers(&post(no_params).await), ["/params"]);
}

#[tokio::test]
async fn a_sandbox_without_the_data_lake_spec_refuses_target_connections() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let dataset_id = app.create_dataset(&caller, "members").await;
    // Unlist the data-lake spec from the built-in flow spec, then delete it.
    let flow_spec_path = format!("/flowSpecs/{REST_STORAGE_TO_AEP}");
    let mut flow_spec = app.get(&caller, &flow_spec_path).await.body["items"][0].clone();
    flow_spec["targetConnectionSpecIds"] = json!([]);
    let replaced = app.put(&caller, &flow_spec_path, &flow_spec).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    let deleted = app
        .delete(&caller, &format!("/connectionSpecs/{DATA_LAKE}"))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert_flow_error(
        &app.post(&caller, "/targetConnections", &target_body(&dataset_id))
            .await,
        "1413-400",
    );
}

#[tokio::test]
async fn target_connection_patch_keeps_the_spec_and_rechecks_the_dataset() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let first = app.create_dataset(&caller, "first").await;
    let second = app.create_dataset(&caller, "second").await;
    let (id, etag) = create(&app, &caller, "/targetConnections", &target_body(&first)).await;
    let path = format!("/targetConnections/{id}");
    let retarget = json!({"op": "replace", "path": "/params/dataSetId", "value": second});
    assert_flow_error(
        &app.patch(&caller, &path, None, &retarget).await,
        "1403-400",
    );
    assert_flow_error(
        &app.patch(&caller, &path, Some("\"stale\""), &retarget)
            .await,
        "1404-412",
    );
    assert_flow_error(
        &app.patch(
            &caller,
            &path,
            Some(&etag),
            &json!({"op": "replace", "path": "/connectionSpec/id", "value": DATA_LAKE}),
        )
        .await,
        "1455-400",
    );
    let unknown = app
        .patch(
            &caller,
            &path,
            Some(&etag),
            &json!({"op": "replace", "path": "/params/dataSetId", "value": "5f3c3cedb2805c194ff0b69a"}),
        )
        .await;
    assert_eq!(pointers(&unknown), ["/params/dataSetId"]);
    let patched = app
        .patch(
            &caller,
            &format!("{path}/"),
            Some(&etag),
            &json!([retarget, {"op": "replace", "path": "/data/format", "value": "json"}]),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let new_etag = patched.body["etag"].as_str().unwrap();
    assert_ne!(new_etag, etag);
    let item = app.get(&caller, &path).await.body["items"][0].clone();
    assert_eq!(item["params"]["dataSetId"], second.as_str());
    assert_eq!(item["data"]["format"], "json");
    assert_eq!(item["etag"], new_etag);
    assert_eq!(item["state"], "enabled");
    // The first dataset is free again; the second is in use.
    let freed = app
        .catalog(&caller, "DELETE", &format!("/dataSets/{first}"), None)
        .await;
    assert_eq!(freed.status, StatusCode::OK, "{}", freed.body);
    assert_flow_error(
        &app.catalog(&caller, "DELETE", &format!("/dataSets/{second}"), None)
            .await,
        "1447-400",
    );
}

#[tokio::test]
async fn the_whole_chain_up_to_a_flow_and_deletes_in_reverse_order() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock().await;
    let (spec_id, base_id) = base_connection(&app, &caller, &mock).await;
    list_spec_in_flow_spec(&app, &caller, &spec_id).await;
    let (source_id, _) = create(
        &app,
        &caller,
        "/sourceConnections",
        &source_body(&spec_id, &base_id),
    )
    .await;

    // A base connection used by a source connection cannot be deleted.
    let in_use = app
        .delete(&caller, &format!("/connections/{base_id}"))
        .await;
    assert_flow_error(&in_use, "1418-400");
    assert!(
        in_use.body["report"]["detailed-message"]
            .as_str()
            .unwrap()
            .contains(&source_id)
    );

    let dataset_id = app.create_dataset(&caller, "MailChimp members").await;
    let (target_id, _) = create(
        &app,
        &caller,
        "/targetConnections",
        &target_body(&dataset_id),
    )
    .await;
    let (flow_id, _) = create(&app, &caller, "/flows", &flow_body(&source_id, &target_id)).await;
    let flow = app.get(&caller, &format!("/flows/{flow_id}")).await.body["items"][0].clone();
    assert_eq!(
        flow["inheritedAttributes"]["sourceConnections"][0]["baseConnection"],
        json!({"id": base_id, "connectionSpec": {"id": spec_id, "version": "1.0"}})
    );
    assert_eq!(
        flow["inheritedAttributes"]["targetConnections"][0]["connectionSpec"]["id"],
        DATA_LAKE
    );

    // Everything in use is refused, naming what uses it.
    let source_in_use = app
        .delete(&caller, &format!("/sourceConnections/{source_id}"))
        .await;
    assert_flow_error(&source_in_use, "1447-400");
    assert_eq!(
        source_in_use.body["report"]["referencedBy"],
        json!([{"type": "flow", "id": flow_id}])
    );
    assert_flow_error(
        &app.delete(&caller, &format!("/targetConnections/{target_id}/"))
            .await,
        "1447-400",
    );
    assert_flow_error(
        &app.catalog(&caller, "DELETE", &format!("/dataSets/{dataset_id}"), None)
            .await,
        "1447-400",
    );

    // In reverse order, each delete succeeds and the resource is gone.
    let deletions = [
        format!("/flows/{flow_id}"),
        format!("/sourceConnections/{source_id}"),
        format!("/targetConnections/{target_id}/"),
        format!("/connections/{base_id}"),
    ];
    for path in &deletions {
        let deleted = app.delete(&caller, path).await;
        assert_eq!(
            deleted.status,
            StatusCode::NO_CONTENT,
            "{path}: {}",
            deleted.body
        );
        assert_flow_error(&app.get(&caller, path).await, "1439-404");
    }
    let dataset_deleted = app
        .catalog(&caller, "DELETE", &format!("/dataSets/{dataset_id}"), None)
        .await;
    assert_eq!(dataset_deleted.status, StatusCode::OK);
    assert_eq!(
        dataset_deleted.body,
        json!([format!("@/dataSets/{dataset_id}")])
    );
}

#[tokio::test]
async fn source_and_target_connections_are_isolated_across_orgs_and_sandboxes() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock().await;
    let (spec_id, base_id) = base_connection(&app, &caller, &mock).await;
    let (source_id, source_etag) = create(
        &app,
        &caller,
        "/sourceConnections",
        &source_body(&spec_id, &base_id),
    )
    .await;
    let dataset_id = app.create_dataset(&caller, "members").await;
    let (target_id, target_etag) = create(
        &app,
        &caller,
        "/targetConnections",
        &target_body(&dataset_id),
    )
    .await;

    let mut other_sandbox = caller.clone();
    other_sandbox.sandbox = "dev".into();
    let other_org = app.caller_for_new_org("ORG2@AdobeOrg").await;
    let rename = json!([{"op": "replace", "path": "/name", "value": "stolen"}]);
    for intruder in [&other_sandbox, &other_org] {
        for (path, etag) in [
            (format!("/sourceConnections/{source_id}"), &source_etag),
            (format!("/targetConnections/{target_id}"), &target_etag),
        ] {
            assert_flow_error(&app.get(intruder, &path).await, "1439-404");
            assert_flow_error(
                &app.patch(intruder, &path, Some(etag), &rename).await,
                "1439-404",
            );
            assert_flow_error(&app.delete(intruder, &path).await, "1439-404");
        }
        for collection in ["/sourceConnections", "/targetConnections"] {
            assert_eq!(app.get(intruder, collection).await.body["items"], json!([]));
        }
        // Another tenant's dataset cannot be targeted either.
        assert_eq!(
            pointers(
                &app.post(intruder, "/targetConnections", &target_body(&dataset_id))
                    .await
            ),
            ["/params/dataSetId"]
        );
    }
    // The other sandbox has its own copy of the spec, but not the base connection.
    let spec_in_dev = app
        .create_connection_spec(&other_sandbox, &fixture("seed_mailchimp_update.json"))
        .await;
    assert_eq!(
        pointers(
            &app.post(
                &other_sandbox,
                "/sourceConnections",
                &source_body(&spec_in_dev, &base_id)
            )
            .await
        ),
        ["/baseConnectionId"]
    );
    // Nothing was touched.
    let source = app
        .get(&caller, &format!("/sourceConnections/{source_id}"))
        .await;
    assert_eq!(source.body["items"][0]["etag"], source_etag.as_str());
}

/// CR, LF or NUL in a value that would be sent in a header is refused when the connection is
/// written, with the pointer of the param — an auth param of the base connection, or a source
/// param a `headerParams` template uses — instead of failing every run.
#[tokio::test]
async fn header_injection_through_connection_params_is_refused_with_pointers() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock().await;
    let mut spec = fixture("seed_mailchimp_update.json");
    spec["sourceSpec"]["attributes"]["headerParams"] = json!({"X-List": "list ${listId}"});
    let spec_id = app.create_connection_spec(&caller, &spec).await;
    let base = |username: &str| {
        json!({
            "name": "base", "connectionSpec": {"id": spec_id, "version": "1.0"},
            "auth": {"specName": "Basic Authentication", "params": {
                "host": mock.base_url(), "username": username, "password": PASSWORD
            }}
        })
    };
    for injected in ["anystring\r\nX-Evil: 1", "anystring\n", "any\0string"] {
        let refused = app.post(&caller, "/connections", &base(injected)).await;
        assert_eq!(
            pointers(&refused),
            ["/auth/params/username"],
            "{injected:?}"
        );
        assert!(
            refused.body.to_string().contains("CR, LF, NUL"),
            "{}",
            refused.body
        );
    }
    let (base_id, _) = create(&app, &caller, "/connections", &base("anystring")).await;
    let mut source = source_body(&spec_id, &base_id);
    source["params"]["listId"] = json!(format!("{DEFAULT_LIST_ID}\r\nX-Evil: 1"));
    let refused = app.post(&caller, "/sourceConnections", &source).await;
    assert_eq!(pointers(&refused), ["/params/listId"]);
    assert!(
        refused.body["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("header X-List"),
        "{}",
        refused.body
    );
    source["params"]["listId"] = json!(DEFAULT_LIST_ID);
    create(&app, &caller, "/sourceConnections", &source).await;
}

/// flowd's own settings of a source connection are checked when it is written (each wrong
/// one at its pointer, in the API's error format) and kept as sent.
#[tokio::test]
async fn flowd_settings_of_a_source_connection_are_checked_and_kept() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock().await;
    let spec_id = app
        .create_connection_spec(&caller, &fixture("seed_mailchimp_update.json"))
        .await;
    let base = json!({
        "name": "base", "connectionSpec": {"id": spec_id, "version": "1.0"},
        "auth": {"specName": "Basic Authentication", "params": {
            "host": mock.base_url(), "username": "anystring", "password": PASSWORD
        }}
    });
    let (base_id, _) = create(&app, &caller, "/connections", &base).await;
    let mut source = source_body(&spec_id, &base_id);
    source["flowd"] = json!({"pageConcurrency": 0, "requestsPerSecond": -1, "speed": "max"});
    let refused = app.post(&caller, "/sourceConnections", &source).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(
        pointers(&refused),
        [
            "/flowd/pageConcurrency",
            "/flowd/requestsPerSecond",
            "/flowd/speed"
        ]
    );
    source["flowd"] = json!({"pageConcurrency": 4, "requestsPerSecond": 2.5});
    let (id, _) = create(&app, &caller, "/sourceConnections", &source).await;
    let read = app.get(&caller, &format!("/sourceConnections/{id}")).await;
    assert_eq!(
        read.body["items"][0]["flowd"],
        json!({"pageConcurrency": 4, "requestsPerSecond": 2.5})
    );
}
