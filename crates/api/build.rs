//! Embeds the console's files (every file under `console/`, hidden ones aside) into the
//! binary: writes `console_assets.rs` into `OUT_DIR`, a table of each file's path, its bytes
//! (`include_bytes!`) and an entity tag, which `src/console/assets.rs` serves. Nothing is
//! fetched or built at run time. Cargo reruns this when anything under `console/` changes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=console");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir.join("console");
    let mut files = Vec::new();
    if root.is_dir() {
        collect_files(&root, &root, &mut files);
    }
    files.sort();
    let mut table = String::from(
        "/// Every console file: (path under `console/`, contents, entity tag).\n\
         pub(crate) static CONSOLE_ASSETS: &[(&str, &[u8], &str)] = &[\n",
    );
    for (relative, absolute) in &files {
        let bytes = std::fs::read(absolute).expect("a console file is readable");
        writeln!(
            table,
            "    ({relative:?}, include_bytes!({:?}), \"\\\"{:016x}\\\"\"),",
            absolute.display().to_string(),
            fnv1a(&bytes)
        )
        .expect("writing to a string");
    }
    table.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::write(out_dir.join("console_assets.rs"), table).expect("OUT_DIR is writable");
}

/// Every file below `directory`, as (path relative to `root` with `/`, absolute path).
fn collect_files(root: &Path, directory: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(directory).expect("the console folder is readable");
    for entry in entries {
        let path = entry.expect("a console folder entry").path();
        let hidden = path
            .file_name()
            .and_then(|name| name.to_str())
            .is_none_or(|name| name.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect_files(root, &path, files);
        } else if let Some(relative) = path.strip_prefix(root).ok().and_then(Path::to_str) {
            files.push((relative.replace('\\', "/"), path.clone()));
        }
    }
}

/// FNV-1a, 64 bits: an entity tag that changes with the file (not a security property).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
