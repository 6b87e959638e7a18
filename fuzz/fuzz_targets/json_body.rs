//! The API's JSON body parser: empty, malformed, deep and wide-integer bodies answered with
//! an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = flowd_api::fuzzing::parse_json_body(data);
});
