//! `/connectionSpecs`: the seed's workflow, every status code and error body.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{BASE, Reply, TestApp, assert_flow_error, fixture};
use flowd_api::ApiConfig;
use serde_json::{Value, json};

const SERVER_MANAGED: [&str; 10] = [
    "id",
    "createdAt",
    "updatedAt",
    "createdBy",
    "updatedBy",
    "createdClient",
    "updatedClient",
    "sandboxId",
    "sandboxName",
    "imsOrgId",
];

fn without_server_managed(document: &Value) -> Value {
    let mut document = document.clone();
    for name in SERVER_MANAGED {
        document.as_object_mut().unwrap().shift_remove(name);
    }
    document
}

#[tokio::test]
async fn the_seed_workflow_creates_then_renames_a_spec_with_put() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let created = app
        .post(
            &caller,
            "/connectionSpecs",
            &fixture("mailchimp_members_create.json"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();

    let update = fixture("seed_mailchimp_update.json");
    let updated = app
        .put(&caller, &format!("/connectionSpecs/{id}"), &update)
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let spec = &updated.body;
    assert_eq!(spec["name"], "MailChimp source update 1.0");
    for field in SERVER_MANAGED {
        assert!(
            !spec[field].is_null(),
            "the response carries {field}: {spec}"
        );
    }
    assert_eq!(spec["id"], id.as_str());
    for kept in [
        "createdAt",
        "createdBy",
        "createdClient",
        "sandboxId",
        "imsOrgId",
    ] {
        assert_eq!(spec[kept], created.body[kept], "{kept} is kept by PUT");
    }
    assert!(spec["updatedAt"].as_i64() >= created.body["updatedAt"].as_i64());
    assert_eq!(
        without_server_managed(spec),
        update,
        "PUT is a full replacement"
    );

    let read = app.get(&caller, &format!("/connectionSpecs/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, json!({"items": [spec]}));
}

#[tokio::test]
async fn a_spec_reads_back_as_stored_including_unknown_fields() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mut body = fixture("mailchimp_members_create.json");
    body["partnerExtension"] = json!({"nested": [1, "two", {"three": null}], "flag": false});
    body["sourceSpec"]["attributes"]["futureField"] = json!("kept");
    let id = app.create_connection_spec(&caller, &body).await;
    let read = app.get(&caller, &format!("/connectionSpecs/{id}")).await;
    assert_eq!(without_server_managed(&read.body["items"][0]), body);
}

#[tokio::test]
async fn list_filters_by_name_provider_and_ids() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mut first = fixture("mailchimp_members_create.json");
    first["name"] = json!("first spec");
    let mut second = first.clone();
    second["name"] = json!("second spec");
    second["providerId"] = json!("521eee4d-8cbe-4906-bb48-fb6bd4450033");
    let first_id = app.create_connection_spec(&caller, &first).await;
    let second_id = app.create_connection_spec(&caller, &second).await;

    let names = |reply: Reply| -> Vec<String> {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = names(app.get(&caller, "/connectionSpecs").await);
    assert!(all.contains(&"first spec".to_owned()) && all.contains(&"second spec".to_owned()));
    assert!(
        all.contains(&"Data Lake".to_owned()),
        "the built-in target spec is listed: {all:?}"
    );
    assert_eq!(
        names(
            app.get(&caller, "/connectionSpecs?property=name%3D%3Dsecond%20spec")
                .await
        ),
        ["second spec"]
    );
    assert_eq!(
        names(
            app.get(
                &caller,
                "/connectionSpecs?property=providerId==521eee4d-8cbe-4906-bb48-fb6bd4450033"
            )
            .await
        ),
        ["second spec"]
    );
    assert_eq!(
        names(
            app.get(
                &caller,
                &format!("/connectionSpecs?property=id=={first_id},{second_id}")
            )
            .await
        ),
        ["first spec", "second spec"]
    );
    assert_eq!(
        names(
            app.get(
                &caller,
                "/connectionSpecs?property=name==first%20spec&property=providerId==nope"
            )
            .await
        ),
        Vec::<String>::new()
    );
    assert_flow_error(
        &app.get(&caller, "/connectionSpecs?property=name~x").await,
        "1440-400",
    );
}

#[tokio::test]
async fn delete_removes_the_spec_and_later_reads_get_404() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let id = app
        .create_connection_spec(&caller, &fixture("mailchimp_members_create.json"))
        .await;
    let deleted = app.delete(&caller, &format!("/connectionSpecs/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.body, Value::Null);
    let read = app.get(&caller, &format!("/connectionSpecs/{id}")).await;
    assert_flow_error(&read, "1439-404");
    assert_eq!(read.body["report"]["id"], id.as_str());
    assert_eq!(read.body["report"]["type"], "connectionSpecs");
    assert_flow_error(
        &app.delete(&caller, &format!("/connectionSpecs/{id}")).await,
        "1439-404",
    );
}

#[tokio::test]
async fn unknown_and_malformed_ids_get_clear_errors() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let spec = fixture("mailchimp_members_create.json");
    let unknown = "0b0b0b0b-0000-4000-8000-000000000000";
    assert_flow_error(
        &app.get(&caller, &format!("/connectionSpecs/{unknown}"))
            .await,
        "1439-404",
    );
    assert_flow_error(
        &app.put(&caller, &format!("/connectionSpecs/{unknown}"), &spec)
            .await,
        "1439-404",
    );
    for bad in ["not-a-uuid", "123", "f6c0de0c-0a42-4cd9-9139-8768bf2f1b5"] {
        assert_flow_error(
            &app.get(&caller, &format!("/connectionSpecs/{bad}")).await,
            "1411-400",
        );
        assert_flow_error(
            &app.put(&caller, &format!("/connectionSpecs/{bad}"), &spec)
                .await,
            "1411-400",
        );
        assert_flow_error(
            &app.delete(&caller, &format!("/connectionSpecs/{bad}"))
                .await,
            "1411-400",
        );
    }
}

fn spec_request(
    method: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
    app: &TestApp,
) -> Request<Body> {
    let caller = app.caller();
    let mut builder = Request::builder()
        .method(method)
        .uri(format!("{BASE}/connectionSpecs"))
        .header("authorization", format!("Bearer {}", caller.token))
        .header("x-api-key", caller.api_key)
        .header("x-gw-ims-org-id", caller.org)
        .header("x-sandbox-name", caller.sandbox);
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(body.into()).unwrap()
}

#[tokio::test]
async fn bad_bodies_get_flow_service_errors_not_plain_text() {
    let app = TestApp::new().await;
    let valid = fixture("mailchimp_members_create.json").to_string();

    let malformed = app
        .raw(spec_request(
            "POST",
            Some("application/json"),
            "{\"name\": ",
            &app,
        ))
        .await;
    assert_flow_error(&malformed, "1100-400");
    assert!(
        malformed.body["report"]["detailed-message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );

    let no_type = app
        .raw(spec_request("POST", None, valid.clone(), &app))
        .await;
    assert_flow_error(&no_type, "1100-400");
    assert_eq!(
        no_type.body["detail"],
        "A valid content-type must be specified"
    );
    let wrong_type = app
        .raw(spec_request(
            "POST",
            Some("text/plain"),
            valid.clone(),
            &app,
        ))
        .await;
    assert_flow_error(&wrong_type, "1100-400");

    let empty = app
        .raw(spec_request("POST", Some("application/json"), "", &app))
        .await;
    assert_flow_error(&empty, "1405-400");

    let not_object = app
        .raw(spec_request(
            "POST",
            Some("application/json"),
            "[1,2]",
            &app,
        ))
        .await;
    assert_flow_error(&not_object, "1100-400");
    assert_eq!(not_object.body["problems"][0]["pointer"], "");
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let app = TestApp::with_config(ApiConfig {
        max_body_bytes: 1024,
        ..ApiConfig::default()
    })
    .await;
    let mut big = fixture("mailchimp_members_create.json");
    big["description"] = json!("x".repeat(2048));
    let reply = app
        .raw(spec_request(
            "POST",
            Some("application/json"),
            big.to_string(),
            &app,
        ))
        .await;
    assert_flow_error(&reply, "1100-413");
    // Without a Content-Length (a streamed body) the limit still holds.
    let stream = futures_like_stream(big.to_string());
    let streamed = app
        .raw(spec_request("POST", Some("application/json"), stream, &app))
        .await;
    assert_flow_error(&streamed, "1100-413");
}

fn futures_like_stream(text: String) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = text
        .as_bytes()
        .chunks(100)
        .map(|chunk| Ok(chunk.to_vec()))
        .collect();
    Body::from_stream(futures::stream::iter(chunks))
}

fn corpus(kind: &str) -> Vec<(String, Value)> {
    let directory = format!(
        "{}/../spec/testdata/connection_specs/{kind}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut files: Vec<_> = std::fs::read_dir(&directory)
        .expect(&directory)
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                serde_json::from_str(&text).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_valid_fixture_spec_is_accepted_over_http() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let valid = corpus("valid");
    assert!(valid.len() >= 10);
    for (name, spec) in valid {
        let reply = app.post(&caller, "/connectionSpecs", &spec).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
    }
}

#[tokio::test]
async fn every_invalid_fixture_spec_is_refused_with_exactly_its_problems() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let invalid = corpus("invalid");
    assert!(invalid.len() >= 25);
    let existing = app
        .create_connection_spec(&caller, &fixture("mailchimp_members_create.json"))
        .await;
    for (name, case) in invalid {
        let expected = &case["problems"];
        let created = app.post(&caller, "/connectionSpecs", &case["spec"]).await;
        assert_flow_error(&created, "1100-400");
        assert_eq!(&created.body["problems"], expected, "POST {name}");
        let replaced = app
            .put(
                &caller,
                &format!("/connectionSpecs/{existing}"),
                &case["spec"],
            )
            .await;
        assert_flow_error(&replaced, "1100-400");
        assert_eq!(&replaced.body["problems"], expected, "PUT {name}");
    }
    let unchanged = app
        .get(&caller, &format!("/connectionSpecs/{existing}"))
        .await;
    assert_eq!(
        without_server_managed(&unchanged.body["items"][0]),
        fixture("mailchimp_members_create.json"),
        "a refused PUT changes nothing"
    );
    let listed = app
        .get(&caller, "/connectionSpecs?property=type==generic-rest")
        .await;
    assert_eq!(
        listed.body["items"].as_array().unwrap().len(),
        1,
        "a refused POST stores nothing"
    );
}

#[tokio::test]
async fn auth_types_flowd_cannot_run_are_refused_when_the_spec_is_written() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mut spec = fixture("seed_mailchimp_update.json");
    spec["authSpec"][1]["type"] = json!("None");
    let refused = app.post(&caller, "/connectionSpecs", &spec).await;
    assert_flow_error(&refused, "1100-400");
    assert_eq!(refused.body["problems"][0]["pointer"], "/authSpec/1/type");
    assert_eq!(
        refused.body["problems"][0]["message"],
        "auth type None is not supported; flowd runs BasicAuthentication, OAuth2RefreshCode, KeyBased"
    );
    // Names one lookup could not tell apart are refused the same way.
    let mut spec = fixture("seed_mailchimp_update.json");
    spec["authSpec"][0]["name"] = json!("OAuth 2");
    spec["authSpec"][1]["name"] = json!("OAuth2");
    let refused = app.post(&caller, "/connectionSpecs", &spec).await;
    assert_flow_error(&refused, "1100-400");
    assert_eq!(refused.body["problems"][0]["pointer"], "/authSpec/1/name");
}

/// An integer the JSON parser would round to a float is refused with its pointer rather than
/// stored as another number; a body nested deeper than the parser allows gets a Flow Service
/// error too.
#[tokio::test]
async fn integers_beyond_64_bits_and_overly_deep_bodies_are_refused_clearly() {
    let app = TestApp::new().await;
    let mut spec = fixture("mailchimp_members_create.json").to_string();
    spec.insert_str(1, r#""maxRecords": 123456789012345678901234, "#);
    let refused = app
        .raw(spec_request("POST", Some("application/json"), spec, &app))
        .await;
    assert_flow_error(&refused, "1100-400");
    assert_eq!(refused.body["problems"][0]["pointer"], "/maxRecords");
    assert!(
        refused.body["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("beyond 64 bits")
    );
    let mut fits = fixture("mailchimp_members_create.json");
    fits["maxRecords"] = json!(u64::MAX);
    let created = app.post(&app.caller(), "/connectionSpecs", &fits).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let read = app
        .get(&app.caller(), &format!("/connectionSpecs/{id}"))
        .await;
    assert_eq!(
        read.body["items"][0]["maxRecords"],
        json!(u64::MAX),
        "kept exactly"
    );

    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let refused = app
        .raw(spec_request("POST", Some("application/json"), deep, &app))
        .await;
    assert_flow_error(&refused, "1100-400");
    assert!(
        refused.body["report"]["detailed-message"]
            .as_str()
            .unwrap()
            .contains("recursion limit"),
        "{}",
        refused.body
    );
}
