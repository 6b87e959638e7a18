//! End-to-end behaviour of datasets on disk: round trips, type drift,
//! atomic visibility, retries, bounded buffering, reading back.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_schema::{DataType, TimeUnit};
use flowd_sink::{
    Dataset, DatasetStore, INGESTED_AT_COLUMN, LocalDatasets, RUN_ID_COLUMN, WriterOptions,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Value, json};

fn timestamp(millis: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(millis).unwrap()
}

/// Every `*.parquet` under `dir`, recursively, names starting with `.`/`_`
/// included: what the laxest glob would match.
fn all_parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(all_parquet_files(&path));
        } else if path
            .extension()
            .is_some_and(|extension| extension == "parquet")
        {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Reads every Parquet file under `dir` with parquet's own Arrow reader (not
/// the crate's code) and returns the rows as JSON, flowd columns removed.
/// Nulls are omitted, as in the records written.
fn read_records(dir: &Path) -> Vec<Value> {
    let mut records = Vec::new();
    for path in all_parquet_files(dir) {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let mut batch = batch.unwrap();
            for column in [INGESTED_AT_COLUMN, RUN_ID_COLUMN] {
                let index = batch.schema().index_of(column).unwrap();
                batch.remove_column(index);
            }
            let mut writer = arrow_json::ArrayWriter::new(Vec::new());
            writer.write(&batch).unwrap();
            writer.finish().unwrap();
            let rows: Vec<Value> = serde_json::from_slice(&writer.into_inner()).unwrap();
            records.extend(rows);
        }
    }
    records
}

fn column_type(schema: &arrow_schema::Schema, name: &str) -> DataType {
    schema.field_with_name(name).unwrap().data_type().clone()
}

#[test]
fn nested_records_round_trip_through_parquet() {
    let root = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(root.path(), "members").unwrap();
    let records = vec![
        json!({"id": 1, "email": "a@example.com", "score": 1.5, "vip": true,
               "merge_fields": {"FNAME": "Ada", "ADDRESS": {"city": "Paris", "zip": "75001"}},
               "tags": [{"id": 7, "name": "x"}], "ids": [1, 2, 3]}),
        json!({"id": 2, "email": "b@example.com", "score": 2.0, "vip": false,
               "merge_fields": {"FNAME": "Bob", "ADDRESS": {"city": "Oslo", "zip": "0150"}},
               "tags": [], "ids": [4]}),
    ];
    let mut writer = dataset
        .begin_batch(
            "run-1",
            "run-1",
            timestamp(1_700_000_000_000),
            &dataset.record_type().unwrap(),
        )
        .unwrap();
    writer.write(records.clone()).unwrap();
    let summary = writer.commit().unwrap();

    assert_eq!(summary.batch.record_count, 2);
    assert_eq!(summary.batch.files.len(), 1);
    assert_eq!(read_records(dataset.dir()), records);
    let schema = summary.schema;
    assert_eq!(column_type(&schema, "id"), DataType::Int64);
    assert_eq!(column_type(&schema, "score"), DataType::Float64);
    assert_eq!(column_type(&schema, "vip"), DataType::Boolean);
    assert!(matches!(
        column_type(&schema, "merge_fields"),
        DataType::Struct(_)
    ));
    assert!(matches!(column_type(&schema, "tags"), DataType::List(_)));
}

#[test]
fn flowd_columns_carry_run_id_and_ingestion_time() {
    let root = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(root.path(), "ds").unwrap();
    let mut writer = dataset
        .begin_batch(
            "b1",
            "run-42",
            timestamp(1_700_000_000_123),
            &dataset.record_type().unwrap(),
        )
        .unwrap();
    // A record's own `_flowd_run_id` never overrides flowd's.
    writer
        .write(vec![json!({"a": 1, "_flowd_run_id": "forged"})])
        .unwrap();
    let summary = writer.commit().unwrap();

    assert_eq!(column_type(&summary.schema, RUN_ID_COLUMN), DataType::Utf8);
    assert_eq!(
        column_type(&summary.schema, INGESTED_AT_COLUMN),
        DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
    );
    let head = dataset.head(10).unwrap();
    assert_eq!(head.len(), 1);
    assert_eq!(head[0][RUN_ID_COLUMN], "run-42");
    let ingested_at = head[0][INGESTED_AT_COLUMN].as_str().unwrap();
    assert!(
        ingested_at.starts_with("2023-11-14T22:13:20.123"),
        "{ingested_at}"
    );
}

#[test]
fn drift_across_row_groups_starts_a_file_with_the_widened_schema() {
    let root = tempfile::tempdir().unwrap();
    let dataset = dataset_with(
        root.path(),
        WriterOptions {
            max_row_group_records: 2,
            ..WriterOptions::default()
        },
    );
    let mut writer = dataset
        .begin_batch("b1", "b1", timestamp(0), &dataset.record_type().unwrap())
        .unwrap();
    // Row group 1: a is an integer. Row group 2: same schema, same file.
    writer
        .write(vec![json!({"a": 1}), json!({"a": 2})])
        .unwrap();
    writer
        .write(vec![json!({"a": 3}), json!({"a": null})])
        .unwrap();
    // Row group 3: a becomes a float and b appears: new file.
    writer
        .write(vec![json!({"a": 1.5}), json!({"a": 4, "b": "x"})])
        .unwrap();
    // Row group 4: a conflicts (object): widened to string, new file.
    writer
        .write(vec![json!({"a": {"k": 1}}), json!({"a": "text"})])
        .unwrap();
    let summary = writer.commit().unwrap();

    assert_eq!(summary.batch.files.len(), 3);
    assert_eq!(
        summary
            .batch
            .files
            .iter()
            .map(|file| file.record_count)
            .collect::<Vec<_>>(),
        vec![4, 2, 2]
    );
    assert_eq!(column_type(&summary.schema, "a"), DataType::Utf8);
    assert_eq!(column_type(&summary.schema, "b"), DataType::Utf8);
    let values: Vec<Value> = read_records(dataset.dir())
        .into_iter()
        .map(|record| record["a"].clone())
        .collect();
    assert_eq!(
        values,
        vec![
            json!(1),
            json!(2),
            json!(3),
            Value::Null,
            json!(1.5),
            json!(4.0),
            json!("{\"k\":1}"),
            json!("text")
        ]
    );
    assert_eq!(dataset.record_count().unwrap(), 8);
}

#[test]
fn conflicting_types_within_a_row_group_widen_to_json_text() {
    let root = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(root.path(), "ds").unwrap();
    let mut writer = dataset
        .begin_batch("b1", "b1", timestamp(0), &dataset.record_type().unwrap())
        .unwrap();
    writer
        .write(vec![
            json!({"v": 1, "l": [1, "two"], "empty": {}, "n": null}),
            json!({"v": true, "l": [3], "empty": {}, "n": null}),
            json!({"v": [1, 2], "l": null}),
        ])
        .unwrap();
    let summary = writer.commit().unwrap();
    assert_eq!(column_type(&summary.schema, "v"), DataType::Utf8);
    assert_eq!(column_type(&summary.schema, "n"), DataType::Null);
    assert_eq!(column_type(&summary.schema, "empty"), DataType::Null);
    let records = read_records(dataset.dir());
    let v: Vec<&Value> = records.iter().map(|record| &record["v"]).collect();
    assert_eq!(v, [&json!("1"), &json!("true"), &json!("[1,2]")]);
    assert_eq!(records[0]["l"], json!(["1", "two"]));
    assert_eq!(records[1]["l"], json!(["3"]));
}

#[test]
fn later_batches_add_columns_and_widen_the_dataset_schema() {
    let root = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(root.path(), "ds").unwrap();
    let mut first = dataset
        .begin_batch(
            "b1",
            "b1",
            timestamp(1_000),
            &dataset.record_type().unwrap(),
        )
        .unwrap();
    first.write(vec![json!({"id": 1, "n": 10})]).unwrap();
    first.commit().unwrap();
    let mut second = dataset
        .begin_batch(
            "b2",
            "b2",
            timestamp(2_000),
            &dataset.record_type().unwrap(),
        )
        .unwrap();
    second
        .write(vec![json!({"id": 2, "n": "ten", "extra": {"x": true}})])
        .unwrap();
    second.commit().unwrap();

    let schema = dataset.schema().unwrap().unwrap();
    let names: Vec<&str> = schema
        .fields()
        .iter()
        .map(|field| field.name().as_str())
        .collect();
    assert_eq!(
        names,
        ["id", "n", "extra", RUN_ID_COLUMN, INGESTED_AT_COLUMN]
    );
    assert_eq!(column_type(&schema, "id"), DataType::Int64);
    assert_eq!(column_type(&schema, "n"), DataType::Utf8);
    assert!(matches!(column_type(&schema, "extra"), DataType::Struct(_)));

    let head = dataset.head(10).unwrap();
    assert_eq!(head.len(), 2);
    assert_eq!(head[0]["n"], 10);
    assert_eq!(head[0][RUN_ID_COLUMN], "b1");
    assert_eq!(head[1]["n"], "ten");
    assert_eq!(head[1]["extra"], json!({"x": true}));
    assert_eq!(dataset.head(1).unwrap().len(), 1);
    assert_eq!(dataset.record_count().unwrap(), 2);
    let batch_ids: Vec<String> = dataset
        .batches()
        .unwrap()
        .into_iter()
        .map(|batch| batch.batch_id)
        .collect();
    assert_eq!(batch_ids, ["b1", "b2"]);
}

#[test]
fn nothing_is_visible_before_commit_and_a_dropped_writer_leaves_nothing() {
    let root = tempfile::tempdir().unwrap();
    let dataset = dataset_with(
        root.path(),
        WriterOptions {
            max_row_group_records: 10,
            ..WriterOptions::default()
        },
    );
    let mut writer = dataset
        .begin_batch("b1", "b1", timestamp(0), &dataset.record_type().unwrap())
        .unwrap();
    writer
        .write((0..100).map(|i| json!({"i": i})).collect())
        .unwrap();
    // Files exist, but only in the staging area, whose name readers skip.
    let staged = all_parquet_files(root.path());
    assert!(!staged.is_empty());
    for path in &staged {
        let relative = path.strip_prefix(root.path()).unwrap();
        assert!(
            relative.to_str().unwrap().starts_with(".flowd-staging/"),
            "{relative:?}"
        );
    }
    assert!(all_parquet_files(dataset.dir()).is_empty());
    assert_eq!(dataset.record_count().unwrap(), 0);
    drop(writer);
    assert!(all_parquet_files(root.path()).is_empty());
    assert!(dataset.batches().unwrap().is_empty());

    let mut aborted = dataset
        .begin_batch("b2", "b2", timestamp(0), &dataset.record_type().unwrap())
        .unwrap();
    aborted.write(vec![json!({"i": 1})]).unwrap();
    aborted.abort().unwrap();
    assert!(all_parquet_files(root.path()).is_empty());
}

#[test]
fn retrying_a_batch_id_replaces_the_batch() {
    let root = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(root.path(), "ds").unwrap();
    for attempt in 0..3 {
        let mut writer = dataset
            .begin_batch(
                "run-7",
                "run-7",
                timestamp(attempt),
                &dataset.record_type().unwrap(),
            )
            .unwrap();
        writer
            .write(
                (0..50)
                    .map(|i| json!({"i": i, "attempt": attempt}))
                    .collect(),
            )
            .unwrap();
        writer.commit().unwrap();
        assert_eq!(dataset.record_count().unwrap(), 50);
    }
    assert_eq!(dataset.batches().unwrap().len(), 1);
    let records = read_records(dataset.dir());
    assert_eq!(records.len(), 50);
    assert!(records.iter().all(|record| record["attempt"] == 2));
    // The superseded batches left nothing behind, staged or not.
    assert_eq!(all_parquet_files(root.path()).len(), 1);
    assert_eq!(dataset.sweep_staging().unwrap(), 0);
}

#[test]
fn an_empty_batch_replaces_an_earlier_attempt() {
    let root = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(root.path(), "ds").unwrap();
    let mut writer = dataset
        .begin_batch("r", "r", timestamp(0), &dataset.record_type().unwrap())
        .unwrap();
    writer.write(vec![json!({"a": 1})]).unwrap();
    writer.commit().unwrap();
    let summary = dataset
        .begin_batch("r", "r", timestamp(0), &dataset.record_type().unwrap())
        .unwrap()
        .commit()
        .unwrap();
    assert_eq!(summary.batch.record_count, 0);
    assert!(summary.batch.files.is_empty());
    assert_eq!(dataset.record_count().unwrap(), 0);
    assert_eq!(dataset.schema().unwrap(), None);
}

#[test]
fn a_large_run_never_buffers_more_than_one_row_group() {
    let root = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(root.path(), "ds").unwrap();
    let mut writer = dataset
        .begin_batch("big", "big", timestamp(0), &dataset.record_type().unwrap())
        .unwrap();
    for page in 0..2_000 {
        let records = (0..100)
            .map(|i| json!({"id": page * 100 + i, "s": "x"}))
            .collect();
        writer.write(records).unwrap();
        assert!(writer.buffered_records() < 10_000);
    }
    assert_eq!(writer.peak_buffered_records(), 10_000);
    let summary = writer.commit().unwrap();
    assert_eq!(summary.batch.record_count, 200_000);
    assert_eq!(summary.batch.files.len(), 1);
    let file = File::open(&dataset.parquet_files().unwrap()[0]).unwrap();
    let metadata = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .metadata()
        .clone();
    assert_eq!(metadata.num_row_groups(), 20);
}

#[test]
fn names_that_are_not_single_visible_path_components_are_refused() {
    let root = tempfile::tempdir().unwrap();
    for bad in ["", "..", "a/b", "_hidden", ".x", "-x"] {
        assert!(Dataset::open(root.path(), bad).is_err(), "{bad:?}");
    }
    let dataset = Dataset::open(root.path(), "ok").unwrap();
    assert!(
        dataset
            .begin_batch("../x", "r", timestamp(0), &dataset.record_type().unwrap())
            .is_err()
    );
    let error = dataset
        .begin_batch("b", "r", timestamp(0), &dataset.record_type().unwrap())
        .unwrap()
        .write(vec![json!([1])])
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "record 0 of the page is not a json object"
    );
}

#[tokio::test]
async fn local_datasets_pass_the_dataset_store_conformance_suite() {
    flowd_sink::conformance::check_all(|| async {
        let root = tempfile::tempdir().unwrap();
        let datasets: std::sync::Arc<dyn flowd_sink::DatasetStore> =
            std::sync::Arc::new(LocalDatasets::new(root.path()));
        (datasets, Box::new(root) as Box<dyn std::any::Any + Send>)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_datasets_pass_the_dataset_store_conformance_suite() {
    let Some(server) = flowd_sink::moto::MotoServer::start_or_skip(
        "object_datasets_pass_the_dataset_store_conformance_suite",
    ) else {
        return;
    };
    let server = std::sync::Arc::new(server);
    flowd_sink::conformance::check_all(|| {
        let server = server.clone();
        async move {
            let local = tempfile::tempdir().unwrap();
            let datasets: std::sync::Arc<dyn flowd_sink::DatasetStore> =
                std::sync::Arc::new(server.fresh_datasets(local.path()).unwrap().0);
            let guard: Box<dyn std::any::Any + Send> = Box::new((local, server));
            (datasets, guard)
        }
    })
    .await;
}

/// The keys a reader listing `prefix/<dataset>/` sees, relative to that.
async fn keys_under(
    server: &flowd_sink::moto::MotoServer,
    prefix: &str,
    dataset: &str,
) -> Vec<String> {
    use futures::TryStreamExt as _;
    use object_store::ObjectStore as _;
    let client = server.client().unwrap();
    let root = object_store::path::Path::from(format!("{prefix}/{dataset}"));
    let mut keys: Vec<String> = client
        .list(Some(&root))
        .map_ok(|meta| {
            meta.location
                .as_ref()
                .trim_start_matches(&format!("{root}/"))
                .to_owned()
        })
        .try_collect()
        .await
        .unwrap();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_batch_is_one_parquet_object_even_when_its_schema_widened() {
    let Some(server) = flowd_sink::moto::MotoServer::start_or_skip(
        "an_object_batch_is_one_parquet_object_even_when_its_schema_widened",
    ) else {
        return;
    };
    let local = tempfile::tempdir().unwrap();
    let (datasets, prefix) = server.fresh_datasets(local.path()).unwrap();
    let datasets = datasets.with_writer_options(flowd_sink::WriterOptions {
        max_row_group_records: 2,
        max_row_group_bytes: 1 << 20,
        ..flowd_sink::WriterOptions::default()
    });
    let dataset = "0123456789abcdef01234567";
    let mut batch = datasets
        .begin_batch(dataset, "b1", "run-1", timestamp(0), &Default::default())
        .unwrap();
    // Two row groups of integers, then one where `score` is a float and `tag` appears: the
    // local writer starts a second file; the object batch is still one object.
    batch
        .write(vec![
            json!({"id": 1, "score": 1}),
            json!({"id": 2, "score": 2}),
        ])
        .unwrap();
    batch
        .write(vec![
            json!({"id": 3, "score": 2.5, "tag": "x"}),
            json!({"id": 4, "score": 4}),
        ])
        .unwrap();
    let summary = batch.commit().unwrap();
    assert_eq!(summary.batch.files.len(), 1, "{:?}", summary.batch.files);
    assert_eq!(
        keys_under(&server, &prefix, dataset).await,
        ["batch-b1/_flowd_batch.json", "batch-b1/part-00000.parquet"]
    );
    let records = datasets.head(dataset, 10).unwrap();
    let scores: Vec<f64> = records
        .iter()
        .map(|record| record["score"].as_f64().unwrap())
        .collect();
    assert_eq!(scores, [1.0, 2.0, 2.5, 4.0]);
    assert_eq!(records[2]["tag"], "x");
    assert!(records[0]["tag"].is_null());
    // A column that was a struct and becomes text holds each earlier value's JSON text.
    let mut widened = datasets
        .begin_batch(dataset, "b2", "run-2", timestamp(0), &Default::default())
        .unwrap();
    widened
        .write(vec![
            json!({"id": 5, "v": {"a": 1}}),
            json!({"id": 6, "v": {"a": 2}}),
        ])
        .unwrap();
    widened
        .write(vec![
            json!({"id": 7, "v": "plain"}),
            json!({"id": 8, "v": null}),
        ])
        .unwrap();
    widened.commit().unwrap();
    let values: Vec<Value> = datasets
        .head(dataset, 10)
        .unwrap()
        .into_iter()
        .filter(|record| record["id"].as_i64() >= Some(5))
        .map(|record| record["v"].clone())
        .collect();
    assert_eq!(
        values,
        [
            json!("{\"a\":1}"),
            json!("{\"a\":2}"),
            json!("plain"),
            Value::Null
        ]
    );
    datasets
        .begin_batch(dataset, "b2", "run-2", timestamp(3), &Default::default())
        .unwrap()
        .commit()
        .unwrap();
    // A retry of the batch replaces the object at the same key; an empty one removes it.
    let mut retry = datasets
        .begin_batch(dataset, "b1", "run-1", timestamp(1), &Default::default())
        .unwrap();
    retry.write(vec![json!({"id": 9, "score": 9})]).unwrap();
    retry.commit().unwrap();
    assert_eq!(datasets.head(dataset, 10).unwrap().len(), 1);
    let empty = datasets
        .begin_batch(dataset, "b1", "run-1", timestamp(2), &Default::default())
        .unwrap();
    empty.commit().unwrap();
    assert!(keys_under(&server, &prefix, dataset).await.is_empty());
    assert!(datasets.location(dataset).starts_with("s3://flowd-test/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_larger_than_a_part_goes_up_in_parts_and_reads_back_whole() {
    let Some(server) = flowd_sink::moto::MotoServer::start_or_skip(
        "a_batch_larger_than_a_part_goes_up_in_parts_and_reads_back_whole",
    ) else {
        return;
    };
    let local = tempfile::tempdir().unwrap();
    let (datasets, prefix) = server.fresh_datasets(local.path()).unwrap();
    let dataset = "0123456789abcdef01234567";
    // Text that compresses little (hex digits: zstd halves it): about 2.5 parts of Parquet.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut noise = || {
        (0..64)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                format!("{:016x}", state)
            })
            .collect::<String>()
    };
    let records: Vec<Value> = (0..40_000)
        .map(|id| json!({"id": id, "noise": noise()}))
        .collect();
    let mut batch = datasets
        .begin_batch(dataset, "big", "run-big", timestamp(0), &Default::default())
        .unwrap();
    for page in records.chunks(1_000) {
        batch.write(page.to_vec()).unwrap();
    }
    let summary = batch.commit().unwrap();
    assert!(
        summary.batch.bytes > 2 * flowd_sink::PART_BYTES as u64,
        "the batch spans several parts: {} bytes",
        summary.batch.bytes
    );
    assert_eq!(
        keys_under(&server, &prefix, dataset).await,
        [
            "batch-big/_flowd_batch.json",
            "batch-big/part-00000.parquet"
        ]
    );
    let read = datasets.head(dataset, 50_000).unwrap();
    assert_eq!(read.len(), 40_000);
    assert_eq!(read[12_345]["noise"], records[12_345]["noise"]);
    let found = datasets.published_batch(dataset, "big").unwrap().unwrap();
    assert_eq!(found.batch.record_count, 40_000);
    assert_eq!(found.batch.bytes, summary.batch.bytes);
}

#[test]
fn a_batch_goes_on_in_a_new_file_after_the_most_row_groups_per_file() {
    let root = tempfile::tempdir().unwrap();
    let dataset = dataset_with(
        root.path(),
        WriterOptions {
            max_row_group_records: 3,
            max_row_groups_per_file: Some(2),
            ..WriterOptions::default()
        },
    );
    let mut writer = dataset
        .begin_batch("b1", "b1", timestamp(0), &Default::default())
        .unwrap();
    let records: Vec<Value> = (0..20).map(|id| json!({"id": id})).collect();
    writer.write(records.clone()).unwrap();
    let summary = writer.commit().unwrap();
    // Seven row groups (3 records each, the last of 2), two per file.
    assert_eq!(
        summary
            .batch
            .files
            .iter()
            .map(|file| file.record_count)
            .collect::<Vec<_>>(),
        [6, 6, 6, 2]
    );
    let ids: Vec<Value> = dataset
        .head(100)
        .unwrap()
        .into_iter()
        .map(|record| record["id"].clone())
        .collect();
    assert_eq!(ids, (0..20).map(|id| json!(id)).collect::<Vec<_>>());
}

/// The dataset `ds` under `root`, written with `options`.
fn dataset_with(root: &Path, options: WriterOptions) -> Dataset {
    Dataset::open(root, "ds")
        .unwrap()
        .with_writer_options(options)
}
