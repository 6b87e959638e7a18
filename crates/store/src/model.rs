//! Plain data types exchanged with the store about credentials, sandboxes and resources.

use flowd_model::{ResourceKind, ResourceRef};
use serde_json::Value;

/// The tenant a request acts for: an IMS org and one of its sandboxes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The `x-gw-ims-org-id` the credential is bound to.
    pub org_id: String,
    /// The `x-sandbox-name` of the request.
    pub sandbox_name: String,
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

/// What [`crate::ResourceStore::ensure_sandbox`] found: the sandbox, and whether this call
/// created it (with its seed) rather than finding it made by an earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnsuredSandbox {
    pub sandbox: Sandbox,
    pub created: bool,
}

/// A resource that a new sandbox starts with (built-in specs).
#[derive(Debug, Clone)]
pub struct SeedResource {
    pub kind: ResourceKind,
    pub id: String,
    pub body: Value,
    pub references: Vec<ResourceRef>,
}

/// What one insert or replace writes besides the document.
#[derive(Debug, Clone, Copy)]
pub struct ResourceWrite<'a> {
    /// The document, stored verbatim.
    pub body: &'a Value,
    /// The resources it refers to. They must exist in the scope when the write commits, and
    /// cannot be deleted while it refers to them. `None` on a replace keeps the stored ones.
    pub references: Option<&'a [ResourceRef]>,
    /// For flows: what the planner needs. `None` leaves a stored schedule row untouched.
    pub schedule: Option<ScheduleWrite>,
}

impl<'a> ResourceWrite<'a> {
    /// A document that refers to nothing and has no schedule.
    pub fn document(body: &'a Value) -> ResourceWrite<'a> {
        ResourceWrite {
            body,
            references: Some(&[]),
            schedule: None,
        }
    }

    /// A document and the resources it refers to.
    pub fn with_references(body: &'a Value, references: &'a [ResourceRef]) -> ResourceWrite<'a> {
        ResourceWrite {
            body,
            references: Some(references),
            schedule: None,
        }
    }
}

/// A flow's schedule as the planner finds it: whether it is enabled, and the earliest instant
/// its next run can be due. The hint may be early (the planner then recomputes it from the
/// schedule and the end of the flow's last window) but never late: write the schedule's
/// `startTime`, which precedes every run of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleWrite {
    pub enabled: bool,
    /// Epoch milliseconds; `None` when the flow has no schedule (ad hoc runs only).
    pub due_hint: Option<i64>,
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

/// A console session: what a browser's session cookie stands for, kept in the store so every
/// API process of a fleet accepts it and a sign-out revokes it everywhere at once.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    /// Lowercase hex SHA-256 of the cookie value (the value itself is never stored).
    pub id_hash: String,
    /// The credential signed in with (its principal id); deleting it ends its sessions.
    pub credential_id: String,
    /// The org the session acts for: the credential's.
    pub org_id: String,
    /// The credential's API key, the client of the session's writes.
    pub api_key: String,
    /// The token a state-changing request of the session must send in `x-csrf-token`.
    pub csrf_token: String,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Epoch milliseconds; from then on the session is not found.
    pub expires_at: i64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Session")
            .field("id_hash", &self.id_hash)
            .field("credential_id", &self.credential_id)
            .field("org_id", &self.org_id)
            .field("api_key", &self.api_key)
            .field("csrf_token", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}
