//! The Flow Service routes, one module per resource collection.

pub mod connection_specs;
mod documents;
pub mod flow_specs;
