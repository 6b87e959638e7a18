//! Property tests of the schedule invariants the flow fuzz target checks: for any schedule a
//! flow document can hold, successive runs are strictly later, one period apart, and the
//! arithmetic never overflows or panics, up to the end of representable time.

use flowd_model::Flow;
use proptest::prelude::*;
use serde_json::json;

proptest! {
    #[test]
    fn successive_runs_are_one_period_apart_and_strictly_later(
        start in 0i64..253_402_300_799,
        frequency in prop::sample::select(vec!["minute", "hour", "day", "week", "once"]),
        // Mostly periods within the bounds, sometimes any interval at all.
        interval in prop_oneof![8 => 1u32..=500, 1 => 1u32..=u32::MAX],
        backfill in any::<bool>(),
    ) {
        let document = json!({
            "name": "f",
            "flowSpec": {"id": "6499120c-0b15-42dc-936e-847ea3c24d72", "version": "1.0"},
            "sourceConnectionIds": ["a"], "targetConnectionIds": ["b"],
            "scheduleParams": {"startTime": start.to_string(), "frequency": frequency,
                               "interval": interval.to_string(), "backfill": backfill.to_string()}
        });
        // Some combinations are refused (a period beyond the bounds); those never panic.
        let Ok(flow) = Flow::from_document(&document) else { return Ok(()); };
        let schedule = flow.schedule.expect("the document has a schedule");
        let period = schedule.recurrence().period_seconds();
        let mut last_end = None;
        for _ in 0..5 {
            let Some(next) = schedule.next_scheduled_after(last_end) else { break };
            if let Some(previous) = last_end {
                prop_assert!(next > previous);
                prop_assert_eq!(Some(next.as_second() - previous.as_second()), period);
            } else {
                prop_assert_eq!(next, schedule.start_time());
            }
            last_end = Some(next);
        }
    }
}
