//! The planner: on every tick, for every enabled flow of every sandbox,
//! enqueue the next due window once the flow's previous scheduled run has
//! succeeded, so windows run one at a time, in order. Windows never skip
//! ahead of a pending, retried or failed one: while a flow's latest scheduled
//! run has not succeeded, no later window is enqueued (RE_TRIGGER a failed
//! one, or disable and re-create the flow, to unblock it). Ad hoc runs
//! (`POST /runs`) do not move a flow's schedule.

use std::time::Duration;

use flowd_store::{NewRun, ResourceKind, RunStatus, StoreError};
use jiff::Timestamp;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::executor::RunContext;
use flowd_model::schedule::Schedule;

/// Windows enqueued per flow and tick: one, because the next window is only
/// enqueued once the previous one has succeeded (see [`plan_once`]).
const WINDOWS_PER_TICK: usize = 1;

/// The `body.trigger` of runs the planner creates.
pub const SCHEDULED_TRIGGER: &str = "schedule";

/// The `body.trigger` of runs `POST /runs` creates; they do not move the
/// flow's schedule. Any run not marked so counts as scheduled, so a run
/// whose marker was lost still holds back later windows when it fails.
pub const ADHOC_TRIGGER: &str = "adhoc";

/// Enqueues due windows every `tick` until `shutdown` turns true.
pub async fn run_planner(context: RunContext, tick: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        if let Err(error) = plan_once(&context, Timestamp::now()).await {
            tracing::error!(%error, "planning runs failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// One planning pass at `now`; returns how many runs were enqueued.
pub async fn plan_once(context: &RunContext, now: Timestamp) -> Result<usize, StoreError> {
    let mut enqueued = 0;
    for (scope, flow) in context.store.list_all_resources(ResourceKind::Flow).await? {
        if flow.body.get("state").and_then(Value::as_str) != Some("enabled") {
            continue;
        }
        let schedule = match flow.body.get("scheduleParams").map(Schedule::from_params) {
            Some(Ok(schedule)) => schedule,
            Some(Err(error)) => {
                tracing::warn!(flow_id = %flow.id, %error, "flow has an unusable schedule");
                continue;
            }
            None => continue,
        };
        let runs = context.store.list_runs(&scope, Some(&flow.id)).await?;
        let latest = runs
            .iter()
            .filter(|run| run.body.get("trigger").and_then(Value::as_str) != Some(ADHOC_TRIGGER))
            .max_by_key(|run| run.window_end);
        // Windows run one at a time, in order: the next one is enqueued only
        // once the latest scheduled run has succeeded. Enqueuing several at
        // once let a later window overtake an earlier one that was waiting
        // for a retry (its backoff moves it behind them in the queue) or had
        // failed, so a window could be ingested after a later one, or while
        // the earlier one never was.
        if latest.is_some_and(|run| run.status != RunStatus::Success) {
            continue;
        }
        let last_end = latest.and_then(|run| Timestamp::from_millisecond(run.window_end).ok());
        for window in schedule.due_windows(last_end, now, WINDOWS_PER_TICK) {
            let id = uuid::Uuid::new_v4().to_string();
            let created_at = now.as_millisecond();
            let run = NewRun {
                id: id.clone(),
                scope: scope.clone(),
                flow_id: flow.id.clone(),
                window_start: window.start.map(|start| start.as_millisecond()),
                window_end: window.end.as_millisecond(),
                scheduled_at: window.scheduled_at.as_millisecond(),
                body: json!({"trigger": SCHEDULED_TRIGGER, "createdAt": created_at, "updatedAt": created_at}),
            };
            match context.store.insert_run(&run).await {
                Ok(()) => {
                    enqueued += 1;
                    tracing::info!(flow_id = %flow.id, run_id = %id, window_end = %window.end, "run scheduled");
                }
                Err(StoreError::AlreadyExists { .. }) => {}
                Err(error) => return Err(error),
            }
        }
    }
    Ok(enqueued)
}
