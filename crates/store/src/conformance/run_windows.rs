//! Checks of how the run queue finds runs by their windows: overlap of half-open windows,
//! from the beginning of time, scoped to the caller.

use std::sync::Arc;

use super::runs::new_run;
use super::scope;
use crate::Store;

pub async fn the_run_overlapping_a_window_is_found_by_its_window(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "overlap");
    // Windows [0, 1000) and [1000, 2000) of flow-o, [0, 1000) of another flow.
    for (id, flow, end) in [
        ("o-1", "flow-o", 1000),
        ("o-2", "flow-o", 2000),
        ("p-1", "flow-p", 1000),
    ] {
        store
            .insert_run(&new_run(id, &mine, flow, end, 0))
            .await
            .unwrap();
    }
    let found = |start: Option<i64>, end: i64| {
        let store = store.clone();
        let mine = mine.clone();
        async move {
            store
                .find_overlapping_run(&mine, "flow-o", start, end)
                .await
                .unwrap()
                .map(|run| run.id)
        }
    };
    assert_eq!(
        found(Some(500), 600).await.as_deref(),
        Some("o-1"),
        "inside"
    );
    assert_eq!(
        found(Some(900), 1100).await.as_deref(),
        Some("o-1"),
        "across a boundary: the earliest"
    );
    assert_eq!(
        found(Some(1000), 1500).await.as_deref(),
        Some("o-2"),
        "the start is inclusive, the end exclusive"
    );
    assert_eq!(
        found(None, 10).await.as_deref(),
        Some("o-1"),
        "from the beginning of time"
    );
    assert_eq!(found(Some(2000), 3000).await, None, "after every window");
    assert_eq!(found(Some(-500), 0).await, None, "before every window");
    assert_eq!(
        store
            .find_overlapping_run(&scope("ORG2", "overlap"), "flow-o", None, 5000)
            .await
            .unwrap(),
        None,
        "another scope's runs are not found"
    );
}
