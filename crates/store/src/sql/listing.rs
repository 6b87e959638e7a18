//! SQL for [`ListQuery`]: filters, keyset continuation, order and limit pushed into one
//! statement that the indexes of `resources` and `runs` answer. The same SQL on every backend
//! (only the placeholders differ, which the query builder writes), so both order, filter and
//! resume a list alike. A value of the wrong type for its column (text compared with a
//! timestamp, say) matches nothing, on every backend, instead of following one database's
//! conversion rules.

use serde_json::Value;
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::query::{FilterOp, FilterValue, IndexedField, ListQuery};

/// A column a [`ListQuery`] may name, whether it may hold NULL, and whether it holds
/// integers (else text).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub(crate) name: &'static str,
    pub(crate) nullable: bool,
    pub(crate) numeric: bool,
}

/// Where a table keeps an indexed field; `None` when it has no such column.
pub(crate) type ColumnOf = fn(IndexedField) -> Option<Column>;

/// Columns of `resources`.
pub(crate) fn resource_column(field: IndexedField) -> Option<Column> {
    let (name, nullable) = match field {
        IndexedField::Id => ("id", false),
        IndexedField::Name => ("name", true),
        IndexedField::State => ("state", true),
        IndexedField::CreatedAt => ("doc_created_at", true),
        IndexedField::UpdatedAt => ("doc_updated_at", true),
        IndexedField::FlowId => return None,
    };
    Some(Column {
        name,
        nullable,
        numeric: field.is_numeric(),
    })
}

/// Columns of `runs`.
pub(crate) fn run_column(field: IndexedField) -> Option<Column> {
    let name = match field {
        IndexedField::Id => "id",
        IndexedField::FlowId => "flow_id",
        IndexedField::CreatedAt => "created_at",
        _ => return None,
    };
    Some(Column {
        name,
        nullable: false,
        numeric: field.is_numeric(),
    })
}

/// The types a listing binds; every backend encodes them.
pub(crate) trait ListingDatabase: Database {
    fn push_integer(builder: &mut QueryBuilder<Self>, value: i64);
    fn push_real(builder: &mut QueryBuilder<Self>, value: f64);
    fn push_text(builder: &mut QueryBuilder<Self>, value: String);
}

impl<DB: Database> ListingDatabase for DB
where
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> f64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    fn push_integer(builder: &mut QueryBuilder<Self>, value: i64) {
        builder.push_bind(value);
    }
    fn push_real(builder: &mut QueryBuilder<Self>, value: f64) {
        builder.push_bind(value);
    }
    fn push_text(builder: &mut QueryBuilder<Self>, value: String) {
        builder.push_bind(value);
    }
}

/// A value to compare with `column`, bound with the column's type; `None` when it has the
/// other type (it then matches nothing).
enum Bound {
    Integer(i64),
    Real(f64),
    Text(String),
}

fn bound_filter_value(column: Column, value: &FilterValue) -> Option<Bound> {
    match (value, column.numeric) {
        // No column holds U+0000 (PostgreSQL text cannot): such a value matches nothing.
        (FilterValue::Text(text), false) if !text.contains('\0') => Some(Bound::Text(text.clone())),
        (FilterValue::Number(number), true) => {
            Some(if number.fract() == 0.0 && number.abs() < 9.0e15 {
                Bound::Integer(*number as i64)
            } else {
                Bound::Real(*number)
            })
        }
        _ => None,
    }
}

fn bound_json_value(column: Column, value: &Value) -> Option<Bound> {
    match (value, column.numeric) {
        (Value::Number(number), true) => Some(match number.as_i64() {
            Some(integer) => Bound::Integer(integer),
            None => Bound::Real(number.as_f64().unwrap_or_default()),
        }),
        (Value::String(text), false) if !text.contains('\0') => Some(Bound::Text(text.clone())),
        _ => None,
    }
}

fn push_bound<DB: ListingDatabase>(builder: &mut QueryBuilder<DB>, value: Bound) {
    match value {
        Bound::Integer(integer) => DB::push_integer(builder, integer),
        Bound::Real(real) => DB::push_real(builder, real),
        Bound::Text(text) => DB::push_text(builder, text),
    }
}

/// Appends ` AND …` for the filters and the cursor of `query`.
pub(crate) fn push_conditions<DB: ListingDatabase>(
    builder: &mut QueryBuilder<DB>,
    query: &ListQuery,
    column_of: ColumnOf,
) {
    for filter in &query.filters {
        let Some(column) = column_of(filter.field) else {
            // Callers only push fields the table has; anything else matches nothing.
            builder.push(" AND FALSE");
            continue;
        };
        let name = column.name;
        let mut values = filter
            .values
            .iter()
            .filter_map(|value| bound_filter_value(column, value))
            .peekable();
        match filter.op {
            FilterOp::In | FilterOp::NotIn => {
                let including = filter.op == FilterOp::In;
                if values.peek().is_none() {
                    // Nothing of the column's type: `In` matches nothing, `NotIn` everything.
                    if including {
                        builder.push(" AND FALSE");
                    }
                    continue;
                }
                if including {
                    builder.push(format!(" AND {name} IN ("));
                } else {
                    builder.push(format!(" AND ({name} IS NULL OR {name} NOT IN ("));
                }
                for (index, value) in values.enumerate() {
                    if index > 0 {
                        builder.push(", ");
                    }
                    push_bound(builder, value);
                }
                builder.push(if including { ")" } else { "))" });
            }
            comparison => {
                let operator = match comparison {
                    FilterOp::Greater => ">",
                    FilterOp::GreaterOrEqual => ">=",
                    FilterOp::Less => "<",
                    _ => "<=",
                };
                let Some(value) = values.next() else {
                    builder.push(" AND FALSE");
                    continue;
                };
                builder.push(format!(" AND {name} {operator} "));
                push_bound(builder, value);
            }
        }
    }
    let Some(after) = &query.after else {
        return;
    };
    let order_column = query
        .order
        .and_then(|(field, descending)| column_of(field).map(|column| (column, descending)));
    match order_column {
        None => {
            builder.push(" AND seq > ");
            DB::push_integer(builder, after.position);
        }
        Some((column, _)) if after.value.is_null() => {
            builder.push(format!(" AND ({} IS NULL AND seq > ", column.name));
            DB::push_integer(builder, after.position);
            builder.push(")");
        }
        Some((column, descending)) => {
            let (Some(value), Some(again)) = (
                bound_json_value(column, &after.value),
                bound_json_value(column, &after.value),
            ) else {
                // A cursor whose value has the wrong type for the column resumes nowhere.
                builder.push(" AND FALSE");
                return;
            };
            let name = column.name;
            let beyond = if descending { "<" } else { ">" };
            builder.push(format!(" AND (({name} IS NOT NULL AND ({name} {beyond} "));
            push_bound(builder, value);
            builder.push(format!(" OR ({name} = "));
            push_bound(builder, again);
            builder.push(" AND seq > ");
            DB::push_integer(builder, after.position);
            builder.push(format!("))) OR {name} IS NULL)"));
        }
    }
}

/// ` ORDER BY …` for `query`; `default_order` orders an unsorted list.
pub(crate) fn order_by(query: &ListQuery, column_of: ColumnOf, default_order: &str) -> String {
    let order_column = query
        .order
        .and_then(|(field, descending)| column_of(field).map(|column| (column, descending)));
    match order_column {
        None => format!(" ORDER BY {default_order}"),
        Some((column, descending)) => {
            let direction = if descending { "DESC" } else { "ASC" };
            if column.nullable {
                format!(
                    " ORDER BY ({name} IS NULL), {name} {direction}, seq",
                    name = column.name
                )
            } else {
                format!(" ORDER BY {} {direction}, seq", column.name)
            }
        }
    }
}

/// Appends ` ORDER BY … LIMIT …` for `query`; `default_order` orders an unsorted list.
pub(crate) fn push_order_and_limit<DB: ListingDatabase>(
    builder: &mut QueryBuilder<DB>,
    query: &ListQuery,
    column_of: ColumnOf,
    default_order: &str,
) {
    builder.push(order_by(query, column_of, default_order));
    if let Some(limit) = query.limit {
        builder.push(" LIMIT ");
        DB::push_integer(builder, i64::try_from(limit).unwrap_or(i64::MAX));
    }
}
