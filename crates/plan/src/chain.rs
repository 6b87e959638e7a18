//! The typed resources behind a connection or a flow, as explore and runs need them: each
//! document read from the store and resolved with its `flowd_model` type (so a malformed
//! document is a clear error naming it, never an empty id), the connection's credentials
//! opened.

use flowd_connector::Credentials;
use flowd_model::{Connection, Flow, ResourceKind, SourceConnection, TargetConnection};
use flowd_secrets::Cipher;
use flowd_spec::Problem;
use flowd_store::{ResourceStore, Scope, StoreError, StoredResource};
use serde_json::{Map, Value};

use crate::credentials::{open, stored_params};

/// Why a chain could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A resource of the chain does not exist (any more).
    #[error("the {} {id} no longer exists", noun(*kind))]
    Missing { kind: ResourceKind, id: String },
    /// A stored document does not resolve (it was written by an older flowd, or by hand).
    #[error("the stored {} {id} is invalid: {}", noun(*kind), problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid {
        kind: ResourceKind,
        id: String,
        problems: Vec<Problem>,
    },
    /// The stored credentials do not decrypt (another key, or an altered row).
    #[error("the credentials of connection {connection_id} cannot be decrypted")]
    Credentials { connection_id: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How messages name a kind.
pub fn noun(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::ConnectionSpec => "connection spec",
        ResourceKind::FlowSpec => "flow spec",
        ResourceKind::Connection => "base connection",
        ResourceKind::SourceConnection => "source connection",
        ResourceKind::TargetConnection => "target connection",
        ResourceKind::Flow => "flow",
        ResourceKind::Dataset => "dataset",
        ResourceKind::MappingSet => "mapping set",
        ResourceKind::Schema => "schema",
        ResourceKind::BatchDiagnostics => "batch diagnostics",
    }
}

async fn load(
    store: &dyn ResourceStore,
    scope: &Scope,
    kind: ResourceKind,
    id: &str,
) -> Result<StoredResource, LoadError> {
    store
        .get_resource(scope, kind, id)
        .await?
        .ok_or_else(|| LoadError::Missing {
            kind,
            id: id.to_owned(),
        })
}

/// Loads `kind`/`id` and resolves its document with `from_document`.
async fn load_typed<T>(
    store: &dyn ResourceStore,
    scope: &Scope,
    kind: ResourceKind,
    id: &str,
    from_document: fn(&Value) -> Result<T, Vec<Problem>>,
) -> Result<(T, Value), LoadError> {
    let stored = load(store, scope, kind, id).await?;
    let typed = from_document(&stored.body).map_err(|problems| LoadError::Invalid {
        kind,
        id: id.to_owned(),
        problems,
    })?;
    Ok((typed, stored.body))
}

/// A base connection, its connection spec and its plaintext credentials.
#[derive(Debug, Clone)]
pub struct ConnectionChain {
    pub connection_id: String,
    pub connection: Connection,
    /// The connection spec document (resolved by `flowd_connector::prepare_run`).
    pub connection_spec: Value,
    /// `auth.params` with every secret opened.
    pub plain_params: Map<String, Value>,
}

impl ConnectionChain {
    /// The credentials, as `flowd_connector::prepare_run` takes them.
    pub fn credentials(&self) -> Credentials<'_> {
        Credentials {
            spec_name: &self.connection.auth.spec_name,
            params: &self.plain_params,
        }
    }
}

/// Loads the base connection `connection_id` of `scope` with its spec and credentials.
pub async fn load_connection(
    store: &dyn ResourceStore,
    cipher: &Cipher,
    scope: &Scope,
    connection_id: &str,
) -> Result<ConnectionChain, LoadError> {
    let (connection, document) = load_typed(
        store,
        scope,
        ResourceKind::Connection,
        connection_id,
        Connection::from_document,
    )
    .await?;
    let connection_spec = load(
        store,
        scope,
        ResourceKind::ConnectionSpec,
        &connection.connection_spec.id,
    )
    .await?
    .body;
    let plain_params =
        open(cipher, scope, connection_id, &stored_params(&document)).map_err(|error| {
            tracing::error!(%error, connection_id, "stored credentials cannot be decrypted");
            LoadError::Credentials {
                connection_id: connection_id.to_owned(),
            }
        })?;
    Ok(ConnectionChain {
        connection_id: connection_id.to_owned(),
        connection,
        connection_spec,
        plain_params,
    })
}

/// Everything a flow's run reads: the flow, its one source and one target connection, and the
/// source's base connection with its spec and credentials.
#[derive(Debug, Clone)]
pub struct FlowChain {
    pub flow: Flow,
    pub source: SourceConnection,
    pub target: TargetConnection,
    pub connection: ConnectionChain,
}

/// Loads the flow `flow_id` of `scope` and every resource it runs with.
pub async fn load_flow(
    store: &dyn ResourceStore,
    cipher: &Cipher,
    scope: &Scope,
    flow_id: &str,
) -> Result<FlowChain, LoadError> {
    let (flow, _) = load_typed(
        store,
        scope,
        ResourceKind::Flow,
        flow_id,
        Flow::from_document,
    )
    .await?;
    let (source, _) = load_typed(
        store,
        scope,
        ResourceKind::SourceConnection,
        &flow.source_connection_id,
        SourceConnection::from_document,
    )
    .await?;
    let (target, _) = load_typed(
        store,
        scope,
        ResourceKind::TargetConnection,
        &flow.target_connection_id,
        TargetConnection::from_document,
    )
    .await?;
    let connection = load_connection(store, cipher, scope, &source.base_connection_id).await?;
    Ok(FlowChain {
        flow,
        source,
        target,
        connection,
    })
}
