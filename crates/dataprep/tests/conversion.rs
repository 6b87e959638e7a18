//! Conversion into a dataset's XDM types and validation against its schema (reference
//! `data-prep.md` §9): the conversion matrix as a table, rejections with their pointers and
//! reasons, and the diagnostics record a rejection becomes.

use flowd_dataprep::Value;
use flowd_dataprep::convert::conform_record;
use flowd_model::diagnostics::RowErrorKind;
use flowd_model::xdm::XdmSchema;
use serde_json::{Value as Json, json};

fn schema(properties: Json, required: &[&str]) -> XdmSchema {
    XdmSchema::from_document(
        &json!({"type": "object", "properties": properties, "required": required}),
        &|_| None,
    )
    .expect("the test schema reads")
}

/// The converted record's text, parsed back.
fn conform(schema: &XdmSchema, record: Json) -> Result<Json, Vec<(String, RowErrorKind)>> {
    let mut out = String::new();
    match conform_record(schema, &Value::from_json(&record), &mut out) {
        Ok(()) => Ok(serde_json::from_str(&out).expect("the converted text is JSON")),
        Err(rejection) => {
            assert!(out.is_empty(), "a rejected record leaves nothing written");
            Err(rejection
                .problems
                .into_iter()
                .map(|problem| (problem.pointer, problem.kind))
                .collect())
        }
    }
}

#[test]
fn values_convert_by_the_batch_ingestion_matrix() {
    // (field schema, input, converted JSON as the Arrow decoder reads it or None if refused)
    let cases: Vec<(Json, Json, Option<Json>)> = vec![
        (json!({"type": "string"}), json!("a"), Some(json!("a"))),
        (json!({"type": "string"}), json!(1234), Some(json!("1234"))),
        (json!({"type": "string"}), json!(2.5), Some(json!("2.5"))),
        (json!({"type": "string"}), json!(true), Some(json!("true"))),
        (json!({"type": "string"}), json!({"a": 1}), None),
        (json!({"type": "string"}), json!([1]), None),
        (json!({"type": "integer"}), json!("12"), Some(json!(12))),
        (json!({"type": "integer"}), json!(12.0), Some(json!(12))),
        (json!({"type": "integer"}), json!(12.5), None),
        (json!({"type": "integer"}), json!("12.5"), None),
        (json!({"type": "integer"}), json!("n/a"), None),
        (json!({"type": "integer"}), json!(true), None),
        (
            json!({"type": "integer", "meta:xdmType": "byte"}),
            json!(127),
            Some(json!(127)),
        ),
        (
            json!({"type": "integer", "meta:xdmType": "byte"}),
            json!(128),
            None,
        ),
        (
            json!({"type": "integer", "meta:xdmType": "short"}),
            json!(-32768),
            Some(json!(-32768)),
        ),
        (
            json!({"type": "integer", "meta:xdmType": "int"}),
            json!(2147483648_i64),
            None,
        ),
        (
            json!({"type": "number"}),
            json!("1.5e3"),
            Some(json!(1500.0)),
        ),
        (json!({"type": "number"}), json!(3), Some(json!(3.0))),
        (json!({"type": "number"}), json!("NaN"), None),
        (json!({"type": "number"}), json!("n/a"), None),
        (json!({"type": "boolean"}), json!("yes"), Some(json!(true))),
        (json!({"type": "boolean"}), json!("OFF"), Some(json!(false))),
        (json!({"type": "boolean"}), json!("Yes"), None),
        (json!({"type": "boolean"}), json!(1), None),
        (
            json!({"type": "string", "format": "date"}),
            json!("2024-02-29"),
            Some(json!(19782)),
        ),
        (
            json!({"type": "string", "format": "date"}),
            json!("02/29/2024"),
            Some(json!(19782)),
        ),
        (
            json!({"type": "string", "format": "date"}),
            json!("not a date"),
            None,
        ),
        (
            json!({"type": "string", "format": "date-time"}),
            json!("2024-02-29T10:00:00Z"),
            Some(json!(1_709_200_800_000_000_i64)),
        ),
        (
            json!({"type": "string", "format": "date-time"}),
            json!("2024-02-29T12:00:00.000+02:00"),
            Some(json!(1_709_200_800_000_000_i64)),
        ),
        (
            json!({"type": "string", "format": "date-time"}),
            json!(1_709_200_800_000_i64),
            Some(json!(1_709_200_800_000_000_i64)),
        ),
        (
            json!({"type": "string", "format": "date-time"}),
            json!(true),
            None,
        ),
        (
            json!({"type": "array", "items": {"type": "string"}}),
            json!(["a", 1]),
            Some(json!(["a", "1"])),
        ),
        (
            json!({"type": "array", "items": {"type": "string"}}),
            json!("single"),
            None,
        ),
        (
            json!({"type": "array", "items": {"type": "string"}}),
            json!([{"g1": "h1"}]),
            None,
        ),
        (
            json!({"type": "object", "additionalProperties": {"type": "integer"}}),
            json!({"a": "1", "b": 2}),
            Some(json!({"a": 1, "b": 2})),
        ),
        (
            json!({"type": "object", "properties": {"x": {"type": "integer"}}}),
            json!({"x": "7", "y": 1}),
            Some(json!({"x": 7})),
        ),
        (
            json!({"type": "object", "properties": {"x": {"type": "integer"}}}),
            json!("x"),
            None,
        ),
    ];
    for (field, input, expected) in cases {
        let schema = schema(json!({"f": field}), &[]);
        let converted = conform(&schema, json!({"f": input}))
            .ok()
            .map(|record| record["f"].clone());
        assert_eq!(converted, expected, "{field} ← {input}");
    }
}

#[test]
fn fields_outside_the_schema_are_not_written_and_nulls_are_left_out() {
    let schema = schema(
        json!({"a": {"type": "string"}, "b": {"type": "integer"}}),
        &[],
    );
    assert_eq!(
        conform(&schema, json!({"a": "x", "b": null, "extra": 1})).unwrap(),
        json!({"a": "x"})
    );
}

#[test]
fn a_missing_required_field_rejects_the_record_at_its_pointer() {
    let schema = schema(
        json!({"id": {"type": "string"}, "person": {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}}}),
        &["id"],
    );
    assert_eq!(
        conform(&schema, json!({"person": {}})).unwrap_err(),
        [
            ("/id".to_owned(), RowErrorKind::Required),
            ("/person/email".to_owned(), RowErrorKind::Required)
        ]
    );
}

#[test]
fn every_conversion_problem_of_a_record_is_reported_with_its_pointer() {
    let schema = schema(
        json!({"tags": {"type": "array", "items": {"type": "string"}}, "balance": {"type": "number"}, "ok": {"type": "string"}}),
        &[],
    );
    assert_eq!(
        conform(
            &schema,
            json!({"tags": ["a", {"b": 1}], "balance": "n/a", "ok": "fine"})
        )
        .unwrap_err(),
        [
            ("/tags/1".to_owned(), RowErrorKind::Conversion),
            ("/balance".to_owned(), RowErrorKind::Conversion)
        ]
    );
}

#[test]
fn constraints_of_the_schema_are_enforced() {
    let schema = schema(
        json!({
            "level": {"type": "string", "enum": ["gold", "silver"]},
            "year": {"type": "integer", "minimum": 1, "maximum": 32767},
            "code": {"type": "string", "pattern": "^[A-Z]{2}$", "maxLength": 2},
        }),
        &[],
    );
    assert!(
        conform(
            &schema,
            json!({"level": "gold", "year": "1999", "code": "FR"})
        )
        .is_ok()
    );
    let problems = conform(
        &schema,
        json!({"level": "bronze", "year": 0, "code": "fra"}),
    )
    .unwrap_err();
    assert_eq!(
        problems,
        [
            ("/level".to_owned(), RowErrorKind::Constraint),
            ("/year".to_owned(), RowErrorKind::Constraint),
            ("/code".to_owned(), RowErrorKind::Constraint),
            ("/code".to_owned(), RowErrorKind::Constraint),
        ]
    );
}

#[test]
fn a_record_that_is_not_an_object_is_a_parsing_error() {
    let schema = schema(json!({"a": {"type": "string"}}), &[]);
    assert_eq!(
        conform(&schema, json!("text")).unwrap_err(),
        [(String::new(), RowErrorKind::Parsing)]
    );
}

#[test]
fn a_rejection_becomes_the_diagnostics_record_adobe_documents() {
    let schema = schema(
        json!({"col1": {"type": "string"}, "col3": {"type": "array", "items": {"type": "string"}}, "id": {"type": "string"}}),
        &["id"],
    );
    let record = json!({"col1": "v1", "col3": [{"g1": "h1"}]});
    let mut out = String::new();
    let rejection = conform_record(&schema, &Value::from_json(&record), &mut out).unwrap_err();
    assert_eq!(rejection.kind(), RowErrorKind::Conversion);
    let shown = rejection.diagnostic_record(&record);
    assert_eq!(shown["col1"], "v1");
    assert_eq!(shown["_filename"], "conversion_errors_0.json");
    assert_eq!(shown["_errors"][0]["column"], "col3.0");
    assert_eq!(shown["_errors"][0]["code"], "1402");
    assert!(
        shown["_errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Cannot convert array element from object"),
        "{shown}"
    );
    let violation = &shown["_validationErrors"][0];
    assert_eq!(violation["keyword"], "required");
    assert_eq!(violation["pointerToViolation"], "#/id");
    assert_eq!(violation["schemaLocation"], "#/properties/id");
}

#[test]
fn values_read_straight_from_text_equal_values_read_from_json_trees() {
    let text = r#"{"a": 1, "b": 2.5, "c": "x\u00e9", "d": [true, null], "e": {"f": 18446744073709551615}}"#;
    let direct: Value = serde_json::from_str(text).unwrap();
    let via_tree = Value::from_json(&serde_json::from_str::<Json>(text).unwrap());
    assert_eq!(direct, via_tree);
    let mut written = String::new();
    direct.write_json(&mut written);
    assert_eq!(
        serde_json::from_str::<Json>(&written).unwrap(),
        direct.to_json()
    );
}

#[test]
fn destinations_the_schema_does_not_have_are_named() {
    use flowd_dataprep::MappingSetBody;
    use flowd_dataprep::destinations::destinations_outside;
    let schema = schema(
        json!({
            "person": {"type": "object", "properties": {"name": {"type": "string"}}},
            "orders": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}},
            "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
        }),
        &[],
    );
    let body = MappingSetBody::from_json(&json!({
        "outputSchema": {"schemaRef": {"id": "https://ns.adobe.com/acme/schemas/1", "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
        "mappings": [
            {"sourceType": "ATTRIBUTE", "source": "a", "destination": "person.name"},
            {"sourceType": "ATTRIBUTE", "source": "items[*].id", "destination": "orders[*].sku"},
            {"sourceType": "ATTRIBUTE", "source": "a", "destination": "attributes.anything"},
            {"sourceType": "ATTRIBUTE", "source": "a", "destination": "person.age"},
            {"sourceType": "ATTRIBUTE", "source": "a", "destination": "person.name.first"},
        ]
    }))
    .expect("the mapping set reads");
    let problems = destinations_outside(&schema, &body);
    let found: Vec<(usize, &str)> = problems
        .iter()
        .map(|problem| (problem.index, problem.destination.as_str()))
        .collect();
    assert_eq!(found, [(3, "person.age"), (4, "person.name.first")]);
    assert!(
        problems[0].message.contains("its fields: name"),
        "{}",
        problems[0].message
    );
}

#[test]
fn a_preview_shows_converted_dates_as_text() {
    use flowd_dataprep::convert::conform_for_display;
    let schema = schema(
        json!({"born": {"type": "string", "format": "date"}, "seen": {"type": "string", "format": "date-time"}, "n": {"type": "integer"}}),
        &[],
    );
    let record = Value::from_json(
        &json!({"born": "02/29/2024", "seen": "2024-02-29T12:00:00.000+02:00", "n": "7"}),
    );
    assert_eq!(
        conform_for_display(&schema, &record).unwrap(),
        json!({"born": "2024-02-29", "seen": "2024-02-29T10:00:00Z", "n": 7})
    );
}
