//! Data-driven checks of the fixture corpus under `testdata/`: every `valid/*.json` must
//! produce no problem, every `invalid/*.json` exactly its listed problems, in order.
//!
//! Invalid fixtures have the shape `{"description", "spec", "problems": [{pointer, message}]}`.
//! One test per corpus walks its directory and reports every failing file at once.

use std::fs;
use std::path::{Path, PathBuf};

use flowd_spec::{
    Problem, SourceShape, normalize_flow_spec, resolve_source_fetch_config, source_shape,
    validate_connection_spec, validate_flow_spec,
};
use serde_json::Value;

fn fixture_files(corpus: &str, validity: &str) -> Vec<PathBuf> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(corpus)
        .join(validity);
    let mut files: Vec<PathBuf> = fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", directory.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    files.sort();
    files
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).expect("fixture is readable");
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

fn render_problems(problems: &[Problem]) -> String {
    serde_json::to_string_pretty(problems).expect("problems serialize")
}

/// Runs `check` on every file of a corpus and fails once, naming every failing file.
fn check_corpus(
    corpus: &str,
    validity: &str,
    minimum_files: usize,
    check: impl Fn(&Path) -> Option<String>,
) {
    let files = fixture_files(corpus, validity);
    assert!(
        files.len() >= minimum_files,
        "{corpus}/{validity} has {} fixtures, expected at least {minimum_files}",
        files.len()
    );
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| check(path).map(|failure| format!("{}: {failure}", file_name(path))))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} fixtures in {corpus}/{validity} failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

fn check_invalid(path: &Path, validate: impl Fn(Value) -> Vec<Problem>) -> Option<String> {
    let fixture = read_json(path);
    if fixture.get("description").and_then(Value::as_str).is_none() {
        return Some("fixture lacks a description".into());
    }
    let expected: Vec<Problem> = match serde_json::from_value(fixture["problems"].clone()) {
        Ok(expected) => expected,
        Err(error) => return Some(format!("bad problems list: {error}")),
    };
    if expected.is_empty() {
        return Some("an invalid fixture must expect at least one problem".into());
    }
    let actual = validate(fixture["spec"].clone());
    (actual != expected).then(|| {
        format!(
            "expected {}\nactual {}",
            render_problems(&expected),
            render_problems(&actual)
        )
    })
}

#[test]
fn valid_connection_specs_have_no_problems() {
    check_corpus("connection_specs", "valid", 14, |path| {
        let connection_spec = read_json(path);
        let problems = validate_connection_spec(&connection_spec);
        if !problems.is_empty() {
            return Some(format!(
                "unexpected problems {}",
                render_problems(&problems)
            ));
        }
        // An executable generic-rest spec must also resolve into a runnable fetch config.
        let executable = flowd_spec::is_generic_rest(&connection_spec)
            && source_shape(&connection_spec) == SourceShape::Executable;
        if executable
            && let Err(fetch_problems) = resolve_source_fetch_config(&connection_spec, &Value::Null)
        {
            return Some(format!(
                "valid but fetch config does not resolve: {}",
                render_problems(&fetch_problems)
            ));
        }
        None
    });
}

#[test]
fn invalid_connection_specs_report_exactly_their_problems() {
    check_corpus("connection_specs", "invalid", 25, |path| {
        check_invalid(path, |connection_spec| {
            validate_connection_spec(&connection_spec)
        })
    });
}

/// Flow specs go through the API's order: normalize, then validate what normalization left.
fn normalize_then_validate_flow_spec(mut flow_spec: Value) -> Vec<Problem> {
    let mut problems = normalize_flow_spec(&mut flow_spec);
    problems.extend(validate_flow_spec(&flow_spec));
    problems
}

#[test]
fn valid_flow_specs_have_no_problems() {
    check_corpus("flow_specs", "valid", 3, |path| {
        let problems = normalize_then_validate_flow_spec(read_json(path));
        (!problems.is_empty())
            .then(|| format!("unexpected problems {}", render_problems(&problems)))
    });
}

#[test]
fn invalid_flow_specs_report_exactly_their_problems() {
    check_corpus("flow_specs", "invalid", 3, |path| {
        check_invalid(path, normalize_then_validate_flow_spec)
    });
}
