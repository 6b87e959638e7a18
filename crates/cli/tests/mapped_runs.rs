//! A flow naming a Data Prep mapping set, run by a real `flowd serve`: every record lands
//! shaped by the mapping version the flow pins — renamed and nested attributes, a static
//! value, expressions (a concatenation, a conditional, a date parsed from a string) — and a
//! mapping that fails for a record leaves that field out with a warning on the run.

mod common;

use std::time::Duration;

use common::runs::{members, schedule_params};
use common::workflow::call;
use common::{Credential, Server, data_dir};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "mapped-runs-password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_writes_every_record_shaped_by_the_flows_mapping_set() {
    let now = jiff::Timestamp::now().as_second();
    let start_time = now - 60;
    let window_start = start_time - 15 * 60;
    let mut records = members(6, window_start, 15 * 60);
    // One record whose email is a short number, so that one mapping fails for it.
    records[5]["email_address"] = json!(12345);
    let mock = MockApi::start(Scenario::explicit(records.clone()).with_auth(Auth::Basic {
        username: "anystring".into(),
        password: PASSWORD.into(),
    }))
    .await;
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_args(&data_dir, &["--planner-tick-ms", "100"]);
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();
    // Created to start tomorrow; patched below with its mapping and a start in the past.
    let workflow = common::workflow::create(
        &client,
        &credential,
        &server,
        &mock.base_url(),
        ("anystring", PASSWORD),
        DEFAULT_LIST_ID,
        schedule_params(now + 86_400),
    )
    .await;
    let (status, mapping_set) = call(
        &client,
        &credential,
        &server,
        Method::POST,
        "/data/foundation/conversion/mappingSets",
        Some(&json!({
            "outputSchema": {"schemaRef": {"id": "https://ns.adobe.com/t/schemas/m", "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
            "mappings": [
                {"sourceType": "ATTRIBUTE", "source": "member.id", "destination": "_id"},
                {"sourceType": "ATTRIBUTE", "source": "member.email_address", "destination": "personalEmail.address"},
                {"sourceType": "EXPRESSION", "source": "concat(\"member-\", member.id)", "destination": "person.label"},
                {"sourceType": "EXPRESSION", "source": "iif(member.id > 2, \"late\", \"early\")", "destination": "person.cohort"},
                {"sourceType": "EXPRESSION", "source": "date(member.last_changed, \"yyyy-MM-dd'T'HH:mm:ssX\")", "destination": "_repo.modifyDate"},
                {"sourceType": "EXPRESSION", "source": "lower(member.email_address.toString()).startsWith(\"m\") ? upper(member.email_address) : nullify()", "destination": "person.shout"},
                {"sourceType": "EXPRESSION", "source": "replacestr(member.email_address, \"@\", \" at \")", "destination": "person.spoken"},
                {"sourceType": "EXPRESSION", "source": "member.email_address.toString().substring(0, 6)", "destination": "person.prefix"},
                {"sourceType": "STATIC", "source": "mailchimp", "destination": "_repo.source"}
            ]
        })),
    )
    .await;
    assert_eq!(status, 200, "{mapping_set}");
    let mapping_id = mapping_set["id"].as_str().unwrap().to_owned();
    let flow_path = format!("/flows/{}", workflow.flow_id);
    let (_, flow) = call(&client, &credential, &server, Method::GET, &flow_path, None).await;
    let etag = flow["items"][0]["etag"].as_str().unwrap().to_owned();
    let patched = credential
        .apply(client.patch(server.url(&flow_path)))
        .header("if-match", etag)
        .json(&json!([
            {"op": "add", "path": "/transformations", "value": [{"name": "Mapping", "params": {"mappingId": mapping_id, "mappingVersion": 0}}]},
            {"op": "replace", "path": "/scheduleParams/startTime", "value": start_time.to_string()}
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200, "{}", patched.text().await.unwrap());
    let runs = common::workflow::wait_for_successes(
        &client,
        &credential,
        &server,
        &workflow.flow_id,
        1,
        Duration::from_secs(30),
    )
    .await;
    let warnings = runs[0]["metrics"]["statusSummary"]["warnings"].clone();
    assert!(
        warnings.to_string().contains("TRANSFORMATION_ERROR"),
        "the failed mapping is reported: {}",
        runs[0]
    );

    let dataset =
        flowd_sink::Dataset::open(data_dir.join("datasets"), &workflow.dataset_id).unwrap();
    let mut rows: Vec<Value> = dataset.head(100).unwrap();
    rows.sort_by_key(|row| row["_id"].as_i64());
    assert_eq!(rows.len(), 6);
    for (row, record) in rows.iter().zip(&records) {
        let id = record["id"].as_i64().unwrap();
        let changed: jiff::Timestamp = record["last_changed"].as_str().unwrap().parse().unwrap();
        assert_eq!(row["_id"], id);
        assert_eq!(row["person"]["label"], format!("member-{id}"));
        assert_eq!(
            row["person"]["cohort"],
            if id > 2 { "late" } else { "early" }
        );
        assert_eq!(row["_repo"]["source"], "mailchimp");
        assert_eq!(
            row["_repo"]["modifyDate"],
            changed.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "{row}"
        );
        if id < 5 {
            let email = record["email_address"].as_str().unwrap();
            assert_eq!(row["personalEmail"]["address"], email);
            assert_eq!(row["person"]["shout"], email.to_uppercase());
            assert_eq!(row["person"]["spoken"], email.replace('@', " at "));
            assert_eq!(row["person"]["prefix"], &email[..6]);
        }
    }
    // The record with a numeric email: attribute copied, the failing mapping left out.
    assert_eq!(rows[5]["personalEmail"]["address"], "12345");
    assert!(rows[5]["person"]["prefix"].is_null(), "{}", rows[5]);
    // Nothing of the raw record's shape is left.
    assert!(rows.iter().all(|row| row.get("member").is_none()));
}
