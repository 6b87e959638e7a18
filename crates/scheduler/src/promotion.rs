//! The promotion of a run's records into its dataset (reference `data-prep.md` §10.2): each
//! record is shaped by the flow's mapping set (when it names one), converted into the
//! dataset's XDM schema and validated against it (when the dataset has one), and written as
//! the JSON text the batch decodes. A flow with neither keeps the page-text path: its records
//! are not touched here.
//!
//! A record that cannot be converted or breaks the schema is rejected (§9.4) and counted; with
//! the flow's error diagnostics on, the first [`KEPT_FAILED_RECORDS`] are kept with their
//! reasons. At the end of the run [`Promotion::verdict`] compares the rejections with the flow's
//! `partialIngestionPercent`: none allowed without it, at most that share of the run's input
//! records with it (`failed × 100 ≤ percent × input`).

use std::sync::Arc;

use flowd_dataprep::Value as DataValue;
use flowd_dataprep::convert::{Rejection, conform_record};
use flowd_model::diagnostics::{
    BatchDiagnostics, BatchErrorEntry, FailedRecord, KEPT_FAILED_RECORDS, RowErrorKind,
};
use flowd_model::records::{RecordTexts, Records};
use flowd_model::xdm::XdmSchema;
use flowd_model::{FailureCode, FlowOptions, RunErrorRecord, RunFailure};

use crate::mapping::RunMappings;

/// What the promotion of one run does and has found.
pub struct Promotion {
    mappings: Option<RunMappings>,
    schema: Option<Arc<XdmSchema>>,
    options: FlowOptions,
    failed: u64,
    failed_by_kind: [u64; RowErrorKind::ALL.len()],
    kept: Vec<FailedRecord>,
    /// The first rejection's reason, quoted in the run's error.
    first_problem: Option<String>,
}

/// How the run's rejections end it.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Nothing was rejected.
    Clean,
    /// Some were, within the threshold: the good records land; the run warns.
    Tolerated(RunErrorRecord),
    /// Too many were: nothing is written.
    Refused(RunFailure),
}

impl Promotion {
    pub fn new(
        mappings: Option<RunMappings>,
        schema: Option<Arc<XdmSchema>>,
        options: FlowOptions,
    ) -> Promotion {
        Promotion {
            mappings,
            schema,
            options,
            failed: 0,
            failed_by_kind: [0; RowErrorKind::ALL.len()],
            kept: Vec::new(),
            first_problem: None,
        }
    }

    /// The same promotion with nothing counted yet, for a page promoted on another thread;
    /// [`Promotion::merge`] adds what it found, pages in order.
    pub fn fork(&self) -> Promotion {
        Promotion {
            mappings: self.mappings.as_ref().map(RunMappings::fork),
            schema: self.schema.clone(),
            options: self.options,
            failed: 0,
            failed_by_kind: [0; RowErrorKind::ALL.len()],
            kept: Vec::new(),
            first_problem: None,
        }
    }

    /// Adds what a fork found (call in page order: the first problem and the kept records
    /// stay in the order of the records).
    pub fn merge(&mut self, fork: Promotion) {
        if let (Some(mappings), Some(forked)) = (self.mappings.as_mut(), fork.mappings) {
            mappings.merge(forked);
        }
        self.failed += fork.failed;
        for (total, counted) in self.failed_by_kind.iter_mut().zip(fork.failed_by_kind) {
            *total += counted;
        }
        let room = KEPT_FAILED_RECORDS.saturating_sub(self.kept.len());
        self.kept.extend(fork.kept.into_iter().take(room));
        if self.first_problem.is_none() {
            self.first_problem = fork.first_problem;
        }
    }

    /// Whether records pass through here at all (a mapping or a typed dataset).
    pub fn is_active(&self) -> bool {
        self.mappings.is_some() || self.schema.is_some()
    }

    /// The dataset's schema, when it has one.
    pub fn schema(&self) -> Option<&Arc<XdmSchema>> {
        self.schema.as_ref()
    }

    /// Records rejected so far.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// The accepted records of one page, as JSON text in the dataset's types; rejected ones
    /// are counted (and kept, with diagnostics on).
    pub fn promote(&mut self, records: Records) -> Records {
        if !self.is_active() {
            return records;
        }
        let mut text = String::new();
        let mut spans = Vec::with_capacity(records.len());
        match records {
            Records::Text(texts) => {
                for record in texts.iter() {
                    match serde_json::from_str::<DataValue>(record) {
                        Ok(value) => self.promote_one(&value, &mut text, &mut spans),
                        Err(error) => self.reject_unreadable(record, &error.to_string()),
                    }
                }
            }
            Records::Parsed(values) => {
                for value in &values {
                    self.promote_one(&DataValue::from_json(value), &mut text, &mut spans);
                }
            }
        }
        Records::Text(RecordTexts::new(text.into(), spans))
    }

    fn promote_one(
        &mut self,
        source: &DataValue,
        text: &mut String,
        spans: &mut Vec<std::ops::Range<usize>>,
    ) {
        let mapped;
        let record = match self.mappings.as_mut() {
            Some(mappings) if matches!(source, DataValue::Object(_)) => {
                mapped = mappings.apply_value(source);
                &mapped
            }
            _ => source,
        };
        let start = text.len();
        let converted = match &self.schema {
            Some(schema) => conform_record(schema, record, text),
            None if matches!(record, DataValue::Object(_)) => {
                record.write_json(text);
                Ok(())
            }
            None => Err(Rejection::not_an_object(record)),
        };
        match converted {
            Ok(()) => spans.push(start..text.len()),
            Err(rejection) => self.reject(record, &rejection),
        }
    }

    fn reject(&mut self, record: &DataValue, rejection: &Rejection) {
        let kind = rejection.kind();
        self.count(kind, || {
            rejection
                .problems
                .first()
                .map(|problem| format!("{}: {}", pointer_text(&problem.pointer), problem.message))
        });
        if self.options.error_diagnostics && self.kept.len() < KEPT_FAILED_RECORDS {
            self.kept.push(FailedRecord {
                kind,
                record: rejection.diagnostic_record(&record.to_json()),
            });
        }
    }

    fn reject_unreadable(&mut self, record: &str, error: &str) {
        self.count(RowErrorKind::Parsing, || {
            Some(format!("a record cannot be read: {error}"))
        });
        if self.options.error_diagnostics && self.kept.len() < KEPT_FAILED_RECORDS {
            self.kept.push(FailedRecord {
                kind: RowErrorKind::Parsing,
                record: serde_json::json!({
                    "_corrupt_record": record,
                    "_errors": [{"code": "1401", "message": "Row is corrupted and cannot be read, please fix and resend."}],
                    "_filename": RowErrorKind::Parsing.file_name(),
                }),
            });
        }
    }

    fn count(&mut self, kind: RowErrorKind, first: impl FnOnce() -> Option<String>) {
        self.failed += 1;
        let index = RowErrorKind::ALL
            .iter()
            .position(|known| *known == kind)
            .expect("every kind is listed");
        self.failed_by_kind[index] += 1;
        if self.first_problem.is_none() {
            self.first_problem = first();
        }
    }

    /// How the run's rejections end it, out of `input_records` records fetched.
    pub fn verdict(&self, input_records: u64) -> Verdict {
        if self.failed == 0 {
            return Verdict::Clean;
        }
        let percent = share(self.failed, input_records);
        let first = self.first_problem.clone().unwrap_or_default();
        let how_to_see = if self.options.error_diagnostics {
            "the rejected records are listed by the batch's row_errors"
        } else {
            "enable options.errorDiagnosticsEnabled to keep the rejected records"
        };
        match self.options.partial_ingestion_percent {
            Some(threshold) if self.failed as f64 * 100.0 <= threshold * input_records as f64 => {
                Verdict::Tolerated(RunErrorRecord {
                    code: "RECORDS_REJECTED".to_owned(),
                    message: format!(
                        "{} of {input_records} records ({percent}%) were rejected, within partialIngestionPercent {threshold}; the others were written. First: {first}; {how_to_see}",
                        self.failed
                    ),
                })
            }
            Some(threshold) => Verdict::Refused(RunFailure::new(
                FailureCode::RecordsRejected,
                format!(
                    "{} of {input_records} records ({percent}%) were rejected, more than partialIngestionPercent {threshold}; nothing was written. First: {first}; {how_to_see}",
                    self.failed
                ),
            )),
            None => Verdict::Refused(RunFailure::new(
                FailureCode::RecordsRejected,
                format!(
                    "{} of {input_records} records were rejected and the flow has no options.partialIngestionPercent, so nothing was written. First: {first}; {how_to_see}",
                    self.failed
                ),
            )),
        }
    }

    /// The batch's diagnostics, when records were rejected (`succeeded`: whether its batch
    /// landed).
    pub fn diagnostics(
        &self,
        ids: DiagnosticsIds<'_>,
        input_records: u64,
        output_records: u64,
        succeeded: bool,
    ) -> Option<BatchDiagnostics> {
        if self.failed == 0 {
            return None;
        }
        let mut errors = Vec::new();
        if self.options.error_diagnostics {
            errors.push(BatchErrorEntry {
                code: "INGEST-1212-400".to_owned(),
                description: format!(
                    "Encountered {} errors in the data. Successfully ingested {output_records} rows. Please review the associated diagnostic files for more details.",
                    self.failed
                ),
                record_count: None,
            });
            for (kind, count) in RowErrorKind::ALL.iter().zip(self.failed_by_kind) {
                if count > 0 {
                    errors.push(BatchErrorEntry {
                        code: kind.code().to_owned(),
                        description: kind.description().to_owned(),
                        record_count: Some(count),
                    });
                }
            }
        } else {
            errors.push(BatchErrorEntry {
                code: "INGEST-1211-400".to_owned(),
                description: format!(
                    "Encountered {} errors while parsing, converting or otherwise validating the data. Please resend the data with error diagnostics enabled to collect additional information on failure types.",
                    self.failed
                ),
                record_count: None,
            });
        }
        Some(BatchDiagnostics {
            batch_id: ids.run_id.to_owned(),
            dataset_id: ids.dataset_id.to_owned(),
            flow_id: ids.flow_id.to_owned(),
            run_id: ids.run_id.to_owned(),
            status: if succeeded { "success" } else { "failed" }.to_owned(),
            input_record_count: input_records,
            output_record_count: output_records,
            failed_record_count: self.failed,
            error_diagnostics_enabled: self.options.error_diagnostics,
            partial_ingestion_percent: self.options.partial_ingestion_percent,
            errors,
            failed_records: self.kept.clone(),
            created_at: flowd_model::time::now_millis(),
        })
    }

    /// The mapping's warning about transformation errors, when there were some.
    pub fn mapping_warning(&self) -> Option<RunErrorRecord> {
        self.mappings.as_ref().and_then(RunMappings::warning)
    }
}

/// Whose diagnostics they are.
#[derive(Debug, Clone, Copy)]
pub struct DiagnosticsIds<'a> {
    pub run_id: &'a str,
    pub flow_id: &'a str,
    pub dataset_id: &'a str,
}

/// `part` as a percentage of `whole`, to two decimals.
fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 100.0;
    }
    (part as f64 * 10_000.0 / whole as f64).round() / 100.0
}

fn pointer_text(pointer: &str) -> &str {
    if pointer.is_empty() {
        "the record"
    } else {
        pointer
    }
}
