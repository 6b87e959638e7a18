//! Checks of the console's sessions (found by id hash until they expire or are deleted,
//! purged once expired, refused without their credential) and of the sandbox list of an org.

use std::sync::Arc;

use crate::{NewCredential, SeedResource, Session, Store};

fn no_seed(_sandbox_id: &str) -> Vec<SeedResource> {
    Vec::new()
}

async fn insert_credential(store: &dyn Store, id: &str, org_id: &str) {
    store
        .insert_credential(&NewCredential {
            id: id.into(),
            org_id: org_id.into(),
            api_key: format!("key-of-{id}"),
            token_hash: flowd_hash(id),
            created_at: 1,
        })
        .await
        .unwrap();
}

/// A stand-in for a SHA-256 hex digest, distinct per input.
fn flowd_hash(seed: &str) -> String {
    let hex: String = seed.bytes().map(|byte| format!("{byte:02x}")).collect();
    format!("{hex:0<64}")
}

fn session(id_hash: &str, credential_id: &str, expires_at: i64) -> Session {
    Session {
        id_hash: id_hash.into(),
        credential_id: credential_id.into(),
        org_id: "ORG1@AdobeOrg".into(),
        api_key: format!("key-of-{credential_id}"),
        csrf_token: format!("csrf-of-{id_hash}"),
        created_at: 1_000,
        expires_at,
    }
}

pub async fn sessions_are_found_by_id_hash_until_they_expire_or_are_deleted(store: Arc<dyn Store>) {
    insert_credential(store.as_ref(), "CRED1@AdobeID", "ORG1@AdobeOrg").await;
    let live = session(&flowd_hash("live"), "CRED1@AdobeID", 50_000);
    store.insert_session(&live).await.unwrap();
    let found = store
        .find_session(&live.id_hash, 49_999)
        .await
        .unwrap()
        .expect("a live session is found by its id hash");
    assert_eq!(found, live);
    assert!(
        store
            .find_session(&live.id_hash, 50_000)
            .await
            .unwrap()
            .is_none(),
        "a session is not found from its expiry on"
    );
    assert!(
        store
            .find_session(&flowd_hash("unknown"), 2_000)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.delete_session(&live.id_hash).await.unwrap());
    assert!(
        store
            .find_session(&live.id_hash, 2_000)
            .await
            .unwrap()
            .is_none(),
        "a deleted session is not found"
    );
    assert!(!store.delete_session(&live.id_hash).await.unwrap());
}

pub async fn expired_sessions_are_purged_and_live_ones_kept(store: Arc<dyn Store>) {
    insert_credential(store.as_ref(), "CRED1@AdobeID", "ORG1@AdobeOrg").await;
    for (name, expires_at) in [("old", 10_000), ("older", 5_000), ("young", 90_000)] {
        store
            .insert_session(&session(&flowd_hash(name), "CRED1@AdobeID", expires_at))
            .await
            .unwrap();
    }
    assert_eq!(store.purge_expired_sessions(10_000).await.unwrap(), 2);
    assert_eq!(store.purge_expired_sessions(10_000).await.unwrap(), 0);
    assert!(
        store
            .find_session(&flowd_hash("young"), 10_000)
            .await
            .unwrap()
            .is_some()
    );
}

pub async fn a_session_needs_its_credential_and_a_fresh_id(store: Arc<dyn Store>) {
    assert!(
        store
            .insert_session(&session(&flowd_hash("orphan"), "NOBODY@AdobeID", 9_000))
            .await
            .is_err(),
        "a session of no credential is refused"
    );
    insert_credential(store.as_ref(), "CRED1@AdobeID", "ORG1@AdobeOrg").await;
    let first = session(&flowd_hash("same"), "CRED1@AdobeID", 9_000);
    store.insert_session(&first).await.unwrap();
    assert!(
        store.insert_session(&first).await.is_err(),
        "an id hash is never reused"
    );
}

pub async fn sandboxes_are_listed_by_name_for_their_org_only(store: Arc<dyn Store>) {
    for (org, name) in [
        ("ORG1", "prod"),
        ("ORG1", "dev"),
        ("ORG2", "staging"),
        ("ORG1", "Zeta-not-lowercase"),
    ] {
        store.ensure_sandbox(org, name, &no_seed).await.unwrap();
    }
    let names = |sandboxes: Vec<crate::Sandbox>| -> Vec<String> {
        sandboxes.into_iter().map(|sandbox| sandbox.name).collect()
    };
    let of_org1 = store.list_sandboxes("ORG1").await.unwrap();
    assert!(of_org1.iter().all(|sandbox| sandbox.org_id == "ORG1"));
    assert_eq!(names(of_org1), ["Zeta-not-lowercase", "dev", "prod"]);
    assert_eq!(
        names(store.list_sandboxes("ORG2").await.unwrap()),
        ["staging"]
    );
    assert!(store.list_sandboxes("ORG3").await.unwrap().is_empty());
}
