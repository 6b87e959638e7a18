//! The planner: on every tick, ask the store which enabled flows may be due and wait for no
//! run, decide each one's next window with its schedule (`flowd_model::schedule`), and apply
//! every decision in one store transaction. The cost of a tick follows the flows that are due,
//! not the number of flows or the length of their history.
//!
//! A long backlog (a `startTime` years in the past, a long outage) is caught up by one run
//! over every due window (`Schedule::next_run_window`, at most `CATCH_UP_WINDOWS` windows
//! run one by one). Windows run one at a time, in order: a flow whose scheduled run is
//! pending, retried or failed is not due (the store releases it when that run succeeds), so no window skips ahead
//! of an earlier one (RE_TRIGGER a failed one, or disable and re-create the flow, to unblock
//! it). Ad hoc runs (`POST /runs`) do not move a flow's schedule, but its windows step around
//! them (see `decide`), so no time is fetched twice.

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

/// Ad hoc runs a flow's next scheduled window may step over in one tick; more wait for the next.
const ADHOC_RUNS_STEPPED_OVER_PER_TICK: usize = 64;

fn no_run(due: DueFlow, next_due_at: Option<Timestamp>) -> ScheduleAdvance {
    ScheduleAdvance {
        flow: due,
        run: None,
        next_due_at: next_due_at.map(millis),
    }
}

/// What is due for one flow at `now`.
///
/// The next window starts where the flow's last scheduled one ended, but never takes time an
/// ad hoc run of the flow holds (`POST /runs`, whatever its status: a failed one is redone by
/// re-triggering it): a run holding the window's start is stepped over (the window starts at
/// its end), and a run inside the window ends the window at its start (the next tick steps
/// over it). Scheduled and ad hoc windows together stay contiguous, and no record time is in
/// two of them.
async fn decide(
    store: &dyn Store,
    due: DueFlow,
    schedule: Option<Schedule>,
    now: Timestamp,
) -> Result<ScheduleAdvance, StoreError> {
    let Some(schedule) = schedule else {
        return Ok(no_run(due, None));
    };
    let mut last_end = due
        .last_window_end
        .and_then(|end| Timestamp::from_millisecond(end).ok());
    for _ in 0..ADHOC_RUNS_STEPPED_OVER_PER_TICK {
        let Some(window) = schedule.next_run_window(last_end, now) else {
            return Ok(no_run(due, schedule.next_scheduled_after(last_end)));
        };
        let start = window.start.map(millis);
        let taken = store
            .find_overlapping_run(&due.scope, &due.flow_id, start, millis(window.end))
            .await?;
        let end = match taken {
            None => millis(window.end),
            Some(taken) => {
                let holds_start = match (taken.window_start, start) {
                    (None, _) => true,
                    (Some(_), None) => false,
                    (Some(taken_start), Some(start)) => taken_start <= start,
                };
                if holds_start {
                    last_end = Timestamp::from_millisecond(taken.window_end).ok();
                    continue;
                }
                taken
                    .window_start
                    .expect("a run not holding the start has one")
            }
        };
        let end_timestamp = Timestamp::from_millisecond(end).unwrap_or(window.end);
        return Ok(ScheduleAdvance {
            run: Some(NewRun {
                id: flowd_model::ids::new_resource_id(),
                scope: due.scope.clone(),
                flow_id: due.flow_id.clone(),
                trigger: RunTrigger::Scheduled,
                window_start: start,
                window_end: end,
                scheduled_at: millis(window.scheduled_at),
                created_at: millis(now),
                created_by: None,
                created_client: None,
            }),
            next_due_at: schedule
                .next_scheduled_after(Some(end_timestamp))
                .map(millis),
            flow: due,
        });
    }
    // Stepped over many ad hoc runs: go on from there at the next tick.
    Ok(no_run(due, Some(now)))
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
        advances.push(decide(store, due, schedule, now).await?);
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
