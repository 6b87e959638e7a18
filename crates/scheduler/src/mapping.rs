//! A run of a flow whose `Mapping` transformation names a Data Prep mapping set: the version
//! the flow pins is read and compiled once for the run, and every record is shaped by it
//! before it is written (reference `data-prep.md` §10.2; `crate::promotion` drives it). Records
//! are parsed to apply the mappings, so such a run does not take the page-text path.
//!
//! A mapping that fails for a record (a transformation error) leaves that field out; the run
//! succeeds and says, in one warning, how many such errors it met and the first few.

use std::collections::BTreeSet;

use flowd_dataprep::mapping_set::{mapping_transformations, stored_version, version_number};
use flowd_dataprep::{MappingSetBody, Mappings, Value as DataValue};
use flowd_model::{FailureCode, Flow, RunErrorRecord, RunFailure};
use flowd_store::{ResourceKind, Scope, Store};
use serde_json::Value;

/// Distinct transformation errors a run's warning quotes.
const QUOTED_ERRORS: usize = 5;

/// The mappings of a run, and the transformation errors met so far (by this accumulator: a
/// [`RunMappings::fork`] counts its own, [`RunMappings::merge`] adds them back).
pub struct RunMappings {
    mappings: std::sync::Arc<Mappings>,
    now: jiff::ZonedDateTime,
    errors: u64,
    quoted: BTreeSet<String>,
}

fn configuration(message: String) -> RunFailure {
    RunFailure::new(FailureCode::Configuration, message)
}

/// The mappings `flow` names, compiled; `None` when it names no mapping set.
pub async fn load(
    store: &dyn Store,
    scope: &Scope,
    flow: &Flow,
) -> Result<Option<RunMappings>, RunFailure> {
    let Some((_, params)) = mapping_transformations(&flow.transformations).next() else {
        return Ok(None);
    };
    let Some(mapping_id) = params.get("mappingId").and_then(Value::as_str) else {
        return Ok(None);
    };
    let mapping_id = mapping_id.to_ascii_lowercase();
    let stored = store
        .get_resource(scope, ResourceKind::MappingSet, &mapping_id)
        .await
        .map_err(|error| {
            RunFailure::new(
                FailureCode::Store,
                format!("the store could not be read: {error}"),
            )
        })?
        .ok_or_else(|| {
            configuration(format!(
                "the flow's mapping set {mapping_id} no longer exists"
            ))
        })?;
    let wanted = params.get("mappingVersion").and_then(version_number);
    let version = stored_version(&stored.body, wanted).ok_or_else(|| {
        configuration(format!(
            "the mapping set {mapping_id} has no version {}",
            wanted.unwrap_or_default()
        ))
    })?;
    let body = MappingSetBody::from_json(&version["set"]).map_err(|problems| {
        let listing: Vec<String> = problems
            .iter()
            .map(|problem| format!("{}: {}", problem.pointer, problem.message))
            .collect();
        configuration(format!(
            "the stored mapping set {mapping_id} does not resolve: {}",
            listing.join("; ")
        ))
    })?;
    let mappings = body.compile().map_err(|problems| {
        configuration(format!(
            "the mapping set {mapping_id} does not compile: {}",
            problems
                .first()
                .map(|problem| problem.message.as_str())
                .unwrap_or_default()
        ))
    })?;
    Ok(Some(RunMappings {
        mappings: std::sync::Arc::new(mappings),
        now: flowd_model::time::now().to_zoned_datetime(jiff::tz::TimeZone::UTC),
        errors: 0,
        quoted: BTreeSet::new(),
    }))
}

impl RunMappings {
    /// The same mappings with no errors counted yet (for a page promoted on another thread).
    pub fn fork(&self) -> RunMappings {
        RunMappings {
            mappings: self.mappings.clone(),
            now: self.now.clone(),
            errors: 0,
            quoted: BTreeSet::new(),
        }
    }

    /// Adds what a fork counted.
    pub fn merge(&mut self, fork: RunMappings) {
        self.errors += fork.errors;
        for warning in fork.quoted {
            if self.quoted.len() < QUOTED_ERRORS {
                self.quoted.insert(warning);
            }
        }
    }

    /// One record shaped by the mappings.
    pub fn apply_value(&mut self, record: &DataValue) -> DataValue {
        let mapped = self.mappings.apply(record, &self.now);
        self.errors += mapped.warnings.len() as u64;
        for warning in mapped.warnings {
            if self.quoted.len() < QUOTED_ERRORS {
                self.quoted.insert(warning);
            }
        }
        mapped.record
    }

    /// The run's warning about transformation errors, when there were some.
    pub fn warning(&self) -> Option<RunErrorRecord> {
        (self.errors > 0).then(|| RunErrorRecord {
            code: "TRANSFORMATION_ERROR".to_owned(),
            message: format!(
                "{} mapped field(s) were left out because their mapping failed, e.g. {}",
                self.errors,
                self.quoted.iter().cloned().collect::<Vec<_>>().join("; ")
            ),
        })
    }
}
