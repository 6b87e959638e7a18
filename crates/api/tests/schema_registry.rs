//! The Schema Registry under `/data/foundation/schemaregistry`: schemas created with their
//! registry fields, read by `$id` and `meta:altId`, listed in both Accept forms, validated
//! at their pointers (Adobe's standard classes are not bundled), resolved through other
//! schemas of the sandbox, invisible to other orgs and sandboxes, typing the datasets on them,
//! and kept while a dataset names them.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Caller, Reply, TestApp, assert_flow_error};
use serde_json::{Value, json};

const REGISTRY: &str = "/data/foundation/schemaregistry";

fn members_schema() -> Value {
    json!({
        "type": "object",
        "title": "Members",
        "description": "one row per member",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/data/adhoc"}],
        "properties": {
            "id": {"type": "integer"},
            "born": {"type": "string", "format": "date"},
            "seen": {"type": "string", "format": "date-time"},
        }
    })
}

async fn registry(
    app: &TestApp,
    caller: &Caller,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Reply {
    app.send_under(REGISTRY, caller, method, path, body).await
}

async fn create(app: &TestApp, caller: &Caller, body: &Value) -> Value {
    let reply = registry(app, caller, "POST", "/tenant/schemas", Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

/// The path segment of a schema's `$id`, URL-encoded.
fn encoded(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

async fn list_with_accept(app: &TestApp, caller: &Caller, accept: &str, query: &str) -> Reply {
    let request = Request::builder()
        .method("GET")
        .uri(format!("{REGISTRY}/tenant/schemas{query}"))
        .header("authorization", format!("Bearer {}", caller.token))
        .header("x-api-key", &caller.api_key)
        .header("x-gw-ims-org-id", &caller.org)
        .header("x-sandbox-name", &caller.sandbox)
        .header("accept", accept)
        .body(Body::empty())
        .unwrap();
    app.raw(request).await
}

fn problems(reply: &Reply) -> Vec<(String, String)> {
    assert_flow_error(reply, "1100-400");
    reply.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| {
            (
                problem["pointer"].as_str().unwrap().to_owned(),
                problem["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn create_dataset(app: &TestApp, caller: &Caller, schema_id: &str) -> String {
    let body = json!({
        "name": "members",
        "schemaRef": {"id": schema_id, "contentType": "application/vnd.adobe.xed-full+json;version=1"}
    });
    let reply = app.catalog(caller, "POST", "/dataSets", Some(&body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body[0]
        .as_str()
        .unwrap()
        .trim_start_matches("@/dataSets/")
        .to_owned()
}

#[tokio::test]
async fn a_created_schema_carries_its_registry_fields_and_reads_by_id_and_alt_id() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mut body = members_schema();
    body["$id"] = json!("https://ns.adobe.com/mine/schemas/chosen");
    let created = create(&app, &caller, &body).await;

    let id = created["$id"].as_str().unwrap();
    let hex = id
        .strip_prefix("https://ns.adobe.com/org1/schemas/")
        .expect("the $id names the org's tenant");
    assert_eq!(hex.len(), 32);
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(created["meta:altId"], format!("_org1.schemas.{hex}"));
    assert_eq!(created["meta:resourceType"], "schemas");
    assert_eq!(created["version"], "1.0");
    assert_eq!(created["meta:containerId"], "tenant");
    assert_eq!(created["meta:sandboxType"], "production");
    assert!(created["meta:sandboxId"].is_string());
    assert_eq!(created["meta:class"], "https://ns.adobe.com/xdm/data/adhoc");
    assert_eq!(created["meta:extensible"], false);
    assert_eq!(created["meta:abstract"], false);
    let metadata = &created["meta:registryMetadata"];
    assert!(metadata["repo:createdDate"].as_i64().unwrap() > 1_600_000_000_000);
    assert_eq!(
        metadata["repo:lastModifiedDate"],
        metadata["repo:createdDate"]
    );
    assert_eq!(metadata["xdm:createdClientId"], caller.api_key);
    assert_eq!(created["title"], "Members");
    assert_eq!(created["properties"], members_schema()["properties"]);

    for path in [
        encoded(id),
        created["meta:altId"].as_str().unwrap().to_owned(),
    ] {
        let read = registry(
            &app,
            &caller,
            "GET",
            &format!("/tenant/schemas/{path}"),
            None,
        )
        .await;
        assert_eq!(read.status, StatusCode::OK, "{path}: {}", read.body);
        assert_eq!(read.body, created);
    }
    let missing = registry(
        &app,
        &caller,
        "GET",
        &format!(
            "/tenant/schemas/{}",
            encoded(&id.replace(hex, &"0".repeat(32)))
        ),
        None,
    )
    .await;
    assert_flow_error(&missing, "1439-404");
}

#[tokio::test]
async fn the_list_gives_ids_by_default_and_full_documents_for_xed_full() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mut zebra = members_schema();
    zebra["title"] = json!("Zebra");
    create(&app, &caller, &zebra).await;
    let members = create(&app, &caller, &members_schema()).await;

    let ids = registry(&app, &caller, "GET", "/tenant/schemas", None).await;
    assert_eq!(ids.status, StatusCode::OK, "{}", ids.body);
    assert_eq!(
        ids.body["_page"],
        json!({"orderby": "title", "next": null, "count": 2})
    );
    assert_eq!(ids.body["_links"], json!({}));
    assert_eq!(
        ids.body["results"][0],
        json!({"$id": members["$id"], "meta:altId": members["meta:altId"], "version": "1.0", "title": "Members"})
    );
    assert_eq!(ids.body["results"][1]["title"], "Zebra");
    let explicit = list_with_accept(&app, &caller, "application/vnd.adobe.xed-id+json", "").await;
    assert_eq!(explicit.body, ids.body);

    for accept in [
        "application/vnd.adobe.xed-full+json; version=1",
        "application/vnd.adobe.xed+json",
    ] {
        let full = list_with_accept(&app, &caller, accept, "").await;
        assert_eq!(full.status, StatusCode::OK, "{}", full.body);
        assert_eq!(full.body["results"][0], members, "{accept}");
    }

    let first =
        list_with_accept(&app, &caller, "application/json", "?orderby=-title&limit=1").await;
    assert_eq!(first.body["results"][0]["title"], "Zebra");
    assert_eq!(first.body["_page"]["next"], "1");
    let href = first.body["_links"]["next"]["href"].as_str().unwrap();
    let rest = href.strip_prefix(REGISTRY).unwrap();
    let second = registry(&app, &caller, "GET", rest, None).await;
    assert_eq!(second.body["results"][0]["title"], "Members");
    assert_eq!(second.body["_page"]["next"], Value::Null);

    let bad = registry(&app, &caller, "GET", "/tenant/schemas?limit=301", None).await;
    assert_flow_error(&bad, "1100-400");
    assert_eq!(bad.body["report"]["parameter"], "limit");
}

#[tokio::test]
async fn adobes_standard_classes_are_refused_at_their_pointer() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mut body = members_schema();
    body["allOf"] = json!([{"$ref": "https://ns.adobe.com/xdm/context/profile"}]);
    let reply = registry(&app, &caller, "POST", "/tenant/schemas", Some(&body)).await;
    let found = problems(&reply);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "/allOf/0/$ref");
    assert!(
        found[0]
            .1
            .contains("https://ns.adobe.com/xdm/context/profile"),
        "{found:?}"
    );
    let listed = registry(&app, &caller, "GET", "/tenant/schemas", None).await;
    assert_eq!(listed.body["_page"]["count"], 0);
}

#[tokio::test]
async fn a_missing_title_bad_field_types_and_an_unknown_class_are_named_at_their_pointers() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let body = json!({
        "type": "object",
        "meta:class": "https://ns.adobe.com/xdm/context/experienceevent",
        "properties": {
            "a": {"type": "null"},
            "b": {"type": "array"},
            "c": {"type": "object", "properties": {"d": {"type": ["string", "null"]}}},
        }
    });
    let reply = registry(&app, &caller, "POST", "/tenant/schemas", Some(&body)).await;
    let pointers: Vec<String> = problems(&reply)
        .into_iter()
        .map(|(pointer, _)| pointer)
        .collect();
    assert_eq!(
        pointers,
        [
            "/meta:class",
            "/properties/a/type",
            "/properties/b",
            "/properties/c/properties/d/type",
            "/title",
        ]
    );
}

#[tokio::test]
async fn a_schema_referencing_another_registry_schema_resolves_and_keeps_it() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let base = create(&app, &caller, &members_schema()).await;
    let extended = json!({
        "type": "object",
        "title": "Members with a score",
        "allOf": [{"$ref": base["meta:altId"]}],
        "properties": {"score": {"type": "number"}}
    });
    let extended = create(&app, &caller, &extended).await;
    let dataset_id = create_dataset(&app, &caller, extended["$id"].as_str().unwrap()).await;
    let dataset = app
        .catalog(&caller, "GET", &format!("/dataSets/{dataset_id}"), None)
        .await;
    let names: Vec<&str> = dataset.body[&dataset_id]["schema"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|column| column["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[..4], ["id", "born", "seen", "score"]);

    let base_path = format!("/tenant/schemas/{}", encoded(base["$id"].as_str().unwrap()));
    let refused = registry(&app, &caller, "DELETE", &base_path, None).await;
    assert_flow_error(&refused, "1447-400");
}

#[tokio::test]
async fn another_org_or_sandbox_cannot_see_a_schema() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let created = create(&app, &caller, &members_schema()).await;
    let path = format!(
        "/tenant/schemas/{}",
        encoded(created["$id"].as_str().unwrap())
    );

    let mut other_sandbox = caller.clone();
    other_sandbox.sandbox = "dev".into();
    let other_org = app.caller_for_new_org("ORG2@AdobeOrg").await;
    for stranger in [&other_sandbox, &other_org] {
        assert_flow_error(
            &registry(&app, stranger, "GET", &path, None).await,
            "1439-404",
        );
        assert_flow_error(
            &registry(&app, stranger, "DELETE", &path, None).await,
            "1439-404",
        );
        let listed = registry(&app, stranger, "GET", "/tenant/schemas", None).await;
        assert_eq!(listed.body["results"], json!([]));
        // Their dataset on that name is untyped, and may reference a schema of their own.
        let dataset_id = create_dataset(&app, stranger, created["$id"].as_str().unwrap()).await;
        let dataset = app
            .catalog(stranger, "GET", &format!("/dataSets/{dataset_id}"), None)
            .await;
        assert_eq!(dataset.body[&dataset_id]["schema"]["typed"], false);
    }
    let dev = create(&app, &other_sandbox, &members_schema()).await;
    assert_eq!(dev["meta:sandboxType"], "development");
    assert_ne!(dev["meta:sandboxId"], created["meta:sandboxId"]);
}

#[tokio::test]
async fn a_dataset_on_a_registry_schema_shows_its_typed_columns() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let schema = create(&app, &caller, &members_schema()).await;
    let dataset_id = create_dataset(&app, &caller, schema["$id"].as_str().unwrap()).await;
    let read = app
        .catalog(&caller, "GET", &format!("/dataSets/{dataset_id}"), None)
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let shown = &read.body[&dataset_id]["schema"];
    assert_eq!(shown["typed"], true, "{shown}");
    let columns: Vec<(String, String)> = shown["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|column| {
            (
                column["name"].as_str().unwrap().to_owned(),
                column["type"].as_str().unwrap().to_ascii_lowercase(),
            )
        })
        .collect();
    assert_eq!(columns[0], ("id".to_owned(), "int64".to_owned()));
    assert_eq!(columns[1], ("born".to_owned(), "date32".to_owned()));
    assert_eq!(columns[2].0, "seen");
    assert!(columns[2].1.starts_with("timestamp"), "{columns:?}");
    assert!(columns[2].1.contains("utc"), "{columns:?}");

    // A name the registry does not have leaves a dataset untyped, as before.
    let untyped = create_dataset(
        &app,
        &caller,
        "https://ns.adobe.com/tenant/schemas/570630b9",
    )
    .await;
    let read = app
        .catalog(&caller, "GET", &format!("/dataSets/{untyped}"), None)
        .await;
    assert_eq!(
        read.body[&untyped]["schema"],
        json!({"columns": [], "typed": false})
    );
}

#[tokio::test]
async fn a_schema_is_kept_while_a_dataset_names_it_and_deleted_after() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let schema = create(&app, &caller, &members_schema()).await;
    let alt_id = schema["meta:altId"].as_str().unwrap();
    let dataset_id = create_dataset(&app, &caller, alt_id).await;
    let path = format!("/tenant/schemas/{alt_id}");

    let refused = registry(&app, &caller, "DELETE", &path, None).await;
    assert_flow_error(&refused, "1447-400");
    assert_eq!(
        refused.body["report"]["referencedBy"],
        json!([{"type": "dataSet", "id": dataset_id}])
    );
    assert_eq!(
        registry(&app, &caller, "GET", &path, None).await.status,
        StatusCode::OK
    );

    let deleted = app
        .catalog(&caller, "DELETE", &format!("/dataSets/{dataset_id}"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    let gone = registry(&app, &caller, "DELETE", &path, None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    assert_flow_error(
        &registry(&app, &caller, "GET", &path, None).await,
        "1439-404",
    );
}
