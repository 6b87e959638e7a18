//! JSONPath parsing, the cost rules and evaluation on a page: the input is a path, a NUL byte,
//! then a JSON page. A path the spec accepts is evaluated through the extractor under its
//! budget, which must hold whatever the path and the page.
#![no_main]

use flowd_connector::extract::{ExtractionBudget, RecordExtractor};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let (path_bytes, page_bytes) = match data.iter().position(|byte| *byte == 0) {
        Some(split) => (&data[..split], &data[split + 1..]),
        None => (data, &b"{}"[..]),
    };
    let Ok(path) = std::str::from_utf8(path_bytes) else {
        return;
    };
    let _ = flowd_spec::parse_lenient_json_path(path);
    let spec = json!({
        "name": "fuzz", "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "authSpec": [],
        "sourceSpec": {"attributes": {
            "urlParams": {"host": "https://example.test", "path": "/"},
            "contentPath": {"path": path},
            "explodeEntityPath": {"path": path}
        }}
    });
    let Ok(fetch) = flowd_spec::resolve_source_fetch_config(&spec, &Value::Null) else {
        return;
    };
    let Ok(page) = serde_json::from_slice::<Value>(page_bytes) else {
        return;
    };
    for explode in [None, fetch.explode_entity_path.as_ref()] {
        let extractor = RecordExtractor::new(&fetch.content_path, explode);
        let mut budget = ExtractionBudget::for_page(page_bytes.len(), None);
        let mut records = Vec::new();
        let _ = extractor.count_items(&page);
        let _ = extractor.extract_owned(page.clone(), &mut records, &mut budget);
        let mut preview = ExtractionBudget::for_page(page_bytes.len(), Some(3));
        let mut first = Vec::new();
        let _ = extractor.extract(&page, &mut first, &mut preview);
        assert!(first.len() <= 3, "a preview builds at most its records");
    }
});
