//! A flow's `nextRunAtUTC` (epoch ms, or `null`): when the planner next starts a scheduled run
//! of it, computed as the planner computes it (`flowd_scheduler::planner`): the schedule's
//! first scheduled time after the end of the flow's last window
//! (`Schedule::next_scheduled_after`), read from the flow's schedule row. `null` for a flow
//! that is disabled or a draft, has no schedule, or has nothing more due (a `once` flow that
//! ran). A time in the past means the planner starts it at its next tick (or, for a flow
//! waiting for a failed run, once that run is re-triggered and succeeds).
//!
//! Presented, never stored: like `lastRunDetails`, a client's value is ignored on create and
//! PUT and refused in a PATCH (`INSTANCE_IMMUTABLE_FIELDS`).

use flowd_model::Flow;
use flowd_store::FlowScheduleState;
use futures::future::try_join_all;
use jiff::Timestamp;
use serde_json::Value;

use crate::error::ApiError;
use crate::state::AppState;
use crate::tenant::Tenant;

/// The presented field.
pub const NEXT_RUN_FIELD: &str = "nextRunAtUTC";

/// When the planner next starts a run of the flow `document` whose schedule row is `row`.
fn next_run_at(document: &Value, row: Option<&FlowScheduleState>) -> Option<i64> {
    let row = row.filter(|row| row.enabled && row.next_due_at.is_some())?;
    if document.get("state").and_then(Value::as_str) != Some("enabled") {
        return None;
    }
    let schedule = Flow::from_document(document).ok()?.schedule?;
    let last_end = row
        .last_window_end
        .and_then(|end| Timestamp::from_millisecond(end).ok());
    schedule
        .next_scheduled_after(last_end)
        .map(|next| next.as_millisecond())
}

/// Sets `nextRunAtUTC` on each presented flow (one schedule-row lookup by key per flow of the
/// page).
pub async fn add_next_runs(
    state: &AppState,
    tenant: &Tenant,
    flows: &mut [Value],
) -> Result<(), ApiError> {
    let rows = try_join_all(flows.iter().map(|flow| async {
        match flow.get("id").and_then(Value::as_str) {
            Some(id) => state.store.flow_schedule(&tenant.scope, id).await,
            None => Ok(None),
        }
    }))
    .await?;
    for (flow, row) in flows.iter_mut().zip(rows) {
        let next = next_run_at(flow, row.as_ref());
        flow[NEXT_RUN_FIELD] = next.into();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flow(state: &str, frequency: &str) -> Value {
        json!({
            "name": "f", "state": state,
            "flowSpec": {"id": "6499120c-0b15-42dc-936e-847ea3c24d72", "version": "1.0"},
            "sourceConnectionIds": ["0bd6c1b6-7c1e-4a4f-9f5c-2d1c4b1b9f01"],
            "targetConnectionIds": ["0bd6c1b6-7c1e-4a4f-9f5c-2d1c4b1b9f02"],
            "scheduleParams": {"startTime": 1_700_000_000, "frequency": frequency, "interval": 15}
        })
    }

    fn row(enabled: bool, last_window_end: Option<i64>) -> FlowScheduleState {
        FlowScheduleState {
            enabled,
            next_due_at: Some(0),
            last_window_end,
            waiting_for_run: None,
            revision: 1,
        }
    }

    #[test]
    fn the_next_run_follows_the_last_window_and_is_null_when_nothing_is_due() {
        let start = 1_700_000_000_000_i64;
        let every = 15 * 60 * 1000;
        let enabled = flow("enabled", "minute");
        assert_eq!(next_run_at(&enabled, Some(&row(true, None))), Some(start));
        assert_eq!(
            next_run_at(&enabled, Some(&row(true, Some(start + every)))),
            Some(start + 2 * every)
        );
        assert_eq!(
            next_run_at(&flow("disabled", "minute"), Some(&row(false, None))),
            None
        );
        assert_eq!(
            next_run_at(&flow("draft", "minute"), Some(&row(true, None))),
            None
        );
        assert_eq!(next_run_at(&enabled, None), None);
        let mut once = flow("enabled", "once");
        once["scheduleParams"]
            .as_object_mut()
            .unwrap()
            .shift_remove("interval");
        assert_eq!(next_run_at(&once, Some(&row(true, None))), Some(start));
        assert_eq!(next_run_at(&once, Some(&row(true, Some(start)))), None);
    }
}
