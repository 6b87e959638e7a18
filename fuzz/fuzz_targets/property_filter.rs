//! `property` filter parsing and matching: a clear error or a filter, never a panic.
#![no_main]

use flowd_api::fuzzing::PropertyFilter;
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(expression) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(filter) = PropertyFilter::parse(expression) {
        let document = json!({
            "name": "members", "state": "enabled", "count": 3,
            "inheritedAttributes": {"baseConnection": {"id": "abc"}},
            "tags": ["a", "b"], "empty": null
        });
        let _ = filter.matches(&document);
    }
});
