//! `flowd dataset list|schema|head`: datasets read back without a running server — names and
//! counts from the store (the statistics kept when batches commit), schema and records from
//! the Parquet files.

use std::path::PathBuf;

use anyhow::Context;

use flowd_store::ResourceKind;
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
    /// Where the datasets are (`--datasets-url` of `flowd serve`); `<data-dir>/datasets` by
    /// default.
    #[arg(long = "datasets-url", env = "FLOWD_DATASETS_URL", global = true)]
    datasets_url: Option<String>,
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
    let datasets = flowd_sink::open_datasets(args.datasets_url.as_deref(), &args.data_dir)?;
    match args.command {
        DatasetCommand::List => {
            anyhow::ensure!(
                args.data_dir.exists() || args.store.is_some(),
                "{} is not a flowd data dir",
                args.data_dir.display()
            );
            let store = crate::data::open_store(&args.data_dir, args.store.as_deref()).await?;
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
