//! Plain data types exchanged with the store.

use serde_json::Value;

/// The tenant a request acts for: an IMS org and one of its sandboxes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The `x-gw-ims-org-id` the credential is bound to.
    pub org_id: String,
    /// The `x-sandbox-name` of the request.
    pub sandbox_name: String,
}

/// The kinds of stored resources. A closed set: every table row names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    ConnectionSpec,
    FlowSpec,
    Connection,
    SourceConnection,
    TargetConnection,
    Flow,
    Dataset,
}

impl ResourceKind {
    /// Every kind, for lookups by stored name.
    pub const ALL: [ResourceKind; 7] = [
        ResourceKind::ConnectionSpec,
        ResourceKind::FlowSpec,
        ResourceKind::Connection,
        ResourceKind::SourceConnection,
        ResourceKind::TargetConnection,
        ResourceKind::Flow,
        ResourceKind::Dataset,
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
        }
    }
}

/// A stored API credential, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The principal id written to `createdBy`/`updatedBy`.
    pub id: String,
    /// The only org this credential may act for.
    pub org_id: String,
    /// The `x-api-key` (client id) that must accompany the token.
    pub api_key: String,
    /// Epoch milliseconds.
    pub created_at: i64,
}

/// A credential to insert: the token is only present as its hash.
#[derive(Debug, Clone)]
pub struct NewCredential {
    pub id: String,
    pub org_id: String,
    pub api_key: String,
    /// Lowercase hex SHA-256 of the access token.
    pub token_hash: String,
    pub created_at: i64,
}

/// A sandbox of an org; it exists from its first request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    /// Stable UUID of the (org, sandbox name) pair.
    pub id: String,
    pub org_id: String,
    pub name: String,
}

/// A resource that a new sandbox starts with (built-in specs).
#[derive(Debug, Clone)]
pub struct SeedResource {
    pub kind: ResourceKind,
    pub id: String,
    pub body: Value,
}

/// A resource as stored: its JSON document and its revision counter.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResource {
    pub id: String,
    pub body: Value,
    /// Starts at 1 and grows by one on every replace.
    pub revision: i64,
    /// Insertion order within the store: larger is newer, never reused.
    pub position: i64,
}

/// "Resources of `kind` refer to the deleted id through the JSON field
/// `field`" (an SQLite JSON path such as `$.sourceConnectionSpecIds`; the
/// field may hold one id or an array of ids).
#[derive(Debug, Clone, Copy)]
pub struct Reference {
    pub kind: ResourceKind,
    pub field: &'static str,
}

/// What a delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    NotFound,
    /// Not deleted: these resources (kind, id) still refer to it.
    Referenced(Vec<(ResourceKind, String)>),
}

/// What a replace did.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplaceOutcome {
    Replaced(StoredResource),
    NotFound,
    /// The stored revision differs from the expected one.
    RevisionMismatch {
        current: i64,
    },
}
