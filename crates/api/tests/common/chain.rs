//! Building blocks of the resource chain (spec → base connection → source
//! connection → dataset → target connection → flow) shared by the tests.

use axum::http::StatusCode;
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use serde_json::{Value, json};

use super::{Caller, Reply, TestApp, assert_flow_error, fixture};

pub const PASSWORD: &str = "correct-horse-battery-staple";
pub const DATA_LAKE: &str = "c604ff05-7f1a-43c0-8e18-33bf874cb11c";
pub const REST_STORAGE_TO_AEP: &str = "6499120c-0b15-42dc-936e-847ea3c24d72";

pub async fn mock() -> MockApi {
    MockApi::start(Scenario::generated(10).with_auth(Auth::Basic {
        username: "anystring".into(),
        password: PASSWORD.into(),
    }))
    .await
}

/// A MailChimp-like connection spec and a base connection probed against
/// the mock: (spec id, base connection id).
pub async fn base_connection(app: &TestApp, caller: &Caller, mock: &MockApi) -> (String, String) {
    let spec_id = app
        .create_connection_spec(caller, &fixture("seed_mailchimp_update.json"))
        .await;
    let created = app
        .post(
            caller,
            "/connections",
            &json!({
                "name": "Mailchimp base connection",
                "connectionSpec": {"id": spec_id, "version": "1.0"},
                "auth": {"specName": "Basic Authentication", "params": {
                    "host": mock.base_url(),
                    "authorizationTestUrl": mock.url("/auth/test"),
                    "username": "anystring",
                    "password": PASSWORD
                }}
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    (spec_id, created.body["id"].as_str().unwrap().to_owned())
}

pub fn source_body(spec_id: &str, base_connection_id: &str) -> Value {
    json!({
        "name": "MailChimp source connection to ingest listId",
        "description": "members of one list",
        "baseConnectionId": base_connection_id,
        "connectionSpec": {"id": spec_id, "version": "1.0"},
        "data": {"format": "json"},
        "params": {"listId": DEFAULT_LIST_ID}
    })
}

pub fn target_body(dataset_id: &str) -> Value {
    json!({
        "name": "MailChimp target connection",
        "description": "into the members dataset",
        "connectionSpec": {"id": DATA_LAKE, "version": "1.0"},
        "data": {
            "format": "parquet_xdm",
            "schema": {
                "id": "https://ns.adobe.com/tenant/schemas/570630b9",
                "version": "application/vnd.adobe.xed-full+json;version=1"
            }
        },
        "params": {"dataSetId": dataset_id}
    })
}

/// Posts `body` to `collection` and returns (id, etag) of the 201.
pub async fn create(
    app: &TestApp,
    caller: &Caller,
    collection: &str,
    body: &Value,
) -> (String, String) {
    let created = app.post(caller, collection, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body.as_object().unwrap().len(),
        2,
        "{{id, etag}} only: {}",
        created.body
    );
    let id = created.body["id"].as_str().unwrap().to_owned();
    let location = created.headers["location"].to_str().unwrap();
    assert!(
        location.ends_with(&format!("{collection}/{id}")),
        "{location}"
    );
    (id, created.body["etag"].as_str().unwrap().to_owned())
}

/// The problem pointers of a `1100-400`, in the order reported.
pub fn pointers(reply: &Reply) -> Vec<String> {
    assert_flow_error(reply, "1100-400");
    reply.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["pointer"].as_str().unwrap().to_owned())
        .collect()
}

/// Appends `connection_spec_id` to RestStorageToAEP's source specs, as the
/// SDK docs instruct.
pub async fn list_spec_in_flow_spec(app: &TestApp, caller: &Caller, connection_spec_id: &str) {
    let path = format!("/flowSpecs/{REST_STORAGE_TO_AEP}");
    let mut flow_spec = app.get(caller, &path).await.body["items"][0].clone();
    flow_spec["sourceConnectionSpecIds"]
        .as_array_mut()
        .unwrap()
        .push(json!(connection_spec_id));
    let replaced = app.put(caller, &path, &flow_spec).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
}

pub fn flow_body(source_id: &str, target_id: &str) -> Value {
    json!({
        "name": "MailChimp Members dataflow",
        "flowSpec": {"id": REST_STORAGE_TO_AEP, "version": "1.0"},
        "sourceConnectionIds": [source_id],
        "targetConnectionIds": [target_id],
        "scheduleParams": {"startTime": "1632809759", "frequency": "minute", "interval": 15}
    })
}

/// The ids of a source connection (listed by the built-in flow spec) and a target connection
/// into a new dataset, from a base connection probed against `mock`.
pub struct Connections {
    pub source_id: String,
    pub target_id: String,
    pub dataset_id: String,
}

/// Creates the chain spec → base connection → source connection, dataset → target
/// connection, ready for a flow of [`flow_body`].
pub async fn connections_into_a_dataset(
    app: &TestApp,
    caller: &Caller,
    mock: &MockApi,
) -> Connections {
    let (spec_id, connection_id) = base_connection(app, caller, mock).await;
    list_spec_in_flow_spec(app, caller, &spec_id).await;
    let source = source_body(&spec_id, &connection_id);
    let (source_id, _) = create(app, caller, "/sourceConnections", &source).await;
    let dataset_id = app.create_dataset(caller, "members").await;
    let target = target_body(&dataset_id);
    let (target_id, _) = create(app, caller, "/targetConnections", &target).await;
    Connections {
        source_id,
        target_id,
        dataset_id,
    }
}
