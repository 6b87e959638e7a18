//! flowd's Data Prep: the expression language of mapping sets (reference `data-prep.md` §6),
//! its function library (§7), dates (§8), the paths of attribute mappings (§5), mapping sets
//! compiled and applied to records (§6.5), and the values they compute with. Pure: no IO, no
//! clock (the run's instant is passed in), so every result is reproducible in a test.

pub mod convert;
pub mod destinations;
pub mod expr;
pub mod functions;
pub mod mapping;
pub mod mapping_set;
pub mod paths;
pub mod value;

pub use expr::{EvalError, Expression, ParseError};
pub use functions::{CallContext, Function, FunctionError};
pub use mapping::{Mapped, MappingProblem, MappingSpec, Mappings, SourceType};
pub use mapping_set::{BodyProblem, MappingSetBody, SchemaRef};
pub use paths::Path;
pub use value::Value;
