//! SQL for [`ListQuery`]: filters, keyset continuation, order and limit pushed into one
//! statement that the indexes of `resources` and `runs` answer.

use serde_json::Value;
use sqlx::{QueryBuilder, Sqlite};

use crate::query::{FilterOp, FilterValue, IndexedField, ListQuery};

/// A column a [`ListQuery`] may name, and whether it may hold NULL.
#[derive(Debug, Clone, Copy)]
pub(super) struct Column {
    pub(super) name: &'static str,
    pub(super) nullable: bool,
}

/// Where a table keeps an indexed field; `None` when it has no such column.
pub(super) type ColumnOf = fn(IndexedField) -> Option<Column>;

/// Columns of `resources`.
pub(super) fn resource_column(field: IndexedField) -> Option<Column> {
    let (name, nullable) = match field {
        IndexedField::Id => ("id", false),
        IndexedField::Name => ("name", true),
        IndexedField::State => ("state", true),
        IndexedField::CreatedAt => ("doc_created_at", true),
        IndexedField::UpdatedAt => ("doc_updated_at", true),
        IndexedField::FlowId => return None,
    };
    Some(Column { name, nullable })
}

/// Columns of `runs`.
pub(super) fn run_column(field: IndexedField) -> Option<Column> {
    let name = match field {
        IndexedField::Id => "id",
        IndexedField::FlowId => "flow_id",
        IndexedField::CreatedAt => "created_at",
        _ => return None,
    };
    Some(Column {
        name,
        nullable: false,
    })
}

fn push_value(builder: &mut QueryBuilder<Sqlite>, value: &FilterValue) {
    match value {
        FilterValue::Text(text) => builder.push_bind(text.clone()),
        FilterValue::Number(number) => builder.push_bind(*number),
    };
}

fn push_json_value(builder: &mut QueryBuilder<Sqlite>, value: &Value) {
    match value {
        Value::Number(number) => match number.as_i64() {
            Some(integer) => builder.push_bind(integer),
            None => builder.push_bind(number.as_f64().unwrap_or_default()),
        },
        Value::String(text) => builder.push_bind(text.clone()),
        other => builder.push_bind(other.to_string()),
    };
}

/// Appends ` AND …` for the filters and the cursor of `query`.
pub(super) fn push_conditions(
    builder: &mut QueryBuilder<Sqlite>,
    query: &ListQuery,
    column_of: ColumnOf,
) {
    for filter in &query.filters {
        let Some(column) = column_of(filter.field) else {
            // Callers only push fields the table has; anything else matches nothing.
            builder.push(" AND 0");
            continue;
        };
        let name = column.name;
        match filter.op {
            FilterOp::In | FilterOp::NotIn => {
                if filter.op == FilterOp::In {
                    builder.push(format!(" AND {name} IN ("));
                } else {
                    builder.push(format!(" AND ({name} IS NULL OR {name} NOT IN ("));
                }
                for (index, value) in filter.values.iter().enumerate() {
                    if index > 0 {
                        builder.push(", ");
                    }
                    push_value(builder, value);
                }
                builder.push(if filter.op == FilterOp::In { ")" } else { "))" });
            }
            comparison => {
                let operator = match comparison {
                    FilterOp::Greater => ">",
                    FilterOp::GreaterOrEqual => ">=",
                    FilterOp::Less => "<",
                    _ => "<=",
                };
                let Some(value) = filter.values.first() else {
                    builder.push(" AND 0");
                    continue;
                };
                builder.push(format!(" AND {name} {operator} "));
                push_value(builder, value);
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
            builder.push_bind(after.position);
        }
        Some((column, _)) if after.value.is_null() => {
            builder.push(format!(" AND ({} IS NULL AND seq > ", column.name));
            builder.push_bind(after.position);
            builder.push(")");
        }
        Some((column, descending)) => {
            let name = column.name;
            let beyond = if descending { "<" } else { ">" };
            builder.push(format!(" AND (({name} IS NOT NULL AND ({name} {beyond} "));
            push_json_value(builder, &after.value);
            builder.push(format!(" OR ({name} = "));
            push_json_value(builder, &after.value);
            builder.push(" AND seq > ");
            builder.push_bind(after.position);
            builder.push(format!("))) OR {name} IS NULL)"));
        }
    }
}

/// ` ORDER BY …` for `query`; `default_order` orders an unsorted list.
pub(super) fn order_by(query: &ListQuery, column_of: ColumnOf, default_order: &str) -> String {
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
pub(super) fn push_order_and_limit(
    builder: &mut QueryBuilder<Sqlite>,
    query: &ListQuery,
    column_of: ColumnOf,
    default_order: &str,
) {
    builder.push(order_by(query, column_of, default_order));
    if let Some(limit) = query.limit {
        builder.push(" LIMIT ");
        builder.push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
    }
}
