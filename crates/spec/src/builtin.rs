//! The specs every fresh sandbox starts with: the `RestStorageToAEP` flow spec that every
//! batch SDK source uses, and the Data Lake target connection spec it writes to.
//!
//! Both are kept as JSON files under `builtin/` (without server-managed fields) so they read
//! like the documents the API returns. `sourceConnectionSpecIds` starts empty: Adobe's own
//! copy lists production spec ids that do not exist in a fresh flowd sandbox, and every id
//! listed must exist; authors append their spec's id with a PUT, as the SDK docs instruct.

use serde_json::Value;

/// Id of the `RestStorageToAEP` flow spec (reference §7.1).
pub const REST_STORAGE_TO_AEP_FLOW_SPEC_ID: &str = "6499120c-0b15-42dc-936e-847ea3c24d72";

/// Id of the Data Lake target connection spec (reference §7.1).
pub const DATA_LAKE_CONNECTION_SPEC_ID: &str = "c604ff05-7f1a-43c0-8e18-33bf874cb11c";

/// Provider id of batch REST (Self-Serve Sources SDK) specs (reference §3.1).
pub const BATCH_REST_PROVIDER_ID: &str = "0ed90a81-07f4-4586-8190-b40eccef1c5a";

const REST_STORAGE_TO_AEP_FLOW_SPEC_JSON: &str =
    include_str!("../builtin/rest_storage_to_aep.flow_spec.json");
const DATA_LAKE_CONNECTION_SPEC_JSON: &str =
    include_str!("../builtin/data_lake.connection_spec.json");

/// The `RestStorageToAEP` flow spec body (no `id` or other server-managed fields).
pub fn rest_storage_to_aep_flow_spec() -> Value {
    parse_builtin(REST_STORAGE_TO_AEP_FLOW_SPEC_JSON)
}

/// The Data Lake target connection spec body (no `id` or other server-managed fields); its
/// `targetSpec.spec` requires `dataSetId`, and `targetSpec.attributes.dataFormats` lists the
/// accepted `data.format` values.
pub fn data_lake_connection_spec() -> Value {
    parse_builtin(DATA_LAKE_CONNECTION_SPEC_JSON)
}

fn parse_builtin(json_text: &str) -> Value {
    // The files are compiled in and parsed by this crate's tests, so failure is a build defect.
    serde_json::from_str(json_text).expect("built-in spec files are valid JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection_spec::validate_connection_spec;
    use crate::flow_spec::validate_flow_spec;
    use crate::json_schema::compile_schema;
    use serde_json::json;

    #[test]
    fn rest_storage_to_aep_passes_its_own_validator() {
        let flow_spec = rest_storage_to_aep_flow_spec();
        assert_eq!(validate_flow_spec(&flow_spec), []);
        assert_eq!(flow_spec["name"], "RestStorageToAEP");
        assert_eq!(flow_spec["providerId"], BATCH_REST_PROVIDER_ID);
        assert_eq!(flow_spec["sourceConnectionSpecIds"], json!([]));
        assert_eq!(
            flow_spec["targetConnectionSpecIds"],
            json!([DATA_LAKE_CONNECTION_SPEC_ID])
        );
        assert!(flow_spec.get("id").is_none());
    }

    #[test]
    fn periodic_schedule_spec_enforces_the_documented_rules() {
        let schedule_schema = &rest_storage_to_aep_flow_spec()["scheduleSpec"]["spec"];
        let validator = compile_schema(schedule_schema).expect("schedule spec compiles");
        let accepted = [
            json!({"startTime": 1632809759, "frequency": "once"}),
            json!({"startTime": 1632809759, "frequency": "minute", "interval": 15}),
            json!({"startTime": 1632809759, "frequency": "day", "interval": 1, "backfill": false}),
        ];
        let rejected = [
            json!({"startTime": 1632809759, "frequency": "once", "interval": 15}),
            json!({"startTime": 1632809759, "frequency": "once", "backfill": true}),
            json!({"startTime": 1632809759, "frequency": "minute", "interval": 14}),
            json!({"startTime": 1632809759, "frequency": "hour"}),
            json!({"startTime": 1632809759, "frequency": "hour", "interval": 0}),
            json!({"frequency": "once"}),
            json!({"startTime": 1632809759, "frequency": "month", "interval": 1}),
        ];
        for schedule in accepted {
            assert!(validator.is_valid(&schedule), "{schedule}");
        }
        for schedule in rejected {
            assert!(!validator.is_valid(&schedule), "{schedule}");
        }
    }

    #[test]
    fn data_lake_connection_spec_passes_its_own_validator() {
        let connection_spec = data_lake_connection_spec();
        assert_eq!(validate_connection_spec(&connection_spec), []);
        assert_eq!(connection_spec["name"], "Data Lake");
        let target_params_schema = &connection_spec["targetSpec"]["spec"];
        let validator = compile_schema(target_params_schema).expect("target spec compiles");
        assert!(validator.is_valid(&json!({"dataSetId": "6155e3a9bd13651949515f14"})));
        assert!(!validator.is_valid(&json!({})));
        assert!(!validator.is_valid(&json!({"dataSetId": 5})));
        assert_eq!(
            connection_spec["targetSpec"]["attributes"]["dataFormats"],
            json!(["parquet_xdm", "json"])
        );
    }
}
