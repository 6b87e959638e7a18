//! Data Prep's mapping sets under `/data/foundation/conversion`: create in both dialects, read
//! a version or the latest, PUT appending versions, lists, mappings sub-resources, delete,
//! validate and preview, every problem at its pointer, and tenancy.

mod common;

use axum::http::StatusCode;
use common::{Caller, Reply, TestApp, assert_flow_error};
use serde_json::{Value, json};

const SCHEMA: &str =
    "https://ns.adobe.com/tenant/schemas/89abc189258b1cb1a816d8f2b2341a6d98000ed8f4008305";

async fn conversion(
    app: &TestApp,
    caller: &Caller,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Reply {
    app.send_under("/data/foundation/conversion", caller, method, path, body)
        .await
}

fn current_dialect() -> Value {
    json!({
        "name": "Demo Mapping Set",
        "outputSchema": {"schemaRef": {"id": SCHEMA, "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
        "mappings": [
            {"sourceType": "ATTRIBUTE", "source": "id", "destination": "_id", "name": "id", "description": "Identifier field"},
            {"sourceType": "ATTRIBUTE", "source": "firstName", "destination": "person.name.firstName"},
            {"sourceType": "EXPRESSION", "source": "lastName + \", \" + firstName", "destination": "person.name.fullName"},
            {"sourceType": "STATIC", "source": "CUSTOMER", "destination": "_tenant.userType"}
        ]
    })
}

#[tokio::test]
async fn a_mapping_set_is_created_read_and_versioned_by_put() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let created = conversion(
        &app,
        &caller,
        "POST",
        "/mappingSets",
        Some(&current_dialect()),
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|byte| byte.is_ascii_hexdigit()));
    assert_eq!(created.body["version"], 0);
    for field in ["createdDate", "modifiedDate", "createdBy", "modifiedBy"] {
        assert!(!created.body[field].is_null(), "{field}: {}", created.body);
    }

    let read = conversion(&app, &caller, "GET", &format!("/mappingSets/{id}"), None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let set = &read.body;
    assert_eq!(set["id"], id.as_str());
    assert_eq!(set["name"], "Demo Mapping Set");
    assert_eq!(set["xdmSchema"], SCHEMA);
    assert_eq!(set["schemaRef"]["id"], SCHEMA);
    assert_eq!(set["outputSchema"]["schemaRef"]["id"], SCHEMA);
    assert_eq!(set["mappings"].as_array().unwrap().len(), 4);
    let first = &set["mappings"][0];
    assert_eq!(first["sourceType"], "text/x.schema-path");
    assert_eq!(
        (&first["source"], &first["sourceAttribute"]),
        (&json!("id"), &json!("id"))
    );
    assert_eq!(
        (&first["destination"], &first["destinationXdmPath"]),
        (&json!("_id"), &json!("_id"))
    );
    assert_eq!(first["description"], "Identifier field");
    assert_eq!(set["mappings"][2]["sourceType"], "text/x.aep-xl");
    assert_eq!(set["mappings"][3]["sourceType"], "text/plain");

    // A PUT appends version 1 with new mapping ids; version 0 stays readable.
    let mut changed = current_dialect();
    changed["mappings"].as_array_mut().unwrap().push(json!({"sourceType": "ATTRIBUTE", "source": "email", "destination": "personalEmail.address"}));
    let updated = conversion(
        &app,
        &caller,
        "PUT",
        &format!("/mappingSets/{id}"),
        Some(&changed),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["version"], 1);
    assert_eq!(updated.body["createdDate"], set["createdDate"]);
    assert_eq!(updated.body["mappings"].as_array().unwrap().len(), 5);
    assert_ne!(
        updated.body["mappings"][0]["id"], first["id"],
        "new mapping ids"
    );
    let latest = conversion(&app, &caller, "GET", &format!("/mappingSets/{id}"), None).await;
    assert_eq!(latest.body["version"], 1);
    let old = conversion(
        &app,
        &caller,
        "GET",
        &format!("/mappingSets/{id}?version=0"),
        None,
    )
    .await;
    assert_eq!(old.body["version"], 0);
    assert_eq!(old.body["mappings"].as_array().unwrap().len(), 4);
    let missing = conversion(
        &app,
        &caller,
        "GET",
        &format!("/mappingSets/{id}?version=7"),
        None,
    )
    .await;
    assert_flow_error(&missing, "1100-400");
    assert_eq!(missing.body["report"]["parameter"], "version");

    // The mappings sub-resources.
    let mappings = conversion(
        &app,
        &caller,
        "GET",
        &format!("/mappingSets/{id}/mappings"),
        None,
    )
    .await;
    let listed = mappings.body.as_array().unwrap();
    assert_eq!(listed.len(), 5);
    let mapping_id = listed[4]["id"].as_str().unwrap();
    let one = conversion(
        &app,
        &caller,
        "GET",
        &format!("/mappingSets/{id}/mappings/{mapping_id}"),
        None,
    )
    .await;
    assert_eq!(one.body["destination"], "personalEmail.address");

    // Delete answers the set's simple form; then it is gone.
    let deleted = conversion(&app, &caller, "DELETE", &format!("/mappingSets/{id}"), None).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(deleted.body["id"], id.as_str());
    assert_flow_error(
        &conversion(&app, &caller, "GET", &format!("/mappingSets/{id}"), None).await,
        "1439-404",
    );
    assert_flow_error(
        &conversion(&app, &caller, "GET", "/mappingSets/not-an-id", None).await,
        "1411-400",
    );
}

#[tokio::test]
async fn the_tutorials_legacy_dialect_is_the_same_mapping_set() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let legacy = json!({
        "version": 0,
        "xdmSchema": SCHEMA,
        "xdmVersion": "1.0",
        "id": null,
        "mappings": [
            {"destinationXdmPath": "_id", "sourceAttribute": "TestID", "identity": false, "identityGroup": null, "namespaceCode": null, "version": 0},
            {"destinationXdmPath": "person.name.fullName", "sourceAttribute": "Name", "identity": false, "version": 0},
            {"destinationXdmPath": "identityMap", "sourceExpression": "to_map(\"LavaId\", to_array(false, to_object(\"id\", lavaId, \"primary\", true)))", "sourceType": "EXPRESSION", "identity": false, "version": 0}
        ]
    });
    let created = conversion(&app, &caller, "POST", "/mappingSets", Some(&legacy)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let set = conversion(&app, &caller, "GET", &format!("/mappingSets/{id}"), None)
        .await
        .body;
    assert_eq!(set["xdmSchema"], SCHEMA);
    assert_eq!(set["xdmVersion"], "1.0");
    assert_eq!(set["mappings"][1]["source"], "Name");
    assert_eq!(set["mappings"][1]["destination"], "person.name.fullName");
    assert_eq!(set["mappings"][2]["sourceType"], "text/x.aep-xl");
    assert_eq!(
        set["mappings"][2]["sourceExpression"],
        legacy["mappings"][2]["sourceExpression"]
    );
}

#[tokio::test]
async fn bad_mapping_sets_are_refused_with_every_problem_at_its_pointer() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let body = json!({
        "mappings": [
            {"sourceType": "ATTRIBUTE", "source": "id", "destination": "_id"},
            {"sourceType": "EXPRESSION", "source": "no_such_function(id)", "destination": "x"},
            {"sourceType": "LOOKUP", "source": "id", "destination": "y"},
            {"sourceType": "ATTRIBUTE", "destination": "z"},
            {"sourceType": "EXPRESSION", "source": "1 +", "destination": "w"}
        ],
        "allowNullValues": "yes"
    });
    let refused = conversion(&app, &caller, "POST", "/mappingSets", Some(&body)).await;
    assert_flow_error(&refused, "1100-400");
    let pointers: Vec<&str> = refused.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["pointer"].as_str().unwrap())
        .collect();
    for expected in [
        "/outputSchema",
        "/mappings/1/source",
        "/mappings/2/sourceType",
        "/mappings/3/source",
        "/mappings/4/source",
        "/allowNullValues",
    ] {
        assert!(pointers.contains(&expected), "{expected} in {pointers:?}");
    }
    let message = refused.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|problem| problem["pointer"] == "/mappings/1/source")
        .unwrap()["message"]
        .clone();
    assert!(
        message
            .as_str()
            .unwrap()
            .contains("unknown function 'no_such_function'"),
        "{message}"
    );
}

#[tokio::test]
async fn validate_answers_per_mapping_and_preview_applies_the_mappings() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mut body = current_dialect();
    body["mappings"].as_array_mut().unwrap().push(json!({"sourceType": "EXPRESSION", "source": "lower(frstName", "destination": "person.name.lower"}));
    let validated = conversion(&app, &caller, "POST", "/mappingSets/validate", Some(&body)).await;
    assert_eq!(validated.status, StatusCode::OK, "{}", validated.body);
    let responses = validated.body["validationResponse"].as_array().unwrap();
    assert_eq!(responses.len(), 5);
    assert!(
        responses[..4]
            .iter()
            .all(|response| response["status"] == "SUCCESS"),
        "{responses:?}"
    );
    assert_eq!(responses[4]["status"], "FAILED");
    assert_eq!(responses[4]["errors"][0]["source"], "lower(frstName");

    let preview = json!({
        "data": [{"id": 1234, "firstName": "Jim", "lastName": "Seltzer"}, {"id": 7, "firstName": "Ada"}],
        "mappingSet": current_dialect()
    });
    let previewed = conversion(
        &app,
        &caller,
        "POST",
        "/mappingSets/preview",
        Some(&preview),
    )
    .await;
    assert_eq!(previewed.status, StatusCode::OK, "{}", previewed.body);
    assert_eq!(
        previewed.body[0],
        json!({"data": {"_id": 1234, "person": {"name": {"firstName": "Jim", "fullName": "Seltzer, Jim"}}, "_tenant": {"userType": "CUSTOMER"}}, "errors": null})
    );
    assert_eq!(
        previewed.body[1]["data"]["person"]["name"]["fullName"],
        ", Ada"
    );
    let one_record =
        json!({"data": {"id": 1, "firstName": "Solo"}, "mappingSet": current_dialect()});
    let single = conversion(
        &app,
        &caller,
        "POST",
        "/mappingSets/preview",
        Some(&one_record),
    )
    .await;
    assert_eq!(single.body.as_array().unwrap().len(), 1);
    let missing = conversion(
        &app,
        &caller,
        "POST",
        "/mappingSets/preview",
        Some(&json!({"data": []})),
    )
    .await;
    assert_flow_error(&missing, "1100-400");
}

#[tokio::test]
async fn mapping_sets_list_by_page_and_stay_in_their_sandbox() {
    let app = TestApp::new().await;
    let caller = app.caller();
    for name in ["alpha", "beta", "gamma"] {
        let mut body = current_dialect();
        body["name"] = json!(name);
        let created = conversion(&app, &caller, "POST", "/mappingSets", Some(&body)).await;
        assert_eq!(created.status, StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let names = |reply: &Reply| -> Vec<String> {
        reply.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|set| set["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = conversion(
        &app,
        &caller,
        "GET",
        "/mappingSets?orderBy=%2BcreatedDate",
        None,
    )
    .await;
    assert_eq!(names(&all), ["alpha", "beta", "gamma"]);
    let page = conversion(
        &app,
        &caller,
        "GET",
        "/mappingSets?limit=2&start=1&orderBy=%2BcreatedDate",
        None,
    )
    .await;
    assert_eq!(names(&page), ["beta", "gamma"]);
    assert_eq!(page.body["_page"], json!({"count": 2, "limit": 2}));
    let past = conversion(&app, &caller, "GET", "/mappingSets?start=10", None).await;
    assert_eq!(past.body["data"], json!([]));
    let named = conversion(&app, &caller, "GET", "/mappingSets?name=ET", None).await;
    assert_eq!(names(&named), ["beta"]);
    assert_flow_error(
        &conversion(&app, &caller, "GET", "/mappingSets?orderBy=name", None).await,
        "1100-400",
    );
    assert_flow_error(
        &conversion(&app, &caller, "GET", "/mappingSets?limit=-1", None).await,
        "1100-400",
    );

    let mut other = caller.clone();
    other.sandbox = "dev".into();
    let elsewhere = conversion(&app, &other, "GET", "/mappingSets", None).await;
    assert_eq!(elsewhere.body["data"], json!([]));
    let id = all.body["data"][0]["id"].as_str().unwrap();
    assert_flow_error(
        &conversion(&app, &other, "GET", &format!("/mappingSets/{id}"), None).await,
        "1439-404",
    );
}

/// A flow over a fresh chain whose dataset has `SCHEMA`: (source id, target id).
async fn flow_chain(app: &TestApp, caller: &Caller) -> (String, String) {
    use common::chain::{
        base_connection, create, list_spec_in_flow_spec, mock, source_body, target_body,
    };
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
    let dataset = app
        .catalog(
            caller,
            "POST",
            "/dataSets",
            Some(&json!({"name": "typed", "schemaRef": {"id": SCHEMA, "contentType": "application/vnd.adobe.xed-full+json;version=1"}})),
        )
        .await;
    let dataset_id = dataset.body[0]
        .as_str()
        .unwrap()
        .trim_start_matches("@/dataSets/")
        .to_owned();
    let (target_id, _) = create(app, caller, "/targetConnections", &target_body(&dataset_id)).await;
    (source_id, target_id)
}

#[tokio::test]
async fn a_flow_names_an_existing_mapping_version_of_its_datasets_schema_and_pins_it() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let (source_id, target_id) = flow_chain(&app, &caller).await;
    let created = conversion(
        &app,
        &caller,
        "POST",
        "/mappingSets",
        Some(&current_dialect()),
    )
    .await;
    let mapping_id = created.body["id"].as_str().unwrap().to_owned();
    let flow_with = |params: Value| {
        let mut flow = common::chain::flow_body(&source_id, &target_id);
        flow["transformations"] = json!([{"name": "Mapping", "params": params}]);
        flow
    };

    let unknown = app
        .post(
            &caller,
            "/flows",
            &flow_with(
                json!({"mappingId": "0123456789abcdef0123456789abcdef", "mappingVersion": 0}),
            ),
        )
        .await;
    assert_flow_error(&unknown, "1412-400");
    assert_eq!(
        unknown.body["problems"][0]["pointer"],
        "/transformations/0/params/mappingId"
    );
    let no_version = app
        .post(
            &caller,
            "/flows",
            &flow_with(json!({"mappingId": mapping_id, "mappingVersion": 3})),
        )
        .await;
    assert_flow_error(&no_version, "1412-400");
    assert_eq!(
        no_version.body["problems"][0]["pointer"],
        "/transformations/0/params/mappingVersion"
    );

    // Another schema than the dataset's: 1425.
    let mut elsewhere = current_dialect();
    elsewhere["outputSchema"]["schemaRef"]["id"] =
        json!("https://ns.adobe.com/tenant/schemas/somethingelse");
    let other = conversion(&app, &caller, "POST", "/mappingSets", Some(&elsewhere)).await;
    let mismatch = app
        .post(
            &caller,
            "/flows",
            &flow_with(json!({"mappingId": other.body["id"], "mappingVersion": "0"})),
        )
        .await;
    assert_flow_error(&mismatch, "1425-400");

    // Without a version, the flow is pinned to the latest one; a new version changes nothing.
    let (flow_id, _) = common::chain::create(
        &app,
        &caller,
        "/flows",
        &flow_with(json!({"mappingId": mapping_id.to_uppercase()})),
    )
    .await;
    conversion(
        &app,
        &caller,
        "PUT",
        &format!("/mappingSets/{mapping_id}"),
        Some(&current_dialect()),
    )
    .await;
    let flow = app.get(&caller, &format!("/flows/{flow_id}")).await.body["items"][0].clone();
    assert_eq!(
        flow["transformations"][0]["params"],
        json!({"mappingId": mapping_id, "mappingVersion": 0})
    );
    // A mapping set a flow uses cannot be deleted.
    let refused = conversion(
        &app,
        &caller,
        "DELETE",
        &format!("/mappingSets/{mapping_id}"),
        None,
    )
    .await;
    assert_flow_error(&refused, "1447-400");
}

#[tokio::test]
async fn expressions_validate_and_the_language_lists_its_functions_and_operators() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let good = conversion(
        &app,
        &caller,
        "POST",
        "/languages/el/validate",
        Some(&json!({"expression": "concat(\"Hi\", \",\", \"there\", \"!\")"})),
    )
    .await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.body);
    assert_eq!(
        good.body,
        json!({"validationStatus": "succeeded", "error": "none"})
    );
    let nested = conversion(
        &app,
        &caller,
        "POST",
        "/languages/el/validate",
        Some(&json!({"expression": {"expression": "upper(name)"}})),
    )
    .await;
    assert_eq!(nested.body["validationStatus"], "succeeded");
    let bad = conversion(
        &app,
        &caller,
        "POST",
        "/languages/el/validate",
        Some(&json!({"expression": "iif(a, b)"})),
    )
    .await;
    assert_eq!(bad.body["validationStatus"], "failed");
    assert!(
        bad.body["error"]
            .as_str()
            .unwrap()
            .contains("iif() takes 3 argument(s), 2 given"),
        "{}",
        bad.body
    );
    assert_flow_error(
        &conversion(
            &app,
            &caller,
            "POST",
            "/languages/el/validate",
            Some(&json!({})),
        )
        .await,
        "1100-400",
    );

    let functions = conversion(&app, &caller, "GET", "/languages/el/functions", None).await;
    let listed = functions.body.as_array().unwrap();
    let first = listed
        .iter()
        .find(|function| function["function"] == "first")
        .unwrap();
    assert_eq!(first["category"], "Hierarchies - Arrays");
    let date = listed
        .iter()
        .find(|function| function["function"] == "date")
        .unwrap();
    assert_eq!(date["category"], "Date / Time");
    assert!(
        listed
            .iter()
            .all(|function| function["function"] != "fpid_to_ecid")
    );
    let operators = conversion(&app, &caller, "GET", "/languages/el/operators", None).await;
    let complement = operators
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|operator| operator["operatorSymbol"] == "~")
        .unwrap()
        .clone();
    assert_eq!(complement["methodName"], "complement");
    assert_eq!(complement["numberOfOperands"], 1);
}

#[tokio::test]
async fn single_mappings_are_added_replaced_and_removed_each_in_a_new_version() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let created = conversion(
        &app,
        &caller,
        "POST",
        "/mappingSets",
        Some(&current_dialect()),
    )
    .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let mappings_path = format!("/mappingSets/{id}/mappings");

    // Added in the older dialect; answered with the new mapping's simple form.
    let added = conversion(&app, &caller, "POST", &mappings_path, Some(&json!({"destinationXdmPath": "personalEmail.address", "sourceAttribute": "email", "identity": false, "version": 0}))).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let added_id = added.body["id"].as_str().unwrap().to_owned();
    let set = conversion(&app, &caller, "GET", &format!("/mappingSets/{id}"), None)
        .await
        .body;
    assert_eq!(set["version"], 1);
    assert_eq!(set["mappings"][4]["id"], added_id.as_str());
    assert_eq!(set["mappings"][4]["sourceAttribute"], "email");

    // Replaced: the answer is the mapping in full, in version 2.
    let replaced = conversion(&app, &caller, "PUT", &format!("{mappings_path}/{added_id}"), Some(&json!({"sourceType": "EXPRESSION", "source": "lower(email)", "destination": "personalEmail.address"}))).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["sourceType"], "text/x.aep-xl");
    assert_eq!(replaced.body["source"], "lower(email)");
    let replaced_id = replaced.body["id"].as_str().unwrap().to_owned();
    // A broken one is refused at pointers into the mapping sent.
    let broken = conversion(
        &app,
        &caller,
        "PUT",
        &format!("{mappings_path}/{replaced_id}"),
        Some(&json!({"sourceType": "EXPRESSION", "source": "lower(", "destination": "x"})),
    )
    .await;
    assert_flow_error(&broken, "1100-400");
    assert_eq!(broken.body["problems"][0]["pointer"], "/source");

    // Removed in version 3; version 2 still holds it.
    let removed = conversion(
        &app,
        &caller,
        "DELETE",
        &format!("{mappings_path}/{replaced_id}"),
        None,
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(removed.body["id"], replaced_id.as_str());
    let latest = conversion(&app, &caller, "GET", &format!("/mappingSets/{id}"), None)
        .await
        .body;
    assert_eq!(latest["version"], 3);
    assert_eq!(latest["mappings"].as_array().unwrap().len(), 4);
    let before = conversion(
        &app,
        &caller,
        "GET",
        &format!("/mappingSets/{id}?version=2"),
        None,
    )
    .await
    .body;
    assert_eq!(before["mappings"].as_array().unwrap().len(), 5);
    assert_flow_error(
        &conversion(
            &app,
            &caller,
            "DELETE",
            &format!("{mappings_path}/{replaced_id}"),
            None,
        )
        .await,
        "1439-404",
    );
    assert_flow_error(
        &conversion(
            &app,
            &caller,
            "DELETE",
            &format!("{mappings_path}/nope"),
            None,
        )
        .await,
        "1411-400",
    );
}

#[tokio::test]
async fn a_preview_into_a_registry_schema_shows_what_a_run_would_write() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let schema = app
        .send_under(
            "/data/foundation/schemaregistry",
            &caller,
            "POST",
            "/tenant/schemas",
            Some(&json!({
                "type": "object", "title": "Previewed",
                "required": ["_id"],
                "properties": {
                    "_id": {"type": "integer"},
                    "born": {"type": "string", "format": "date"},
                    "score": {"type": "number"},
                }
            })),
        )
        .await;
    assert_eq!(schema.status, StatusCode::CREATED, "{}", schema.body);
    let schema_id = schema.body["$id"].as_str().unwrap();
    let preview = json!({
        "data": [{"id": "12", "born": "02/29/2024", "score": "1.5"}, {"score": "n/a"}],
        "mappingSet": {
            "outputSchema": {"schemaRef": {"id": schema_id, "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
            "mappings": [
                {"sourceType": "ATTRIBUTE", "source": "id", "destination": "_id"},
                {"sourceType": "ATTRIBUTE", "source": "born", "destination": "born"},
                {"sourceType": "ATTRIBUTE", "source": "score", "destination": "score"},
            ]
        }
    });
    let previewed = conversion(
        &app,
        &caller,
        "POST",
        "/mappingSets/preview",
        Some(&preview),
    )
    .await;
    assert_eq!(previewed.status, StatusCode::OK, "{}", previewed.body);
    assert_eq!(
        previewed.body[0],
        json!({"data": {"_id": 12, "born": "2024-02-29", "score": 1.5}, "errors": null}),
        "converted into the schema's types as a run writes them"
    );
    let errors = previewed.body[1]["errors"].as_array().unwrap();
    let pointers: Vec<&str> = errors
        .iter()
        .map(|error| error["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/_id", "/score"], "{errors:?}");
    assert!(errors.iter().all(|error| error["rejected"] == true));
}
