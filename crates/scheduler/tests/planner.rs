//! The planner against a real store: due windows become runs in order, one
//! at a time; a disabled flow gets none; enabling it again resumes where it
//! stopped; a failed scheduled run holds back every later window.

use std::sync::Arc;

use flowd_connector::{HttpClient, HttpOptions};
use flowd_scheduler::executor::RunContext;
use flowd_scheduler::planner::plan_once;
use flowd_secrets::{Cipher, SecretKey};
use flowd_store::{ResourceKind, RunStatus, Scope, SqliteStore};
use jiff::Timestamp;
use serde_json::{Value, json};

const START: i64 = 1_700_000_000;

async fn context() -> (tempfile::TempDir, RunContext, Scope) {
    let data_dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in_data_dir(data_dir.path())
        .await
        .unwrap();
    let context = RunContext {
        store: Arc::new(store),
        cipher: Arc::new(Cipher::new(SecretKey::from_bytes([1; 32]))),
        http: HttpClient::new(HttpOptions::default()).unwrap(),
        datasets_root: data_dir.path().join("datasets"),
    };
    let scope = Scope {
        org_id: "ORG@AdobeOrg".into(),
        sandbox_name: "prod".into(),
    };
    (data_dir, context, scope)
}

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap()
}

async fn set_state(context: &RunContext, scope: &Scope, state: &str) {
    let stored = context
        .store
        .get_resource(scope, ResourceKind::Flow, "flow-1")
        .await
        .unwrap()
        .unwrap();
    let mut body = stored.body.clone();
    body["state"] = json!(state);
    context
        .store
        .replace_resource(scope, ResourceKind::Flow, "flow-1", &body, None)
        .await
        .unwrap();
}

async fn windows(context: &RunContext, scope: &Scope) -> Vec<(Option<i64>, i64)> {
    context
        .store
        .list_runs(scope, Some("flow-1"))
        .await
        .unwrap()
        .iter()
        .map(|run| (run.window_start.map(|ms| ms / 1000), run.window_end / 1000))
        .collect()
}

/// Claims the flow's pending run and records `status` for it.
async fn finish_pending(context: &RunContext, now: i64, status: RunStatus) {
    let run = context
        .store
        .claim_run("worker", at(now).as_millisecond(), 60_000)
        .await
        .unwrap()
        .expect("a due run");
    assert!(
        context
            .store
            .finish_run(&run.id, "worker", status, run.scheduled_at, &run.body)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn due_windows_become_runs_one_at_a_time_and_disabled_flows_wait() {
    let (_dir, context, scope) = context().await;
    let flow: Value = json!({"state": "enabled", "scheduleParams": {"startTime": START, "frequency": "hour", "interval": 1, "backfill": false}});
    context
        .store
        .insert_resource(&scope, ResourceKind::Flow, "flow-1", &flow)
        .await
        .unwrap();

    assert_eq!(
        plan_once(&context, at(START - 1)).await.unwrap(),
        0,
        "nothing is due before startTime"
    );
    let now = START + 3600;
    assert_eq!(plan_once(&context, at(now)).await.unwrap(), 1);
    assert_eq!(
        plan_once(&context, at(now)).await.unwrap(),
        0,
        "the next window waits for this one"
    );
    finish_pending(&context, now, RunStatus::Success).await;
    assert_eq!(
        plan_once(&context, at(now)).await.unwrap(),
        1,
        "then the next due window follows"
    );
    finish_pending(&context, now, RunStatus::Success).await;
    assert_eq!(
        plan_once(&context, at(now)).await.unwrap(),
        0,
        "nothing else is due yet"
    );
    assert_eq!(
        windows(&context, &scope).await,
        [(Some(START - 3600), START), (Some(START), START + 3600)]
    );

    set_state(&context, &scope, "disabled").await;
    let later = START + 3 * 3600;
    assert_eq!(
        plan_once(&context, at(later)).await.unwrap(),
        0,
        "a disabled flow gets no run"
    );
    set_state(&context, &scope, "enabled").await;
    for _ in 0..2 {
        assert_eq!(
            plan_once(&context, at(later)).await.unwrap(),
            1,
            "enabling resumes where it stopped"
        );
        finish_pending(&context, later, RunStatus::Success).await;
    }
    let all = windows(&context, &scope).await;
    assert_eq!(all.len(), 4);
    for pair in all.windows(2) {
        assert_eq!(pair[0].1, pair[1].0.unwrap(), "contiguous windows: {all:?}");
    }
}

#[tokio::test]
async fn a_failed_scheduled_run_holds_back_later_windows_until_it_succeeds() {
    let (_dir, context, scope) = context().await;
    let flow = json!({"state": "enabled", "scheduleParams": {"startTime": START, "frequency": "hour", "interval": 1}});
    context
        .store
        .insert_resource(&scope, ResourceKind::Flow, "flow-1", &flow)
        .await
        .unwrap();
    assert_eq!(plan_once(&context, at(START)).await.unwrap(), 1);
    assert_eq!(
        windows(&context, &scope).await,
        [(None, START)],
        "backfill: the first window has no start"
    );
    finish_pending(&context, START, RunStatus::Failed).await;
    let later = START + 5 * 3600;
    assert_eq!(
        plan_once(&context, at(later)).await.unwrap(),
        0,
        "no window skips ahead of a failed one"
    );
    let failed = context
        .store
        .list_runs(&scope, Some("flow-1"))
        .await
        .unwrap()
        .remove(0);
    assert!(
        context
            .store
            .retrigger_run(&scope, &failed.id, at(later).as_millisecond())
            .await
            .unwrap()
    );
    assert_eq!(
        plan_once(&context, at(later)).await.unwrap(),
        0,
        "nor of a re-triggered one still pending"
    );
    finish_pending(&context, later, RunStatus::Success).await;
    assert_eq!(
        plan_once(&context, at(later)).await.unwrap(),
        1,
        "its success unblocks the flow"
    );
    assert_eq!(
        windows(&context, &scope).await,
        [(None, START), (Some(START), START + 3600)]
    );
}
