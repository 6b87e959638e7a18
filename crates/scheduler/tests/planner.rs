//! The planner against a real store: due windows become runs in order, one at a time; a
//! disabled flow gets none; enabling it again resumes where it stopped; a failed scheduled run
//! holds back every later window; a flow whose schedule is not due costs the tick nothing; a
//! long backlog is caught up in a few runs, a short one window by window.

use std::sync::Arc;

use flowd_model::RunMetrics;
use flowd_scheduler::planner::plan_once;
use flowd_store::{
    ListQuery, NewRun, ResourceKind, ResourceWrite, RunCompletion, RunFilter, RunStatus,
    ScheduleWrite, Scope, SqliteStore, Store,
};
use jiff::Timestamp;
use serde_json::{Value, json};

const START: i64 = 1_700_000_000;

async fn store() -> (tempfile::TempDir, Arc<dyn Store>, Scope) {
    let data_dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in_data_dir(data_dir.path())
        .await
        .unwrap();
    let scope = Scope {
        org_id: "ORG@AdobeOrg".into(),
        sandbox_name: "prod".into(),
    };
    (data_dir, Arc::new(store), scope)
}

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap()
}

fn flow(state: &str, schedule: Value) -> Value {
    json!({
        "name": "hourly",
        "state": state,
        "flowSpec": {"id": "6499120c-0b15-42dc-936e-847ea3c24d72", "version": "1.0"},
        "sourceConnectionIds": ["11111111-1111-4111-8111-111111111111"],
        "targetConnectionIds": ["22222222-2222-4222-8222-222222222222"],
        "scheduleParams": schedule
    })
}

/// Writes the flow as the API does: document and schedule row in one write.
async fn write_flow(store: &dyn Store, scope: &Scope, state: &str, schedule: Value) {
    let body = flow(state, schedule);
    let parsed = flowd_model::Flow::from_document(&body).unwrap();
    let write = ResourceWrite {
        schedule: Some(ScheduleWrite {
            enabled: state == "enabled",
            due_hint: parsed.schedule.map(|s| s.start_time().as_millisecond()),
        }),
        ..ResourceWrite::document(&body)
    };
    match store
        .get_resource(scope, ResourceKind::Flow, "flow-1")
        .await
        .unwrap()
    {
        None => {
            store
                .insert_resource(scope, ResourceKind::Flow, "flow-1", write)
                .await
                .unwrap();
        }
        Some(_) => {
            store
                .replace_resource(scope, ResourceKind::Flow, "flow-1", write, None)
                .await
                .unwrap();
        }
    }
}

async fn windows(store: &dyn Store, scope: &Scope) -> Vec<(Option<i64>, i64)> {
    let filter = RunFilter {
        flow_ids: Some(vec!["flow-1".into()]),
    };
    let mut runs = store
        .list_runs(scope, &filter, &ListQuery::default())
        .await
        .unwrap();
    runs.sort_by_key(|run| run.window_end);
    runs.iter()
        .map(|run| (run.window_start.map(|ms| ms / 1000), run.window_end / 1000))
        .collect()
}

/// Claims the flow's pending run and records `status` for it.
async fn finish_pending(store: &dyn Store, now: i64, status: RunStatus) -> String {
    let run = store
        .claim_run("worker", at(now).as_millisecond(), 60_000, None)
        .await
        .unwrap()
        .expect("a due run");
    let completion = RunCompletion {
        status,
        scheduled_at: run.scheduled_at,
        metrics: RunMetrics::default(),
        error: None,
        warnings: Vec::new(),
        batch: None,
    };
    assert!(
        store
            .finish_run(&run.id, "worker", &completion)
            .await
            .unwrap()
    );
    run.id
}

#[tokio::test]
async fn due_windows_become_runs_one_at_a_time_and_disabled_flows_wait() {
    let (_dir, store, scope) = store().await;
    let hourly = json!({"startTime": START, "frequency": "hour", "interval": 1, "backfill": false});
    write_flow(store.as_ref(), &scope, "enabled", hourly.clone()).await;

    assert_eq!(
        plan_once(store.as_ref(), at(START - 1)).await.unwrap(),
        0,
        "nothing is due before startTime"
    );
    let now = START + 3600;
    assert_eq!(plan_once(store.as_ref(), at(now)).await.unwrap(), 1);
    assert_eq!(
        plan_once(store.as_ref(), at(now)).await.unwrap(),
        0,
        "the next window waits for this one"
    );
    finish_pending(store.as_ref(), now, RunStatus::Success).await;
    assert_eq!(
        plan_once(store.as_ref(), at(now)).await.unwrap(),
        1,
        "then the next due window follows"
    );
    finish_pending(store.as_ref(), now, RunStatus::Success).await;
    assert_eq!(
        plan_once(store.as_ref(), at(now)).await.unwrap(),
        0,
        "nothing else is due yet"
    );
    assert_eq!(
        windows(store.as_ref(), &scope).await,
        [(Some(START - 3600), START), (Some(START), START + 3600)]
    );
    let state = store
        .flow_schedule(&scope, "flow-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        state.next_due_at,
        Some((START + 2 * 3600) * 1000),
        "the flow is next due at its next scheduled time, not before"
    );

    write_flow(store.as_ref(), &scope, "disabled", hourly.clone()).await;
    let later = START + 3 * 3600;
    assert_eq!(
        plan_once(store.as_ref(), at(later)).await.unwrap(),
        0,
        "a disabled flow gets no run"
    );
    write_flow(store.as_ref(), &scope, "enabled", hourly).await;
    for _ in 0..2 {
        assert_eq!(
            plan_once(store.as_ref(), at(later)).await.unwrap(),
            1,
            "enabling resumes where it stopped"
        );
        finish_pending(store.as_ref(), later, RunStatus::Success).await;
    }
    let all = windows(store.as_ref(), &scope).await;
    assert_eq!(all.len(), 4);
    for pair in all.windows(2) {
        assert_eq!(pair[0].1, pair[1].0.unwrap(), "contiguous windows: {all:?}");
    }
}

#[tokio::test]
async fn a_failed_scheduled_run_holds_back_later_windows_until_it_succeeds() {
    let (_dir, store, scope) = store().await;
    let hourly = json!({"startTime": START, "frequency": "hour", "interval": 1});
    write_flow(store.as_ref(), &scope, "enabled", hourly).await;
    assert_eq!(plan_once(store.as_ref(), at(START)).await.unwrap(), 1);
    assert_eq!(
        windows(store.as_ref(), &scope).await,
        [(None, START)],
        "backfill: the first window has no start"
    );
    let failed = finish_pending(store.as_ref(), START, RunStatus::Failed).await;
    // Four windows due: a backlog short enough to run window by window.
    let later = START + 4 * 3600;
    assert_eq!(
        plan_once(store.as_ref(), at(later)).await.unwrap(),
        0,
        "no window skips ahead of a failed one"
    );
    assert!(
        store
            .retrigger_run(&scope, &failed, at(later).as_millisecond())
            .await
            .unwrap()
    );
    assert_eq!(
        plan_once(store.as_ref(), at(later)).await.unwrap(),
        0,
        "nor of a re-triggered one still pending"
    );
    finish_pending(store.as_ref(), later, RunStatus::Success).await;
    assert_eq!(
        plan_once(store.as_ref(), at(later)).await.unwrap(),
        1,
        "its success unblocks the flow"
    );
    assert_eq!(
        windows(store.as_ref(), &scope).await,
        [(None, START), (Some(START), START + 3600)]
    );
}

#[tokio::test]
async fn a_patched_schedule_keeps_the_windows_contiguous() {
    let (_dir, store, scope) = store().await;
    write_flow(
        store.as_ref(),
        &scope,
        "enabled",
        json!({"startTime": START, "frequency": "hour", "interval": 1, "backfill": false}),
    )
    .await;
    assert_eq!(plan_once(store.as_ref(), at(START)).await.unwrap(), 1);
    finish_pending(store.as_ref(), START, RunStatus::Success).await;
    // Every two hours from now on, starting later than the last window's end.
    write_flow(
        store.as_ref(),
        &scope,
        "enabled",
        json!({"startTime": START + 1800, "frequency": "hour", "interval": 2, "backfill": false}),
    )
    .await;
    assert_eq!(
        plan_once(store.as_ref(), at(START + 1800)).await.unwrap(),
        1
    );
    assert_eq!(
        windows(store.as_ref(), &scope).await,
        [(Some(START - 3600), START), (Some(START), START + 1800)],
        "the next window starts where the last one ended"
    );
}

#[tokio::test]
async fn the_tutorials_flow_from_2021_is_caught_up_in_a_few_contiguous_runs() {
    let (_dir, store, scope) = store().await;
    // The schedule of Adobe's dataflow tutorial: from September 2021, every 15 minutes, with
    // backfill (the default).
    let tutorial_start = 1_632_809_759;
    let tutorial =
        json!({"startTime": tutorial_start.to_string(), "frequency": "minute", "interval": "15"});
    write_flow(store.as_ref(), &scope, "enabled", tutorial).await;
    let now = 1_796_169_600; // 2026-12-01: about 181,000 windows are due.
    let mut runs = 0;
    let mut ticks = 0;
    loop {
        ticks += 1;
        assert!(ticks <= 10, "still catching up after {ticks} ticks");
        if plan_once(store.as_ref(), at(now)).await.unwrap() == 0 {
            break;
        }
        runs += 1;
        finish_pending(store.as_ref(), now, RunStatus::Success).await;
    }
    assert!(runs <= 5, "caught up in {runs} runs");
    let all = windows(store.as_ref(), &scope).await;
    assert_eq!(
        all[0],
        (None, tutorial_start),
        "the backfill window is its own run"
    );
    for pair in all.windows(2) {
        assert_eq!(pair[0].1, pair[1].0.unwrap(), "contiguous windows: {all:?}");
    }
    let latest_due = tutorial_start + (now - tutorial_start) / 900 * 900;
    assert_eq!(
        all.last().unwrap().1,
        latest_due,
        "every due window is covered"
    );

    // Caught up, the flow runs one window per interval again.
    let next = latest_due + 900;
    assert_eq!(plan_once(store.as_ref(), at(next)).await.unwrap(), 1);
    finish_pending(store.as_ref(), next, RunStatus::Success).await;
    assert_eq!(
        windows(store.as_ref(), &scope).await.last().copied(),
        Some((Some(latest_due), next))
    );
}

#[tokio::test]
async fn a_short_backlog_still_runs_one_window_per_run() {
    let (_dir, store, scope) = store().await;
    let hourly = json!({"startTime": START, "frequency": "hour", "interval": 1, "backfill": false});
    write_flow(store.as_ref(), &scope, "enabled", hourly).await;
    let now = START + 4 * 3600;
    while plan_once(store.as_ref(), at(now)).await.unwrap() == 1 {
        finish_pending(store.as_ref(), now, RunStatus::Success).await;
    }
    let all = windows(store.as_ref(), &scope).await;
    assert_eq!(all.len(), 5, "{all:?}");
    assert!(
        all.iter().all(|(start, end)| end - start.unwrap() == 3600),
        "{all:?}"
    );
}

/// Enqueues an ad hoc run of flow-1 over `[start, end)` (seconds), as `POST /runs` does.
async fn adhoc_run(store: &dyn Store, scope: &Scope, start: Option<i64>, end: i64) {
    store
        .insert_run(&NewRun {
            id: format!("adhoc-{end}"),
            scope: scope.clone(),
            flow_id: "flow-1".into(),
            trigger: flowd_model::RunTrigger::Adhoc,
            window_start: start.map(|start| start * 1000),
            window_end: end * 1000,
            scheduled_at: 0,
            created_at: 0,
            created_by: None,
            created_client: None,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn scheduled_windows_step_around_ad_hoc_windows_and_stay_contiguous() {
    let (_dir, store, scope) = store().await;
    // Hourly from START with backfill: the first window is (beginning of time, START).
    let hourly = json!({"startTime": START, "frequency": "hour", "interval": 1});
    write_flow(store.as_ref(), &scope, "enabled", hourly).await;
    // Ad hoc runs took [START - 7200, START - 3600) and [START + 600, START + 4200).
    adhoc_run(store.as_ref(), &scope, Some(START - 7200), START - 3600).await;
    adhoc_run(store.as_ref(), &scope, Some(START + 600), START + 4200).await;
    // Drain the ad hoc runs so that only scheduled runs are left to claim.
    finish_pending(store.as_ref(), START, RunStatus::Success).await;
    finish_pending(store.as_ref(), START, RunStatus::Success).await;

    let now = START + 3 * 3600;
    while plan_once(store.as_ref(), at(now)).await.unwrap() == 1 {
        finish_pending(store.as_ref(), now, RunStatus::Success).await;
    }
    let all = windows(store.as_ref(), &scope).await;
    assert_eq!(
        all,
        [
            (None, START - 7200),
            (Some(START - 7200), START - 3600),
            (Some(START - 3600), START),
            (Some(START), START + 600),
            (Some(START + 600), START + 4200),
            (Some(START + 4200), START + 7200),
            (Some(START + 7200), START + 10800),
        ],
        "the backfill ends where an ad hoc window starts and goes on after it"
    );
    for pair in all.windows(2) {
        assert_eq!(pair[0].1, pair[1].0.unwrap(), "contiguous windows: {all:?}");
    }
}
