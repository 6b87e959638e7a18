//! The Flow Service routes (and Catalog's datasets), one module per resource
//! collection.

mod body_fields;
pub mod connection_specs;
pub mod connections;
pub mod datasets;
mod documents;
pub mod explore;
pub mod flow_specs;
pub mod flows;
pub mod runs;
pub mod source_connections;
pub mod target_connections;
