//! Connection-spec validation on any JSON document: every problem reported, never a panic;
//! a generic-rest spec that validates with its fetch config in its attributes resolves into
//! a fetch config (validation and planning agree).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let problems = flowd_spec::validate_connection_spec(&spec);
    let _ = flowd_spec::AuthSpecs::resolve(&spec);
    let _ = flowd_spec::resolve_source(&spec, &json!({}));
    if problems.is_empty()
        && flowd_spec::is_generic_rest(&spec)
        && flowd_spec::source_shape(&spec) == flowd_spec::SourceShape::Executable
    {
        assert!(
            flowd_spec::resolve_source_fetch_config(&spec, &Value::Null).is_ok(),
            "a valid spec's fetch config resolves"
        );
    }
});
