//! Placeholder templates: finding `${name}`/`{NAME}` occurrences and rendering them, with
//! values for some names and none for others.
#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(template) = std::str::from_utf8(data) else {
        return;
    };
    for occurrence in flowd_spec::find_placeholders(template) {
        assert!(template.get(occurrence.byte_range.clone()).is_some());
    }
    let _ = flowd_spec::placeholder::placeholder_names_to_declare(template);
    let _ = flowd_spec::render(template, |name| {
        (name.len() % 2 == 0).then(|| Cow::Owned(format!("<{name}>")))
    });
});
