//! `flowd store copy`: moves an install's metadata (every resource, credential hash, sandbox,
//! run and dataset statistic) into a new, empty store — typically a single-node SQLite file
//! onto the PostgreSQL a fleet shares — and, with `--datasets-to`, its published dataset files.
//! Secrets stay sealed as they were: the target's processes need the same secret key.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use flowd_store::StoreUrl;

/// Arguments of `flowd store copy`.
#[derive(clap::Args, Debug)]
pub struct CopyArgs {
    /// The store to copy: `sqlite://PATH` (a single-node install's `flowd.sqlite`) or
    /// `postgres://…`.
    #[arg(long)]
    pub from: String,
    /// The store to fill; it must be empty: `postgres://USER:PASS@HOST:PORT/DB` or `sqlite://PATH`.
    #[arg(long)]
    pub to: String,
    /// The datasets directory of the install being copied (default: `datasets` beside the
    /// `--from` SQLite file); only read with `--datasets-to`.
    #[arg(long)]
    pub datasets_from: Option<PathBuf>,
    /// Copy the published dataset files there too (a local path or `file:///PATH`, which must
    /// not exist or be empty); without it datasets stay where they are.
    #[arg(long)]
    pub datasets_to: Option<String>,
}

pub async fn run(args: CopyArgs) -> anyhow::Result<()> {
    let from = StoreUrl::parse(&args.from)?;
    let to = StoreUrl::parse(&args.to)?;
    let datasets = match &args.datasets_to {
        Some(target) => {
            let source = match (&args.datasets_from, &from) {
                (Some(source), _) => source.clone(),
                (None, StoreUrl::Sqlite(path)) => path
                    .parent()
                    .unwrap_or_else(|| Path::new("."))
                    .join("datasets"),
                (None, StoreUrl::Postgres(_)) => {
                    anyhow::bail!(
                        "--datasets-to needs --datasets-from when copying from PostgreSQL"
                    )
                }
            };
            let target = PathBuf::from(target.strip_prefix("file://").unwrap_or(target));
            anyhow::ensure!(
                std::fs::read_dir(&target).map_or(true, |mut entries| entries.next().is_none()),
                "--datasets-to {} is not empty",
                target.display()
            );
            Some((source, target))
        }
        None => None,
    };
    let report = flowd_store::copy_between(&from, &to)
        .await
        .with_context(|| format!("copying {} into {}", from.shown(), to.shown()))?;
    for (table, rows) in &report.tables {
        println!("{table}: {rows} rows");
    }
    if let Some((source, target)) = datasets {
        let files = copy_published(&source, &target).with_context(|| {
            format!(
                "copying the datasets of {} to {}",
                source.display(),
                target.display()
            )
        })?;
        println!("datasets: {files} files");
    }
    println!("copied {} into {}", from.shown(), to.shown());
    Ok(())
}

/// Copies the published batches of a datasets directory: every entry whose name does not
/// start with `.` (the staging area, writer locks and temporary files stay behind; batch
/// manifests, which start with `_`, go along). Returns the number of files copied.
fn copy_published(source: &Path, target: &Path) -> std::io::Result<u64> {
    std::fs::create_dir_all(target)?;
    let mut files = 0;
    for entry in std::fs::read_dir(source)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let destination = target.join(&name);
        if entry.file_type()?.is_dir() {
            files += copy_published(&entry.path(), &destination)?;
        } else {
            std::fs::copy(entry.path(), &destination)?;
            files += 1;
        }
    }
    Ok(files)
}
