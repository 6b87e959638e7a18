//! Paths (reference §5) and mapping sets applied to records (§6.5): nested and indexed
//! destinations, `[*]` iteration zipped by position, escaping, missing and null values,
//! expressions and their transformation errors, and problems reported at their pointers.

use flowd_dataprep::{MappingSpec, Mappings, Path, SourceType, Value};
use serde_json::json;

fn now() -> jiff::ZonedDateTime {
    "2021-10-26T10:10:24Z[UTC]".parse().unwrap()
}

fn spec(source_type: &str, source: &str, destination: &str) -> MappingSpec {
    MappingSpec {
        source_type: SourceType::parse(source_type).unwrap(),
        source: source.to_owned(),
        destination: destination.to_owned(),
    }
}

fn apply(
    specs: &[MappingSpec],
    allow_nulls: bool,
    record: serde_json::Value,
) -> (serde_json::Value, Vec<String>) {
    let mappings = Mappings::compile(specs, allow_nulls).unwrap();
    let mapped = mappings.apply(&Value::from_json(&record), &now());
    (mapped.record.to_json(), mapped.warnings)
}

#[test]
fn source_paths_read_dots_indexes_escapes_and_braced_names() {
    let record = Value::from_json(&json!({
        "customerInfo": {"name": "Ada", "emails": [{"email": "a@x", "name": "A"}, {"email": "b@x", "name": "B"}]},
        "address": {"street.name": "Main"},
        "First Name": "Jack",
        "First.Name": "Dotted"
    }));
    let read = |text: &str| match Path::parse(text).unwrap().read(&record) {
        flowd_dataprep::paths::Read::One(found) => found.map(Value::to_json),
        flowd_dataprep::paths::Read::Each(found) => Some(json!(
            found
                .into_iter()
                .map(|item| item.map(Value::to_json))
                .collect::<Vec<_>>()
        )),
    };
    assert_eq!(read("customerInfo.name"), Some(json!("Ada")));
    assert_eq!(read("customerInfo.emails[1].email"), Some(json!("b@x")));
    assert_eq!(read("customerInfo.emails[*].name"), Some(json!(["A", "B"])));
    assert_eq!(read("address.street\\.name"), Some(json!("Main")));
    assert_eq!(read("${First Name}"), Some(json!("Jack")));
    assert_eq!(read("${First\\.Name}"), Some(json!("Dotted")));
    assert_eq!(read("First\\.Name"), Some(json!("Dotted")));
    assert_eq!(read("customerInfo.missing"), None);
    assert_eq!(read("customerInfo.emails[9]"), None);
}

#[test]
fn bad_paths_are_refused() {
    for bad in [
        "",
        "a..b",
        "a.",
        "[0]",
        "a[x]",
        "a[*].b[*]",
        "a[1",
        "${open",
    ] {
        assert!(Path::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn attribute_static_and_expression_mappings_shape_the_record() {
    let record = json!({
        "id": 7,
        "email_address": "ada@example.com",
        "merge_fields": {"FNAME": "Ada", "LNAME": "Lovelace"},
        "status": "subscribed",
        "last_changed": "2021-10-26 09:00:00",
        "tags": ["a", "b"],
        "emails": [{"address": "a@x", "kind": "home"}, {"address": "b@x", "kind": "work"}]
    });
    let specs = [
        spec("ATTRIBUTE", "id", "_id"),
        spec(
            "text/x.schema-path",
            "email_address",
            "personalEmail.address",
        ),
        spec("attribute", "merge_fields.FNAME", "person.name.firstName"),
        spec(
            "EXPRESSION",
            "merge_fields.FNAME + ' ' + merge_fields.LNAME",
            "person.name.fullName",
        ),
        spec(
            "EXPRESSION",
            "status.equals('subscribed') ? 'yes' : 'no'",
            "consent.marketing",
        ),
        spec("STATIC", "mailchimp", "_repo.source"),
        spec("ATTRIBUTE", "tags", "segments"),
        spec("ATTRIBUTE", "tags[0]", "firstTag[0]"),
        spec("ATTRIBUTE", "emails[*].address", "contacts[*].email"),
        spec("ATTRIBUTE", "emails[*].kind", "contacts[*].type"),
        spec("ATTRIBUTE", "missing.field", "never.written"),
    ];
    let (output, warnings) = apply(&specs, false, record);
    assert_eq!(
        output,
        json!({
            "_id": 7,
            "personalEmail": {"address": "ada@example.com"},
            "person": {"name": {"firstName": "Ada", "fullName": "Ada Lovelace"}},
            "consent": {"marketing": "yes"},
            "_repo": {"source": "mailchimp"},
            "segments": ["a", "b"],
            "firstTag": ["a"],
            "contacts": [{"email": "a@x", "type": "home"}, {"email": "b@x", "type": "work"}]
        })
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn nulls_are_written_only_when_the_mapping_set_allows_them_and_failures_leave_warnings() {
    let record = json!({"a": null, "n": "not a number"});
    let specs = [
        spec("ATTRIBUTE", "a", "fromNull"),
        spec("ATTRIBUTE", "absent", "fromAbsent"),
        spec("EXPRESSION", "n * 2", "doubled"),
        spec("EXPRESSION", "1 + 1", "two"),
    ];
    let (without, warnings) = apply(&specs, false, record.clone());
    assert_eq!(without, json!({"two": 2}));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("n * 2 → doubled:"), "{warnings:?}");
    let (with, _) = apply(&specs, true, record);
    assert_eq!(
        with,
        json!({"fromNull": null, "fromAbsent": null, "doubled": null, "two": 2})
    );
}

#[test]
fn problems_are_reported_at_each_mappings_pointer() {
    let specs = [
        spec("ATTRIBUTE", "ok", "fine"),
        spec("EXPRESSION", "1 +", "broken"),
        spec("ATTRIBUTE", "a..b", "x[y]"),
        spec("EXPRESSION", "'static'", "list[*].value"),
    ];
    let problems = Mappings::compile(&specs, false).unwrap_err();
    let pointers: Vec<String> = problems.iter().map(|problem| problem.pointer()).collect();
    assert_eq!(
        pointers,
        [
            "/mappings/1/source",
            "/mappings/2/source",
            "/mappings/2/destination",
            "/mappings/3/destination"
        ]
    );
    assert_eq!(
        SourceType::parse("Expression"),
        Some(SourceType::Expression)
    );
    assert_eq!(SourceType::parse("text/plain"), Some(SourceType::Static));
    assert_eq!(SourceType::parse("lookup"), None);
    assert_eq!(SourceType::Attribute.stored(), "text/x.schema-path");
}
