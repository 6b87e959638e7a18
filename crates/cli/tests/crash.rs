//! Crash safety: `flowd serve` killed with SIGKILL while specs are being
//! written serves, after a restart on the same data dir, every write it had
//! acknowledged, and nothing half-written.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Credential, Server, data_dir, fixture};
use flowd_store::SqliteStore;
use flowd_store::prelude::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_writes_loses_no_acknowledged_spec_and_leaves_no_partial_one() {
    let (_dir, data_dir) = data_dir();
    let server = Server::start(&data_dir);
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let template = fixture("mailchimp_members_create.json");

    let mut writers = Vec::new();
    for writer in 0..6 {
        let (client, credential, acknowledged, template) = (
            client.clone(),
            credential.clone(),
            acknowledged.clone(),
            template.clone(),
        );
        let url = server.url("/connectionSpecs");
        writers.push(tokio::spawn(async move {
            for sequence in 0..10_000 {
                let name = format!("writer {writer} spec {sequence}");
                let mut body = template.clone();
                body["name"] = Value::String(name.clone());
                let Ok(response) = credential.apply(client.post(&url)).json(&body).send().await
                else {
                    return; // the server is gone
                };
                if response.status() != 201 {
                    return;
                }
                let Ok(created) = response.json::<Value>().await else {
                    return;
                };
                let id = created["id"].as_str().unwrap().to_owned();
                acknowledged.lock().unwrap().push((id, name));
            }
        }));
    }
    // Let writes pile up, then kill the server mid-stream.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().unwrap().len() < 150 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill_hard();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 150,
        "only {} writes before the kill",
        acknowledged.len()
    );

    let restarted = Server::start(&data_dir);
    let listed: Value = credential
        .apply(client.get(restarted.url("/connectionSpecs?property=type==generic-rest")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = listed["items"].as_array().unwrap();
    for (id, name) in &acknowledged {
        let item = items
            .iter()
            .find(|item| item["id"] == id.as_str())
            .unwrap_or_else(|| panic!("acknowledged spec {id} was lost"));
        assert_eq!(item["name"], name.as_str());
    }
    // Every stored spec (acknowledged or not) is whole: all its fields are there.
    for item in items {
        for field in [
            "id",
            "createdAt",
            "sandboxId",
            "authSpec",
            "sourceSpec",
            "exploreSpec",
        ] {
            assert!(!item[field].is_null(), "a half-written spec: {item}");
        }
        assert_eq!(item["sourceSpec"], template["sourceSpec"]);
    }
    assert!(items.len() >= acknowledged.len());
    assert!(
        items.len() <= acknowledged.len() + 6,
        "at most one unacknowledged write per writer"
    );
    assert!(restarted.terminate().success());

    let store = SqliteStore::open_in_data_dir(&data_dir).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), ["ok"]);
    assert!(store.count_credentials().await.unwrap() == 1);
}
