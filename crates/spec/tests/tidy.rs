//! Source hygiene checks that clippy does not make, over the whole workspace (every crate
//! and the benchmark): every module opens with a `//!` doc comment, and library files stay
//! small enough to hold one idea.

use std::fs;
use std::path::{Path, PathBuf};

fn rust_sources(directory: &Path, sources: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(directory).expect("source directory is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_sources(&path, sources);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            sources.push(path);
        }
    }
}

/// Every `.rs` file under the workspace's crates and benchmark.
fn crate_sources() -> Vec<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut sources = Vec::new();
    for entry in fs::read_dir(workspace.join("crates")).expect("crates directory is readable") {
        let crate_dir = entry.expect("directory entry").path();
        for part in ["src", "tests"] {
            if crate_dir.join(part).is_dir() {
                rust_sources(&crate_dir.join(part), &mut sources);
            }
        }
    }
    rust_sources(&workspace.join("bench/src"), &mut sources);
    sources.sort();
    sources
}

/// Files known to be over the size limit, with why they are not split yet.
const OVERSIZED_FOR_NOW: &[(&str, &str)] = &[(
    "connector/src/run.rs",
    "the run loop with its sequential and speculative paths; the page composition is the next piece to move out",
)];

#[test]
fn every_module_of_the_workspace_has_a_doc_comment() {
    let undocumented: Vec<String> = crate_sources()
        .into_iter()
        .filter(|path| {
            let text = fs::read_to_string(path).expect("source is readable");
            !text.trim_start().starts_with("//!")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        undocumented.is_empty(),
        "modules without a leading //! doc comment: {undocumented:?}"
    );
}

#[test]
fn library_files_of_the_workspace_stay_under_600_lines_outside_tests() {
    const MAXIMUM_LINES: usize = 600;
    let oversized: Vec<String> = crate_sources()
        .into_iter()
        .filter(|path| {
            path.components()
                .any(|component| component.as_os_str() == "src")
        })
        .filter_map(|path| {
            let text = fs::read_to_string(&path).expect("source is readable");
            // Unit tests at the bottom of a file do not count against its size.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let lines = code.lines().count();
            let known = OVERSIZED_FOR_NOW
                .iter()
                .any(|(suffix, _)| path.to_string_lossy().ends_with(suffix));
            (lines > MAXIMUM_LINES && !known).then(|| format!("{} ({lines} lines)", path.display()))
        })
        .collect();
    assert!(
        oversized.is_empty(),
        "files over {MAXIMUM_LINES} lines: {oversized:?}"
    );
}
