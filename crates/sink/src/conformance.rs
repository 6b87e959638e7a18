//! The conformance suite every [`DatasetStore`] must pass (feature `conformance`): a second
//! implementation runs exactly these checks with one call to [`check_all`], given a function
//! that opens a fresh, empty store and a guard keeping what backs it alive.

use std::any::Any;
use std::future::Future;
use std::sync::Arc;

use flowd_model::record_type::{ColumnType, StructType};
use serde_json::{Value, json};

use crate::{DatasetStore, INGESTED_AT_COLUMN, RUN_ID_COLUMN};

/// A fresh dataset store and what keeps it alive.
pub type OpenedDatasets = (Arc<dyn DatasetStore>, Box<dyn Any + Send>);

const DATASET: &str = "0123456789abcdef01234567";

fn at(millis: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(millis).expect("a test instant")
}

/// Every check, each against a fresh store from `open`.
pub async fn check_all<Open, Opening>(open: Open)
where
    Open: Fn() -> Opening,
    Opening: Future<Output = OpenedDatasets>,
{
    macro_rules! check {
        ($check:ident) => {{
            let (datasets, _guard) = open().await;
            $check(datasets.as_ref());
        }};
    }
    check!(a_committed_batch_reads_back_whole_with_flowd_columns);
    check!(nothing_of_an_uncommitted_or_aborted_batch_is_visible);
    check!(a_recommitted_batch_replaces_the_earlier_one);
    check!(types_widen_from_the_seed_and_never_narrow);
    check!(names_that_are_not_plain_ids_are_refused);
    check!(a_dataset_without_batches_reads_back_empty);
    check!(a_published_batch_is_found_again_with_what_its_commit_returned);
    check!(a_sweep_never_removes_a_live_writers_batch);
    check!(a_batch_without_records_publishes_nothing);
    check!(a_deleted_dataset_leaves_no_file_once_its_last_writer_is_done);
    check!(a_published_file_reads_back_whole_and_from_any_offset);
    check!(a_typed_batch_has_its_schemas_column_types_whatever_the_records_hold);
}

fn records(range: std::ops::Range<u64>) -> Vec<Value> {
    range
        .map(|n| json!({"id": n, "name": format!("n{n}")}))
        .collect()
}

pub fn a_committed_batch_reads_back_whole_with_flowd_columns(datasets: &dyn DatasetStore) {
    let mut batch = datasets
        .begin_batch(
            DATASET,
            "run-1",
            "run-1",
            at(1_700_000_000_000),
            &StructType::default(),
        )
        .unwrap();
    batch.write(records(0..3)).unwrap();
    batch.write(records(3..5)).unwrap();
    assert_eq!(batch.record_count(), 5);
    let summary = batch.commit().unwrap();
    assert_eq!(summary.batch.record_count, 5);
    let batches = datasets.batches(DATASET).unwrap();
    assert_eq!(batches.len(), 1);
    assert_eq!(
        (batches[0].batch_id.as_str(), batches[0].record_count),
        ("run-1", 5)
    );
    let head = datasets.head(DATASET, 10).unwrap();
    assert_eq!(head.len(), 5);
    assert_eq!(head[4]["id"], 4);
    assert_eq!(head[0][RUN_ID_COLUMN], "run-1");
    assert!(head[0][INGESTED_AT_COLUMN].is_string());
    assert_eq!(datasets.head(DATASET, 2).unwrap().len(), 2);
}

pub fn nothing_of_an_uncommitted_or_aborted_batch_is_visible(datasets: &dyn DatasetStore) {
    let mut open = datasets
        .begin_batch(DATASET, "run-1", "run-1", at(0), &StructType::default())
        .unwrap();
    open.write(records(0..20_000)).unwrap();
    assert!(
        datasets.batches(DATASET).unwrap().is_empty(),
        "still being written"
    );
    assert!(datasets.head(DATASET, 1).unwrap().is_empty());
    open.abort().unwrap();
    let mut dropped = datasets
        .begin_batch(DATASET, "run-2", "run-2", at(0), &StructType::default())
        .unwrap();
    dropped.write(records(0..3)).unwrap();
    drop(dropped);
    assert!(
        datasets.batches(DATASET).unwrap().is_empty(),
        "aborted or dropped"
    );
    assert_eq!(datasets.schema(DATASET).unwrap(), None);
}

pub fn a_recommitted_batch_replaces_the_earlier_one(datasets: &dyn DatasetStore) {
    for attempt in 0..3 {
        let mut batch = datasets
            .begin_batch(
                DATASET,
                "run-7",
                "run-7",
                at(attempt),
                &StructType::default(),
            )
            .unwrap();
        batch.write(records(0..(10 + attempt as u64))).unwrap();
        batch.commit().unwrap();
    }
    let batches = datasets.batches(DATASET).unwrap();
    assert_eq!(batches.len(), 1, "one batch per id");
    assert_eq!(batches[0].record_count, 12, "the last attempt's records");
    assert_eq!(datasets.head(DATASET, 100).unwrap().len(), 12);
}

pub fn types_widen_from_the_seed_and_never_narrow(datasets: &dyn DatasetStore) {
    let mut first = datasets
        .begin_batch(DATASET, "b1", "b1", at(1), &StructType::default())
        .unwrap();
    first.write(vec![json!({"a": 1, "b": "x"})]).unwrap();
    let first = first.commit().unwrap();
    let mut seed = first.record_type.clone();
    let mut second = datasets
        .begin_batch(DATASET, "b2", "b2", at(2), &seed)
        .unwrap();
    second.write(vec![json!({"a": 2.5})]).unwrap();
    let second = second.commit().unwrap();
    seed.merge(&second.record_type);
    assert_eq!(
        seed.fields,
        [
            ("a".to_owned(), ColumnType::Float),
            ("b".to_owned(), ColumnType::String)
        ],
        "integer widened to float; b kept though the batch never saw it"
    );
    let mut third = datasets
        .begin_batch(DATASET, "b3", "b3", at(3), &seed)
        .unwrap();
    third.write(vec![json!({"a": 3})]).unwrap();
    assert_eq!(
        third.commit().unwrap().record_type,
        seed,
        "an integer in a float column stays float"
    );
    let schema = datasets.schema(DATASET).unwrap().unwrap();
    assert_eq!(crate::arrow_types::record_type_of_schema(&schema), seed);
}

pub fn names_that_are_not_plain_ids_are_refused(datasets: &dyn DatasetStore) {
    for bad in ["", "..", "a/b", ".hidden"] {
        assert!(
            datasets
                .begin_batch(bad, "b", "b", at(0), &StructType::default())
                .is_err(),
            "dataset id {bad:?}"
        );
        assert!(
            datasets
                .begin_batch(DATASET, bad, "b", at(0), &StructType::default())
                .is_err(),
            "batch id {bad:?}"
        );
    }
}

pub fn a_dataset_without_batches_reads_back_empty(datasets: &dyn DatasetStore) {
    assert!(datasets.batches(DATASET).unwrap().is_empty());
    assert!(datasets.head(DATASET, 5).unwrap().is_empty());
    assert_eq!(datasets.schema(DATASET).unwrap(), None);
    assert_eq!(datasets.sweep_staging(DATASET).unwrap(), 0);
    assert!(!datasets.location(DATASET).is_empty());
}

/// What lets a run that crashed between its commit and its record finish from the batch it
/// already published, instead of fetching the window again.
pub fn a_published_batch_is_found_again_with_what_its_commit_returned(datasets: &dyn DatasetStore) {
    assert!(
        datasets
            .published_batch(DATASET, "run-3")
            .unwrap()
            .is_none(),
        "never written"
    );
    let mut open = datasets
        .begin_batch(DATASET, "run-3", "run-3", at(5), &StructType::default())
        .unwrap();
    open.write(records(0..4)).unwrap();
    open.write(vec![json!({"id": 4.5, "extra": true})]).unwrap();
    assert!(
        datasets
            .published_batch(DATASET, "run-3")
            .unwrap()
            .is_none(),
        "not committed yet"
    );
    let committed = open.commit().unwrap();
    let found = datasets
        .published_batch(DATASET, "run-3")
        .unwrap()
        .expect("published");
    assert_eq!(found.batch.batch_id, "run-3");
    assert_eq!(found.batch.run_id, "run-3");
    assert_eq!(found.batch.record_count, 5);
    assert_eq!(found.batch.bytes, committed.batch.bytes);
    assert_eq!(found.batch.files, committed.batch.files);
    assert_eq!(found.record_type, committed.record_type);
    assert!(datasets.published_batch(DATASET, "../run-3").is_err());
}

/// Several processes may share a datasets location, and each sweeps at start-up: a sweep
/// while a batch is being written leaves it whole and committable.
pub fn a_sweep_never_removes_a_live_writers_batch(datasets: &dyn DatasetStore) {
    let mut live = datasets
        .begin_batch(DATASET, "run-9", "run-9", at(9), &StructType::default())
        .unwrap();
    live.write(records(0..25_000)).unwrap();
    assert_eq!(
        datasets.sweep_staging(DATASET).unwrap(),
        0,
        "nothing of it is a leftover"
    );
    live.write(records(25_000..25_010)).unwrap();
    let summary = live.commit().unwrap();
    assert_eq!(summary.batch.record_count, 25_010);
    assert_eq!(datasets.head(DATASET, 30_000).unwrap().len(), 25_010);
    assert_eq!(
        datasets.sweep_staging(DATASET).unwrap(),
        0,
        "nothing left behind"
    );
}

/// A run that fetched nothing leaves no batch behind (a folder holding only a manifest makes
/// `read_parquet('<id>/*/*.parquet')` fail), and a retried run that fetched nothing removes
/// its earlier batch.
pub fn a_batch_without_records_publishes_nothing(datasets: &dyn DatasetStore) {
    let empty = datasets
        .begin_batch(DATASET, "run-e", "run-e", at(1), &StructType::default())
        .unwrap();
    let summary = empty.commit().unwrap();
    assert_eq!(
        (summary.batch.record_count, summary.batch.files.len()),
        (0, 0)
    );
    assert!(datasets.batches(DATASET).unwrap().is_empty());
    assert!(
        datasets
            .published_batch(DATASET, "run-e")
            .unwrap()
            .is_none()
    );
    let mut first = datasets
        .begin_batch(DATASET, "run-r", "run-r", at(2), &StructType::default())
        .unwrap();
    first.write(records(0..3)).unwrap();
    first.commit().unwrap();
    let retried = datasets
        .begin_batch(DATASET, "run-r", "run-r", at(3), &StructType::default())
        .unwrap();
    retried.commit().unwrap();
    assert!(
        datasets.batches(DATASET).unwrap().is_empty(),
        "replaced by nothing"
    );
    assert!(datasets.head(DATASET, 10).unwrap().is_empty());
    assert_eq!(
        datasets.sweep_staging(DATASET).unwrap(),
        0,
        "nothing left in staging"
    );
}

/// Deleting a dataset removes its files, but not under a live writer: it waits until the
/// writer is done (the run fails on its own, seeing the dataset gone from the store).
pub fn a_deleted_dataset_leaves_no_file_once_its_last_writer_is_done(datasets: &dyn DatasetStore) {
    let mut committed = datasets
        .begin_batch(DATASET, "run-d1", "run-d1", at(1), &StructType::default())
        .unwrap();
    committed.write(records(0..4)).unwrap();
    committed.commit().unwrap();
    let mut live = datasets
        .begin_batch(DATASET, "run-d2", "run-d2", at(2), &StructType::default())
        .unwrap();
    live.write(records(0..4)).unwrap();
    assert!(
        !datasets.delete_dataset(DATASET).unwrap(),
        "a writer is still at work"
    );
    assert_eq!(
        datasets.batches(DATASET).unwrap().len(),
        1,
        "nothing removed yet"
    );
    live.abort().unwrap();
    assert!(datasets.delete_dataset(DATASET).unwrap());
    assert!(datasets.batches(DATASET).unwrap().is_empty());
    assert!(datasets.head(DATASET, 10).unwrap().is_empty());
    assert_eq!(
        datasets.sweep_staging(DATASET).unwrap(),
        0,
        "nothing left behind"
    );
    assert!(
        datasets.delete_dataset(DATASET).unwrap(),
        "deleting again is harmless"
    );
}

pub fn a_published_file_reads_back_whole_and_from_any_offset(datasets: &dyn DatasetStore) {
    use std::io::{Read, Seek, SeekFrom};
    assert!(datasets.batch(DATASET, "run-1").unwrap().is_none());
    let mut batch = datasets
        .begin_batch(DATASET, "run-1", "run-1", at(1), &StructType::default())
        .unwrap();
    batch.write(records(0..7)).unwrap();
    batch.commit().unwrap();
    let manifest = datasets
        .batch(DATASET, "run-1")
        .unwrap()
        .expect("published");
    assert_eq!(
        (manifest.batch_id.as_str(), manifest.record_count),
        ("run-1", 7)
    );
    let file = &manifest.files[0];
    let mut opened = datasets
        .open_batch_file(DATASET, "run-1", &file.name)
        .unwrap()
        .expect("a file the manifest names");
    assert_eq!(opened.size, file.bytes);
    let mut whole = Vec::new();
    opened.reader.read_to_end(&mut whole).unwrap();
    assert_eq!(whole.len() as u64, file.bytes);
    let rows: usize = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        bytes::Bytes::from(whole.clone()),
    )
    .unwrap()
    .build()
    .unwrap()
    .map(|batch| batch.unwrap().num_rows())
    .sum();
    assert_eq!(rows, 7);
    opened.reader.seek(SeekFrom::Start(4)).unwrap();
    let mut tail = Vec::new();
    opened.reader.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, whole[4..]);
    opened.reader.seek(SeekFrom::End(-8)).unwrap();
    let mut footer = [0_u8; 8];
    opened.reader.read_exact(&mut footer).unwrap();
    assert_eq!(&footer[4..], b"PAR1");
    for (batch_id, name) in [
        ("run-1", "_flowd_batch.json"),
        ("run-1", "part-99999.parquet"),
        ("run-2", file.name.as_str()),
    ] {
        assert!(
            datasets
                .open_batch_file(DATASET, batch_id, name)
                .unwrap()
                .is_none(),
            "{batch_id}/{name} is not a published file"
        );
    }
    assert!(datasets.batch(DATASET, "../run-1").is_err());
}

pub fn a_typed_batch_has_its_schemas_column_types_whatever_the_records_hold(
    datasets: &dyn DatasetStore,
) {
    use arrow_schema::{DataType, TimeUnit};
    let schema = flowd_model::xdm::XdmSchema::from_document(
        &json!({"type": "object", "properties": {
            "id": {"type": "integer"},
            "small": {"type": "integer", "meta:xdmType": "short"},
            "ratio": {"type": "number"},
            "born": {"type": "string", "format": "date"},
            "seen": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "scores": {"type": "object", "additionalProperties": {"type": "integer"}},
            "person": {"type": "object", "properties": {"name": {"type": "string"}}},
        }}),
        &|_| None,
    )
    .expect("the test schema reads");
    let schema = Arc::new(schema);
    let mut batch = datasets
        .begin_typed_batch(DATASET, "typed-1", "typed-1", at(1), schema.clone())
        .expect("a typed batch begins");
    // As `flowd_dataprep::convert` writes them: dates as days, date-times as microseconds.
    batch
        .write(vec![
            json!({"id": 1, "small": 2, "ratio": 0.5, "born": 19782, "seen": 1_709_200_800_000_000_i64,
                   "tags": ["a"], "scores": {"x": 1}, "person": {"name": "Ada"}}),
            json!({"id": 2}),
        ])
        .expect("converted records are written");
    batch.commit().expect("the typed batch commits");
    let mut second = datasets
        .begin_typed_batch(DATASET, "typed-2", "typed-2", at(2), schema.clone())
        .expect("a second typed batch begins");
    second
        .write(vec![json!({"id": 3, "born": 0})])
        .expect("written");
    second.commit().expect("the second typed batch commits");
    let written = datasets
        .schema(DATASET)
        .expect("the schema reads")
        .expect("a batch exists");
    let type_of = |name: &str| {
        written
            .field_with_name(name)
            .expect("a column")
            .data_type()
            .clone()
    };
    assert_eq!(type_of("id"), DataType::Int64);
    assert_eq!(type_of("small"), DataType::Int16);
    assert_eq!(type_of("ratio"), DataType::Float64);
    assert_eq!(type_of("born"), DataType::Date32);
    assert_eq!(
        type_of("seen"),
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    assert!(matches!(type_of("tags"), DataType::List(_)));
    assert!(matches!(type_of("scores"), DataType::Map(..)));
    assert!(matches!(type_of("person"), DataType::Struct(_)));
    let rows = datasets.head(DATASET, 10).expect("the rows read back");
    assert_eq!(
        rows.len(),
        3,
        "two batches of one typed schema read as one table"
    );
    assert_eq!(rows[0]["person"]["name"], "Ada");
    assert_eq!(rows[1]["small"], Value::Null);
}
