//! Typed instance resources: one module per resource, each with a `from_document` that turns
//! the JSON document (as posted, patched or stored) into the resolved type, reporting every
//! problem at once with its JSON pointer, and a `references` list naming the resources it
//! depends on, each with the pointer of the field that names it.
//!
//! The documents keep every field a client sent (unknown fields are preserved on the wire);
//! the typed values hold what flowd reads. Server-managed fields (`id`, `createdAt`, `etag`, …)
//! are ignored here: the API strips and stamps them.

mod connection;
mod dataset;
mod fields;
mod flow;
mod source_connection;
mod target_connection;

pub use connection::{AuthBinding, Connection};
pub use dataset::Dataset;
pub use flow::{Flow, FlowOptions, FlowState, flow_spec_references};
pub use source_connection::{SOURCE_DATA_FORMAT, SourceConnection};
pub use target_connection::{TargetConnection, TargetDataFormat};

/// The kinds of stored resources. A closed set: every stored row names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    ConnectionSpec,
    FlowSpec,
    Connection,
    SourceConnection,
    TargetConnection,
    Flow,
    Dataset,
    /// A Data Prep mapping set, every version in one document.
    MappingSet,
    /// A Schema Registry schema (`/data/foundation/schemaregistry/tenant/schemas`).
    Schema,
    /// What a run's promotion rejected, for one batch (`flowd_model::diagnostics`).
    BatchDiagnostics,
}

impl ResourceKind {
    /// Every kind, for lookups by stored name.
    pub const ALL: [ResourceKind; 10] = [
        ResourceKind::ConnectionSpec,
        ResourceKind::FlowSpec,
        ResourceKind::Connection,
        ResourceKind::SourceConnection,
        ResourceKind::TargetConnection,
        ResourceKind::Flow,
        ResourceKind::Dataset,
        ResourceKind::MappingSet,
        ResourceKind::Schema,
        ResourceKind::BatchDiagnostics,
    ];

    /// The kind whose stored name is `name`.
    pub fn from_stored_name(name: &str) -> Option<ResourceKind> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The name stored in the `kind` column; never change a published value.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::ConnectionSpec => "connectionSpec",
            ResourceKind::FlowSpec => "flowSpec",
            ResourceKind::Connection => "connection",
            ResourceKind::SourceConnection => "sourceConnection",
            ResourceKind::TargetConnection => "targetConnection",
            ResourceKind::Flow => "flow",
            ResourceKind::Dataset => "dataSet",
            ResourceKind::MappingSet => "mappingSet",
            ResourceKind::Schema => "schema",
            ResourceKind::BatchDiagnostics => "batchDiagnostics",
        }
    }
}

/// "This resource refers to the resource `kind`/`id` through the field at `pointer`": the
/// store keeps one edge per reference and refuses a write whose target does not exist, and a
/// delete of a target while an edge points at it, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceRef {
    pub kind: ResourceKind,
    /// Canonical id of the referenced resource.
    pub id: String,
    /// Where the referring document names it (for error messages).
    pub pointer: String,
}

impl ResourceRef {
    pub fn new(kind: ResourceKind, id: impl Into<String>, pointer: impl Into<String>) -> Self {
        ResourceRef {
            kind,
            id: id.into(),
            pointer: pointer.into(),
        }
    }
}

/// A `{id, version}` reference to a connection or flow spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecRef {
    pub id: String,
    /// As given; flowd keeps one version of a spec, so it is not interpreted.
    pub version: Option<String>,
}

/// A `{id, version}` (XDM schema of a target) or `{id, contentType}` (dataset) reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRef {
    pub id: String,
    /// `version` of a target connection's schema, `contentType` of a dataset's.
    pub qualifier: Option<String>,
}
