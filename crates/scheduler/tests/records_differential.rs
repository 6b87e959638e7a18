//! The text path against the reference path, on one generated corpus.
//!
//! Each case fetches the same pages from the mock API twice: once as a run does it (records
//! handed on as the page's text where the spec allows, row groups decoded from that text), and
//! once by the reference path (every page parsed into values, records extracted from them,
//! every row group observed, conformed and decoded from values). Both batches must have the
//! same Parquet schema, file by file, and the same rows. Row groups are small so that types
//! drift between row groups, files and pages, and the dataset's earlier type seeds both.

use std::fs::File;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use flowd_connector::{HttpClient, HttpOptions, RunEvent, RunLimits, RunPlan};
use flowd_mockapi::{MockApi, Scenario};
use flowd_model::record_type::StructType;
use flowd_model::records::Records;
use flowd_sink::{LocalDatasets, WriterOptions};
use futures::StreamExt;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value, json};

/// A deterministic generator (xorshift), so a failure reproduces.
struct Generator(u64);

impl Generator {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn text(&mut self) -> String {
        const PIECES: [&str; 10] = [
            "plain",
            "ünïcödé",
            "日本語のテキスト",
            "emoji 🚀✨",
            "quote \" and backslash \\",
            "tab\tnew\nline",
            "",
            "\u{0001} control",
            "Ω≈ç√",
            "a much longer string that goes on for a while to make pages of some size",
        ];
        PIECES[self.below(PIECES.len() as u64) as usize].to_owned()
    }

    fn number(&mut self) -> Value {
        match self.below(9) {
            0 => json!(self.below(1000) as i64 - 500),
            1 => json!(i64::MIN),
            2 => json!(u64::MAX),
            3 => json!(1.5e300),
            4 => json!(-2.5e-300),
            5 => json!(0.1 + 0.2),
            6 => json!(-0.0),
            7 => json!(9_007_199_254_740_993_i64),
            _ => json!(self.below(1 << 40) as f64 / 7.0),
        }
    }

    fn deep(&mut self, depth: usize) -> Value {
        let mut value = json!({"leaf": self.number()});
        for level in 0..depth {
            value = json!({ format!("level{level}"): value, "n": level });
        }
        value
    }

    /// A value of some shape, drifting with `index`.
    fn drifting(&mut self, index: usize) -> Value {
        match (index / 7 + self.below(2) as usize) % 8 {
            0 => json!(index),
            1 => json!(index as f64 + 0.5),
            2 => json!(self.text()),
            3 => json!({"k": index, "s": self.text()}),
            4 => json!([index, null]),
            5 => Value::Null,
            6 => json!(true),
            _ => json!([{"a": 1}, {"b": "x"}]),
        }
    }

    fn record(&mut self, index: usize) -> Value {
        let mut record = Map::new();
        record.insert("id".into(), json!(index));
        record.insert("name".into(), json!(self.text()));
        record.insert("amount".into(), self.number());
        // Three regions: stable types (the text decodes as written), drifting types (row
        // groups are conformed), and fields that stay `{}` (written as null).
        if (40..80).contains(&index) {
            record.insert("drift".into(), self.drifting(index));
        }
        if self.below(3) == 0 {
            record.insert("sometimes".into(), json!(self.text()));
        }
        record.insert(
            "maybe_null".into(),
            if self.below(2) == 0 {
                Value::Null
            } else {
                json!(index.is_multiple_of(3))
            },
        );
        record.insert(
            "nested".into(),
            json!({"city": self.text(), "geo": {"lat": self.number(), "tags": ["a", self.text()]}}),
        );
        record.insert(
            "lines".into(),
            match self.below(4) {
                0 => json!([]),
                1 => Value::Null,
                _ => json!([
                    {"sku": index, "qty": self.below(5), "price": self.number()},
                    {"sku": index + 1, "qty": self.below(5), "note": self.text()}
                ]),
            },
        );
        if index >= 80 {
            record.insert("empty_object".into(), json!({}));
        }
        record.insert(
            "sometimes_empty".into(),
            if index < 40 || index.is_multiple_of(11) {
                json!({"x": index})
            } else {
                json!({})
            },
        );
        if index.is_multiple_of(5) {
            record.insert("deep".into(), self.deep(24));
        }
        if index.is_multiple_of(13) && index >= 40 {
            // flowd's own column names are dropped from records.
            record.insert("_flowd_run_id".into(), json!("not this"));
        }
        Value::Object(record)
    }
}

fn corpus(count: usize) -> Vec<Value> {
    let mut generator = Generator(0x9e37_79b9_7f4a_7c15);
    (0..count).map(|index| generator.record(index)).collect()
}

fn connection_spec(attributes: Value) -> Value {
    json!({
        "name": "differential source",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "type": "generic-rest",
        "authSpec": [],
        "sourceSpec": {"spec": {"type": "object", "properties": {}}, "attributes": attributes}
    })
}

struct Case {
    name: &'static str,
    attributes: Value,
    /// Whether the run should take the records from the text.
    text_path: bool,
}

fn cases(host: &str) -> Vec<Case> {
    let offset =
        json!({"type": "OFFSET", "limitName": "limit", "limitValue": "9", "offsetName": "offset"});
    let with = |path: &str, content: Value, pagination: &Value| {
        let mut attributes = json!({
            "urlParams": {"host": host, "path": path, "method": "GET"},
            "contentPath": content,
        });
        attributes["paginationParams"] = pagination.clone();
        attributes
    };
    vec![
        Case {
            name: "OFFSET, $.items",
            attributes: with("/offset", json!({"path": "$.items"}), &offset),
            text_path: true,
        },
        Case {
            name: "OFFSET with an end condition, items without $",
            attributes: with(
                "/offset",
                json!({"path": "items"}),
                &json!({"type": "OFFSET", "limitName": "limit", "limitValue": "9",
                        "offsetName": "offset", "endConditionName": "$.has_more",
                        "endConditionValue": "Const:false"}),
            ),
            text_path: true,
        },
        Case {
            name: "POINTER, $.data and $.paging.next",
            attributes: with(
                "/pointer",
                json!({"path": "$.data"}),
                &json!({"type": "POINTER", "limitName": "limit", "limitValue": "8",
                        "pointerPath": "$.paging.next"}),
            ),
            text_path: true,
        },
        Case {
            name: "CONTINUATION_TOKEN, $.results",
            attributes: with(
                "/cursor",
                json!({"path": "$.results"}),
                &json!({"type": "CONTINUATION_TOKEN", "continuationTokenPath": "$.meta.after_cursor",
                        "parameterName": "cursor", "limitName": "limit", "limitValue": "10"}),
            ),
            text_path: true,
        },
        Case {
            name: "NONE, one page of everything at $.records",
            attributes: with(
                "/none",
                json!({"path": "$.records"}),
                &json!({"type": "NONE"}),
            ),
            text_path: true,
        },
        Case {
            name: "skipAttributes",
            attributes: with(
                "/offset",
                json!({"path": "$.items", "skipAttributes": ["nested", "deep"]}),
                &offset,
            ),
            text_path: false,
        },
        Case {
            name: "keepAttributes",
            attributes: with(
                "/offset",
                json!({"path": "$.items", "keepAttributes": ["id", "drift", "lines"]}),
                &offset,
            ),
            text_path: false,
        },
        Case {
            name: "overrideWrapperAttribute",
            attributes: with(
                "/offset",
                json!({"path": "$.items", "overrideWrapperAttribute": "order"}),
                &offset,
            ),
            text_path: false,
        },
        Case {
            name: "explodeEntityPath with a wrapper",
            attributes: {
                let mut attributes = with(
                    "/offset",
                    json!({"path": "$.items", "overrideWrapperAttribute": "order"}),
                    &offset,
                );
                attributes["explodeEntityPath"] =
                    json!({"path": "$.order.lines", "overrideWrapperAttribute": "line"});
                attributes
            },
            text_path: false,
        },
        Case {
            name: "a filter in contentPath",
            attributes: with(
                "/none",
                json!({"path": "$.records[?@.id > 20]"}),
                &json!({"type": "NONE"}),
            ),
            text_path: false,
        },
    ]
}

/// What one ingestion went through.
struct Ingested {
    pages_as_text: usize,
    row_groups_from_text: u64,
}

/// Runs `attributes` against the mock and writes every page into a batch of `datasets`.
async fn ingest(
    client: &HttpClient,
    attributes: &Value,
    records_as_text: bool,
    datasets: &LocalDatasets,
    seed: &StructType,
) -> Ingested {
    let spec = connection_spec(attributes.clone());
    let fetch = flowd_spec::resolve_source_fetch_config(&spec, &json!({}))
        .unwrap_or_else(|problems| panic!("the spec resolves: {problems:?}"));
    let plan = RunPlan {
        fetch: Arc::new(fetch),
        auth: None,
        source_params: Map::new(),
        window: None,
        limits: RunLimits {
            records_as_text,
            ..RunLimits::default()
        },
    };
    let ingested_at = jiff::Timestamp::from_second(1_700_000_000).unwrap();
    let mut batch = datasets
        .dataset("dataset")
        .unwrap()
        .begin_batch("batch", "run", ingested_at, seed)
        .unwrap();
    let mut text_pages = 0;
    let mut stream = std::pin::pin!(flowd_connector::run(client.clone(), plan));
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            RunEvent::Page(page) => {
                if matches!(page.records, Records::Text(_)) {
                    text_pages += 1;
                }
                batch.write_records(page.records).unwrap();
            }
            RunEvent::Retry { .. } | RunEvent::Finished(_) => {}
        }
    }
    let row_groups_from_text = batch.row_groups_from_text();
    batch.commit().unwrap();
    Ingested {
        pages_as_text: text_pages,
        row_groups_from_text,
    }
}

/// Every file of the batch: its schema and its rows.
fn read_batch(datasets: &LocalDatasets) -> Vec<(arrow_schema::SchemaRef, Vec<RecordBatch>)> {
    let dataset = datasets.dataset("dataset").unwrap();
    dataset
        .parquet_files()
        .unwrap()
        .into_iter()
        .map(|path| {
            let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
                .unwrap()
                .build()
                .unwrap();
            let schema = arrow_array::RecordBatchReader::schema(&reader);
            let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
            (schema, batches)
        })
        .collect()
}

#[tokio::test]
async fn the_text_path_writes_the_same_parquet_as_the_reference_path_for_every_extraction_feature()
{
    let records = corpus(120);
    let mock = MockApi::start(Scenario::explicit(records.clone())).await;
    let client = HttpClient::new(HttpOptions {
        request_timeout: Duration::from_secs(5),
        retries: 0,
        ..HttpOptions::default()
    })
    .unwrap();
    // A dataset's earlier batches seed its type: one seed where `drift` already is a string
    // and `amount` an integer (both widen), and the empty seed.
    let seeds = [
        StructType::default(),
        StructType::of_records(&[json!({"drift": "earlier", "amount": 1, "old": [1]})]),
    ];
    for case in cases(&mock.base_url()) {
        for seed in &seeds {
            let options = |decode_values| WriterOptions {
                max_row_group_records: 7,
                decode_values,
                ..WriterOptions::default()
            };
            let text_dir = tempfile::tempdir().unwrap();
            let text = LocalDatasets::new(text_dir.path()).with_writer_options(options(false));
            let reference_dir = tempfile::tempdir().unwrap();
            let reference =
                LocalDatasets::new(reference_dir.path()).with_writer_options(options(true));

            let by_text = ingest(&client, &case.attributes, true, &text, seed).await;
            let by_reference = ingest(&client, &case.attributes, false, &reference, seed).await;
            assert_eq!(
                (
                    by_reference.pages_as_text,
                    by_reference.row_groups_from_text
                ),
                (0, 0),
                "{}: the reference parses every page and decodes values",
                case.name
            );
            assert_eq!(
                by_text.pages_as_text > 0,
                case.text_path,
                "{}: records taken from the text",
                case.name
            );
            assert!(
                by_text.row_groups_from_text > 0,
                "{}: some row groups decoded from the text",
                case.name
            );

            let written = read_batch(&text);
            let expected = read_batch(&reference);
            assert!(!expected.is_empty(), "{}: something was written", case.name);
            assert_eq!(written.len(), expected.len(), "{}: files", case.name);
            for (file, ((schema, rows), (expected_schema, expected_rows))) in
                written.iter().zip(&expected).enumerate()
            {
                assert_eq!(
                    schema, expected_schema,
                    "{}: schema of file {file}",
                    case.name
                );
                assert_eq!(rows, expected_rows, "{}: rows of file {file}", case.name);
            }
        }
    }
}
