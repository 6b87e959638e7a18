//! The .NET custom date-format parser and renderer, at the edges of the time range.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(pattern) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(format) = flowd_spec::DotNetDateFormat::parse(pattern) {
        for instant in [
            jiff::Timestamp::MIN,
            jiff::Timestamp::UNIX_EPOCH,
            jiff::Timestamp::from_second(1_700_000_000).unwrap(),
            jiff::Timestamp::MAX,
        ] {
            let _ = format.render(instant);
        }
        let _ = format.to_string();
    }
});
