//! The planner: on every tick, ask the store which enabled flows may be due and wait for no
//! run, decide each one's next window with its schedule (`flowd_model::schedule`), and apply
//! every decision in one store transaction. The cost of a tick follows the flows that are due,
//! not the number of flows or the length of their history.
//!
//! A long backlog (a `startTime` years in the past, a long outage) is caught up by one run
//! over every due window (`Schedule::next_run_window`, at most `CATCH_UP_WINDOWS` windows
//! run one by one). Windows run one at a time, in order: a flow whose scheduled run is pending, retried or
//! failed is not due (the store releases it when that run succeeds), so no window skips ahead
//! of an earlier one (RE_TRIGGER a failed one, or disable and re-create the flow, to unblock
//! it). Ad hoc runs (`POST /runs`) do not move a flow's schedule.

use std::time::Duration;

use flowd_model::{Flow, RunTrigger, Schedule};
use flowd_store::{DueFlow, NewRun, ScheduleAdvance, Store, StoreError};
use jiff::Timestamp;
use tokio::sync::watch;

/// Due flows handled per tick; more wait for the next one.
pub const FLOWS_PER_TICK: usize = 1_000;

/// Enqueues due windows every `tick` until `shutdown` turns true.
pub async fn run_planner(
    store: std::sync::Arc<dyn Store>,
    tick: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        if let Err(error) = plan_once(store.as_ref(), flowd_model::time::now()).await {
            tracing::error!(%error, "planning runs failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = shutdown.changed() => {}
        }
    }
}

fn millis(timestamp: Timestamp) -> i64 {
    timestamp.as_millisecond()
}

/// The flow's schedule, or `None` (logged) when it has none or it cannot be read.
fn schedule_of(due: &DueFlow) -> Option<Schedule> {
    match Flow::from_document(&due.document) {
        Ok(flow) => flow.schedule,
        Err(problems) => {
            let listing: Vec<String> = problems.iter().map(ToString::to_string).collect();
            tracing::warn!(flow_id = %due.flow_id, problems = %listing.join("; "), "the stored flow is invalid; it is not scheduled until it is updated");
            None
        }
    }
}

/// What is due for one flow at `now`.
fn decide(due: DueFlow, schedule: Option<Schedule>, now: Timestamp) -> ScheduleAdvance {
    let Some(schedule) = schedule else {
        return ScheduleAdvance {
            flow: due,
            run: None,
            next_due_at: None,
        };
    };
    let last_end = due
        .last_window_end
        .and_then(|end| Timestamp::from_millisecond(end).ok());
    match schedule.next_run_window(last_end, now) {
        Some(window) => ScheduleAdvance {
            run: Some(NewRun {
                id: flowd_model::ids::new_resource_id(),
                scope: due.scope.clone(),
                flow_id: due.flow_id.clone(),
                trigger: RunTrigger::Scheduled,
                window_start: window.start.map(millis),
                window_end: millis(window.end),
                scheduled_at: millis(window.scheduled_at),
                created_at: millis(now),
                created_by: None,
                created_client: None,
            }),
            next_due_at: schedule.next_scheduled_after(Some(window.end)).map(millis),
            flow: due,
        },
        None => ScheduleAdvance {
            next_due_at: schedule.next_scheduled_after(last_end).map(millis),
            run: None,
            flow: due,
        },
    }
}

/// One planning pass at `now`; returns how many runs were enqueued.
pub async fn plan_once(store: &dyn Store, now: Timestamp) -> Result<usize, StoreError> {
    let due_flows = store.due_flows(millis(now), FLOWS_PER_TICK).await?;
    if due_flows.is_empty() {
        return Ok(0);
    }
    let mut advances = Vec::with_capacity(due_flows.len());
    for due in due_flows {
        let schedule = schedule_of(&due);
        advances.push(decide(due, schedule, now));
    }
    let enqueued = store.advance_schedules(&advances).await?;
    for advance in &advances {
        if let Some(run) = &advance.run
            && enqueued.contains(&run.id)
        {
            tracing::info!(flow_id = %run.flow_id, run_id = %run.id, window_end = run.window_end, "run scheduled");
        }
    }
    Ok(enqueued.len())
}
