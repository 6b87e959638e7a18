//! PATCH instructions: parsing any JSON body, then applying what parses to a document.
#![no_main]

use flowd_api::fuzzing::{apply_patch, parse_patch};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Ok(instructions) = parse_patch(&body) {
        let document = json!({
            "name": "flow", "description": "d", "state": "enabled",
            "sourceConnectionIds": ["a"], "scheduleParams": {"interval": 15, "frequency": "minute"},
            "items": [1, 2, {"deep": [true]}]
        });
        let _ = apply_patch(&document, &instructions, &["id", "flowSpec"]);
    }
});
