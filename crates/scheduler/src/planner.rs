//! The planner: on every tick, for every enabled flow of every sandbox,
//! enqueue a run for each window that is due, in order. Windows never skip
//! ahead of a failed one: while a flow's latest scheduled run has failed,
//! no later window is enqueued (RE_TRIGGER it, or disable and re-create the
//! flow, to unblock it). Ad hoc runs (`POST /runs`) do not move a flow's
//! schedule.

use std::time::Duration;

use flowd_store::{NewRun, ResourceKind, RunStatus, StoreError};
use jiff::Timestamp;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::executor::RunContext;
use crate::schedule::Schedule;

/// Windows enqueued per flow and tick, so a long backlog is created gradually.
const WINDOWS_PER_TICK: usize = 16;

/// The `body.trigger` of runs the planner creates.
pub const SCHEDULED_TRIGGER: &str = "schedule";

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
            .filter(|run| {
                run.body.get("trigger").and_then(Value::as_str) == Some(SCHEDULED_TRIGGER)
            })
            .max_by_key(|run| run.window_end);
        if latest.is_some_and(|run| run.status == RunStatus::Failed) {
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
