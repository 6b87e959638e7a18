//! `flowd dataset list|schema|head`: datasets read back without a running server — names and
//! counts from the store (the statistics kept when batches commit), schema and records from
//! the Parquet files. Also rebuilds the statistics of a dataset whose batches were written by
//! a flowd that did not keep them.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use flowd_sink::{DatasetStore, LocalDatasets};
use flowd_store::{BatchCommit, ResourceKind, Scope, Store};
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct DatasetArgs {
    #[command(subcommand)]
    command: DatasetCommand,
    /// Directory holding the database and the datasets.
    #[arg(
        long,
        env = "FLOWD_DATA_DIR",
        default_value = "./flowd-data",
        global = true
    )]
    data_dir: PathBuf,
    /// The metadata store, as a URL (`sqlite://PATH`); the data dir's by default.
    #[arg(long = "store", env = "FLOWD_STORE_URL", global = true)]
    store: Option<String>,
}

#[derive(clap::Subcommand, Debug)]
enum DatasetCommand {
    /// Every dataset: id, name, org, sandbox, batches and records.
    List,
    /// The dataset's merged schema (every batch's columns).
    Schema { dataset_id: String },
    /// The first records, one JSON object per line.
    Head {
        dataset_id: String,
        /// How many records.
        #[arg(short = 'n', long = "lines", default_value_t = 10)]
        count: usize,
    },
}

/// Records the committed batches of `dataset_id` (read from its files) in the store's
/// statistics when the store has none for it yet.
pub async fn rebuild_missing_stats(
    store: &dyn Store,
    datasets: Arc<dyn DatasetStore>,
    scope: &Scope,
    dataset_id: &str,
) -> anyhow::Result<()> {
    if store.dataset_stats(scope, dataset_id).await?.is_some() {
        return Ok(());
    }
    let id = dataset_id.to_owned();
    let (batches, record_type) = tokio::task::spawn_blocking(move || {
        let batches = datasets.batches(&id)?;
        let record_type = datasets
            .schema(&id)?
            .map(|schema| flowd_sink::arrow_types::record_type_of_schema(&schema))
            .unwrap_or_default();
        Ok::<_, flowd_sink::SinkError>((batches, record_type))
    })
    .await??;
    if batches.is_empty() {
        return Ok(());
    }
    let schema = serde_json::to_string(&record_type)?;
    let merge = |_stored: Option<&str>| schema.clone();
    for batch in &batches {
        let commit = BatchCommit {
            dataset_id,
            batch_id: &batch.batch_id,
            record_count: batch.record_count,
            bytes: batch.bytes,
            file_count: batch.files.len() as u64,
            merge_schema: &merge,
        };
        store
            .record_batch(scope, Some(&batch.run_id), &commit)
            .await?;
    }
    tracing::info!(%dataset_id, batches = batches.len(), "rebuilt the dataset's statistics from its files");
    Ok(())
}

pub async fn run(args: DatasetArgs) -> anyhow::Result<()> {
    let datasets = LocalDatasets::in_data_dir(&args.data_dir);
    match args.command {
        DatasetCommand::List => {
            anyhow::ensure!(
                args.data_dir.exists() || args.store.is_some(),
                "{} is not a flowd data dir",
                args.data_dir.display()
            );
            let store = crate::serve::open_store(&args.data_dir, args.store.as_deref()).await?;
            println!("id\tname\torg\tsandbox\tbatches\trecords");
            for (scope, dataset) in store.list_all_resources(ResourceKind::Dataset).await? {
                let name = dataset
                    .body
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let stats = store
                    .dataset_stats(&scope, &dataset.id)
                    .await?
                    .unwrap_or_default();
                println!(
                    "{}\t{name}\t{}\t{}\t{}\t{}",
                    dataset.id,
                    scope.org_id,
                    scope.sandbox_name,
                    stats.batch_count,
                    stats.record_count
                );
            }
            store.close().await;
        }
        DatasetCommand::Schema { dataset_id } => {
            let schema = datasets
                .schema(&dataset_id)
                .with_context(|| format!("reading the schema of {dataset_id}"))?
                .with_context(|| format!("the dataset {dataset_id} has no batch yet"))?;
            for field in schema.fields() {
                let nullable = if field.is_nullable() { "" } else { " not null" };
                println!("{}: {}{nullable}", field.name(), field.data_type());
            }
        }
        DatasetCommand::Head { dataset_id, count } => {
            for record in datasets.head(&dataset_id, count)? {
                println!("{record}");
            }
        }
    }
    Ok(())
}
