//! The documented SDK workflow (reference §9) over HTTP against a real
//! `flowd serve` on port 0 and a MailChimp-like mock API on port 0: create
//! the spec, add it to `RestStorageToAEP`, base connections (Basic and
//! OAuth2), explore, source connection, dataset, target connection, flow.

mod common;

use base64::Engine;
use common::{Credential, Server, data_dir, fixture};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, OAuthOptions, Scenario};
use serde_json::{Value, json};

const REST_STORAGE_TO_AEP: &str = "6499120c-0b15-42dc-936e-847ea3c24d72";
const DATA_LAKE: &str = "c604ff05-7f1a-43c0-8e18-33bf874cb11c";
const PASSWORD: &str = "workflow-secret-password";

struct Api {
    client: reqwest::Client,
    credential: Credential,
    server: Server,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let url = if path.starts_with("/data/") {
            format!("{}{path}", self.server.base_url)
        } else {
            self.server.url(path)
        };
        let mut request = self.credential.apply(self.client.request(method, url));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, body)
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_workflow_runs_against_flowd_by_changing_only_the_host() {
    let basic_mock = MockApi::start(Scenario::generated(300).with_auth(Auth::Basic {
        username: "anystring".into(),
        password: PASSWORD.into(),
    }))
    .await;
    let oauth_mock =
        MockApi::start(Scenario::generated(300).with_oauth(OAuthOptions::default())).await;
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_log_level(&data_dir, "debug");
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let api = Api {
        client: reqwest::Client::new(),
        credential,
        server,
    };

    // A. Authoring: the spec, then RestStorageToAEP lists it.
    let (status, spec) = api
        .post("/connectionSpecs", &fixture("seed_mailchimp_update.json"))
        .await;
    assert_eq!(status, 201, "{spec}");
    let spec_id = spec["id"].as_str().unwrap().to_owned();
    let (status, flow_specs) = api.get(&format!("/flowSpecs/{REST_STORAGE_TO_AEP}")).await;
    assert_eq!(status, 200);
    let mut flow_spec = flow_specs["items"][0].clone();
    flow_spec["sourceConnectionSpecIds"] = json!([spec_id]);
    let (status, updated) = api
        .call(
            reqwest::Method::PUT,
            &format!("/flowSpecs/{REST_STORAGE_TO_AEP}"),
            Some(&flow_spec),
        )
        .await;
    assert_eq!(status, 200, "{updated}");

    // B. Base connections, Basic and OAuth2.
    let (status, basic) = api
        .post(
            "/connections",
            &json!({"name": "Mailchimp basic", "connectionSpec": {"id": spec_id, "version": "1.0"},
                    "auth": {"specName": "Basic Authentication", "params": {
                        "host": basic_mock.base_url(), "authorizationTestUrl": basic_mock.url("/auth/test"),
                        "username": "anystring", "password": PASSWORD}}}),
        )
        .await;
    assert_eq!(status, 201, "{basic}");
    assert!(basic["etag"].as_str().unwrap().starts_with('"'));
    let (status, oauth) = api
        .post(
            "/connections",
            &json!({"name": "Mailchimp oauth", "connectionSpec": {"id": spec_id, "version": "1.0"},
                    "auth": {"specName": "oAuth2RefreshCode", "params": {
                        "host": oauth_mock.base_url(), "authorizationTestUrl": oauth_mock.url("/auth/test"),
                        "accessToken": "initial-access-token"}}}),
        )
        .await;
    assert_eq!(status, 201, "{oauth}");
    let connection_id = basic["id"].as_str().unwrap().to_owned();

    // Explore with sourceParams.
    let source_params = base64::engine::general_purpose::STANDARD
        .encode(json!({"listId": DEFAULT_LIST_ID}).to_string());
    for connection in [&basic, &oauth] {
        let (status, preview) = api
            .get(&format!(
                "/connections/{}/explore?objectType=rest&object=json&fileType=json&preview=true&sourceParams={source_params}",
                connection["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(status, 200, "{preview}");
        assert_eq!(preview["format"], "hierarchical");
        assert!(!preview["data"].as_array().unwrap().is_empty());
        assert!(preview["schema"]["columns"].is_array());
    }

    // Source connection, dataset, target connection, flow.
    let (status, source) = api
        .post(
            "/sourceConnections",
            &json!({"name": "MailChimp source connection", "baseConnectionId": connection_id,
                    "connectionSpec": {"id": spec_id, "version": "1.0"}, "data": {"format": "json"},
                    "params": {"listId": DEFAULT_LIST_ID}}),
        )
        .await;
    assert_eq!(status, 201, "{source}");
    let (status, dataset) = api
        .post(
            "/data/foundation/catalog/dataSets",
            &json!({"name": "MailChimp members", "schemaRef": {"id": "https://ns.adobe.com/tenant/schemas/members", "contentType": "application/vnd.adobe.xed-full+json;version=1"}}),
        )
        .await;
    assert_eq!(status, 201, "{dataset}");
    let dataset_id = dataset[0]
        .as_str()
        .unwrap()
        .trim_start_matches("@/dataSets/")
        .to_owned();
    let (status, target) = api
        .post(
            "/targetConnections",
            &json!({"name": "MailChimp target connection", "connectionSpec": {"id": DATA_LAKE, "version": "1.0"},
                    "data": {"format": "parquet_xdm", "schema": {"id": "https://ns.adobe.com/tenant/schemas/members", "version": "application/vnd.adobe.xed-full+json;version=1"}},
                    "params": {"dataSetId": dataset_id}}),
        )
        .await;
    assert_eq!(status, 201, "{target}");
    // The mapping set the flow names, in the tutorials' (legacy) dialect.
    let (status, mapping_set) = api
        .post(
            "/data/foundation/conversion/mappingSets",
            &json!({"version": 0, "xdmSchema": "https://ns.adobe.com/tenant/schemas/members", "xdmVersion": "1.0", "id": null,
                    "mappings": [{"destinationXdmPath": "_id", "sourceAttribute": "id", "identity": false, "version": 0},
                                 {"destinationXdmPath": "personalEmail.address", "sourceAttribute": "email_address", "identity": false, "version": 0}]}),
        )
        .await;
    assert_eq!(status, 200, "{mapping_set}");
    let mapping_id = mapping_set["id"].as_str().unwrap();
    let (status, flow) = api
        .post(
            "/flows",
            &json!({"name": "MailChimp Members dataflow", "flowSpec": {"id": REST_STORAGE_TO_AEP, "version": "1.0"},
                    "sourceConnectionIds": [source["id"]], "targetConnectionIds": [target["id"]],
                    "transformations": [{"name": "Mapping", "params": {"mappingId": mapping_id, "mappingVersion": 0}}],
                    "scheduleParams": {"startTime": "1632809759", "frequency": "minute", "interval": 15}}),
        )
        .await;
    assert_eq!(status, 201, "{flow}");
    let flow_id = flow["id"].as_str().unwrap();
    let (status, read) = api.get(&format!("/flows/{flow_id}")).await;
    assert_eq!(status, 200);
    let item = &read["items"][0];
    assert_eq!(item["state"], "enabled");
    assert_eq!(item["scheduleParams"]["startTime"], 1632809759);
    assert_eq!(
        item["inheritedAttributes"]["sourceConnections"][0]["baseConnection"]["id"],
        connection_id.as_str()
    );
    assert_eq!(
        item["inheritedAttributes"]["targetConnections"][0]["connectionSpec"]["id"],
        DATA_LAKE
    );
    assert_eq!(item["runs"], format!("/runs?property=flowId=={flow_id}"));
    let (status, disabled) = api
        .call(
            reqwest::Method::POST,
            &format!("/flows/{flow_id}/action?op=DISABLE"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{disabled}");
    assert_eq!(
        api.get(&format!("/flows/{flow_id}")).await.1["items"][0]["state"],
        "disabled"
    );
    let (status, _) = api
        .call(reqwest::Method::DELETE, &format!("/flows/{flow_id}"), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(api.get(&format!("/flows/{flow_id}")).await.0, 404);

    // No secret in clear text in the logs or anywhere in the data dir.
    let logs = api.server.logs();
    assert!(
        logs.contains("created"),
        "the server logged its work: {logs}"
    );
    for secret in [PASSWORD, "initial-access-token"] {
        assert!(!logs.contains(secret), "a log line holds {secret}");
    }
    for entry in std::fs::read_dir(&data_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            for secret in [PASSWORD, "initial-access-token"] {
                assert!(
                    !bytes
                        .windows(secret.len())
                        .any(|window| window == secret.as_bytes()),
                    "{} holds {secret}",
                    path.display()
                );
            }
        }
    }
}
