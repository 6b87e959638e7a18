//! A dataflow (`/flows`, reference §8.4): a flow spec, one source connection, one target
//! connection, optional transformations and a schedule.
//!
//! flowd runs one source and one target connection per flow: a document listing more is
//! refused (rather than running the first and ignoring the rest). `scheduleParams` is parsed
//! with [`Schedule::from_params`], the parser the planner uses, so a flow the API accepts is a
//! flow the planner can run. The flow spec's own `scheduleSpec` (a JSON Schema) is the API's
//! to check, since it needs the flow spec.

use flowd_spec::Problem;
use serde_json::Value;

use super::fields::Fields;
use super::{ResourceKind, ResourceRef, SpecRef};
use crate::ids::canonical_uuid;
use crate::schedule::Schedule;

/// Whether the planner schedules the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowState {
    Enabled,
    Disabled,
}

impl FlowState {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowState::Enabled => "enabled",
            FlowState::Disabled => "disabled",
        }
    }
}

/// A resolved flow.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub name: String,
    pub description: Option<String>,
    pub flow_spec: SpecRef,
    /// Canonical UUID of the one source connection.
    pub source_connection_id: String,
    /// Canonical UUID of the one target connection.
    pub target_connection_id: String,
    /// `transformations` as given (Data Prep mappings are not applied).
    pub transformations: Vec<Value>,
    /// `None` when the document has no `scheduleParams` (ad hoc runs only).
    pub schedule: Option<Schedule>,
    /// `enabled` unless the document says `disabled` (a new flow has no state yet).
    pub state: FlowState,
    /// `options`: partial ingestion and error diagnostics.
    pub options: FlowOptions,
}

/// A flow's `options` (reference `data-prep.md` §10.1), as its runs read them; the API checks
/// them on create and PATCH.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FlowOptions {
    /// `partialIngestionPercent` (a number or its text, as the docs PATCH `"10"`): the share
    /// of a run's records that may be rejected while the run still succeeds. `None`: any
    /// rejected record fails the run.
    pub partial_ingestion_percent: Option<f64>,
    /// `errorDiagnosticsEnabled`: keep the rejected records and their reasons.
    pub error_diagnostics: bool,
}

impl FlowOptions {
    fn from_document(options: Option<&Value>) -> FlowOptions {
        let Some(options) = options else {
            return FlowOptions::default();
        };
        let partial_ingestion_percent = match options.get("partialIngestionPercent") {
            Some(Value::Number(number)) => number.as_f64(),
            Some(Value::String(text)) => text.trim().parse().ok(),
            _ => None,
        };
        let error_diagnostics = match options.get("errorDiagnosticsEnabled") {
            Some(Value::Bool(flag)) => *flag,
            Some(Value::String(text)) => text.eq_ignore_ascii_case("true"),
            _ => false,
        };
        FlowOptions {
            partial_ingestion_percent,
            error_diagnostics,
        }
    }
}

impl Flow {
    /// Reads a flow document; every problem at once, in document order.
    pub fn from_document(document: &Value) -> Result<Flow, Vec<Problem>> {
        let mut fields = Fields::open(document)?;
        let (name, description, flow_spec) = fields.head(true, "/flowSpec");
        let source_connection_id = single_connection(&mut fields, "sourceConnectionIds", "source");
        let target_connection_id = single_connection(&mut fields, "targetConnectionIds", "target");
        let transformations = match fields.get("/transformations") {
            None => Vec::new(),
            Some(Value::Array(transformations)) => transformations.clone(),
            Some(_) => {
                fields.problem("/transformations", "must be an array");
                Vec::new()
            }
        };
        let schedule = fields.get("/scheduleParams").and_then(|params| {
            Schedule::from_params(params)
                .map_err(|error| {
                    fields.extend(error.problems().iter().map(|problem| {
                        Problem::new(
                            format!("/scheduleParams{}", problem.pointer),
                            &problem.message,
                        )
                    }))
                })
                .ok()
        });
        let state = match fields.get("/state").and_then(Value::as_str) {
            Some("disabled") => FlowState::Disabled,
            _ => FlowState::Enabled,
        };
        let flow = (|| {
            Some(Flow {
                name: name?,
                description,
                flow_spec: flow_spec?,
                source_connection_id: source_connection_id?,
                target_connection_id: target_connection_id?,
                transformations,
                schedule,
                state,
                options: FlowOptions::from_document(fields.get("/options")),
            })
        })();
        fields.finish(flow)
    }

    /// The source and the target connection.
    pub fn references(&self) -> Vec<ResourceRef> {
        vec![
            ResourceRef::new(
                ResourceKind::SourceConnection,
                &self.source_connection_id,
                "/sourceConnectionIds/0",
            ),
            ResourceRef::new(
                ResourceKind::TargetConnection,
                &self.target_connection_id,
                "/targetConnectionIds/0",
            ),
        ]
    }
}

/// The one id of `field` (an array holding exactly one connection id).
fn single_connection(fields: &mut Fields<'_>, field: &str, side: &str) -> Option<String> {
    let pointer = format!("/{field}");
    let ids = match fields.get(&pointer) {
        None => {
            fields.problem(pointer, "is required");
            return None;
        }
        Some(Value::Array(ids)) if !ids.is_empty() => ids,
        Some(_) => {
            fields.problem(
                pointer,
                format!("must be an array holding one {side} connection id"),
            );
            return None;
        }
    };
    if ids.len() > 1 {
        fields.problem(
            pointer,
            format!(
                "lists {} {side} connections; flowd runs exactly one {side} connection per flow (create one flow per {side} connection)",
                ids.len()
            ),
        );
        return None;
    }
    let element_pointer = format!("/{field}/0");
    match ids[0].as_str() {
        Some(text) => {
            let canonical = canonical_uuid(text);
            if canonical.is_none() {
                fields.problem(
                    element_pointer,
                    format!("must be a {side} connection id (a UUID)"),
                );
            }
            canonical
        }
        None => {
            fields.problem(element_pointer, "must be a string");
            None
        }
    }
}

/// The connection specs a flow spec lists (`sourceConnectionSpecIds`,
/// `targetConnectionSpecIds`): deleting one of them is refused while the flow spec lists it.
pub fn flow_spec_references(flow_spec: &Value) -> Vec<ResourceRef> {
    let mut references = Vec::new();
    for field in ["sourceConnectionSpecIds", "targetConnectionSpecIds"] {
        let Some(ids) = flow_spec.get(field).and_then(Value::as_array) else {
            continue;
        };
        for (index, id) in ids.iter().enumerate() {
            if let Some(id) = id.as_str() {
                let reference = ResourceRef::new(
                    ResourceKind::ConnectionSpec,
                    id,
                    format!("/{field}/{index}"),
                );
                if !references
                    .iter()
                    .any(|known: &ResourceRef| known.id == reference.id)
                {
                    references.push(reference);
                }
            }
        }
    }
    references
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flow(sources: Value, targets: Value, schedule: Value) -> Value {
        json!({
            "name": "f", "flowSpec": {"id": "6499120c-0b15-42dc-936e-847ea3c24d72", "version": "1.0"},
            "sourceConnectionIds": sources, "targetConnectionIds": targets,
            "scheduleParams": schedule
        })
    }

    const SOURCE: &str = "11111111-1111-4111-8111-111111111111";
    const TARGET: &str = "22222222-2222-4222-8222-222222222222";

    #[test]
    fn a_flow_runs_one_source_and_one_target_on_a_parsed_schedule() {
        let parsed = Flow::from_document(&flow(
            json!([SOURCE]),
            json!([TARGET.to_uppercase()]),
            json!({"startTime": "1700000000", "frequency": "hour", "interval": 1}),
        ))
        .unwrap();
        assert_eq!(parsed.target_connection_id, TARGET);
        assert!(parsed.schedule.is_some());
        assert_eq!(parsed.state, FlowState::Enabled);
        assert_eq!(parsed.references().len(), 2);
    }

    #[test]
    fn more_than_one_connection_and_unusable_schedules_are_refused() {
        let problems = Flow::from_document(&flow(
            json!([SOURCE, SOURCE]),
            json!([]),
            json!({"startTime": 1_700_000_000_000_i64, "frequency": "minute", "interval": 1_000_000}),
        ))
        .unwrap_err();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "/sourceConnectionIds: lists 2 source connections; flowd runs exactly one source connection per flow (create one flow per source connection)",
                "/targetConnectionIds: must be an array holding one target connection id",
                "/scheduleParams/startTime: 1700000000000 looks like epoch milliseconds; send epoch seconds (1700000000)",
                "/scheduleParams/interval: must be at most 527040 for frequency minute (runs at most 366 days apart), got 1000000",
            ]
        );
    }

    #[test]
    fn a_flow_spec_refers_to_the_connection_specs_it_lists() {
        let references = flow_spec_references(&json!({
            "sourceConnectionSpecIds": ["a", "b"], "targetConnectionSpecIds": ["a"]
        }));
        let ids: Vec<&str> = references
            .iter()
            .map(|reference| reference.id.as_str())
            .collect();
        assert_eq!(ids, ["a", "b"]);
    }
}
