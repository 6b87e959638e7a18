//! Flow-spec validation and flow documents with their schedules: parsing, then the window
//! arithmetic the planner does, never a panic or an overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(mut document) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let _ = flowd_spec::validate_flow_spec(&document);
    if let Ok(flow) = flowd_model::Flow::from_document(&document)
        && let Some(schedule) = flow.schedule
    {
        let mut last_end = schedule.first_window_start();
        for _ in 0..4 {
            match schedule.next_scheduled_after(last_end) {
                Some(next) => last_end = Some(next),
                None => break,
            }
        }
        let _ = schedule.recurrence().period_seconds();
    }
    let _ = flowd_spec::normalize_flow_spec(&mut document);
});
