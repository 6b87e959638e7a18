//! List queries the store answers with its indexes: filters on, and ordering by, the fields
//! every document has as columns (`id`, `name`, `state`, `createdAt`, `updatedAt` of
//! resources; `id`, `flowId`, `createdAt` of runs), keyset continuation after a sort value and
//! a position, and a limit. Callers keep whatever else a client asked for (other fields,
//! dotted paths, comparisons on text) in memory.

use serde_json::Value;

/// A field the store holds as an indexed column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexedField {
    /// The resource or run id (text).
    Id,
    /// A document's top-level `name` when it is a string.
    Name,
    /// A document's top-level `state` when it is a string.
    State,
    /// A document's `createdAt` (or a run's creation), epoch milliseconds.
    CreatedAt,
    /// A document's `updatedAt`, epoch milliseconds.
    UpdatedAt,
    /// A run's flow id (text).
    FlowId,
}

impl IndexedField {
    /// Whether the column holds integers (else text).
    pub fn is_numeric(self) -> bool {
        matches!(self, IndexedField::CreatedAt | IndexedField::UpdatedAt)
    }
}

/// How a filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    /// Any of the values.
    In,
    /// None of the values (a missing field passes).
    NotIn,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

/// A value compared with a column: text columns take text, numeric columns numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Text(String),
    Number(f64),
}

/// One condition on an indexed column.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedFilter {
    pub field: IndexedField,
    pub op: FilterOp,
    /// Several only for `In`/`NotIn`.
    pub values: Vec<FilterValue>,
}

/// Where the previous page ended: the sort value of its last item (`null` when unsorted or
/// missing) and that item's store position.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub value: Value,
    pub position: i64,
}

/// A page request: filters ANDed, an optional order (ties and unsorted lists go by store
/// position, oldest first; missing values sort last in either direction), where to resume,
/// and how many items at most.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    pub filters: Vec<IndexedFilter>,
    /// The field and whether it is descending.
    pub order: Option<(IndexedField, bool)>,
    pub after: Option<Cursor>,
    pub limit: Option<usize>,
}

impl ListQuery {
    /// The sort value of an item, as a cursor holds it.
    pub fn sort_value(&self, text: Option<&str>, number: Option<i64>) -> Value {
        match self.order {
            Some((field, _)) if field.is_numeric() => number.map_or(Value::Null, Value::from),
            Some(_) => text.map_or(Value::Null, Value::from),
            None => Value::Null,
        }
    }
}
