//! `/flows`: validation against the flow spec, its connections and its
//! scheduleSpec; PATCH with etags; enable/disable; lists; isolation.

mod common;

use axum::http::StatusCode;
use common::chain::{
    REST_STORAGE_TO_AEP, base_connection, create, flow_body, list_spec_in_flow_spec, mock,
    pointers, source_body, target_body,
};
use common::{Caller, TestApp, assert_flow_error};
use serde_json::{Value, json};

/// A sandbox holding everything a flow needs: (source id, target id).
async fn connections(app: &TestApp, caller: &Caller) -> (String, String) {
    let mock = mock().await;
    let (spec_id, base_id) = base_connection(app, caller, &mock).await;
    list_spec_in_flow_spec(app, caller, &spec_id).await;
    let (source_id, _) = create(
        app,
        caller,
        "/sourceConnections",
        &source_body(&spec_id, &base_id),
    )
    .await;
    let dataset_id = app.create_dataset(caller, "members").await;
    let (target_id, _) = create(app, caller, "/targetConnections", &target_body(&dataset_id)).await;
    (source_id, target_id)
}

#[tokio::test]
async fn a_flow_is_created_enabled_with_its_inherited_attributes() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let (source_id, target_id) = connections(&app, &caller).await;
    let (flow_id, etag) = create(&app, &caller, "/flows", &flow_body(&source_id, &target_id)).await;
    let flow = app.get(&caller, &format!("/flows/{flow_id}")).await.body["items"][0].clone();
    assert_eq!(flow["state"], "enabled");
    assert_eq!(flow["etag"], etag.as_str());
    assert_eq!(flow["version"], etag.as_str());
    assert_eq!(
        flow["scheduleParams"],
        json!({"startTime": 1632809759, "frequency": "minute", "interval": 15})
    );
    assert_eq!(
        flow["inheritedAttributes"]["sourceConnections"][0]["id"],
        source_id.as_str()
    );
    assert!(
        flow["inheritedAttributes"]["sourceConnections"][0]["baseConnection"]["id"].is_string()
    );
    assert_eq!(
        flow["inheritedAttributes"]["targetConnections"][0]["id"],
        target_id.as_str()
    );
    assert_eq!(flow["lastOperation"]["operation"], "create");
    assert_eq!(flow["lastRunDetails"], json!({}));
    assert_eq!(flow["runs"], format!("/runs?property=flowId=={flow_id}"));
}

#[tokio::test]
async fn flow_rules_get_their_codes_and_pointers() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let (source_id, target_id) = connections(&app, &caller).await;
    let mut with_state = flow_body(&source_id, &target_id);
    with_state["state"] = json!("enabled");
    assert_flow_error(&app.post(&caller, "/flows", &with_state).await, "1410-400");

    let mut unknown_flow_spec = flow_body(&source_id, &target_id);
    unknown_flow_spec["flowSpec"]["id"] = json!("00000000-0000-4000-8000-000000000000");
    assert_flow_error(
        &app.post(&caller, "/flows", &unknown_flow_spec).await,
        "1413-400",
    );

    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "once with an interval",
            json!({"startTime": 1632809759, "frequency": "once", "interval": 15}),
            vec!["/scheduleParams/interval"],
        ),
        (
            "minute below 15",
            json!({"startTime": "1632809759", "frequency": "minute", "interval": "5"}),
            vec!["/scheduleParams/interval"],
        ),
        (
            "unknown frequency",
            json!({"startTime": 1632809759, "frequency": "yearly", "interval": 1}),
            vec!["/scheduleParams/frequency"],
        ),
        (
            "startTime not a number",
            json!({"startTime": "soon", "frequency": "hour", "interval": 1}),
            vec!["/scheduleParams/startTime"],
        ),
    ];
    for (description, schedule, expected) in cases {
        let mut body = flow_body(&source_id, &target_id);
        body["scheduleParams"] = schedule;
        let reply = app.post(&caller, "/flows", &body).await;
        assert_eq!(pointers(&reply), expected, "{description}: {}", reply.body);
    }

    let mut missing = flow_body("00000000-0000-4000-8000-000000000001", &target_id);
    missing.as_object_mut().unwrap().remove("name");
    let reply = app.post(&caller, "/flows", &missing).await;
    assert_eq!(pointers(&reply), ["/name"], "shape problems come first");
    missing["name"] = json!("named");
    let reply = app.post(&caller, "/flows", &missing).await;
    assert_eq!(pointers(&reply), ["/sourceConnectionIds/0"]);
    // A target where a source belongs: its spec is not in sourceConnectionSpecIds.
    let swapped = flow_body(&source_id, &source_id);
    let reply = app.post(&caller, "/flows", &swapped).await;
    assert_eq!(pointers(&reply), ["/targetConnectionIds/0"]);
}

#[tokio::test]
async fn a_flow_spec_must_list_the_source_connection_spec() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let (source_id, target_id) = connections(&app, &caller).await;
    let path = format!("/flowSpecs/{REST_STORAGE_TO_AEP}");
    let mut flow_spec = app.get(&caller, &path).await.body["items"][0].clone();
    flow_spec["sourceConnectionSpecIds"] = json!([]);
    assert_eq!(
        app.put(&caller, &path, &flow_spec).await.status,
        StatusCode::OK
    );
    let reply = app
        .post(&caller, "/flows", &flow_body(&source_id, &target_id))
        .await;
    assert_eq!(pointers(&reply), ["/sourceConnectionIds/0"]);
    assert!(
        reply.body["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("sourceConnectionSpecIds")
    );
}

#[tokio::test]
async fn patch_and_actions_change_the_flow_and_its_etag() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let (source_id, target_id) = connections(&app, &caller).await;
    let (flow_id, etag) = create(&app, &caller, "/flows", &flow_body(&source_id, &target_id)).await;
    let path = format!("/flows/{flow_id}");
    let to_hourly = json!([{"op": "replace", "path": "/scheduleParams/frequency", "value": "hour"},
                           {"op": "replace", "path": "/scheduleParams/interval", "value": 2}]);
    assert_flow_error(
        &app.patch(&caller, &path, None, &to_hourly).await,
        "1403-400",
    );
    assert_flow_error(
        &app.patch(&caller, &path, Some("\"old\""), &to_hourly).await,
        "1404-412",
    );
    assert_flow_error(
        &app.patch(
            &caller,
            &path,
            Some(&etag),
            &json!([{"op": "replace", "path": "/flowSpec/id", "value": "x"}]),
        )
        .await,
        "1455-400",
    );
    assert_flow_error(
        &app.patch(
            &caller,
            &path,
            Some(&etag),
            &json!([{"op": "replace", "path": "/state", "value": "disabled"}]),
        )
        .await,
        "1455-400",
    );
    let invalid = app
        .patch(
            &caller,
            &path,
            Some(&etag),
            &json!([{"op": "replace", "path": "/scheduleParams/interval", "value": 3}]),
        )
        .await;
    assert_eq!(
        pointers(&invalid),
        ["/scheduleParams/interval"],
        "the patched flow is validated"
    );
    let patched = app.patch(&caller, &path, Some(&etag), &to_hourly).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let new_etag = patched.body["etag"].as_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let flow = app.get(&caller, &path).await.body["items"][0].clone();
    assert_eq!(flow["scheduleParams"]["frequency"], "hour");
    assert_eq!(flow["lastOperation"]["operation"], "update");

    let disabled = app
        .post(&caller, &format!("{path}/action?op=DISABLE"), &json!({}))
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    assert_ne!(disabled.body["etag"], json!(new_etag));
    assert_eq!(
        app.get(&caller, &path).await.body["items"][0]["state"],
        "disabled"
    );
    let enabled = app
        .post(&caller, &format!("{path}/action?op=enable"), &json!({}))
        .await;
    assert_eq!(enabled.status, StatusCode::OK);
    assert_eq!(
        app.get(&caller, &path).await.body["items"][0]["state"],
        "enabled"
    );
    assert_flow_error(
        &app.post(&caller, &format!("{path}/action?op=EXPLODE"), &json!({}))
            .await,
        "1100-400",
    );

    assert_eq!(
        app.delete(&caller, &path).await.status,
        StatusCode::NO_CONTENT
    );
    assert_flow_error(&app.get(&caller, &path).await, "1439-404");
}

#[tokio::test]
async fn flow_lists_page_sort_count_and_stay_in_their_sandbox() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let (source_id, target_id) = connections(&app, &caller).await;
    for name in ["b-flow", "a-flow", "c-flow"] {
        let mut body = flow_body(&source_id, &target_id);
        body["name"] = json!(name);
        create(&app, &caller, "/flows", &body).await;
    }
    let names = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = app.get(&caller, "/flows?orderby=name&limit=2").await;
    assert_eq!(names(&first.body), ["a-flow", "b-flow"]);
    let next = first.body["_links"]["next"]["href"].as_str().unwrap();
    assert!(next.starts_with("/flows?"), "{next}");
    let second = app.get(&caller, next).await;
    assert_eq!(names(&second.body), ["c-flow"]);
    assert_eq!(
        second.body["_links"],
        json!({}),
        "the last page carries _links, without next"
    );
    assert_eq!(
        app.get(&caller, "/flows?orderby=-name").await.body["items"][0]["name"],
        "c-flow"
    );
    assert_eq!(
        app.get(
            &caller,
            &format!("/flows?count=true&property=sourceConnectionIds%5B%5D=={source_id}")
        )
        .await
        .body,
        json!({"count": 3})
    );
    assert_flow_error(
        &app.get(&caller, "/flows?count=true&limit=1").await,
        "1401-400",
    );
    assert_flow_error(
        &app.get(&caller, "/flows?orderby=name%20desc").await,
        "1432-400",
    );
    assert_flow_error(
        &app.get(&caller, "/flows?orderby=transformations").await,
        "1433-400",
    );
    assert_flow_error(
        &app.get(&caller, "/flows?property=createdAt%3E1,2").await,
        "1443-400",
    );

    let mut other_sandbox = caller.clone();
    other_sandbox.sandbox = "dev".into();
    let other_org = app.caller_for_new_org("ORG2@AdobeOrg").await;
    let flow_id = app.get(&caller, "/flows?limit=1").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for intruder in [&other_sandbox, &other_org] {
        assert_eq!(app.get(intruder, "/flows").await.body["items"], json!([]));
        assert_flow_error(
            &app.get(intruder, &format!("/flows/{flow_id}")).await,
            "1439-404",
        );
        assert_flow_error(
            &app.post(
                intruder,
                &format!("/flows/{flow_id}/action?op=DISABLE"),
                &json!({}),
            )
            .await,
            "1439-404",
        );
        assert_flow_error(
            &app.delete(intruder, &format!("/flows/{flow_id}")).await,
            "1439-404",
        );
    }
}

#[tokio::test]
async fn a_flow_with_more_than_one_source_or_target_connection_is_refused() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let (source_id, target_id) = connections(&app, &caller).await;
    let mut body = flow_body(&source_id, &target_id);
    body["sourceConnectionIds"] = json!([source_id, source_id]);
    body["targetConnectionIds"] = json!([target_id, target_id, target_id]);
    let refused = app.post(&caller, "/flows", &body).await;
    assert_eq!(
        pointers(&refused),
        ["/sourceConnectionIds", "/targetConnectionIds"]
    );
    let messages: Vec<&str> = refused.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["message"].as_str().unwrap())
        .collect();
    assert!(
        messages[0].contains("lists 2 source connections")
            && messages[0].contains("exactly one source connection per flow"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("lists 3 target connections"),
        "{messages:?}"
    );

    // PATCH cannot add a second one either.
    let (flow_id, etag) = create(&app, &caller, "/flows", &flow_body(&source_id, &target_id)).await;
    let patched = app
        .patch(
            &caller,
            &format!("/flows/{flow_id}"),
            Some(&etag),
            &json!([{"op": "add", "path": "/sourceConnectionIds/-", "value": source_id}]),
        )
        .await;
    assert_eq!(pointers(&patched), ["/sourceConnectionIds"]);
}

#[tokio::test]
async fn schedule_problems_are_sentences_at_the_fields_they_are_about() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let (source_id, target_id) = connections(&app, &caller).await;
    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (
            json!({"startTime": 1632809759, "frequency": "minute"}),
            vec![(
                "/scheduleParams/interval",
                "interval is required when frequency is minute",
            )],
        ),
        (
            json!({"startTime": 1632809759, "frequency": "yearly", "interval": 1}),
            vec![(
                "/scheduleParams/frequency",
                "frequency must be one of once, minute, hour, day, week, got \"yearly\"",
            )],
        ),
        (
            json!({"startTime": 1632809759, "frequency": "Minute", "interval": 15}),
            vec![(
                "/scheduleParams/frequency",
                "frequency must be one of once, minute, hour, day, week, got \"Minute\"",
            )],
        ),
        (
            json!({"startTime": 1632809759, "frequency": "once", "interval": 15, "backfill": false}),
            vec![
                (
                    "/scheduleParams/interval",
                    "interval is not allowed when frequency is once",
                ),
                (
                    "/scheduleParams/backfill",
                    "backfill is not allowed when frequency is once",
                ),
            ],
        ),
        (
            json!({"startTime": 1632809759, "frequency": "minute", "interval": "5"}),
            vec![(
                "/scheduleParams/interval",
                "interval must be at least 15 when frequency is minute, got 5",
            )],
        ),
    ];
    for (schedule, expected) in cases {
        let mut body = flow_body(&source_id, &target_id);
        body["scheduleParams"] = schedule.clone();
        let refused = app.post(&caller, "/flows", &body).await;
        assert_flow_error(&refused, "1100-400");
        let problems: Vec<(&str, &str)> = refused.body["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|problem| {
                (
                    problem["pointer"].as_str().unwrap(),
                    problem["message"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(problems, expected, "{schedule}");
    }
    // startTime as an RFC 3339 instant is stored as the epoch seconds it names.
    let mut body = flow_body(&source_id, &target_id);
    body["scheduleParams"] =
        json!({"startTime": "2021-09-28T06:15:59Z", "frequency": "hour", "interval": 1});
    let (flow_id, _) = create(&app, &caller, "/flows", &body).await;
    let flow = app.get(&caller, &format!("/flows/{flow_id}")).await.body["items"][0].clone();
    assert_eq!(
        flow["scheduleParams"]["startTime"]
            .to_string()
            .trim_matches('"'),
        "1632809759",
        "{flow}"
    );
}

#[tokio::test]
async fn schedules_the_planner_could_not_run_are_refused_with_a_hint() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let (source_id, target_id) = connections(&app, &caller).await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"startTime": i64::MAX, "frequency": "minute", "interval": 15}),
            "/scheduleParams/startTime",
            "after the year 9999",
        ),
        (
            json!({"startTime": i64::MIN, "frequency": "minute", "interval": 15}),
            "/scheduleParams/startTime",
            "before 1970",
        ),
        (
            json!({"startTime": 1e30, "frequency": "minute", "interval": 15}),
            "/scheduleParams/startTime",
            "whole epoch seconds",
        ),
        (
            json!({"startTime": 1_632_809_759_000_i64, "frequency": "minute", "interval": 15}),
            "/scheduleParams/startTime",
            "looks like epoch milliseconds; send epoch seconds (1632809759)",
        ),
        (
            json!({"startTime": "1632809759000", "frequency": "hour", "interval": 1}),
            "/scheduleParams/startTime",
            "looks like epoch milliseconds",
        ),
        (
            json!({"startTime": 1632809759, "frequency": "minute", "interval": 1_i64 << 62}),
            "/scheduleParams/interval",
            "must be at most 527040 for frequency minute",
        ),
    ];
    for (schedule, pointer, message) in cases {
        let mut body = flow_body(&source_id, &target_id);
        body["scheduleParams"] = schedule.clone();
        let refused = app.post(&caller, "/flows", &body).await;
        assert_eq!(pointers(&refused), [pointer], "{schedule}");
        let shown = refused.body["problems"][0]["message"].as_str().unwrap();
        assert!(shown.contains(message), "{schedule}: {shown}");
    }
    // The widest accepted schedule is one the planner runs.
    let mut yearly = flow_body(&source_id, &target_id);
    yearly["scheduleParams"] =
        json!({"startTime": 253_402_207_200_i64, "frequency": "week", "interval": 52});
    let created = app.post(&caller, "/flows", &yearly).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
}

#[tokio::test]
async fn flows_carry_the_properties_clients_filter_on_even_when_stored_without_them() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let (source_id, target_id) = connections(&app, &caller).await;
    let (flow_id, _) = create(&app, &caller, "/flows", &flow_body(&source_id, &target_id)).await;
    let flow = app.get(&caller, &format!("/flows/{flow_id}")).await.body["items"][0].clone();
    assert_eq!(
        flow["inheritedAttributes"]["properties"],
        json!({"isSourceFlow": true, "isDestinationFlow": false})
    );
    // As an older flowd stored it: without the properties.
    let scope = flowd_store::Scope {
        org_id: caller.org.clone(),
        sandbox_name: caller.sandbox.clone(),
    };
    let mut stored = app
        .store
        .get_resource(&scope, flowd_store::ResourceKind::Flow, &flow_id)
        .await
        .unwrap()
        .unwrap()
        .body;
    stored["inheritedAttributes"]
        .as_object_mut()
        .unwrap()
        .shift_remove("properties");
    app.store
        .replace_resource(
            &scope,
            flowd_store::ResourceKind::Flow,
            &flow_id,
            flowd_store::ResourceWrite {
                references: None,
                ..flowd_store::ResourceWrite::document(&stored)
            },
            None,
        )
        .await
        .unwrap();
    for filter in [
        "inheritedAttributes.properties.isSourceFlow==true",
        "inheritedAttributes.properties.isDestinationFlow==false",
    ] {
        let listed = app.get(&caller, &format!("/flows?property={filter}")).await;
        assert_eq!(listed.body["items"][0]["id"], flow_id.as_str(), "{filter}");
    }
    let destinations = app
        .get(
            &caller,
            "/flows?property=inheritedAttributes.properties.isDestinationFlow==true",
        )
        .await;
    assert_eq!(destinations.body["items"], json!([]));
}

#[tokio::test]
async fn flow_options_are_checked_against_the_option_spec_and_a_percentage() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let (source_id, target_id) = connections(&app, &caller).await;
    let with_options = |options: Value| {
        let mut flow = flow_body(&source_id, &target_id);
        flow["options"] = options;
        flow
    };
    for (options, pointer) in [
        (
            json!({"partialIngestionPercent": -5}),
            "/options/partialIngestionPercent",
        ),
        (
            json!({"partialIngestionPercent": 0}),
            "/options/partialIngestionPercent",
        ),
        (
            json!({"partialIngestionPercent": 150}),
            "/options/partialIngestionPercent",
        ),
        (
            json!({"partialIngestionPercent": "ten"}),
            "/options/partialIngestionPercent",
        ),
        (
            json!({"errorDiagnosticsEnabled": "yes"}),
            "/options/errorDiagnosticsEnabled",
        ),
        (json!("everything"), "/options"),
    ] {
        let refused = app
            .post(&caller, "/flows", &with_options(options.clone()))
            .await;
        assert_eq!(pointers(&refused), [pointer], "{options}: {}", refused.body);
    }
    // The docs PATCH the percentage as a string: it is stored as the number it means.
    let (flow_id, _) = create(
        &app,
        &caller,
        "/flows",
        &with_options(json!({"partialIngestionPercent": "10", "errorDiagnosticsEnabled": "true"})),
    )
    .await;
    let flow = app.get(&caller, &format!("/flows/{flow_id}")).await.body["items"][0].clone();
    assert_eq!(
        flow["options"],
        json!({"partialIngestionPercent": 10, "errorDiagnosticsEnabled": true})
    );
}
