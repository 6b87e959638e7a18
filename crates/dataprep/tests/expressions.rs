//! The expression language (reference §6): literals, fields and paths, operators with JEXL's
//! coercions and precedence, methods, conditionals, and the problems found when an expression
//! is parsed (each with the offset of its cause).

use flowd_dataprep::{CallContext, Expression, Value};
use serde_json::json;

fn now() -> jiff::ZonedDateTime {
    "2021-10-26T10:10:24Z[UTC]".parse().unwrap()
}

/// The value of `text` for `record` (as JSON).
fn eval_on(text: &str, record: serde_json::Value) -> Result<serde_json::Value, String> {
    let expression = Expression::parse(text).map_err(|error| format!("parse: {error}"))?;
    let record = Value::from_json(&record);
    let now = now();
    let context = CallContext {
        record: &record,
        now: &now,
    };
    expression
        .evaluate(&context)
        .map(|value| value.to_json())
        .map_err(|error| format!("eval: {error}"))
}

fn eval(text: &str) -> serde_json::Value {
    eval_on(text, json!({})).unwrap_or_else(|error| panic!("{text}: {error}"))
}

#[test]
fn arithmetic_follows_jexl() {
    let cases = [
        ("1 + 2 * 3", json!(7)),
        ("(1 + 2) * 3", json!(9)),
        ("7 / 2", json!(3)),
        ("7 div 2", json!(3)),
        ("7.0 / 2", json!(3.5)),
        ("10 % 4", json!(2)),
        ("10 mod 4", json!(2)),
        ("-3 + 1", json!(-2)),
        ("- (2 + 3)", json!(-5)),
        ("\"a\" + 1", json!("a1")),
        ("1 + \"a\"", json!("1a")),
        ("'x' + null", json!("x")),
        ("null + 1", json!(1)),
        ("\"3\" * 2", json!(6)),
        ("9223372036854775807 + 1", json!(9223372036854775808.0)),
        ("6 & 3", json!(2)),
        ("6 | 3", json!(7)),
        ("6 ^ 3", json!(5)),
        ("~33", json!(-34)),
        ("2.5 * 2", json!(5.0)),
    ];
    for (text, expected) in cases {
        assert_eq!(eval(text), expected, "{text}");
    }
    assert!(
        eval_on("1 / 0", json!({}))
            .unwrap_err()
            .contains("division by zero")
    );
    assert!(eval_on("\"abc\" * 2", json!({})).is_err());
}

#[test]
fn comparisons_coerce_as_jexl_does() {
    let cases = [
        ("\"1\" == 1", true),
        ("1 == 1.0", true),
        ("1 eq 1", true),
        ("null == null", true),
        ("null == 0", false),
        ("null != 0", true),
        ("'b' > 'a'", true),
        ("'b' gt 'a'", true),
        ("2 >= 2", true),
        ("2 ge 3", false),
        ("1 < 2 && 2 < 3", true),
        ("1 lt 2 and 3 le 2", false),
        ("null < 1", false),
        ("true == \"true\"", true),
        ("\"abc\" =~ \"a.c\"", true),
        ("\"abcd\" =~ \"a.c\"", false),
        ("\"abcd\" !~ \"a.c\"", true),
        ("2 =~ [1, 2]", true),
        ("5 =~ [1, 2]", false),
    ];
    for (text, expected) in cases {
        assert_eq!(eval(text), json!(expected), "{text}");
    }
}

#[test]
fn logic_is_truthy_and_short_circuits() {
    let cases = [
        ("true && false", json!(false)),
        ("true || false", json!(true)),
        ("false or true", json!(true)),
        ("!true", json!(false)),
        ("not 0", json!(true)),
        ("!\"\"", json!(true)),
        ("false && (1 / 0)", json!(false)),
        ("true || (1 / 0)", json!(true)),
        ("1 > 0 ? 'yes' : 'no'", json!("yes")),
        ("null ? 'yes' : 'no'", json!("no")),
        ("null ?: 'fallback'", json!("fallback")),
        ("'value' ?: 'fallback'", json!("value")),
        ("true ? false ? 1 : 2 : 3", json!(2)),
        ("empty \"\"", json!(true)),
        ("empty [1]", json!(false)),
        ("size [1, 2, 3]", json!(3)),
        ("size 'four'", json!(4)),
    ];
    for (text, expected) in cases {
        assert_eq!(eval(text), expected, "{text}");
    }
}

#[test]
fn fields_are_read_from_the_record_by_path() {
    let record = json!({
        "firstName": "John",
        "First Name": "Jack",
        "customerInfo": {"emails": [{"email": "a@x"}, {"email": "b@x"}]},
        "address": {"street.name": "Main"},
        "total_consents": 5500,
        "if": "reserved"
    });
    let cases = [
        ("firstName", json!("John")),
        ("${First Name}", json!("Jack")),
        ("customerInfo.emails[1].email", json!("b@x")),
        ("customerInfo.emails[5].email", json!(null)),
        ("address.street\\.name", json!("Main")),
        ("missing.field", json!(null)),
        ("total_consents > 5000", json!(true)),
        ("${if}", json!("reserved")),
        (
            "customerInfo.emails",
            json!([{"email": "a@x"}, {"email": "b@x"}]),
        ),
        ("[firstName, 1, null]", json!(["John", 1, null])),
        (
            "{\"name\": firstName, 'n': 2}",
            json!({"name": "John", "n": 2}),
        ),
        ("{:}", json!({})),
        ("[1, 2, 3][1]", json!(2)),
        ("{'a': {'b': 7}}.a.b", json!(7)),
    ];
    for (text, expected) in cases {
        assert_eq!(eval_on(text, record.clone()).unwrap(), expected, "{text}");
    }
}

#[test]
fn methods_behave_as_javas() {
    let record =
        json!({"marketing_type": "phyMail", "book": {"author": "Orwell"}, "name": " Ada "});
    let cases = [
        ("\"string1\".equals(\"STRING1\")", json!(false)),
        ("\"string1\".equalsIgnoreCase(\"STRING1\")", json!(true)),
        ("\"s\".equalsIgnoreCase(\"S\")", json!(true)),
        ("marketing_type.equals(\"phyMail\")", json!(true)),
        ("book.get(\"author\")", json!("Orwell")),
        ("name.trim().toUpperCase()", json!("ADA")),
        ("name.length()", json!(5)),
        ("'abcdef'.substring(1, 3)", json!("bc")),
        ("'abcdef'.indexOf('cd')", json!(2)),
        ("'abc'.contains('b')", json!(true)),
        (
            "'abc'.startsWith('ab') && 'abc'.endsWith('bc')",
            json!(true),
        ),
        ("'a-b'.replace('-', '+')", json!("a+b")),
        ("missing.equals('x')", json!(null)),
        ("12.toString()", json!("12")),
    ];
    for (text, expected) in cases {
        assert_eq!(eval_on(text, record.clone()).unwrap(), expected, "{text}");
    }
    assert!(eval_on("'abc'.substring(5)", json!({})).is_err());
}

#[test]
fn strings_take_both_quotes_and_escapes() {
    assert_eq!(eval("'it\\'s'"), json!("it's"));
    assert_eq!(eval("\"say \\\"hi\\\"\""), json!("say \"hi\""));
    assert_eq!(eval("'\\u00e9t\\u00e9'"), json!("été"));
    assert_eq!(eval("'a\\\\|b'"), json!("a\\|b"));
    assert_eq!(eval("'tab\\there'"), json!("tab\there"));
}

/// The message and offset of the problem of `text`.
fn problem(text: &str) -> (String, usize) {
    let error = Expression::parse(text).expect_err(text);
    (error.message, error.position)
}

#[test]
fn problems_are_found_when_parsing_with_their_offsets() {
    let cases: [(&str, &str, usize); 13] = [
        ("", "empty", 0),
        ("1 +", "expected a value", 3),
        ("(1 + 2", "expected ')'", 6),
        ("'open", "not closed", 0),
        ("${open", "no closing }", 0),
        ("a # b", "unexpected character '#'", 2),
        ("1 2", "unexpected number 2", 2),
        (
            "no_such_function(1)",
            "unknown function 'no_such_function'",
            0,
        ),
        ("x.frobnicate()", "unknown method 'frobnicate'", 2),
        ("x.equals()", "equals() takes 1 argument(s), 0 given", 2),
        ("a[*].b", "[*] iterates only", 1),
        (
            "fpid_to_ecid(\"4ed70bee-b654-420a-a3fd-b58b6b65e991\")",
            "not supported",
            0,
        ),
        (
            "filterArray([5, -6], x -> x > 0)",
            "only available for destinations",
            0,
        ),
    ];
    for (text, expected, position) in cases {
        let (message, at) = problem(text);
        assert!(message.contains(expected), "{text}: {message}");
        assert_eq!(at, position, "{text}: {message}");
    }
    let long = format!("'{}'", "x".repeat(4100));
    assert!(problem(&long).0.contains("at most 4096"));
    assert!(problem("12abc").0.contains("not a number"));
}
