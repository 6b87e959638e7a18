//! Every collection of stored resources and how it appears on the wire, in one place so that
//! routes refer to each other's collections without importing each other.

use flowd_store::ResourceKind;
use serde_json::Value;

use crate::error::FlowErrorCode;

/// How one resource type appears on the wire.
#[derive(Debug, Clone, Copy)]
pub struct ResourceType {
    pub kind: ResourceKind,
    /// The collection's path segment, also used as `report.type` in errors.
    pub collection: &'static str,
    /// Lowercase singular noun for messages ("connection spec").
    pub noun: &'static str,
    /// Fields `orderby` accepts.
    pub sortable: &'static [&'static str],
    /// The code of a delete refused because other resources refer to it.
    pub in_use: FlowErrorCode,
    /// What clients see of a stored document (secrets masked).
    pub present: fn(Value) -> Value,
}

/// [`ResourceType::present`] for resources shown as stored.
pub fn as_stored(document: Value) -> Value {
    document
}

/// A stored connection as clients see it: secrets masked.
pub fn masked_connection(mut document: Value) -> Value {
    if let Some(Value::Object(params)) = document.pointer("/auth/params") {
        let shown = flowd_plan::credentials::masked(params);
        document["auth"]["params"] = Value::Object(shown);
    }
    document
}

/// Fields of connection and flow specs that `orderby` accepts.
const SPEC_SORTABLE_FIELDS: &[&str] = &[
    "id",
    "name",
    "providerId",
    "createdAt",
    "updatedAt",
    "version",
    "type",
];

/// Fields of instance resources that `orderby` accepts.
const INSTANCE_SORTABLE_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "state",
    "createdAt",
    "updatedAt",
];

pub const CONNECTION_SPECS: ResourceType = ResourceType {
    kind: ResourceKind::ConnectionSpec,
    collection: "connectionSpecs",
    noun: "connection spec",
    sortable: SPEC_SORTABLE_FIELDS,
    in_use: FlowErrorCode::StillReferenced,
    present: as_stored,
};

pub const FLOW_SPECS: ResourceType = ResourceType {
    kind: ResourceKind::FlowSpec,
    collection: "flowSpecs",
    noun: "flow spec",
    sortable: SPEC_SORTABLE_FIELDS,
    in_use: FlowErrorCode::StillReferenced,
    present: as_stored,
};

pub const CONNECTIONS: ResourceType = ResourceType {
    kind: ResourceKind::Connection,
    collection: "connections",
    noun: "connection",
    sortable: INSTANCE_SORTABLE_FIELDS,
    in_use: FlowErrorCode::ConnectionInUse,
    present: masked_connection,
};

pub const SOURCE_CONNECTIONS: ResourceType = ResourceType {
    kind: ResourceKind::SourceConnection,
    collection: "sourceConnections",
    noun: "source connection",
    sortable: INSTANCE_SORTABLE_FIELDS,
    in_use: FlowErrorCode::StillReferenced,
    present: as_stored,
};

pub const TARGET_CONNECTIONS: ResourceType = ResourceType {
    kind: ResourceKind::TargetConnection,
    collection: "targetConnections",
    noun: "target connection",
    sortable: INSTANCE_SORTABLE_FIELDS,
    in_use: FlowErrorCode::StillReferenced,
    present: as_stored,
};

pub const FLOWS: ResourceType = ResourceType {
    kind: ResourceKind::Flow,
    collection: "flows",
    noun: "flow",
    sortable: INSTANCE_SORTABLE_FIELDS,
    in_use: FlowErrorCode::StillReferenced,
    present: as_stored,
};

pub const DATASETS: ResourceType = ResourceType {
    kind: ResourceKind::Dataset,
    collection: "dataSets",
    noun: "dataset",
    sortable: &[],
    in_use: FlowErrorCode::StillReferenced,
    present: as_stored,
};

pub const MAPPING_SETS: ResourceType = ResourceType {
    kind: ResourceKind::MappingSet,
    collection: "mappingSets",
    noun: "mapping set",
    sortable: &[],
    in_use: FlowErrorCode::StillReferenced,
    present: as_stored,
};

pub const SCHEMAS: ResourceType = ResourceType {
    kind: ResourceKind::Schema,
    collection: "schemas",
    noun: "schema",
    sortable: &[],
    in_use: FlowErrorCode::StillReferenced,
    present: as_stored,
};

pub const BATCH_DIAGNOSTICS: ResourceType = ResourceType {
    kind: ResourceKind::BatchDiagnostics,
    collection: "batches",
    noun: "batch diagnostics",
    sortable: &[],
    in_use: FlowErrorCode::StillReferenced,
    present: as_stored,
};

/// The resource type of a stored kind (for messages about referring resources).
pub fn of_kind(kind: ResourceKind) -> ResourceType {
    match kind {
        ResourceKind::ConnectionSpec => CONNECTION_SPECS,
        ResourceKind::FlowSpec => FLOW_SPECS,
        ResourceKind::Connection => CONNECTIONS,
        ResourceKind::SourceConnection => SOURCE_CONNECTIONS,
        ResourceKind::TargetConnection => TARGET_CONNECTIONS,
        ResourceKind::Flow => FLOWS,
        ResourceKind::Dataset => DATASETS,
        ResourceKind::MappingSet => MAPPING_SETS,
        ResourceKind::Schema => SCHEMAS,
        ResourceKind::BatchDiagnostics => BATCH_DIAGNOSTICS,
    }
}
