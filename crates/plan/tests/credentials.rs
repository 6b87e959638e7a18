//! Credentials at rest against a real store: a connection stored while its KeyBased key was
//! not yet taken for a secret is sealed at startup, keeps its value, and is masked on read.

use flowd_plan::credentials::{MASK, masked, open, seal_clear_secrets, stored_params};
use flowd_secrets::{Cipher, SecretKey};
use flowd_store::{ResourceKind, ResourceStore, ResourceWrite, Scope, SqliteStore};
use serde_json::json;

#[tokio::test]
async fn a_key_stored_in_clear_is_sealed_at_startup_and_keeps_its_value() {
    let data_dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in_data_dir(data_dir.path())
        .await
        .unwrap();
    let cipher = Cipher::new(SecretKey::from_bytes([3; 32]));
    let scope = Scope {
        org_id: "ORG@AdobeOrg".into(),
        sandbox_name: "prod".into(),
    };
    let spec = json!({
        "name": "keyed", "type": "generic-rest",
        "authSpec": [{"name": "API Key", "type": "KeyBased", "spec": {"type": "object", "properties": {
            "host": {"type": "string"},
            "tenantKey": {"type": "string", "restAttributes": {"headerParamName": "X-Tenant-Key"}}
        }}}]
    });
    store
        .insert_resource(
            &scope,
            ResourceKind::ConnectionSpec,
            "spec-1",
            ResourceWrite::document(&spec),
        )
        .await
        .unwrap();
    let connection = json!({
        "name": "keyed", "etag": "\"1\"",
        "connectionSpec": {"id": "spec-1", "version": "1.0"},
        "auth": {"specName": "API Key", "params": {
            "host": "https://api.example.com", "tenantKey": "k-9f2e-clear", "apiToken": "t-77aa-clear"
        }}
    });
    store
        .insert_resource(
            &scope,
            ResourceKind::Connection,
            "conn-1",
            ResourceWrite::document(&connection),
        )
        .await
        .unwrap();

    assert_eq!(seal_clear_secrets(&store, &cipher).await.unwrap(), 1);

    let stored = store
        .get_resource(&scope, ResourceKind::Connection, "conn-1")
        .await
        .unwrap()
        .unwrap();
    let text = stored.body.to_string();
    assert!(
        !text.contains("k-9f2e-clear") && !text.contains("t-77aa-clear"),
        "{text}"
    );
    assert_ne!(stored.body["etag"], "\"1\"", "what clients see changed");
    let params = stored_params(&stored.body);
    let plain = open(&cipher, &scope, "conn-1", &params).unwrap();
    assert_eq!(plain["tenantKey"], "k-9f2e-clear");
    assert_eq!(plain["apiToken"], "t-77aa-clear");
    assert_eq!(plain["host"], "https://api.example.com");
    let shown = masked(&params);
    assert_eq!(shown["tenantKey"], MASK);
    assert_eq!(shown["apiToken"], MASK);
    assert_eq!(shown["host"], "https://api.example.com");

    assert_eq!(
        seal_clear_secrets(&store, &cipher).await.unwrap(),
        0,
        "sealed secrets are left as they are"
    );
}
