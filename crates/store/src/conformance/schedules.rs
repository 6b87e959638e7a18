//! Checks of the flow schedules the planner advances.

use std::sync::Arc;

use serde_json::json;

use super::runs::{completion, finish, new_run};
use super::scope;
use crate::{ResourceKind, ResourceWrite, RunStatus, ScheduleAdvance, ScheduleWrite, Store};

pub async fn due_flows_advance_once_and_wait_for_their_scheduled_run(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "planner");
    let flow = json!({"state": "enabled"});
    let schedule = ScheduleWrite {
        enabled: true,
        due_hint: Some(1_000),
    };
    store
        .insert_resource(
            &mine,
            ResourceKind::Flow,
            "flow-1",
            ResourceWrite {
                schedule: Some(schedule),
                ..ResourceWrite::document(&flow)
            },
        )
        .await
        .unwrap();
    store
        .insert_resource(
            &mine,
            ResourceKind::Flow,
            "flow-off",
            ResourceWrite {
                schedule: Some(ScheduleWrite {
                    enabled: false,
                    due_hint: Some(0),
                }),
                ..ResourceWrite::document(&flow)
            },
        )
        .await
        .unwrap();
    assert!(
        store.due_flows(999, 10).await.unwrap().is_empty(),
        "not due before its hint"
    );
    let due = store.due_flows(1_000, 10).await.unwrap();
    assert_eq!(due.len(), 1, "a disabled flow is never due: {due:?}");
    let due = due.into_iter().next().unwrap();
    assert_eq!(
        (due.flow_id.as_str(), due.last_window_end),
        ("flow-1", None)
    );
    let advance = ScheduleAdvance {
        flow: due.clone(),
        run: Some(new_run("run-1", &mine, "flow-1", 1_000, 1_000)),
        next_due_at: Some(2_000),
    };
    assert_eq!(
        store
            .advance_schedules(std::slice::from_ref(&advance))
            .await
            .unwrap(),
        ["run-1"]
    );
    assert!(
        store
            .advance_schedules(std::slice::from_ref(&advance))
            .await
            .unwrap()
            .is_empty(),
        "a stale decision is refused"
    );
    assert!(
        store.due_flows(5_000, 10).await.unwrap().is_empty(),
        "the flow waits for its run"
    );
    let state = store.flow_schedule(&mine, "flow-1").await.unwrap().unwrap();
    assert_eq!(
        (
            state.last_window_end,
            state.waiting_for_run.as_deref(),
            state.next_due_at
        ),
        (Some(1_000), Some("run-1"), Some(2_000))
    );
    store
        .claim_run("worker", 1_000, 60_000, None)
        .await
        .unwrap()
        .unwrap();
    assert!(finish(store.as_ref(), "run-1", "worker", RunStatus::Failed, 1_000).await);
    assert!(
        store.due_flows(5_000, 10).await.unwrap().is_empty(),
        "a failed run still holds it"
    );
    store.retrigger_run(&mine, "run-1", 1_500).await.unwrap();
    store
        .claim_run("worker", 1_500, 60_000, None)
        .await
        .unwrap()
        .unwrap();
    assert!(finish(store.as_ref(), "run-1", "worker", RunStatus::Success, 1_000).await);
    let due = store.due_flows(5_000, 10).await.unwrap();
    assert_eq!(due.len(), 1, "its success releases the flow");
    assert_eq!(due[0].last_window_end, Some(1_000));
    // A write of the flow moves the revision: a decision taken before it is refused.
    store
        .replace_resource(
            &mine,
            ResourceKind::Flow,
            "flow-1",
            ResourceWrite {
                schedule: Some(schedule),
                ..ResourceWrite::document(&flow)
            },
            None,
        )
        .await
        .unwrap();
    let stale = ScheduleAdvance {
        flow: due[0].clone(),
        run: None,
        next_due_at: Some(9_000),
    };
    assert!(store.advance_schedules(&[stale]).await.unwrap().is_empty());
    let state = store.flow_schedule(&mine, "flow-1").await.unwrap().unwrap();
    assert_eq!(
        (state.next_due_at, state.last_window_end),
        (Some(1_000), Some(1_000)),
        "the write set the hint and kept the last window"
    );
    // An advance without a run only moves the hint.
    let due = store.due_flows(5_000, 10).await.unwrap();
    let quiet = ScheduleAdvance {
        flow: due[0].clone(),
        run: None,
        next_due_at: Some(7_000),
    };
    store.advance_schedules(&[quiet]).await.unwrap();
    assert!(store.due_flows(6_999, 10).await.unwrap().is_empty());
    assert_eq!(store.due_flows(7_000, 10).await.unwrap().len(), 1);
    store
        .delete_resource(&mine, ResourceKind::Flow, "flow-1")
        .await
        .unwrap();
    assert!(
        store
            .flow_schedule(&mine, "flow-1")
            .await
            .unwrap()
            .is_none(),
        "deleted with its flow"
    );
    assert!(store.due_flows(i64::MAX, 10).await.unwrap().is_empty());
}

/// Runs of a flow complete (releasing the flow, recording their batch) while the flow and its
/// dataset are edited: every write succeeds, whichever order their locks are taken in, and
/// no completion is lost.
pub async fn completions_and_edits_of_their_flow_never_fail_each_other(store: Arc<dyn Store>) {
    use crate::{BatchCommit, ResourceKind, ResourceWrite, ScheduleWrite};
    let mine = scope("ORG1", "edits");
    let dataset = serde_json::json!({"name": "ds"});
    store
        .insert_resource(
            &mine,
            ResourceKind::Dataset,
            "dataset-1",
            ResourceWrite::document(&dataset),
        )
        .await
        .unwrap();
    let flow = serde_json::json!({"name": "flow", "state": "enabled"});
    let schedule = ScheduleWrite {
        enabled: true,
        due_hint: Some(0),
    };
    store
        .insert_resource(
            &mine,
            ResourceKind::Flow,
            "flow-1",
            ResourceWrite {
                schedule: Some(schedule),
                ..ResourceWrite::document(&flow)
            },
        )
        .await
        .unwrap();
    const ROUNDS: i64 = 40;
    let editor = {
        let (store, mine) = (store.clone(), mine.clone());
        tokio::spawn(async move {
            for round in 0..ROUNDS {
                let flow = serde_json::json!({"name": format!("flow {round}"), "state": "enabled"});
                store
                    .replace_resource(
                        &mine,
                        ResourceKind::Flow,
                        "flow-1",
                        ResourceWrite {
                            schedule: Some(schedule),
                            ..ResourceWrite::document(&flow)
                        },
                        None,
                    )
                    .await
                    .unwrap_or_else(|error| panic!("editing the flow: {error}"));
                let dataset = serde_json::json!({"name": format!("ds {round}")});
                store
                    .replace_resource(
                        &mine,
                        ResourceKind::Dataset,
                        "dataset-1",
                        ResourceWrite::document(&dataset),
                        None,
                    )
                    .await
                    .unwrap_or_else(|error| panic!("editing the dataset: {error}"));
            }
        })
    };
    let merge = |_: Option<&str>| "schema".to_owned();
    for round in 0..ROUNDS {
        let id = format!("run-{round:02}");
        // The planner's way in: the flow then waits for the run, and its completion releases
        // the flow's schedule row while the editor rewrites that row. An edit between reading
        // the due flow and advancing it makes the advance stale: read it again.
        loop {
            let Some(due) = store.due_flows(i64::MAX / 2, 10).await.unwrap().pop() else {
                continue;
            };
            let advance = crate::ScheduleAdvance {
                flow: due,
                run: Some(new_run(&id, &mine, "flow-1", 1_000 + round, 0)),
                next_due_at: Some(0),
            };
            if !store
                .advance_schedules(std::slice::from_ref(&advance))
                .await
                .unwrap()
                .is_empty()
            {
                break;
            }
        }
        let claimed = store
            .claim_run("worker", 10, 60_000, None)
            .await
            .unwrap()
            .expect("the run is due");
        let mut done = completion(RunStatus::Success, claimed.scheduled_at);
        done.batch = Some(BatchCommit {
            dataset_id: "dataset-1",
            batch_id: &claimed.id,
            record_count: 1,
            bytes: 10,
            file_count: 1,
            merge_schema: &merge,
        });
        let recorded = store
            .finish_run(&claimed.id, "worker", &done)
            .await
            .unwrap_or_else(|error| panic!("completing {id}: {error}"));
        assert!(recorded);
    }
    editor.await.unwrap();
    let stats = store
        .dataset_stats(&mine, "dataset-1")
        .await
        .unwrap()
        .expect("statistics");
    assert_eq!(stats.batch_count, ROUNDS as u64, "no completion was lost");
}
