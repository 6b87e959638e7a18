//! The built-in specs every sandbox starts with: the data-lake target connection spec and the
//! `RestStorageToAEP` flow spec, stamped as written by flowd itself.

use flowd_spec::builtin;
use flowd_store::{ResourceKind, SeedResource};

use crate::metadata::{SYSTEM_PRINCIPAL, Stamp, stamp_created};

/// The built-in specs every sandbox starts with.
pub fn builtin_seed(org_id: &str, sandbox_name: &str, sandbox_id: &str) -> Vec<SeedResource> {
    let stamp = Stamp {
        principal_id: SYSTEM_PRINCIPAL,
        client_id: SYSTEM_PRINCIPAL,
        org_id,
        sandbox_name,
        sandbox_id,
        at: flowd_model::time::now_millis(),
    };
    vec![
        SeedResource {
            kind: ResourceKind::ConnectionSpec,
            id: builtin::DATA_LAKE_CONNECTION_SPEC_ID.to_owned(),
            body: stamp_created(
                builtin::DATA_LAKE_CONNECTION_SPEC_ID,
                builtin::data_lake_connection_spec(),
                &stamp,
            ),
            references: Vec::new(),
        },
        SeedResource {
            kind: ResourceKind::FlowSpec,
            id: builtin::REST_STORAGE_TO_AEP_FLOW_SPEC_ID.to_owned(),
            body: stamp_created(
                builtin::REST_STORAGE_TO_AEP_FLOW_SPEC_ID,
                builtin::rest_storage_to_aep_flow_spec(),
                &stamp,
            ),
            references: flowd_model::flow_spec_references(&builtin::rest_storage_to_aep_flow_spec()),
        },
    ]
}
