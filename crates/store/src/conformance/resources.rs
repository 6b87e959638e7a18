//! Checks of credentials, sandboxes and resource documents: scoping, revisions, reference
//! edges (also under concurrent writes) and store-side list queries.

use std::sync::Arc;

use serde_json::{Value, json};

use super::scope;
use crate::{
    Cursor, DeleteOutcome, FilterOp, FilterValue, IndexedField, IndexedFilter, ListQuery,
    NewCredential, ReplaceOutcome, ResourceKind, ResourceRef, ResourceWrite, SeedResource, Store,
    StoreError,
};

fn no_seed(_sandbox_id: &str) -> Vec<SeedResource> {
    Vec::new()
}

async fn insert(
    store: &dyn Store,
    scope: &crate::Scope,
    kind: ResourceKind,
    id: &str,
    body: Value,
) {
    store
        .insert_resource(scope, kind, id, ResourceWrite::document(&body))
        .await
        .unwrap_or_else(|error| panic!("inserting {id}: {error}"));
}

pub async fn credentials_are_found_by_token_hash_only(store: Arc<dyn Store>) {
    assert_eq!(store.count_credentials().await.unwrap(), 0);
    store
        .insert_credential(&NewCredential {
            id: "CRED1@AdobeID".into(),
            org_id: "ORG1@AdobeOrg".into(),
            api_key: "key-1".into(),
            token_hash: "aa".repeat(32),
            created_at: 5,
        })
        .await
        .unwrap();
    let found = store
        .find_credential_by_token_hash(&"aa".repeat(32))
        .await
        .unwrap()
        .expect("credential by hash");
    assert_eq!(
        (
            found.id.as_str(),
            found.org_id.as_str(),
            found.api_key.as_str()
        ),
        ("CRED1@AdobeID", "ORG1@AdobeOrg", "key-1")
    );
    assert!(
        store
            .find_credential_by_token_hash(&"bb".repeat(32))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.count_credentials().await.unwrap(), 1);
}

pub async fn sandboxes_are_created_once_with_their_seed(store: Arc<dyn Store>) {
    let seeder = |sandbox_id: &str| {
        vec![SeedResource {
            kind: ResourceKind::FlowSpec,
            id: "builtin".into(),
            body: json!({"sandboxId": sandbox_id}),
            references: Vec::new(),
        }]
    };
    let first = store.ensure_sandbox("ORG1", "prod", &seeder).await.unwrap();
    let again = store.ensure_sandbox("ORG1", "prod", &seeder).await.unwrap();
    assert!(first.created, "the first call creates the sandbox");
    assert!(!again.created, "a later call finds it");
    let (first, again) = (first.sandbox, again.sandbox);
    assert_eq!(first, again, "a sandbox id is stable");
    let other_org = store.ensure_sandbox("ORG2", "prod", &seeder).await.unwrap();
    assert!(
        other_org.created,
        "the same name in another org is another sandbox"
    );
    let other_org = other_org.sandbox;
    assert_ne!(first.id, other_org.id, "sandbox ids differ per org");
    let seeded = store
        .list_resources(
            &scope("ORG1", "prod"),
            ResourceKind::FlowSpec,
            &ListQuery::default(),
        )
        .await
        .unwrap();
    assert_eq!(seeded.len(), 1, "the seed is inserted once");
    assert_eq!(seeded[0].body, json!({"sandboxId": first.id}));
    store.ensure_sandbox("ORG1", "dev", &no_seed).await.unwrap();
}

pub async fn resources_round_trip_and_stay_in_their_scope(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "dev");
    let body = json!({"name": "a", "extra": {"kept": [1, 2, 3]}});
    let stored = store
        .insert_resource(
            &mine,
            ResourceKind::ConnectionSpec,
            "id-1",
            ResourceWrite::document(&body),
        )
        .await
        .unwrap();
    assert_eq!(stored.revision, 1);
    let duplicate = store
        .insert_resource(
            &mine,
            ResourceKind::ConnectionSpec,
            "id-1",
            ResourceWrite::document(&body),
        )
        .await;
    assert!(matches!(duplicate, Err(StoreError::AlreadyExists { .. })));
    let read = store
        .get_resource(&mine, ResourceKind::ConnectionSpec, "id-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.body, body, "the document comes back verbatim");
    for other in [scope("ORG2", "dev"), scope("ORG1", "prod")] {
        assert!(
            store
                .get_resource(&other, ResourceKind::ConnectionSpec, "id-1")
                .await
                .unwrap()
                .is_none()
        );
        let listed = store
            .list_resources(&other, ResourceKind::ConnectionSpec, &ListQuery::default())
            .await
            .unwrap();
        assert!(listed.is_empty());
        let replaced = store
            .replace_resource(
                &other,
                ResourceKind::ConnectionSpec,
                "id-1",
                ResourceWrite::document(&body),
                None,
            )
            .await
            .unwrap();
        assert_eq!(replaced, ReplaceOutcome::NotFound);
        let deleted = store
            .delete_resource(&other, ResourceKind::ConnectionSpec, "id-1")
            .await
            .unwrap();
        assert_eq!(deleted, DeleteOutcome::NotFound);
    }
    let everywhere = store
        .list_all_resources(ResourceKind::ConnectionSpec)
        .await
        .unwrap();
    assert!(
        everywhere
            .iter()
            .any(|(scope, resource)| scope == &mine && resource.id == "id-1"),
        "listing across scopes names each resource's scope"
    );
    assert!(
        store
            .get_resource(&mine, ResourceKind::FlowSpec, "id-1")
            .await
            .unwrap()
            .is_none(),
        "kinds are separate namespaces"
    );
}

pub async fn replace_bumps_the_revision_and_honours_the_expected_one(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "replace");
    insert(
        store.as_ref(),
        &mine,
        ResourceKind::ConnectionSpec,
        "r",
        json!({"v": 1}),
    )
    .await;
    let outcome = store
        .replace_resource(
            &mine,
            ResourceKind::ConnectionSpec,
            "r",
            ResourceWrite::document(&json!({"v": 2})),
            Some(1),
        )
        .await
        .unwrap();
    assert!(matches!(outcome, ReplaceOutcome::Replaced(ref stored) if stored.revision == 2));
    let stale = store
        .replace_resource(
            &mine,
            ResourceKind::ConnectionSpec,
            "r",
            ResourceWrite::document(&json!({"v": 3})),
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(stale, ReplaceOutcome::RevisionMismatch { current: 2 });
    let read = store
        .get_resource(&mine, ResourceKind::ConnectionSpec, "r")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.body, json!({"v": 2}));
}

pub async fn references_must_exist_and_block_deletes_of_their_targets(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "refs");
    let base = ResourceRef::new(ResourceKind::Connection, "base-1", "/baseConnectionId");
    let refused = store
        .insert_resource(
            &mine,
            ResourceKind::SourceConnection,
            "source-1",
            ResourceWrite::with_references(&json!({}), std::slice::from_ref(&base)),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::MissingReference { kind: ResourceKind::Connection, ref id }) if id == "base-1"),
        "{refused:?}"
    );
    assert!(
        store
            .get_resource(&mine, ResourceKind::SourceConnection, "source-1")
            .await
            .unwrap()
            .is_none(),
        "a refused write writes nothing"
    );
    insert(
        store.as_ref(),
        &mine,
        ResourceKind::Connection,
        "base-1",
        json!({}),
    )
    .await;
    insert(
        store.as_ref(),
        &scope("ORG1", "other"),
        ResourceKind::Connection,
        "base-2",
        json!({}),
    )
    .await;
    store
        .insert_resource(
            &mine,
            ResourceKind::SourceConnection,
            "source-1",
            ResourceWrite::with_references(&json!({"v": 1}), std::slice::from_ref(&base)),
        )
        .await
        .unwrap();
    let other_scope_base =
        ResourceRef::new(ResourceKind::Connection, "base-2", "/baseConnectionId");
    let across_scopes = store
        .replace_resource(
            &mine,
            ResourceKind::SourceConnection,
            "source-1",
            ResourceWrite::with_references(
                &json!({"v": 2}),
                std::slice::from_ref(&other_scope_base),
            ),
            None,
        )
        .await;
    assert!(
        matches!(across_scopes, Err(StoreError::MissingReference { .. })),
        "a reference never reaches another sandbox"
    );
    assert_eq!(
        store
            .delete_resource(&mine, ResourceKind::Connection, "base-1")
            .await
            .unwrap(),
        DeleteOutcome::Referenced(vec![(ResourceKind::SourceConnection, "source-1".into())])
    );
    // Keeping the references of a replace (None) keeps the edge.
    store
        .replace_resource(
            &mine,
            ResourceKind::SourceConnection,
            "source-1",
            ResourceWrite {
                references: None,
                ..ResourceWrite::document(&json!({"v": 3}))
            },
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .delete_resource(&mine, ResourceKind::Connection, "base-1")
            .await
            .unwrap(),
        DeleteOutcome::Referenced(_)
    ));
    // Deleting the referring resource removes its edges.
    assert_eq!(
        store
            .delete_resource(&mine, ResourceKind::SourceConnection, "source-1")
            .await
            .unwrap(),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        store
            .delete_resource(&mine, ResourceKind::Connection, "base-1")
            .await
            .unwrap(),
        DeleteOutcome::Deleted
    );
}

/// Each round races the delete of a base connection against the create of a source
/// connection naming it: either may win, but never both.
pub async fn concurrent_deletes_never_leave_a_dangling_reference(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "race");
    for round in 0..50 {
        let base_id = format!("base-{round}");
        insert(
            store.as_ref(),
            &mine,
            ResourceKind::Connection,
            &base_id,
            json!({}),
        )
        .await;
        let creating = {
            let store = store.clone();
            let mine = mine.clone();
            let base_id = base_id.clone();
            tokio::spawn(async move {
                let references = [ResourceRef::new(
                    ResourceKind::Connection,
                    base_id,
                    "/baseConnectionId",
                )];
                store
                    .insert_resource(
                        &mine,
                        ResourceKind::SourceConnection,
                        &format!("source-{round}"),
                        ResourceWrite::with_references(&json!({}), &references),
                    )
                    .await
            })
        };
        let deleting = {
            let store = store.clone();
            let mine = mine.clone();
            tokio::spawn(async move {
                store
                    .delete_resource(&mine, ResourceKind::Connection, &base_id)
                    .await
            })
        };
        let created = creating.await.unwrap();
        let deleted = deleting.await.unwrap().unwrap();
        match (&created, &deleted) {
            (Ok(_), DeleteOutcome::Referenced(_)) => {}
            (Err(StoreError::MissingReference { .. }), DeleteOutcome::Deleted) => {}
            other => panic!("round {round}: both or neither won: {other:?}"),
        }
    }
}

fn named(id: &str, name: Option<&str>, created_at: i64) -> Value {
    let mut body = json!({"id": id, "createdAt": created_at, "updatedAt": created_at + 1});
    if let Some(name) = name {
        body["name"] = json!(name);
    }
    body
}

fn ids(resources: &[crate::StoredResource]) -> Vec<&str> {
    resources
        .iter()
        .map(|resource| resource.id.as_str())
        .collect()
}

pub async fn list_queries_filter_order_and_page_in_the_store(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "lists");
    for (id, name, created_at) in [
        ("a", Some("beta"), 30),
        ("b", Some("alpha"), 10),
        ("c", None, 20),
        ("d", Some("beta"), 40),
    ] {
        insert(
            store.as_ref(),
            &mine,
            ResourceKind::Flow,
            id,
            named(id, name, created_at),
        )
        .await;
    }
    let list = |query: ListQuery| {
        let store = store.clone();
        let mine = mine.clone();
        async move {
            store
                .list_resources(&mine, ResourceKind::Flow, &query)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        ids(&list(ListQuery::default()).await),
        ["a", "b", "c", "d"],
        "insertion order"
    );
    let by_name = ListQuery {
        filters: vec![IndexedFilter {
            field: IndexedField::Name,
            op: FilterOp::In,
            values: vec![FilterValue::Text("beta".into())],
        }],
        ..ListQuery::default()
    };
    assert_eq!(ids(&list(by_name.clone()).await), ["a", "d"]);
    assert_eq!(
        store
            .count_resources(&mine, ResourceKind::Flow, &by_name)
            .await
            .unwrap(),
        2
    );
    let not_beta = ListQuery {
        filters: vec![IndexedFilter {
            field: IndexedField::Name,
            op: FilterOp::NotIn,
            values: vec![FilterValue::Text("beta".into())],
        }],
        ..ListQuery::default()
    };
    assert_eq!(
        ids(&list(not_beta).await),
        ["b", "c"],
        "a missing name is not beta"
    );
    let recent = ListQuery {
        filters: vec![IndexedFilter {
            field: IndexedField::CreatedAt,
            op: FilterOp::GreaterOrEqual,
            values: vec![FilterValue::Number(20.0)],
        }],
        order: Some((IndexedField::CreatedAt, true)),
        ..ListQuery::default()
    };
    assert_eq!(ids(&list(recent).await), ["d", "a", "c"]);
    // Pages of two by name, descending, missing names last: beta(a), beta(d), alpha(b), none(c).
    let mut seen = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let page = list(ListQuery {
            order: Some((IndexedField::Name, true)),
            after: after.clone(),
            limit: Some(2),
            ..ListQuery::default()
        })
        .await;
        seen.extend(ids(&page).into_iter().map(str::to_owned));
        let Some(last) = page.last() else { break };
        after = Some(Cursor {
            value: last.body.get("name").cloned().unwrap_or(Value::Null),
            position: last.position,
        });
        if page.len() < 2 {
            break;
        }
    }
    assert_eq!(seen, ["a", "d", "b", "c"]);
    let by_id = ListQuery {
        filters: vec![IndexedFilter {
            field: IndexedField::Id,
            op: FilterOp::In,
            values: vec![FilterValue::Text("c".into()), FilterValue::Text("a".into())],
        }],
        ..ListQuery::default()
    };
    assert_eq!(ids(&list(by_id).await), ["a", "c"]);
}

pub async fn the_secret_key_check_reads_back_and_a_rotation_replaces_it(store: Arc<dyn Store>) {
    assert_eq!(
        store.secret_key_check().await.unwrap(),
        None,
        "none at first"
    );
    store
        .set_secret_key_check("v1.aaaaaaaa.first")
        .await
        .unwrap();
    assert_eq!(
        store.secret_key_check().await.unwrap().as_deref(),
        Some("v1.aaaaaaaa.first")
    );
    store
        .set_secret_key_check("v1.bbbbbbbb.second")
        .await
        .unwrap();
    assert_eq!(
        store.secret_key_check().await.unwrap().as_deref(),
        Some("v1.bbbbbbbb.second"),
        "replaced"
    );
}

pub async fn the_first_credential_is_bootstrapped_once_under_concurrent_starts(
    store: Arc<dyn Store>,
) {
    let attempts = (0..8).map(|index| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .insert_first_credential(&NewCredential {
                    id: format!("FIRST{index}@AdobeID"),
                    org_id: "ORG1@AdobeOrg".into(),
                    api_key: format!("key-{index}"),
                    token_hash: format!("{index:02}").repeat(32),
                    created_at: 1,
                })
                .await
                .unwrap()
        })
    });
    let mut won = 0;
    for attempt in attempts {
        won += usize::from(attempt.await.unwrap());
    }
    assert_eq!(won, 1, "exactly one start bootstraps");
    assert_eq!(store.count_credentials().await.unwrap(), 1);
}
