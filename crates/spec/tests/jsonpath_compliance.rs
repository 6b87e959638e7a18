//! Runs the RFC 9535 JSONPath Compliance Test Suite (`testdata/jsonpath-cts/cts.json`, BSD-2,
//! licence alongside) through `flowd_spec::parse_lenient_json_path`, the one entry point
//! through which every JSONPath of a spec (`contentPath`, `explodeEntityPath`, the pagination
//! paths) is compiled for the runtime.
//!
//! That entry point deliberately accepts a path written without its leading `$` (Adobe's
//! specs write `paging.next`): a selector the suite calls invalid only because it lacks the
//! `$` is checked to be refused by the strict parser and read by the lenient one as `$.`+it.
//!
//! A case with `result` must match in order; a case with `results` lists every order the
//! standard allows (object member order is unspecified) and must match one of them.

use flowd_spec::parse_lenient_json_path;
use serde_json::Value;
use serde_json_path::JsonPath;

/// Cases serde_json_path is known to get wrong, with the reason; empty because all 703 pass.
const KNOWN_EXCEPTIONS: &[(&str, &str)] = &[];

#[test]
fn the_runtime_json_path_entry_point_passes_the_rfc_9535_compliance_suite() {
    let suite_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/jsonpath-cts/cts.json"
    );
    let suite_text = std::fs::read_to_string(suite_path).expect("compliance suite is readable");
    let suite: Value = serde_json::from_str(&suite_text).expect("compliance suite is JSON");
    let cases = suite["tests"].as_array().expect("suite has a tests array");
    assert_eq!(cases.len(), 703, "the suite copy is complete");

    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap_or("(unnamed)");
        if KNOWN_EXCEPTIONS
            .iter()
            .any(|(exception, _)| *exception == name)
        {
            continue;
        }
        let selector = case["selector"].as_str().expect("selector is a string");
        let parsed = parse_lenient_json_path(selector);
        if case["invalid_selector"] == Value::Bool(true) {
            if parsed.is_ok() {
                let lenient_reading = !selector.starts_with('$')
                    && JsonPath::parse(selector).is_err()
                    && JsonPath::parse(&format!("$.{selector}")).is_ok();
                if !lenient_reading {
                    failures.push(format!("{name}: {selector:?} parsed but is invalid"));
                }
            }
            continue;
        }
        let path = match parsed {
            Ok(path) => path,
            Err(parse_error) => {
                failures.push(format!(
                    "{name}: {selector:?} failed to parse: {parse_error}"
                ));
                continue;
            }
        };
        let actual: Vec<Value> = path
            .query(&case["document"])
            .all()
            .into_iter()
            .cloned()
            .collect();
        let actual = Value::Array(actual);
        let acceptable: Vec<&Value> = match (case.get("result"), case.get("results")) {
            (Some(result), _) => vec![result],
            (None, Some(Value::Array(results))) => results.iter().collect(),
            _ => {
                failures.push(format!("{name}: case has neither result nor results"));
                continue;
            }
        };
        if !acceptable.contains(&&actual) {
            failures.push(format!("{name}: {selector:?} gave {actual}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} compliance cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
