//! The record table and the schema section of `flowd spec test`: columns padded to their
//! display width (CJK characters take two columns), and nested types written out as
//! `struct<…>` and `list<…>`.

use std::io::Write;

use flowd_model::record_type::{ColumnType, StructType};
use serde_json::Value;
use unicode_width::UnicodeWidthStr;

/// Rows the table shows.
pub const TABLE_ROWS: usize = 50;
/// The widest a cell is shown, in display columns.
const CELL_WIDTH: usize = 32;

/// A type as the schema section shows it: `string`, `integer`, `double`, `boolean`,
/// `list<T>`, `struct<name: T, …>` (`object` for an object that never had a field).
pub fn type_text(column_type: &ColumnType) -> String {
    match column_type {
        ColumnType::Null | ColumnType::String => "string".to_owned(),
        ColumnType::Boolean => "boolean".to_owned(),
        ColumnType::Integer => "integer".to_owned(),
        ColumnType::Float => "double".to_owned(),
        ColumnType::List(item) => format!("list<{}>", type_text(item)),
        ColumnType::Struct(fields) if fields.fields.is_empty() => "object".to_owned(),
        ColumnType::Struct(fields) => format!("struct<{}>", fields_text(fields)),
    }
}

fn fields_text(struct_type: &StructType) -> String {
    struct_type
        .fields
        .iter()
        .map(|(name, field_type)| format!("{name}: {}", type_text(field_type)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The schema section: one `name: type` line per top-level column.
pub fn print_schema(out: &mut dyn Write, records: &[Value]) -> std::io::Result<()> {
    if records.is_empty() {
        return writeln!(out, "\nschema: no records to infer it from");
    }
    writeln!(
        out,
        "\nschema (inferred from the first {}):",
        super::report::count(records.len() as u64, "record", "records")
    )?;
    for (name, column_type) in &StructType::of_records(records.iter()).fields {
        writeln!(out, "  {name}: {}", type_text(column_type))?;
    }
    Ok(())
}

/// `text` cut to `width` display columns (with `…` when cut), on one line.
fn fit(text: &str, width: usize) -> String {
    let text = text.replace(['\n', '\t', '\r'], " ");
    if text.width() <= width {
        return text;
    }
    let mut shown = String::new();
    let mut used = 0;
    for character in text.chars() {
        let character_width = unicode_width::UnicodeWidthChar::width(character).unwrap_or(0);
        if used + character_width > width - 1 {
            break;
        }
        used += character_width;
        shown.push(character);
    }
    shown.push('…');
    shown
}

fn cell(record: &Value, dotted: &str) -> String {
    let pointer = format!("/{}", dotted.replace('.', "/"));
    let text = match record.pointer(&pointer) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    };
    fit(&text, CELL_WIDTH)
}

/// `text` padded with spaces to `width` display columns.
fn pad(text: &str, width: usize) -> String {
    let mut padded = text.to_owned();
    padded.extend(std::iter::repeat_n(' ', width.saturating_sub(text.width())));
    padded
}

/// The first [`TABLE_ROWS`] records as a table of their flattened columns.
pub fn print_table(out: &mut dyn Write, records: &[Value], total: u64) -> std::io::Result<()> {
    if records.is_empty() {
        return writeln!(out, "\nrecords: none");
    }
    let columns: Vec<String> = StructType::of_records(records.iter())
        .flattened_columns()
        .into_iter()
        .filter(|(_, column_type)| *column_type != "object")
        .map(|(name, _)| name)
        .collect();
    let rows: Vec<Vec<String>> = records
        .iter()
        .take(TABLE_ROWS)
        .map(|record| columns.iter().map(|column| cell(record, column)).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(index, name)| {
            rows.iter()
                .map(|row| row[index].width())
                .chain([name.width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    writeln!(out, "\nrecords:")?;
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(text, width)| pad(text, *width))
            .collect();
        padded.join(" | ").trim_end().to_owned()
    };
    writeln!(out, "{}", line(&columns))?;
    for row in &rows {
        writeln!(out, "{}", line(row))?;
    }
    let more = total.saturating_sub(rows.len() as u64);
    if more > 0 {
        let noun = if more == 1 { "record" } else { "records" };
        writeln!(
            out,
            "... {more} more {noun} (use --format jsonl to see them all)"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wide_characters_are_cut_and_padded_by_display_width() {
        assert_eq!(fit("東京都渋谷区", 6), "東京…");
        assert_eq!(pad("東京", 6).width(), 6);
        assert_eq!(pad("東京", 6), "東京  ");
    }

    #[test]
    fn nested_types_are_written_out() {
        let records =
            [json!({"tags": ["a"], "location": {"country_code": "JP", "latitude": 35.6}})];
        let record_type = StructType::of_records(records.iter());
        let shown: Vec<String> = record_type
            .fields
            .iter()
            .map(|(name, field_type)| format!("{name}: {}", type_text(field_type)))
            .collect();
        assert_eq!(
            shown,
            [
                "tags: list<string>",
                "location: struct<country_code: string, latitude: double>"
            ]
        );
    }
}
