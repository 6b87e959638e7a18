//! The Flow Service routes, one module per resource collection.

pub mod connection_specs;
pub mod connections;
mod documents;
pub mod explore;
pub mod flow_specs;
pub mod flows;
