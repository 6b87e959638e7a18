//! What a measured run leaves to read: its process's peak RSS and CPU time in `/proc`, and
//! the dataset it wrote (its batches and records, its Parquet bytes).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `VmHWM` of `pid`, in KiB.
pub(crate) fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// (utime, stime) of `pid`, in clock ticks.
pub(crate) fn cpu_ticks(pid: u32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name `(…)`: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some((fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?))
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 if that fails).
pub(crate) fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// (batches, records) of the dataset, from `flowd dataset list`.
pub(crate) fn dataset_counts(
    flowd: &Path,
    data_dir: &Path,
    dataset_id: &str,
) -> Result<(u64, u64), String> {
    let output = Command::new(flowd)
        .args(["dataset", "list", "--data-dir"])
        .arg(data_dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run flowd dataset list: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "flowd dataset list failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // id, name, org, sandbox, batches, records
    text.lines()
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&dataset_id) && fields.len() >= 6)
        .and_then(|fields| Some((fields[4].parse().ok()?, fields[5].parse().ok()?)))
        .ok_or_else(|| format!("dataset {dataset_id} not in `flowd dataset list`:\n{text}"))
}

/// Total size of the `*.parquet` files readers see (no leading `_` or `.`).
pub(crate) fn parquet_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut pending: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('_') || name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if name.ends_with(".parquet") {
                total += entry.metadata().map_or(0, |m| m.len());
            }
        }
    }
    total
}
