//! `flowd spec validate FILE...`: the server's validation rules, offline.
//! Exit 0 when every file is valid, 1 otherwise.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use flowd_spec::Problem;
use serde_json::{Value, json};

use crate::{OutputFormat, SpecKind};

struct FileReport {
    file: String,
    /// One entry per spec in the file: (its index in `items`, if any; problems).
    specs: Vec<(Option<usize>, Vec<Problem>)>,
}

pub fn run(files: &[PathBuf], format: OutputFormat, kind: SpecKind) -> ExitCode {
    let reports: Vec<FileReport> = files.iter().map(|file| check_file(file, kind)).collect();
    let all_valid = reports
        .iter()
        .all(|report| report.specs.iter().all(|(_, problems)| problems.is_empty()));
    match format {
        OutputFormat::Text => print_text(&reports),
        OutputFormat::Json => print_json(&reports),
    }
    if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn root_problem(message: String) -> Vec<Problem> {
    vec![Problem {
        pointer: String::new(),
        message,
    }]
}

fn check_file(file: &Path, kind: SpecKind) -> FileReport {
    let name = file.display().to_string();
    let parsed = std::fs::read(file)
        .map_err(|error| format!("cannot read the file: {error}"))
        .and_then(|bytes| {
            serde_json::from_slice::<Value>(&bytes)
                .map_err(|error| format!("the file is not valid JSON: {error}"))
        });
    let document = match parsed {
        Ok(document) => document,
        Err(message) => {
            return FileReport {
                file: name,
                specs: vec![(None, root_problem(message))],
            };
        }
    };
    // A saved GET response holds the spec(s) under "items".
    let specs = match document.get("items").and_then(Value::as_array) {
        Some(items) if document.as_object().is_some_and(|fields| fields.len() == 1) => items
            .iter()
            .enumerate()
            .map(|(index, spec)| (Some(index), check_spec(spec, kind)))
            .collect(),
        _ => vec![(None, check_spec(&document, kind))],
    };
    FileReport { file: name, specs }
}

fn check_spec(spec: &Value, kind: SpecKind) -> Vec<Problem> {
    let is_flow_spec = match kind {
        SpecKind::Flow => true,
        SpecKind::Connection => false,
        SpecKind::Auto => {
            spec.get("sourceConnectionSpecIds").is_some()
                || spec.get("targetConnectionSpecIds").is_some()
        }
    };
    if is_flow_spec {
        let mut spec = spec.clone();
        let mut problems = flowd_spec::normalize_flow_spec(&mut spec);
        problems.extend(flowd_spec::validate_flow_spec(&spec));
        problems
    } else {
        flowd_spec::validate_connection_spec(spec)
    }
}

fn full_pointer(index: Option<usize>, pointer: &str) -> String {
    match index {
        Some(index) => format!("/items/{index}{pointer}"),
        None => pointer.to_owned(),
    }
}

fn print_text(reports: &[FileReport]) {
    for report in reports {
        let problems: Vec<String> = report
            .specs
            .iter()
            .flat_map(|(index, problems)| {
                problems.iter().map(move |problem| {
                    let pointer = full_pointer(*index, &problem.pointer);
                    let shown = if pointer.is_empty() {
                        "(root)"
                    } else {
                        &pointer
                    };
                    format!("{}: {shown}: {}", report.file, problem.message)
                })
            })
            .collect();
        if problems.is_empty() {
            println!("{}: valid", report.file);
        } else {
            for line in problems {
                println!("{line}");
            }
        }
    }
}

fn print_json(reports: &[FileReport]) {
    let files: Vec<Value> = reports
        .iter()
        .map(|report| {
            let problems: Vec<Value> = report
                .specs
                .iter()
                .flat_map(|(index, problems)| {
                    problems.iter().map(move |problem| {
                        json!({"pointer": full_pointer(*index, &problem.pointer), "message": problem.message})
                    })
                })
                .collect();
            json!({"file": report.file, "valid": problems.is_empty(), "problems": problems})
        })
        .collect();
    println!("{}", json!({ "files": files }));
}
