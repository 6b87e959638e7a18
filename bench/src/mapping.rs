//! `flowd-bench mapping`: what a Data Prep mapping costs end to end. The same 1,000,000
//! generated records (`flowd-mockapi`, ~350 bytes, 100 per page, OFFSET) run through
//! `flowd serve` three times in one run (`end_to_end.rs`): without a mapping (the baseline:
//! records land as the API returned them, types inferred), with a 20-field mapping set
//! (attribute copies, renames into nested destinations, and expressions: concatenation,
//! case, a conditional, a date parsed from text, a hash, arithmetic, a size, a static value)
//! into a dataset typed by a Schema Registry schema, and the baseline again (the machine is
//! noisy: the mapped run is compared with the better of the two).

use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::end_to_end::{self, EndToEndRun, MappingSetup};
use crate::mock::MockServer;
use crate::report::{Row, megabytes, per_second, thousands};

/// Target of issue 15: the mapping costs at most 30% of the records per second.
const MIN_MAPPED_TO_BASELINE: f64 = 0.7;

/// The dataset's schema: every destination of [`mapping_set`], typed.
fn schema() -> Value {
    let string = json!({"type": "string"});
    json!({
        "type": "object",
        "title": "flowd-bench members",
        "properties": {
            "_id": {"type": "integer"},
            "status": string,
            "subscribed": {"type": "boolean"},
            "segments": {"type": "array", "items": string},
            "tagCount": {"type": "integer", "meta:xdmType": "int"},
            "lastChangedDate": {"type": "string", "format": "date"},
            "personalEmail": {"type": "object", "properties": {"address": string}},
            "identity": {"type": "object", "properties": {"emailLower": string, "emailHash": string}},
            "person": {"type": "object", "properties": {
                "fullName": string, "displayName": string, "initials": string,
                "name": {"type": "object", "properties": {"firstName": string, "lastName": string}},
            }},
            "homeAddress": {"type": "object", "properties": {
                "countryCode": string, "countryUpper": string,
                "latitude": {"type": "number"}, "latitudeTwice": {"type": "number"},
            }},
            "_repo": {"type": "object", "properties": {
                "modifyDate": {"type": "string", "format": "date-time"}, "source": string,
            }},
        }
    })
}

/// Twenty mappings over the generated records: ten attribute copies, nine expressions, one
/// static value.
fn mapping_set() -> Value {
    let attribute = |source: &str, destination: &str| json!({"sourceType": "ATTRIBUTE", "source": source, "destination": destination});
    let expression = |source: &str, destination: &str| json!({"sourceType": "EXPRESSION", "source": source, "destination": destination});
    json!({"mappings": [
        attribute("id", "_id"),
        attribute("email_address", "personalEmail.address"),
        attribute("full_name", "person.fullName"),
        attribute("status", "status"),
        attribute("last_changed", "_repo.modifyDate"),
        attribute("merge_fields.FNAME", "person.name.firstName"),
        attribute("merge_fields.LNAME", "person.name.lastName"),
        attribute("location.country_code", "homeAddress.countryCode"),
        attribute("location.latitude", "homeAddress.latitude"),
        attribute("tags", "segments"),
        expression("lower(email_address)", "identity.emailLower"),
        expression("concat(merge_fields.FNAME, \" \", merge_fields.LNAME)", "person.displayName"),
        expression("iif(status == \"subscribed\", true, false)", "subscribed"),
        expression("upper(location.country_code)", "homeAddress.countryUpper"),
        expression("date(last_changed, \"yyyy-MM-dd'T'HH:mm:ssX\")", "lastChangedDate"),
        expression("size_of(tags)", "tagCount"),
        expression("sha256(email_address)", "identity.emailHash"),
        expression("location.latitude * 2", "homeAddress.latitudeTwice"),
        expression("substr(full_name, 0, 3)", "person.initials"),
        {"sourceType": "STATIC", "source": "flowd-bench", "destination": "_repo.source"},
    ]})
}

fn describe(run: &EndToEndRun) -> String {
    format!(
        "{} records/s ({:.2} s), CPU {:.2} s, peak RSS {:.1} MB, Parquet {:.1} MB",
        thousands(per_second(run.output_records as f64, run.wall)),
        run.wall.as_secs_f64(),
        run.cpu_user + run.cpu_system,
        megabytes(run.peak_rss_kib),
        run.parquet_bytes as f64 / 1e6,
    )
}

pub fn run(flowd: &Path, mockapi: &Path, records: usize) -> Result<Vec<Row>, String> {
    let mock = MockServer::start(mockapi, records, 0)?;
    let work = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let setup = MappingSetup {
        schema: schema(),
        mapping_set: mapping_set(),
    };
    eprintln!("mapping: {records} records without a mapping");
    let first = end_to_end::run(flowd, &mock, &work.path().join("baseline-1"))?;
    eprintln!("  {}", describe(&first));
    eprintln!("mapping: {records} records with the 20-field mapping into a typed dataset");
    let mapped = end_to_end::run_mapped(flowd, &mock, &work.path().join("mapped"), &setup)?;
    eprintln!("  {}", describe(&mapped));
    eprintln!("mapping: {records} records without a mapping, again");
    let second = end_to_end::run(flowd, &mock, &work.path().join("baseline-2"))?;
    eprintln!("  {}", describe(&second));
    let rate = |run: &EndToEndRun| per_second(run.output_records as f64, run.wall);
    let baseline = rate(&first).max(rate(&second));
    let ratio = rate(&mapped) / baseline;
    let complete = |run: &EndToEndRun| {
        run.output_records == records as u64 && run.dataset_records == records as u64
    };
    let n = thousands(records as f64);
    Ok(vec![
        Row::info(
            format!("{n} records, no mapping (first run)"),
            describe(&first),
        ),
        Row::info(
            format!("{n} records, no mapping (second run)"),
            describe(&second),
        ),
        Row::info(
            format!("{n} records, 20-field mapping into a typed dataset"),
            describe(&mapped),
        ),
        Row::check(
            "every record in the run's metrics and the dataset's Parquet",
            format!(
                "{} / {} / {}",
                thousands(first.dataset_records as f64),
                thousands(mapped.dataset_records as f64),
                thousands(second.dataset_records as f64)
            ),
            "every record",
            complete(&first) && complete(&mapped) && complete(&second),
        ),
        Row::check(
            "mapped records/s / better baseline",
            format!("{ratio:.2}×"),
            format!("≥ {MIN_MAPPED_TO_BASELINE}×"),
            ratio >= MIN_MAPPED_TO_BASELINE,
        ),
        Row::info(
            "CPU per 1,000 records, mapped / baseline",
            format!(
                "{:.2} ms / {:.2} ms",
                (mapped.cpu_user + mapped.cpu_system) * 1e6 / records as f64,
                (first.cpu_user + first.cpu_system).min(second.cpu_user + second.cpu_system) * 1e6
                    / records as f64,
            ),
        ),
    ])
}

/// `flowd-bench mapping [--records N]`.
pub fn command() -> ExitCode {
    match crate::records_option("mapping", 1_000_000) {
        Ok(records) => crate::report::finish(
            crate::binaries(None).and_then(|(flowd, mockapi)| run(&flowd, &mockapi, records)),
        ),
        Err(usage) => usage,
    }
}
