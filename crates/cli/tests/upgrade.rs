//! A data dir written by a flowd that kept no dataset statistics: `flowd serve` rebuilds them
//! from the Parquet files once, so `GET /dataSets/{id}` shows the batches already there.

mod common;

use common::workflow::call;
use common::{Credential, Server, data_dir};
use flowd_sink::Dataset;
use serde_json::json;

#[tokio::test]
async fn statistics_of_a_dataset_written_before_they_were_kept_are_rebuilt_at_start() {
    let (_dir, data_dir) = data_dir();
    let server = Server::start(&data_dir);
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();
    let (status, created) = call(
        &client,
        &credential,
        &server,
        reqwest::Method::POST,
        "/data/foundation/catalog/dataSets",
        Some(&json!({"name": "old", "schemaRef": {"id": "https://ns.adobe.com/t/schemas/o"}})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let dataset_id = created[0]
        .as_str()
        .unwrap()
        .trim_start_matches("@/dataSets/")
        .to_owned();
    server.terminate();

    // Two batches on disk that the store knows nothing about.
    let dataset = Dataset::open(data_dir.join("datasets"), &dataset_id).unwrap();
    for (run, ids) in [("run-1", 0..30), ("run-2", 30..42)] {
        let mut batch = dataset
            .begin_batch(
                run,
                run,
                jiff::Timestamp::now(),
                &dataset.record_type().unwrap(),
            )
            .unwrap();
        batch
            .write(
                ids.map(|id| json!({"id": id, "email": format!("m{id}@example.com")}))
                    .collect(),
            )
            .unwrap();
        batch.commit().unwrap();
    }

    let server = Server::start(&data_dir);
    let (status, read) = call(
        &client,
        &credential,
        &server,
        reqwest::Method::GET,
        &format!("/data/foundation/catalog/dataSets/{dataset_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{read}");
    let shown = &read[&dataset_id];
    assert_eq!(shown["batchCount"], 2, "{shown}\n{}", server.logs());
    assert_eq!(shown["recordCount"], 42, "{shown}");
    let columns: Vec<&str> = shown["schema"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|column| column["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        ["id", "email", "_flowd_run_id", "_flowd_ingested_at"]
    );
    assert!(
        server
            .logs()
            .contains("rebuilt the dataset's statistics from its files"),
        "{}",
        server.logs()
    );
    server.terminate();
}
