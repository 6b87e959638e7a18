//! Credentials and tenancy: AEP's gateway refusals, the sandbox header, and
//! isolation of one org's and one sandbox's specs from every other.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{BASE, TestApp, assert_flow_error, fixture};
use serde_json::{Value, json};

fn request_with(headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::builder().uri(format!("{BASE}/connectionSpecs"));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn gateway_refusals_use_aep_codes_and_bodies() {
    let app = TestApp::new().await;
    let bearer = format!("Bearer {}", app.credential.access_token);
    let key = app.credential.api_key.clone();
    let org = app.credential.ims_org_id.clone();
    let other = app.caller_for_new_org("ORG2@AdobeOrg").await;
    let other_bearer = format!("Bearer {}", other.token);
    // (headers sent, status, error_code, message)
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![
                ("x-api-key", &key),
                ("x-gw-ims-org-id", &org),
                ("x-sandbox-name", "prod"),
            ],
            403,
            "403010",
            "Oauth token is missing.",
        ),
        (
            vec![
                ("authorization", "Bearer nope"),
                ("x-api-key", &key),
                ("x-gw-ims-org-id", &org),
            ],
            401,
            "401013",
            "Oauth token is not valid",
        ),
        (
            vec![
                ("authorization", "Basic abc"),
                ("x-api-key", &key),
                ("x-gw-ims-org-id", &org),
            ],
            401,
            "401013",
            "Oauth token is not valid",
        ),
        (
            vec![("authorization", &bearer), ("x-gw-ims-org-id", &org)],
            403,
            "403000",
            "Api Key is required",
        ),
        (
            vec![
                ("authorization", &bearer),
                ("x-api-key", "wrong"),
                ("x-gw-ims-org-id", &org),
            ],
            403,
            "403003",
            "Api Key is invalid",
        ),
        (
            vec![("authorization", &bearer), ("x-api-key", &key)],
            400,
            "400003",
            "Missing header",
        ),
        (
            vec![
                ("authorization", &other_bearer),
                ("x-api-key", &other.api_key),
                ("x-gw-ims-org-id", &org),
                ("x-sandbox-name", "prod"),
            ],
            403,
            "403025",
            "Profile is not valid",
        ),
    ];
    for (headers, status, code, message) in cases {
        let reply = app.raw(request_with(&headers)).await;
        assert_eq!(reply.status.as_u16(), status, "{code}: {}", reply.body);
        assert_eq!(reply.body, json!({"error_code": code, "message": message}));
    }
}

#[tokio::test]
async fn a_missing_or_malformed_sandbox_header_gets_2105() {
    let app = TestApp::new().await;
    let bearer = format!("Bearer {}", app.credential.access_token);
    let key = app.credential.api_key.clone();
    let org = app.credential.ims_org_id.clone();
    let missing = app
        .raw(request_with(&[
            ("authorization", &bearer),
            ("x-api-key", &key),
            ("x-gw-ims-org-id", &org),
        ]))
        .await;
    assert_flow_error(&missing, "2105-400");
    assert!(
        missing.body["report"]["detailed-message"]
            .as_str()
            .unwrap()
            .contains("x-sandbox-name is missing")
    );
    let malformed = app
        .raw(request_with(&[
            ("authorization", &bearer),
            ("x-api-key", &key),
            ("x-gw-ims-org-id", &org),
            ("x-sandbox-name", "Prod Space"),
        ]))
        .await;
    assert_flow_error(&malformed, "2105-400");
}

#[tokio::test]
async fn healthz_needs_no_credentials() {
    let app = TestApp::new().await;
    let reply = app
        .raw(
            Request::builder()
                .uri("/healthz")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!({"status": "ok", "role": "all", "store": "reachable"})
    );
}

#[tokio::test]
async fn other_orgs_and_other_sandboxes_cannot_see_touch_or_delete_specs() {
    let app = TestApp::new().await;
    let owner = app.caller();
    let spec = fixture("mailchimp_members_create.json");
    let id = app.create_connection_spec(&owner, &spec).await;
    let other_org = app.caller_for_new_org("ORG2@AdobeOrg").await;
    let mut other_sandbox = owner.clone();
    other_sandbox.sandbox = "dev".into();
    for intruder in [&other_org, &other_sandbox] {
        let listed = app.get(intruder, "/connectionSpecs").await;
        assert_eq!(listed.status, StatusCode::OK);
        let ids: Vec<&Value> = listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| &item["id"])
            .collect();
        assert!(!ids.contains(&&json!(id)), "{ids:?}");
        assert_flow_error(
            &app.get(intruder, &format!("/connectionSpecs/{id}")).await,
            "1439-404",
        );
        assert_flow_error(
            &app.put(intruder, &format!("/connectionSpecs/{id}"), &spec)
                .await,
            "1439-404",
        );
        assert_flow_error(
            &app.delete(intruder, &format!("/connectionSpecs/{id}"))
                .await,
            "1439-404",
        );
    }
    let still_there = app.get(&owner, &format!("/connectionSpecs/{id}")).await;
    assert_eq!(still_there.status, StatusCode::OK);
    assert_eq!(still_there.body["items"][0]["name"], spec["name"]);
}

#[tokio::test]
async fn server_managed_fields_come_from_the_request() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mut body = fixture("mailchimp_members_create.json");
    body["id"] = json!("11111111-1111-4111-8111-111111111111");
    body["createdBy"] = json!("forged");
    body["imsOrgId"] = json!("OTHER@AdobeOrg");
    let created = app.post(&caller, "/connectionSpecs", &body).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let spec = &created.body;
    assert_ne!(spec["id"], body["id"], "the client cannot choose the id");
    assert!(uuid::Uuid::try_parse(spec["id"].as_str().unwrap()).is_ok());
    assert_eq!(spec["imsOrgId"], "ORG1@AdobeOrg");
    assert_eq!(spec["sandboxName"], "prod");
    assert!(spec["createdBy"].as_str().unwrap().ends_with("@AdobeID"));
    assert_eq!(spec["createdBy"], spec["updatedBy"]);
    assert_eq!(spec["createdClient"], caller.api_key.as_str());
    assert_eq!(spec["updatedClient"], caller.api_key.as_str());
    assert!(
        spec["createdAt"].as_i64().unwrap() > 1_600_000_000_000,
        "epoch milliseconds"
    );
    // The sandbox id is stable per (org, sandbox) and differs across sandboxes.
    let second = app.post(&caller, "/connectionSpecs", &body).await;
    assert_eq!(second.body["sandboxId"], spec["sandboxId"]);
    let mut dev = caller.clone();
    dev.sandbox = "dev".into();
    let in_dev = app.post(&dev, "/connectionSpecs", &body).await;
    assert_ne!(in_dev.body["sandboxId"], spec["sandboxId"]);
}

#[tokio::test]
async fn the_request_that_creates_a_sandbox_says_so_in_a_header_and_later_ones_do_not() {
    let app = TestApp::new().await;
    let mut caller = app.caller();
    caller.sandbox = "prdo".into();
    let first = app.get(&caller, "/connectionSpecs").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(
        first
            .headers
            .get("x-flowd-sandbox-created")
            .map(|value| value.to_str().unwrap()),
        Some("true"),
        "the first request names a sandbox that did not exist"
    );
    let second = app.get(&caller, "/connectionSpecs").await;
    assert_eq!(second.status, StatusCode::OK);
    assert!(
        second.headers.get("x-flowd-sandbox-created").is_none(),
        "the sandbox exists by the second request"
    );
}
