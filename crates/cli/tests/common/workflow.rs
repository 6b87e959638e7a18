//! The documented workflow over HTTP: connection spec (MailChimp members,
//! seeded fixture) → flow spec allowing it → Basic-auth connection to a mock
//! → source connection → dataset → target connection → flow.

use serde_json::{Value, json};

use super::{Credential, Endpoint, fixture};

pub const REST_STORAGE_TO_AEP: &str = "6499120c-0b15-42dc-936e-847ea3c24d72";
pub const DATA_LAKE: &str = "c604ff05-7f1a-43c0-8e18-33bf874cb11c";

/// One API call; the body is `Null` when the answer has none.
pub async fn call(
    client: &reqwest::Client,
    credential: &Credential,
    server: &Endpoint,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let url = if path.starts_with("/data/") {
        format!("{}{path}", server.base_url)
    } else {
        server.url(path)
    };
    let mut request = credential.apply(client.request(method, url));
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        },
    )
}

/// What the workflow created.
#[derive(Debug, Clone)]
pub struct Workflow {
    pub spec_id: String,
    pub connection_id: String,
    pub source_id: String,
    pub dataset_id: String,
    pub target_id: String,
    pub flow_id: String,
}

/// Creates the chain against the mock at `host` with Basic credentials
/// (`username`, `password`), reading list `list_id`, and a flow with
/// `schedule_params`. Every step must succeed.
pub async fn create(
    client: &reqwest::Client,
    credential: &Credential,
    server: &Endpoint,
    host: &str,
    (username, password): (&str, &str),
    list_id: &str,
    schedule_params: Value,
) -> Workflow {
    let auth = json!({"specName": "Basic Authentication", "params": {"host": host, "username": username, "password": password}});
    create_with_auth(client, credential, server, auth, list_id, schedule_params).await
}

/// [`create`] with the connection's `auth` as given (`{"specName", "params"}`).
pub async fn create_with_auth(
    client: &reqwest::Client,
    credential: &Credential,
    server: &Endpoint,
    auth: Value,
    list_id: &str,
    schedule_params: Value,
) -> Workflow {
    let spec = fixture("seed_mailchimp_update.json");
    let (spec_id, connection_id) = create_connection(client, credential, server, spec, auth).await;
    add_flow(
        client,
        credential,
        server,
        (&spec_id, &connection_id),
        list_id,
        schedule_params,
    )
    .await
}

/// Creates the connection spec `spec`, allows it in the flow spec, and creates a connection to
/// it with `auth`; returns `(spec id, connection id)`.
pub async fn create_connection(
    client: &reqwest::Client,
    credential: &Credential,
    server: &Endpoint,
    spec: Value,
    auth: Value,
) -> (String, String) {
    let (status, spec) = call(
        client,
        credential,
        server,
        reqwest::Method::POST,
        "/connectionSpecs",
        Some(&spec),
    )
    .await;
    assert_eq!(status, 201, "{spec}");
    let spec_id = spec["id"].as_str().unwrap().to_owned();
    let (_, flow_specs) = call(
        client,
        credential,
        server,
        reqwest::Method::GET,
        &format!("/flowSpecs/{REST_STORAGE_TO_AEP}"),
        None,
    )
    .await;
    let mut flow_spec = flow_specs["items"][0].clone();
    flow_spec["sourceConnectionSpecIds"] = json!([spec_id]);
    let (status, _) = call(
        client,
        credential,
        server,
        reqwest::Method::PUT,
        &format!("/flowSpecs/{REST_STORAGE_TO_AEP}"),
        Some(&flow_spec),
    )
    .await;
    assert_eq!(status, 200);
    let (status, connection) = call(
        client,
        credential,
        server,
        reqwest::Method::POST,
        "/connections",
        Some(&json!({"name": "members", "connectionSpec": {"id": spec_id, "version": "1.0"}, "auth": auth})),
    )
    .await;
    assert_eq!(status, 201, "{connection}");
    let connection_id = connection["id"].as_str().unwrap().to_owned();
    (spec_id, connection_id)
}

/// Adds a source connection reading `list_id` through the connection, a dataset, a target
/// connection writing it, and a flow with `schedule_params` between them.
pub async fn add_flow(
    client: &reqwest::Client,
    credential: &Credential,
    server: &Endpoint,
    (spec_id, connection_id): (&str, &str),
    list_id: &str,
    schedule_params: Value,
) -> Workflow {
    let post = |path: &'static str, body: Value| async move {
        call(
            client,
            credential,
            server,
            reqwest::Method::POST,
            path,
            Some(&body),
        )
        .await
    };
    let (status, source) = post(
        "/sourceConnections",
        json!({"name": "source", "baseConnectionId": connection_id, "connectionSpec": {"id": spec_id, "version": "1.0"},
               "data": {"format": "json"}, "params": {"listId": list_id}}),
    )
    .await;
    assert_eq!(status, 201, "{source}");
    let (status, dataset) = post("/data/foundation/catalog/dataSets", json!({"name": "members", "schemaRef": {"id": "https://ns.adobe.com/t/schemas/m", "contentType": "application/vnd.adobe.xed-full+json;version=1"}})).await;
    assert_eq!(status, 201, "{dataset}");
    let dataset_id = dataset[0]
        .as_str()
        .unwrap()
        .trim_start_matches("@/dataSets/")
        .to_owned();
    let (status, target) = post(
        "/targetConnections",
        json!({"name": "target", "connectionSpec": {"id": DATA_LAKE, "version": "1.0"}, "data": {"format": "parquet_xdm"}, "params": {"dataSetId": dataset_id}}),
    )
    .await;
    assert_eq!(status, 201, "{target}");
    let (status, flow) = post(
        "/flows",
        json!({"name": "members", "flowSpec": {"id": REST_STORAGE_TO_AEP, "version": "1.0"},
               "sourceConnectionIds": [source["id"]], "targetConnectionIds": [target["id"]],
               "scheduleParams": schedule_params}),
    )
    .await;
    assert_eq!(status, 201, "{flow}");
    let id = |value: &Value| value["id"].as_str().unwrap().to_owned();
    Workflow {
        spec_id: spec_id.to_owned(),
        connection_id: connection_id.to_owned(),
        source_id: id(&source),
        dataset_id,
        target_id: id(&target),
        flow_id: id(&flow),
    }
}

/// `GET /runs?property=flowId==<flow_id>`: the flow's runs, oldest first.
pub async fn runs_of(
    client: &reqwest::Client,
    credential: &Credential,
    server: &Endpoint,
    flow_id: &str,
) -> Vec<Value> {
    let (status, listed) = call(
        client,
        credential,
        server,
        reqwest::Method::GET,
        &format!("/runs?property=flowId=={flow_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    let mut runs = listed["items"].as_array().cloned().unwrap_or_default();
    runs.sort_by_key(|run| run["params"]["windowEndTime"].as_i64());
    runs
}

/// A preview of the connection reading `list_id`: it opens the sealed secret to call the
/// upstream; the answer never holds `secret`.
pub async fn preview_status(
    server: &Endpoint,
    credential: &Credential,
    connection_id: &str,
    list_id: &str,
    secret: &str,
) -> u16 {
    use base64::Engine as _;
    let source_params =
        base64::engine::general_purpose::STANDARD.encode(json!({"listId": list_id}).to_string());
    let (status, body) = call(
        &reqwest::Client::new(),
        credential,
        server,
        reqwest::Method::GET,
        &format!(
            "/connections/{connection_id}/explore?objectType=rest&object=json&fileType=json&preview=true&sourceParams={source_params}"
        ),
        None,
    )
    .await;
    assert!(!body.to_string().contains(secret), "{body}");
    status
}

/// Waits until `flow_id` has `count` runs, all succeeded, and returns them (oldest first);
/// fails with the runs and the server's log after `timeout`.
pub async fn wait_for_successes(
    client: &reqwest::Client,
    credential: &Credential,
    server: &super::Server,
    flow_id: &str,
    count: usize,
    timeout: std::time::Duration,
) -> Vec<Value> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let runs = runs_of(client, credential, server, flow_id).await;
        if runs.len() == count
            && runs
                .iter()
                .all(|run| run["metrics"]["statusSummary"]["status"] == "success")
        {
            return runs;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{runs:#?}\n{}",
            server.logs()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
