//! Checks of the run queue: claims, leases and fencing, re-triggering, concurrent workers,
//! store-side run lists, and flow schedules advanced by the planner.

use std::sync::Arc;

use flowd_model::{RunErrorRecord, RunMetrics, RunTrigger};

use super::scope;
use crate::{
    FilterOp, FilterValue, IndexedField, IndexedFilter, ListQuery, NewRun, RunCompletion,
    RunFilter, RunStatus, Scope, Store, StoreError,
};

pub(super) fn new_run(
    id: &str,
    scope: &Scope,
    flow_id: &str,
    window_end: i64,
    scheduled_at: i64,
) -> NewRun {
    NewRun {
        id: id.to_owned(),
        scope: scope.clone(),
        flow_id: flow_id.to_owned(),
        trigger: RunTrigger::Scheduled,
        window_start: Some(window_end - 1000),
        window_end,
        scheduled_at,
        created_at: scheduled_at,
        created_by: None,
        created_client: None,
    }
}

pub(super) fn completion(status: RunStatus, scheduled_at: i64) -> RunCompletion<'static> {
    RunCompletion {
        status,
        scheduled_at,
        metrics: RunMetrics {
            started_at: 1,
            completed_at: 2,
            pages: 3,
            input_records: 6,
            input_bytes: 5,
            output_records: 4,
            output_bytes: 6,
            output_files: 1,
            failed_records: 2,
        },
        error: (status != RunStatus::Success).then(|| RunErrorRecord {
            code: "UPSTREAM".into(),
            message: "the source api answered 503".into(),
        }),
        warnings: if status == RunStatus::Success {
            vec![RunErrorRecord {
                code: "MAXIMUM_REQUEST".into(),
                message: "stopped after maximumRequest (3) requests".into(),
            }]
        } else {
            Vec::new()
        },
        batch: None,
    }
}

pub(super) async fn finish(
    store: &dyn Store,
    run_id: &str,
    worker: &str,
    status: RunStatus,
    at: i64,
) -> bool {
    store
        .finish_run(run_id, worker, &completion(status, at))
        .await
        .unwrap()
}

pub async fn runs_are_claimed_once_in_order_and_only_when_due(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "runs");
    store
        .insert_run(&new_run("run-b", &mine, "flow-1", 2000, 200))
        .await
        .unwrap();
    store
        .insert_run(&new_run("run-a", &mine, "flow-1", 1000, 100))
        .await
        .unwrap();
    store
        .insert_run(&new_run("run-later", &mine, "flow-1", 3000, 10_000))
        .await
        .unwrap();
    let same_window = store
        .insert_run(&new_run("run-dup", &mine, "flow-1", 1000, 100))
        .await;
    assert!(
        matches!(same_window, Err(StoreError::AlreadyExists { .. })),
        "one run per window"
    );
    let first = store
        .claim_run("worker-1", 500, 60_000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, "run-a", "the oldest due run first");
    assert_eq!(first.status, RunStatus::InProgress);
    assert_eq!(first.attempts, 1);
    assert_eq!(first.lease_owner.as_deref(), Some("worker-1"));
    assert_eq!(first.metrics, None, "no attempt finished yet");
    let second = store
        .claim_run("worker-2", 500, 60_000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.id, "run-b", "a claimed run is not claimed again");
    assert!(
        store
            .claim_run("worker-3", 500, 60_000, None)
            .await
            .unwrap()
            .is_none(),
        "run-later is not due"
    );
    assert!(
        store
            .heartbeat_run("run-a", "worker-1", 600, 60_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .heartbeat_run("run-a", "worker-2", 600, 60_000)
            .await
            .unwrap(),
        "only the owner heartbeats"
    );
    assert!(finish(store.as_ref(), "run-a", "worker-1", RunStatus::Success, 100).await);
    let done = store.get_run(&mine, "run-a").await.unwrap().unwrap();
    assert_eq!(done.status, RunStatus::Success);
    assert_eq!(
        done.metrics,
        Some(completion(RunStatus::Success, 100).metrics),
        "every measure reads back, the rejected records among them"
    );
    assert_eq!(done.metrics.unwrap().failed_records, 2);
    assert_eq!(done.error, None);
    assert_eq!(
        done.warnings,
        completion(RunStatus::Success, 100).warnings,
        "warnings read back"
    );
    assert_eq!(done.lease_owner, None);
    assert!(
        !finish(store.as_ref(), "run-a", "worker-1", RunStatus::Failed, 100).await,
        "a finished run cannot be finished again"
    );
    assert!(
        store
            .get_run(&scope("ORG2", "runs"), "run-a")
            .await
            .unwrap()
            .is_none(),
        "runs are scoped"
    );
}

pub async fn claims_are_fair_across_sandboxes_and_hold_the_per_sandbox_cap(store: Arc<dyn Store>) {
    let busy = scope("ORG1", "busy");
    let quiet = scope("ORG2", "quiet");
    let same_org = scope("ORG1", "other");
    for (index, flow) in ["flow-1", "flow-2", "flow-3"].iter().enumerate() {
        let at = 100 + index as i64;
        store
            .insert_run(&new_run(&format!("busy-{index}"), &busy, flow, 1000, at))
            .await
            .unwrap();
    }
    store
        .insert_run(&new_run("quiet-0", &quiet, "flow-1", 1000, 300))
        .await
        .unwrap();
    store
        .insert_run(&new_run("same-org-0", &same_org, "flow-1", 1000, 400))
        .await
        .unwrap();
    let claim = |worker: &'static str, at: i64, cap: Option<u32>| {
        let store = store.clone();
        async move {
            store
                .claim_run(worker, at, 1_000, cap)
                .await
                .unwrap()
                .map(|run| run.id)
        }
    };
    assert_eq!(
        claim("w1", 500, None).await.as_deref(),
        Some("busy-0"),
        "oldest first"
    );
    // The busy sandbox has a run in progress: the others' runs come first, although newer;
    // a sandbox of the same org is another sandbox.
    assert_eq!(claim("w2", 500, None).await.as_deref(), Some("quiet-0"));
    assert_eq!(claim("w3", 500, None).await.as_deref(), Some("same-org-0"));
    // Every sandbox with work has one run in progress; with a cap of 1 nobody gets another.
    assert_eq!(claim("w4", 500, Some(1)).await, None, "the cap holds");
    assert_eq!(claim("w4", 500, Some(2)).await.as_deref(), Some("busy-1"));
    // A run whose lease expired no longer counts as in progress: at 1_600 every lease has
    // expired, so every sandbox starts again from none, the oldest run first.
    assert_eq!(claim("w5", 1_600, Some(1)).await.as_deref(), Some("busy-0"));
    assert_eq!(
        claim("w6", 1_600, Some(1)).await.as_deref(),
        Some("quiet-0")
    );
    assert_eq!(
        claim("w7", 1_600, Some(1)).await.as_deref(),
        Some("same-org-0")
    );
    assert_eq!(
        claim("w8", 1_600, Some(1)).await,
        None,
        "busy-1 (expired) and busy-2 (pending) wait for the busy sandbox's slot"
    );
}

pub async fn an_expired_lease_is_taken_over_and_the_old_worker_is_fenced(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "leases");
    store
        .insert_run(&new_run("run-x", &mine, "flow-1", 1000, 0))
        .await
        .unwrap();
    let claimed = store
        .claim_run("dying-worker", 100, 1_000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, "run-x");
    assert!(
        store
            .claim_run("other", 500, 1_000, None)
            .await
            .unwrap()
            .is_none(),
        "the lease still holds"
    );
    let taken = store
        .claim_run("other", 1_200, 1_000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.id, "run-x", "an expired lease is taken over");
    assert_eq!(taken.attempts, 2);
    assert!(
        !store
            .heartbeat_run("run-x", "dying-worker", 1_300, 1_000)
            .await
            .unwrap()
    );
    assert!(
        !finish(
            store.as_ref(),
            "run-x",
            "dying-worker",
            RunStatus::Success,
            0
        )
        .await,
        "the old worker cannot overwrite the new one's outcome"
    );
    assert!(
        finish(store.as_ref(), "run-x", "other", RunStatus::Pending, 5_000).await,
        "a retry: back to pending, due later"
    );
    let retry = store.get_run(&mine, "run-x").await.unwrap().unwrap();
    assert_eq!(
        retry.error.as_ref().map(|error| error.code.as_str()),
        Some("UPSTREAM")
    );
    assert!(
        store
            .claim_run("other", 4_000, 1_000, None)
            .await
            .unwrap()
            .is_none()
    );
    let retried = store
        .claim_run("other", 5_000, 1_000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((retried.id.as_str(), retried.attempts), ("run-x", 3));
}

pub async fn only_a_finished_run_of_the_scope_is_retriggered(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "retrigger");
    store
        .insert_run(&new_run("run-f", &mine, "flow-f", 1000, 0))
        .await
        .unwrap();
    assert!(
        !store.retrigger_run(&mine, "run-f", 5_100).await.unwrap(),
        "a pending run is not retriggered"
    );
    store
        .claim_run("worker-f", 5_500, 1_000, None)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !store.retrigger_run(&mine, "run-f", 5_510).await.unwrap(),
        "a run in progress is not retriggered"
    );
    assert!(finish(store.as_ref(), "run-f", "worker-f", RunStatus::Failed, 0).await);
    assert!(
        !store
            .retrigger_run(&scope("ORG2", "retrigger"), "run-f", 5_550)
            .await
            .unwrap(),
        "another scope's run is not retriggered"
    );
    assert!(
        !store
            .retrigger_run(&mine, "no-such-run", 5_550)
            .await
            .unwrap()
    );
    assert!(store.retrigger_run(&mine, "run-f", 5_600).await.unwrap());
    let pending = store.get_run(&mine, "run-f").await.unwrap().unwrap();
    assert_eq!(pending.status, RunStatus::Pending);
    assert_eq!(pending.trigger, RunTrigger::Retrigger);
    assert_eq!(pending.scheduled_at, 5_600);
    assert_eq!(
        (pending.lease_owner, pending.lease_expires_at),
        (None, None)
    );
    assert_eq!(
        pending.attempts, 0,
        "a re-triggered run gets a fresh retry budget"
    );
    assert_eq!(
        (pending.window_start, pending.window_end),
        (Some(0), 1000),
        "the window is kept"
    );
    assert_eq!(
        pending.error.map(|error| error.code),
        Some("UPSTREAM".to_owned()),
        "the last error is kept until the next outcome"
    );
    assert!(
        !store.retrigger_run(&mine, "run-f", 5_650).await.unwrap(),
        "a retriggered run is pending, not failed"
    );
    let reclaimed = store
        .claim_run("worker-g", 5_700, 1_000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((reclaimed.id.as_str(), reclaimed.attempts), ("run-f", 1));
    assert!(finish(store.as_ref(), "run-f", "worker-g", RunStatus::Success, 0).await);
    assert!(
        store.retrigger_run(&mine, "run-f", 5_800).await.unwrap(),
        "a successful run is retriggered, to run its window again"
    );
    let again = store.get_run(&mine, "run-f").await.unwrap().unwrap();
    assert_eq!(
        (again.status, again.scheduled_at, again.attempts),
        (RunStatus::Pending, 5_800, 0)
    );
}

pub async fn concurrent_workers_never_claim_the_same_run(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "busy");
    for n in 0..60 {
        store
            .insert_run(&new_run(
                &format!("run-{n:02}"),
                &mine,
                "flow-1",
                1000 + n,
                0,
            ))
            .await
            .unwrap();
    }
    let mut workers = Vec::new();
    for worker in 0..4 {
        let store = store.clone();
        workers.push(tokio::spawn(async move {
            let mut claimed = Vec::new();
            while let Some(run) = store
                .claim_run(&format!("worker-{worker}"), 10, 60_000, None)
                .await
                .unwrap()
            {
                claimed.push(run.id);
            }
            claimed
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "a run was claimed twice");
    assert_eq!(all.len(), 60, "every run was claimed");
}

pub async fn runs_list_in_the_store_and_each_flow_has_a_latest_run(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "history");
    for (id, flow, window_end) in [
        ("r1", "flow-a", 1000),
        ("r2", "flow-b", 1000),
        ("r3", "flow-a", 3000),
        ("r4", "flow-a", 2000),
    ] {
        store
            .insert_run(&new_run(id, &mine, flow, window_end, window_end))
            .await
            .unwrap();
    }
    let ids = |runs: Vec<crate::RunRecord>| runs.into_iter().map(|run| run.id).collect::<Vec<_>>();
    let of_a = RunFilter {
        flow_ids: Some(vec!["flow-a".into()]),
    };
    let by_creation = ListQuery {
        order: Some((IndexedField::CreatedAt, false)),
        ..ListQuery::default()
    };
    assert_eq!(
        ids(store.list_runs(&mine, &of_a, &by_creation).await.unwrap()),
        ["r1", "r4", "r3"]
    );
    let first_two = ListQuery {
        limit: Some(2),
        ..by_creation.clone()
    };
    assert_eq!(
        ids(store
            .list_runs(&mine, &RunFilter::default(), &first_two)
            .await
            .unwrap()),
        ["r1", "r2"]
    );
    let by_id = ListQuery {
        filters: vec![IndexedFilter {
            field: IndexedField::Id,
            op: FilterOp::In,
            values: vec![FilterValue::Text("r2".into())],
        }],
        ..ListQuery::default()
    };
    assert_eq!(
        ids(store
            .list_runs(&mine, &RunFilter::default(), &by_id)
            .await
            .unwrap()),
        ["r2"]
    );
    let mut latest = ids(store
        .latest_runs(
            &mine,
            &["flow-a".into(), "flow-b".into(), "flow-none".into()],
        )
        .await
        .unwrap());
    latest.sort();
    assert_eq!(latest, ["r2", "r3"]);
    assert!(
        store
            .latest_runs(&scope("ORG2", "history"), &["flow-a".into()])
            .await
            .unwrap()
            .is_empty()
    );
    let found = store
        .find_run_by_window(&mine, "flow-a", 2000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, "r4");
}

pub async fn a_stopping_process_hands_its_runs_back_claimable_at_once(store: Arc<dyn Store>) {
    let mine = scope("ORG1", "handback");
    for (id, window_end) in [("run-a", 1000), ("run-b", 2000), ("run-c", 3000)] {
        store
            .insert_run(&new_run(id, &mine, &format!("flow-{id}"), window_end, 0))
            .await
            .unwrap();
    }
    let lease = 60_000;
    let a = store
        .claim_run("stopping-1", 100, lease, None)
        .await
        .unwrap()
        .unwrap();
    let b = store
        .claim_run("stopping-2", 100, lease, None)
        .await
        .unwrap()
        .unwrap();
    let c = store
        .claim_run("staying", 100, lease, None)
        .await
        .unwrap()
        .unwrap();
    let released = store
        .release_runs(&["stopping-1".to_owned(), "stopping-2".to_owned()], 200)
        .await
        .unwrap();
    assert_eq!(released, 2, "the two runs of the stopping process");
    for id in [&a.id, &b.id] {
        let run = store.get_run(&mine, id).await.unwrap().unwrap();
        assert_eq!(run.status, RunStatus::Pending, "{id}");
        assert_eq!(
            (run.lease_owner, run.attempts),
            (None, 0),
            "{id}: the attempt is not counted"
        );
    }
    assert_eq!(
        store
            .get_run(&mine, &c.id)
            .await
            .unwrap()
            .unwrap()
            .lease_owner
            .as_deref(),
        Some("staying"),
        "another process's run is untouched"
    );
    // Long before the leases would have expired, another worker takes them.
    let taken = store
        .claim_run("other", 300, lease, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.id.as_str(), taken.attempts), (a.id.as_str(), 1));
    assert!(
        !store
            .heartbeat_run(&a.id, "stopping-1", 400, lease)
            .await
            .unwrap(),
        "the stopping worker no longer holds it"
    );
}
