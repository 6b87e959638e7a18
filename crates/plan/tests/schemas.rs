//! A dataset's XDM schema read from a real store: found by `$id` or `meta:altId`, the schemas
//! its `$ref`s name fetched (through another schema too), and nothing for a name the sandbox's
//! registry does not have.

use flowd_model::xdm::XdmType;
use flowd_plan::{LoadError, dataset_schema};
use flowd_store::{ResourceKind, ResourceStore, ResourceWrite, Scope, SqliteStore};
use serde_json::{Value, json};

const BASE_HEX: &str = "0000000000000000000000000000000b";
const TOP_HEX: &str = "0000000000000000000000000000000a";

fn scope(sandbox: &str) -> Scope {
    Scope {
        org_id: "ORG@AdobeOrg".into(),
        sandbox_name: sandbox.into(),
    }
}

fn id(hex: &str) -> String {
    format!("https://ns.adobe.com/org/schemas/{hex}")
}

async fn put(store: &SqliteStore, scope: &Scope, hex: &str, mut document: Value) {
    document["$id"] = json!(id(hex));
    document["meta:altId"] = json!(format!("_org.schemas.{hex}"));
    store
        .insert_resource(
            scope,
            ResourceKind::Schema,
            hex,
            ResourceWrite::document(&document),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_schema_reads_with_the_schemas_it_references_by_either_name() {
    let data_dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in_data_dir(data_dir.path())
        .await
        .unwrap();
    let prod = scope("prod");
    put(
        &store,
        &prod,
        BASE_HEX,
        json!({"type": "object",
               "allOf": [{"$ref": "https://ns.adobe.com/xdm/data/adhoc"}, {"$ref": "#/definitions/when"}],
               "definitions": {"when": {"properties": {"seen": {"type": "string", "format": "date-time"}}}},
               "properties": {"born": {"type": "string", "format": "date"}}}),
    )
    .await;
    put(
        &store,
        &prod,
        TOP_HEX,
        json!({"type": "object", "allOf": [{"$ref": id(BASE_HEX)}],
               "properties": {"count": {"type": "integer"}}}),
    )
    .await;

    for name in [id(TOP_HEX), format!("_org.schemas.{TOP_HEX}")] {
        let schema = dataset_schema(&store, &prod, &name).await.unwrap().unwrap();
        let fields: Vec<(&str, &XdmType)> = schema
            .fields
            .iter()
            .map(|field| (field.name.as_str(), &field.field_type))
            .collect();
        assert_eq!(
            fields,
            [
                ("seen", &XdmType::DateTime),
                ("born", &XdmType::Date),
                ("count", &XdmType::Long)
            ],
            "{name}"
        );
    }

    let unknown = id("ffffffffffffffffffffffffffffffff");
    assert!(
        dataset_schema(&store, &prod, &unknown)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        dataset_schema(&store, &prod, "https://ns.adobe.com/xdm/context/profile")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        dataset_schema(&store, &scope("dev"), &id(TOP_HEX))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_stored_schema_naming_a_schema_the_sandbox_lacks_is_invalid() {
    let data_dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in_data_dir(data_dir.path())
        .await
        .unwrap();
    let prod = scope("prod");
    put(
        &store,
        &prod,
        TOP_HEX,
        json!({"type": "object", "allOf": [{"$ref": id(BASE_HEX)}]}),
    )
    .await;
    let error = dataset_schema(&store, &prod, &id(TOP_HEX))
        .await
        .unwrap_err();
    let LoadError::Invalid { kind, id, problems } = error else {
        panic!("{error}");
    };
    assert_eq!((kind, id.as_str()), (ResourceKind::Schema, TOP_HEX));
    assert_eq!(problems[0].pointer, "/allOf/0/$ref");
}
