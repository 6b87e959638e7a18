//! The store's error type.

use flowd_model::ResourceKind;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A resource (or run) with that id already exists in the scope.
    #[error("resource {id} already exists")]
    AlreadyExists { id: String },
    /// A written resource refers to a resource that does not exist in its scope (it never
    /// did, or it was deleted concurrently); nothing was written.
    #[error("the {} {id} it refers to does not exist", kind.as_str())]
    MissingReference { kind: ResourceKind, id: String },
    /// The database could not be opened, migrated, read or written.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored document is not valid JSON (the file was altered outside flowd).
    #[error("stored document {id} is corrupt: {source}")]
    CorruptDocument {
        id: String,
        source: serde_json::Error,
    },
    /// The data directory could not be prepared.
    #[error("cannot prepare data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    /// The database was written by a newer flowd.
    #[error("database schema version {found} is newer than this flowd supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    /// A store copy's target already holds data; nothing was written.
    #[error(
        "the target store is not empty (it has credentials, sandboxes, resources or runs); copy into a new, empty store"
    )]
    TargetNotEmpty,
    /// The store could not be reached (never holds the URL's password).
    #[error("store {shown} is unavailable: {reason}")]
    Unavailable { shown: String, reason: String },
    /// The store URL cannot be used (never holds the URL's password).
    #[error("store URL {shown}: {reason}")]
    InvalidUrl { shown: String, reason: String },
}
