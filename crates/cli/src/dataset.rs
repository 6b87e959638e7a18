//! `flowd dataset list|schema|head`: datasets read back from the data dir —
//! their names from the store, their batches, schema and records from the
//! Parquet files — without a running server.

use std::path::PathBuf;

use anyhow::Context;
use flowd_sink::Dataset;
use flowd_store::{ResourceKind, SqliteStore, Store};
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

pub async fn run(args: DatasetArgs) -> anyhow::Result<()> {
    let datasets_root = args.data_dir.join("datasets");
    match args.command {
        DatasetCommand::List => {
            anyhow::ensure!(
                args.data_dir.exists(),
                "{} is not a flowd data dir",
                args.data_dir.display()
            );
            let store = SqliteStore::open_in_data_dir(&args.data_dir).await?;
            println!("id\tname\torg\tsandbox\tbatches\trecords");
            for (scope, dataset) in store.list_all_resources(ResourceKind::Dataset).await? {
                let name = dataset
                    .body
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let files = Dataset::open(&datasets_root, &dataset.id)?;
                let batches = files.batches().map(|batches| batches.len()).unwrap_or(0);
                let records = files.record_count().unwrap_or(0);
                println!(
                    "{}\t{name}\t{}\t{}\t{batches}\t{records}",
                    dataset.id, scope.org_id, scope.sandbox_name
                );
            }
            store.close().await;
        }
        DatasetCommand::Schema { dataset_id } => {
            let dataset = Dataset::open(&datasets_root, &dataset_id)?;
            let schema = dataset
                .schema()
                .with_context(|| format!("reading the schema of {dataset_id}"))?
                .with_context(|| format!("the dataset {dataset_id} has no batch yet"))?;
            for field in schema.fields() {
                let nullable = if field.is_nullable() { "" } else { " not null" };
                println!("{}: {}{nullable}", field.name(), field.data_type());
            }
        }
        DatasetCommand::Head { dataset_id, count } => {
            let dataset = Dataset::open(&datasets_root, &dataset_id)?;
            for record in dataset.head(count)? {
                println!("{record}");
            }
        }
    }
    Ok(())
}
