//! Checks of what clients can send that no database holds: answered as "nothing there" by
//! every backend, never with an error.

use std::sync::Arc;

use serde_json::json;

use super::scope;
use crate::{
    DeleteOutcome, FilterOp, FilterValue, IndexedField, IndexedFilter, ListQuery, ReplaceOutcome,
    ResourceKind, ResourceWrite, Store,
};

/// U+0000 arrives from clients (`%00` in a path or a filter) but PostgreSQL text cannot hold
/// it: every backend answers such a lookup or filter as "nothing there", never with an error,
/// and stores a document whose indexed fields hold one.
pub async fn text_with_a_nul_is_answered_as_nothing_not_an_error(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "prod");
    let body = json!({"name": "with\u{0}nul", "state": "enabled"});
    store
        .insert_resource(
            &mine,
            ResourceKind::Connection,
            "plain",
            ResourceWrite::document(&body),
        )
        .await
        .unwrap();
    let with_nul = "a\u{0}b";
    assert!(
        store
            .get_resource(&mine, ResourceKind::Connection, with_nul)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store
            .delete_resource(&mine, ResourceKind::Connection, with_nul)
            .await
            .unwrap(),
        DeleteOutcome::NotFound
    ));
    let body = json!({"name": "x"});
    assert!(matches!(
        store
            .replace_resource(
                &mine,
                ResourceKind::Connection,
                with_nul,
                ResourceWrite::document(&body),
                None
            )
            .await
            .unwrap(),
        ReplaceOutcome::NotFound
    ));
    let by_name = |op| ListQuery {
        filters: vec![IndexedFilter {
            field: IndexedField::Name,
            op,
            values: vec![FilterValue::Text("with\u{0}nul".into())],
        }],
        ..ListQuery::default()
    };
    assert!(
        store
            .list_resources(&mine, ResourceKind::Connection, &by_name(FilterOp::In))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .list_resources(&mine, ResourceKind::Connection, &by_name(FilterOp::NotIn))
            .await
            .unwrap()
            .len(),
        1
    );
    let read = store
        .get_resource(&mine, ResourceKind::Connection, "plain")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.body["name"], "with\u{0}nul", "the document keeps it");
    assert!(store.get_run(&mine, with_nul).await.unwrap().is_none());
    let of_flow = crate::RunFilter {
        flow_ids: Some(vec![with_nul.to_owned()]),
    };
    assert!(
        store
            .list_runs(&mine, &of_flow, &ListQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .find_run_by_window(&mine, with_nul, 5)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .latest_runs(&mine, &[with_nul.to_owned()])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .flow_schedule(&mine, with_nul)
            .await
            .unwrap()
            .is_none()
    );
}
