//! What a run's promotion found wrong with its records (reference `data-prep.md` §9.4,
//! §10.4–§10.5): the batch's outcome with its record counts and Catalog `errors`, and — when
//! the flow enables error diagnostics — the rejected records themselves, grouped in the files
//! Data Access serves under `row_errors/`.
//!
//! One [`BatchDiagnostics`] is stored per batch that rejected records (the batch id is the
//! run id), whether the run then succeeded (rejections within `partialIngestionPercent`) or
//! failed (nothing of the batch is visible; the diagnostics still are).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Rejected records kept per batch; counts stay exact beyond it.
pub const KEPT_FAILED_RECORDS: usize = 1_000;

/// Why a record was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RowErrorKind {
    /// Not a JSON object (`INGEST-1401-400`, `parsing_errors_N.json`).
    Parsing,
    /// A value that cannot be converted to its field's type (`INGEST-1402-400`,
    /// `conversion_errors_N.json`).
    Conversion,
    /// A required field missing or null (`INGEST-1555-400`, `validation_errors_N.json`).
    Required,
    /// A value outside its field's `enum`, range, length or pattern (`INGEST-1556-400`,
    /// `validation_errors_N.json`).
    Constraint,
}

impl RowErrorKind {
    pub const ALL: [RowErrorKind; 4] = [
        RowErrorKind::Parsing,
        RowErrorKind::Conversion,
        RowErrorKind::Required,
        RowErrorKind::Constraint,
    ];

    /// The Catalog error code of records rejected for this reason.
    pub fn code(self) -> &'static str {
        match self {
            RowErrorKind::Parsing => "INGEST-1401-400",
            RowErrorKind::Conversion => "INGEST-1402-400",
            RowErrorKind::Required => "INGEST-1555-400",
            RowErrorKind::Constraint => "INGEST-1556-400",
        }
    }

    /// Catalog's description of the code.
    pub fn description(self) -> &'static str {
        match self {
            RowErrorKind::Parsing => {
                "The row has corrupted data and cannot be read or parsed. Please fix the data and resend."
            }
            RowErrorKind::Conversion => {
                "A value cannot be converted to the type of its field in the dataset's schema."
            }
            RowErrorKind::Required => {
                "A required field is either missing or has a value of null. Please fix the data and resend."
            }
            RowErrorKind::Constraint => {
                "A value does not satisfy its field's constraints (enum, minimum, maximum, length or pattern)."
            }
        }
    }

    /// The diagnostics file (under `row_errors/`) records rejected for this reason go to.
    pub fn file_name(self) -> &'static str {
        match self {
            RowErrorKind::Parsing => "parsing_errors_0.json",
            RowErrorKind::Conversion => "conversion_errors_0.json",
            RowErrorKind::Required | RowErrorKind::Constraint => "validation_errors_0.json",
        }
    }
}

/// One `errors[]` entry of a Catalog batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchErrorEntry {
    pub code: String,
    pub description: String,
    /// Records concerned (only with error diagnostics, as Catalog does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_count: Option<u64>,
}

/// A rejected record as the diagnostics files hold it: the record's fields, then `_errors`
/// (conversion and parsing) or `_validationErrors` (schema violations), then `_filename`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedRecord {
    pub kind: RowErrorKind,
    /// The record as shown in the file (one JSON object).
    pub record: Value,
}

/// The outcome of one batch that rejected records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchDiagnostics {
    pub batch_id: String,
    pub dataset_id: String,
    pub flow_id: String,
    pub run_id: String,
    /// `success` (rejections within the threshold; the good records landed) or `failed`
    /// (nothing of the batch is visible).
    pub status: String,
    pub input_record_count: u64,
    pub output_record_count: u64,
    pub failed_record_count: u64,
    pub error_diagnostics_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_ingestion_percent: Option<f64>,
    /// Catalog's `errors`: the summary (`INGEST-1212-400` with diagnostics, `INGEST-1211-400`
    /// without) and, with diagnostics, one entry per reason with its record count.
    pub errors: Vec<BatchErrorEntry>,
    /// The first [`KEPT_FAILED_RECORDS`] rejected records (only with error diagnostics).
    #[serde(default)]
    pub failed_records: Vec<FailedRecord>,
    /// Epoch milliseconds.
    pub created_at: i64,
}

impl BatchDiagnostics {
    /// The diagnostics files of the batch and their records, in file-name order.
    pub fn row_error_files(&self) -> Vec<(&'static str, Vec<&Value>)> {
        let mut files: Vec<(&'static str, Vec<&Value>)> = Vec::new();
        for failed in &self.failed_records {
            let name = failed.kind.file_name();
            match files.iter_mut().find(|(known, _)| *known == name) {
                Some((_, records)) => records.push(&failed.record),
                None => files.push((name, vec![&failed.record])),
            }
        }
        files.sort_by_key(|(name, _)| *name);
        files
    }

    /// The document stored for it.
    pub fn to_document(&self) -> Value {
        serde_json::to_value(self).expect("diagnostics serialize")
    }

    /// Reads a stored document.
    pub fn from_document(document: &Value) -> Result<BatchDiagnostics, serde_json::Error> {
        BatchDiagnostics::deserialize(document)
    }
}
