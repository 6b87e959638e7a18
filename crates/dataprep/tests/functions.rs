//! The function library against every example of the reference's function chapter
//! (`data-prep.md` §7.1–§7.13 and §8), called directly through the registry with evaluated
//! arguments: `date("2019-10-23 11:24")` is a call of `date` with a string, a nested call is a
//! nested direct call. Each family's examples are one table checked by [`check`], which
//! reports every failing row at once. Where the reference prints a value that is a doc
//! artefact, the table holds the correct value and says so.

use flowd_dataprep::functions::{FAMILIES, FunctionError, lookup};
use flowd_dataprep::{CallContext, Value};
use jiff::ZonedDateTime;
use jiff::tz::TimeZone;

/// The run's instant in every test: the reference's `now()` example.
const NOW: &str = "2021-10-26T10:10:24Z";

fn now() -> ZonedDateTime {
    NOW.parse::<jiff::Timestamp>()
        .unwrap()
        .to_zoned_datetime(TimeZone::UTC)
}

/// The source record `contains_key` looks into.
fn record() -> Value {
    Value::from_json(&serde_json::json!({
        "evars": {"evar": {"field1": "value", "empty": null}},
        "items": [{"sku": "id1"}],
        "dotted.name": 1
    }))
}

fn call(name: &str, args: Vec<Value>) -> Result<Value, FunctionError> {
    let function = lookup(name).unwrap_or_else(|| panic!("no function named {name}"));
    let record = record();
    let now = now();
    let context = CallContext {
        record: &record,
        now: &now,
    };
    (function.call)(&args, &context)
}

/// The value of a call that must succeed (for nested calls).
fn value(name: &str, args: Vec<Value>) -> Value {
    call(name, args).unwrap_or_else(|error| panic!("{name} failed: {error}"))
}

fn s(text: &str) -> Value {
    Value::Str(text.to_owned())
}

fn int(integer: i64) -> Value {
    Value::Int(integer)
}

fn float(number: f64) -> Value {
    Value::Float(number)
}

fn arr(items: Vec<Value>) -> Value {
    Value::Array(items)
}

fn strs(items: &[&str]) -> Value {
    arr(items.iter().map(|item| s(item)).collect())
}

fn obj(fields: Vec<(&str, Value)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(name, field)| (name.to_owned(), field))
            .collect(),
    )
}

fn json(text: &str) -> Value {
    Value::from_json(&serde_json::from_str(text).unwrap())
}

/// A date value from its RFC 9557 form (`2019-10-23T11:24:00+00:00[UTC]`) or an RFC 3339
/// instant (`2019-10-23T11:24:00Z`, taken in UTC).
fn date(text: &str) -> Value {
    Value::Date(text.parse::<ZonedDateTime>().unwrap_or_else(|_| {
        text.parse::<jiff::Timestamp>()
            .unwrap()
            .to_zoned_datetime(TimeZone::UTC)
    }))
}

/// One row of a table: a call and the value it must give.
struct Example {
    call: &'static str,
    args: Vec<Value>,
    expected: Value,
}

fn ex(call: &'static str, args: Vec<Value>, expected: Value) -> Example {
    Example {
        call,
        args,
        expected,
    }
}

/// Runs every row, then fails listing each row whose result differs.
fn check(examples: Vec<Example>) {
    let failures: Vec<String> = examples
        .into_iter()
        .filter_map(|example| {
            let outcome = call(example.call, example.args.clone());
            let matches = match (&outcome, &example.expected) {
                // Dates compare by instant and offset, not by time-zone name.
                (Ok(Value::Date(got)), Value::Date(want)) => {
                    got.timestamp() == want.timestamp() && got.offset() == want.offset()
                }
                (Ok(got), want) => got == want,
                (Err(_), _) => false,
            };
            (!matches).then(|| {
                format!(
                    "{}({:?})\n   expected {:?}\n   got      {:?}",
                    example.call, example.args, example.expected, outcome
                )
            })
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Every row must fail with a message containing its text.
fn check_errors(cases: Vec<(&str, Vec<Value>, &str)>) {
    let failures: Vec<String> = cases
        .into_iter()
        .filter_map(|(name, args, wanted)| match call(name, args.clone()) {
            Err(error) if error.to_string().contains(wanted) => None,
            outcome => Some(format!(
                "{name}({args:?})\n   expected an error containing {wanted:?}\n   got {outcome:?}"
            )),
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn string_functions_give_the_reference_examples() {
    check(vec![
        ex(
            "concat",
            vec![s("Hi, "), s("there"), s("!")],
            s("Hi, there!"),
        ),
        // The reference prints ["Hi,", "there"], losing the "!": a doc artefact; Java's
        // String.split keeps it.
        ex(
            "explode",
            vec![s("Hi, there!"), s(" ")],
            strs(&["Hi,", "there!"]),
        ),
        ex("instr", vec![s("adobe.com"), s("com")], int(6)),
        ex(
            "replacestr",
            vec![s("This is a string re test"), s("re"), s("replace")],
            s("This is a string replace test"),
        ),
        ex(
            "substr",
            vec![s("This is a substring test"), int(7), int(8)],
            s(" a subst"),
        ),
        ex("lower", vec![s("HeLLo")], s("hello")),
        ex("lcase", vec![s("HeLLo")], s("hello")),
        ex("upper", vec![s("HeLLo")], s("HELLO")),
        ex("ucase", vec![s("HeLLo")], s("HELLO")),
        ex(
            "split",
            vec![s("Hello world"), s(" ")],
            strs(&["Hello", "world"]),
        ),
        ex(
            "join",
            vec![
                s(" "),
                value("to_array", vec![Value::Bool(true), s("Hello"), s("world")]),
            ],
            s("Hello world"),
        ),
        ex("lpad", vec![s("bat"), int(8), s("yz")], s("yzyzybat")),
        ex("rpad", vec![s("bat"), int(8), s("yz")], s("batyzyzy")),
        ex("left", vec![s("abcde"), int(2)], s("ab")),
        ex("right", vec![s("abcde"), int(2)], s("de")),
        ex("trim", vec![s(" hello ")], s("hello")),
        ex("ltrim", vec![s(" hello ")], s("hello ")),
        ex("rtrim", vec![s(" hello ")], s(" hello")),
    ]);
}

#[test]
fn explode_keeps_empty_parts_and_split_drops_them() {
    check(vec![
        ex("explode", vec![s("a,,b")], strs(&["a", "", "b"])),
        ex("explode", vec![s(",a,,b")], strs(&["", "a", "", "b"])),
        // Java's String.split removes trailing empty parts only.
        ex("explode", vec![s("a,b,,")], strs(&["a", "b"])),
        ex(
            "explode",
            vec![s("id1|id2"), s("\\|")],
            strs(&["id1", "id2"]),
        ),
        // A multi-character delimiter is one delimiter.
        ex("explode", vec![s("a--b-c"), s("--")], strs(&["a", "b-c"])),
        // A zero-width match at the start gives no leading empty part.
        ex("explode", vec![s("abc"), s("")], strs(&["a", "b", "c"])),
        ex("explode", vec![s("no delimiter")], strs(&["no delimiter"])),
        ex("explode", vec![s("")], strs(&[""])),
        ex("split", vec![s("a,,b"), s(",")], strs(&["a", "b"])),
        // Every character of the separator splits.
        ex("split", vec![s("a;b, c"), s(";, ")], strs(&["a", "b", "c"])),
        ex("split", vec![s("  a  b "), Value::Null], strs(&["a", "b"])),
        ex("split", vec![s(""), s(",")], strs(&[])),
    ]);
}

#[test]
fn instr_is_zero_based_and_counts_occurrences() {
    check(vec![
        ex("instr", vec![s("adobe.com"), s("xyz")], int(-1)),
        ex("instr", vec![s("adobe.com"), s("a")], int(0)),
        ex("instr", vec![s("banana"), s("an"), int(2)], int(3)),
        ex("instr", vec![s("banana"), s("an"), int(0), int(2)], int(3)),
        ex("instr", vec![s("banana"), s("an"), int(0), int(3)], int(-1)),
        // Occurrences may overlap, as in Oracle's INSTR.
        ex("instr", vec![s("aaaa"), s("aa"), int(0), int(3)], int(2)),
        ex("instr", vec![s("héllo wörld"), s("w")], int(6)),
    ]);
}

#[test]
fn padding_substrings_and_nulls_follow_the_java_helpers() {
    check(vec![
        ex("lpad", vec![s("bat"), int(3), s("yz")], s("bat")),
        ex("lpad", vec![s("bat"), int(1), s("yz")], s("bat")),
        ex("lpad", vec![s("bat"), int(5), s("")], s("  bat")),
        ex("lpad", vec![s("bat"), int(5), Value::Null], s("  bat")),
        ex("lpad", vec![Value::Null, int(5), s("z")], Value::Null),
        ex("rpad", vec![s("bat"), int(-1), s("z")], s("bat")),
        ex("left", vec![s("abc"), int(10)], s("abc")),
        ex("left", vec![s("abc"), int(-1)], s("")),
        ex("right", vec![s("abc"), int(10)], s("abc")),
        ex("substr", vec![s("abc"), int(1), int(10)], s("bc")),
        ex("substr", vec![s("abc"), int(5), int(1)], s("")),
        ex(
            "concat",
            vec![s("a"), Value::Null, int(1), float(2.0)],
            s("a12.0"),
        ),
        ex("upper", vec![Value::Null], s("")),
        ex(
            "join",
            vec![s("-"), arr(vec![s("a"), Value::Null, int(3)])],
            s("a--3"),
        ),
        ex("replacestr", vec![s("a.b.c"), s("."), s("")], s("abc")),
    ]);
}

#[test]
fn string_functions_refuse_wrong_arguments() {
    check_errors(vec![
        (
            "lpad",
            vec![s("bat"), s("x"), s("y")],
            "lpad: argument 2 (COUNT) must be an integer",
        ),
        (
            "lower",
            vec![arr(vec![])],
            "lower: argument 1 (INPUT) must be a string, got array",
        ),
        (
            "substr",
            vec![s("abc"), int(-1), int(1)],
            "argument 2 (START_INDEX) must be between",
        ),
        (
            "explode",
            vec![s("abc"), s("(")],
            "argument 2 (REGEX) is not a valid regular expression",
        ),
        (
            "join",
            vec![s(","), s("abc")],
            "join: argument 2 (ARRAY) must be an array",
        ),
        (
            "instr",
            vec![s("abc"), s("b"), int(0), int(0)],
            "argument 4 (OCCURRENCE)",
        ),
    ]);
}

#[test]
fn regex_functions_give_the_reference_examples() {
    let input = s("E259,E259B_009,1_1");
    let pattern = s("([^,]+),[^,]*,([^,]+)");
    check(vec![
        ex(
            "extract_regex",
            vec![input.clone(), pattern.clone()],
            strs(&["E259,E259B_009,1_1", "E259", "1_1"]),
        ),
        ex("matches_regex", vec![input, pattern], Value::Bool(true)),
    ]);
}

#[test]
fn matches_regex_needs_a_whole_match_and_extract_regex_finds_the_first() {
    check(vec![
        ex(
            "matches_regex",
            vec![s("abc123"), s("[a-z]+")],
            Value::Bool(false),
        ),
        ex(
            "matches_regex",
            vec![s("abc"), s("a|abc")],
            Value::Bool(true),
        ),
        ex(
            "matches_regex",
            vec![s("abc"), s("(?<=a)bc")],
            Value::Bool(false),
        ),
        ex(
            "extract_regex",
            vec![s("x=1, y=2"), s("(\\w)=(\\d)")],
            strs(&["x=1", "x", "1"]),
        ),
        ex(
            "extract_regex",
            vec![s("ab"), s("(a)(z)?")],
            arr(vec![s("a"), s("a"), Value::Null]),
        ),
        ex("extract_regex", vec![s("abc"), s("\\d+")], Value::Null),
        // Java's dialect: look-ahead and back-references.
        ex(
            "matches_regex",
            vec![s("abab"), s("(ab)\\1")],
            Value::Bool(true),
        ),
        ex(
            "extract_regex",
            vec![s("price: 42 EUR"), s("\\d+(?= EUR)")],
            strs(&["42"]),
        ),
    ]);
}

#[test]
fn hashes_give_the_reference_digests() {
    let text = || s("my text");
    let utf8 = || s("UTF-8");
    check(vec![
        ex(
            "sha1",
            vec![text(), utf8()],
            s("c3599c11e47719df18a2448690840c5dfcce3c80"),
        ),
        ex(
            "sha256",
            vec![text(), utf8()],
            s("7330d2b39ca35eaf4cb95fc846c21ee6a39af698154a83a586ee270a0d372104"),
        ),
        ex(
            "sha512",
            vec![text(), utf8()],
            s(
                "a3d7e45a0d9be5fd4e4b9a3b8c9c2163c21ef708bf11b4232bb21d2a8704ada2cdcd7b367dd0788a89a5c908cfe377aceb1072a7b386b7d4fd2ff68a8fd24d16",
            ),
        ),
        ex(
            "md5",
            vec![text(), utf8()],
            s("d3b96ce8c9fb4e9bd0198d03ba6852c7"),
        ),
        // Adobe prints the CRC-32 0x802ef98d with its bytes in little-endian order.
        ex("crc32", vec![text(), utf8()], s("8df92e80")),
        ex("crc32", vec![text()], s("8df92e80")),
        ex("md5", vec![text()], s("d3b96ce8c9fb4e9bd0198d03ba6852c7")),
    ]);
}

#[test]
fn hashes_encode_the_input_in_the_named_charset() {
    // The digests of the bytes Java's String.getBytes(charset) gives.
    check(vec![
        // UTF-16: big-endian after the byte-order mark FE FF.
        ex(
            "md5",
            vec![s("a"), s("UTF-16")],
            s("4b936244fb81c0500598b1938266f69a"),
        ),
        ex(
            "md5",
            vec![s("a"), s("UTF-16BE")],
            s("760f753576f2955b0074758acb4d5fa6"),
        ),
        ex(
            "md5",
            vec![s("é"), s("ISO-8859-1")],
            s("3406877694691ddd1dfb0aca54681407"),
        ),
        ex(
            "md5",
            vec![s("é"), s("US-ASCII")],
            s("d1457b72c3fb323a2671125aef3eab5d"),
        ),
        ex(
            "md5",
            vec![s("é"), s("utf-8")],
            s("66ddcd97cfdeabb2f6fb8a999b4bc76f"),
        ),
        ex("sha256", vec![Value::Null], Value::Null),
    ]);
    check_errors(vec![(
        "sha256",
        vec![s("my text"), s("EBCDIC")],
        "sha256: argument 2 (CHARSET) names no supported charset",
    )]);
}

#[test]
fn url_functions_give_the_reference_examples() {
    let home = || s("https://platform.adobe.com/home");
    let sftp = || s("sftp://example.com//home/joe/employee.csv");
    let foo = || s("foo://example.com:8042/over/there?name=ferret#nose");
    check(vec![
        ex("get_url_protocol", vec![home()], s("https")),
        ex("get_url_host", vec![home()], s("platform.adobe.com")),
        ex("get_url_port", vec![sftp()], int(22)),
        ex("get_url_path", vec![sftp()], s("//home/joe/employee.csv")),
        ex(
            "get_url_path",
            vec![sftp(), Value::Bool(false)],
            s("employee.csv"),
        ),
        ex(
            "get_url_query_str",
            vec![foo(), s("retain")],
            obj(vec![("name", s("ferret#nose"))]),
        ),
        ex(
            "get_url_query_str",
            vec![foo(), s("remove")],
            obj(vec![("name", s("ferret"))]),
        ),
        ex(
            "get_url_query_str",
            vec![foo(), s("append")],
            obj(vec![("name", s("ferret")), ("_anchor_", s("nose"))]),
        ),
        ex(
            "get_url_encoded",
            vec![s("https://example.com/partneralliance_asia-pacific_2022")],
            s("https%3A%2F%2Fexample.com%2Fpartneralliance_asia-pacific_2022"),
        ),
        ex(
            "get_url_decoded",
            vec![s(
                "https%3A%2F%2Fexample.com%2Fpartneralliance_asia-pacific_2022",
            )],
            s("https://example.com/partneralliance_asia-pacific_2022"),
        ),
    ]);
}

#[test]
fn url_encoding_follows_the_reference_table() {
    // The reference's table pairs `|` with %5C, a doc error: `\` is %5C and `|` is %7C.
    let table = [
        (" ", "%20"),
        ("!", "%21"),
        ("\"", "%22"),
        ("#", "%23"),
        ("$", "%24"),
        ("%", "%25"),
        ("&", "%26"),
        ("'", "%27"),
        ("(", "%28"),
        (")", "%29"),
        ("*", "%2A"),
        ("+", "%2B"),
        (",", "%2C"),
        ("/", "%2F"),
        (":", "%3A"),
        (";", "%3B"),
        ("<", "%3C"),
        ("=", "%3D"),
        (">", "%3E"),
        ("?", "%3F"),
        ("@", "%40"),
        ("[", "%5B"),
        ("]", "%5D"),
        ("^", "%5E"),
        ("`", "%60"),
        ("~", "%7E"),
        ("\\", "%5C"),
        ("|", "%7C"),
        ("-", "-"),
        ("_", "_"),
        (".", "."),
        ("aZ09", "aZ09"),
        ("é", "%C3%A9"),
    ];
    let mut examples = Vec::new();
    for (plain, encoded) in table {
        examples.push(ex("get_url_encoded", vec![s(plain)], s(encoded)));
        examples.push(ex("get_url_decoded", vec![s(encoded)], s(plain)));
    }
    check(examples);
}

#[test]
fn url_parts_are_null_for_invalid_urls_and_ports_default_by_scheme() {
    check(vec![
        ex("get_url_protocol", vec![s("not a url")], Value::Null),
        ex("get_url_host", vec![Value::Null], Value::Null),
        ex(
            "get_url_port",
            vec![s("https://platform.adobe.com/home")],
            int(443),
        ),
        ex("get_url_port", vec![s("http://a.example:8080/")], int(8080)),
        ex("get_url_port", vec![s("ftp://a.example/")], int(21)),
        ex("get_url_port", vec![s("foo://example.com/x")], Value::Null),
        ex("get_url_path", vec![s("::")], Value::Null),
        ex(
            "get_url_query_str",
            vec![s("https://a.example/?a=1&b=x%20y&a=2"), s("remove")],
            obj(vec![("a", s("2")), ("b", s("x y"))]),
        ),
        ex(
            "get_url_query_str",
            vec![s("https://a.example/"), s("append")],
            obj(vec![]),
        ),
        ex("get_url_encoded", vec![Value::Null], Value::Null),
    ]);
    check_errors(vec![(
        "get_url_query_str",
        vec![s("https://a.example/"), s("keep")],
        "argument 2 (ANCHOR) must be \"retain\", \"remove\" or \"append\"",
    )]);
}

fn book_details() -> Value {
    obj(vec![
        ("author", s("George R. R. Martin")),
        ("price", float(17.99)),
        ("title", s("A Game of Thrones")),
    ])
}

fn addresses() -> Value {
    json(
        r#"[
            {"type": "home", "street": "1 Main St"},
            {"type": "work", "street": "2 Office Rd"},
            {"type": "office", "street": "3 Tower Ave"}
        ]"#,
    )
}

#[test]
fn object_functions_give_the_reference_examples() {
    check(vec![
        ex(
            "is_empty",
            vec![arr(vec![int(1), Value::Null, int(2), int(3)])],
            Value::Bool(false),
        ),
        ex(
            "arrays_to_objects",
            vec![
                s("sku"),
                value("explode", vec![s("id1|id2"), s("\\|")]),
                s("price"),
                arr(vec![float(22.5), float(14.35)]),
            ],
            json(r#"[{"sku": "id1", "price": 22.5}, {"sku": "id2", "price": 14.35}]"#),
        ),
        ex(
            "to_object",
            vec![s("firstName"), s("John"), s("lastName"), s("Doe")],
            obj(vec![("firstName", s("John")), ("lastName", s("Doe"))]),
        ),
        // The reference reads the result with `.get("firstName")`, a method call; its first
        // example's output invents "Doe" for the empty lastName, an artefact.
        ex(
            "str_to_object",
            vec![
                s("firstName - John ; lastName - ; phone - 123 456 7890"),
                s("-"),
                s(";"),
            ],
            obj(vec![
                ("firstName", s("John")),
                ("lastName", s("")),
                ("phone", s("123 456 7890")),
            ]),
        ),
        ex(
            "contains_key",
            vec![s("evars.evar.field1")],
            Value::Bool(true),
        ),
        ex("is_set", vec![s("evars.evar.field1")], Value::Bool(true)),
        ex("nullify", vec![], Value::Null),
        ex(
            "get_keys",
            vec![obj(vec![
                ("book1", s("Pride and Prejudice")),
                ("book2", s("1984")),
            ])],
            strs(&["book1", "book2"]),
        ),
        ex(
            "get_values",
            vec![
                s("firstName - John , lastName - Cena , phone - 555 420 8692"),
                s("firstName"),
                s("-"),
                s(","),
            ],
            s("John"),
        ),
        ex(
            "map_has_keys",
            vec![book_details(), s("author")],
            Value::Bool(true),
        ),
    ]);
}

#[test]
fn map_get_values_gives_the_value_of_one_key_and_a_map_for_several() {
    check(vec![
        ex(
            "map_get_values",
            vec![book_details(), s("author")],
            s("George R. R. Martin"),
        ),
        ex(
            "map_get_values",
            vec![book_details(), strs(&["author", "title", "author", "isbn"])],
            obj(vec![
                ("author", s("George R. R. Martin")),
                ("title", s("A Game of Thrones")),
            ]),
        ),
        ex(
            "map_get_values",
            vec![book_details(), s("isbn")],
            Value::Null,
        ),
        ex(
            "map_get_values",
            vec![Value::Null, s("author")],
            Value::Null,
        ),
        ex(
            "map_has_keys",
            vec![book_details(), strs(&["isbn", "title"])],
            Value::Bool(true),
        ),
        ex(
            "map_has_keys",
            vec![book_details(), strs(&["isbn"])],
            Value::Bool(false),
        ),
        ex(
            "map_has_keys",
            vec![Value::Null, s("author")],
            Value::Bool(false),
        ),
        ex(
            "map_get_values",
            vec![obj(vec![("1", s("one"))]), int(1)],
            s("one"),
        ),
    ]);
}

#[test]
fn map_building_functions_follow_their_syntaxes() {
    let by_type = obj(vec![
        ("home", json(r#"{"type": "home", "street": "1 Main St"}"#)),
        ("work", json(r#"{"type": "work", "street": "2 Office Rd"}"#)),
        (
            "office",
            json(r#"{"type": "office", "street": "3 Tower Ave"}"#),
        ),
    ]);
    let john_doe = || obj(vec![("firstName", s("John")), ("lastName", s("Doe"))]);
    check(vec![
        // The first map's value wins on a duplicate key.
        ex(
            "add_to_map",
            vec![
                obj(vec![("a", int(1)), ("b", int(2))]),
                obj(vec![("b", int(3)), ("c", int(4))]),
                Value::Null,
            ],
            obj(vec![("a", int(1)), ("b", int(2)), ("c", int(4))]),
        ),
        ex(
            "object_to_map",
            vec![s("firstName"), s("John"), s("lastName"), s("Doe")],
            john_doe(),
        ),
        ex("object_to_map", vec![john_doe()], john_doe()),
        ex("object_to_map", vec![Value::Null], Value::Null),
        // The reference writes the attribute unquoted (`type`), a field reference that
        // would not work; it is the attribute's name.
        ex(
            "object_to_map",
            vec![addresses(), s("type")],
            by_type.clone(),
        ),
        ex("array_to_map", vec![addresses(), s("type")], by_type),
        ex(
            "to_map",
            vec![s("firstName"), s("John"), s("lastName"), s("Doe")],
            john_doe(),
        ),
        ex("to_map", vec![Value::Null], Value::Null),
        ex(
            "to_map",
            vec![
                s("LavaId"),
                value(
                    "to_array",
                    vec![
                        Value::Bool(false),
                        value(
                            "to_object",
                            vec![s("id"), s("L-1"), s("primary"), Value::Bool(true)],
                        ),
                    ],
                ),
            ],
            json(r#"{"LavaId": [{"id": "L-1", "primary": true}]}"#),
        ),
    ]);
    check_errors(vec![
        (
            "to_object",
            vec![s("a"), int(1), s("b")],
            "to_object: takes keys and values in pairs",
        ),
        (
            "to_map",
            vec![Value::Null, int(1)],
            "to_map: argument 1 (KEY) must be a key, got null",
        ),
        (
            "object_to_map",
            vec![int(3)],
            "argument 1 (OBJECT) must be an object",
        ),
        (
            "get_keys",
            vec![s("x")],
            "get_keys: argument 1 (OBJECT) must be an object",
        ),
    ]);
}

#[test]
fn object_helpers_handle_empty_and_missing_inputs() {
    check(vec![
        ex("is_empty", vec![Value::Null], Value::Bool(true)),
        ex("is_empty", vec![s("")], Value::Bool(true)),
        ex("is_empty", vec![arr(vec![])], Value::Bool(true)),
        ex("is_empty", vec![obj(vec![])], Value::Bool(true)),
        ex("is_empty", vec![int(0)], Value::Bool(false)),
        ex(
            "contains_key",
            vec![s("evars.evar.missing")],
            Value::Bool(false),
        ),
        ex(
            "contains_key",
            vec![s("evars.evar.empty")],
            Value::Bool(true),
        ),
        ex("contains_key", vec![s("items[0].sku")], Value::Bool(true)),
        ex("contains_key", vec![s("items.1")], Value::Bool(false)),
        ex("contains_key", vec![s("dotted\\.name")], Value::Bool(true)),
        ex(
            "str_to_object",
            vec![s("a:1,b:2, ,c")],
            obj(vec![("a", s("1")), ("b", s("2"))]),
        ),
        ex("str_to_object", vec![Value::Null], Value::Null),
        ex(
            "get_values",
            vec![s("a:1,b:2"), s("b"), Value::Null, s("")],
            s("2"),
        ),
        ex("get_values", vec![s("a:1"), s("z"), s(":")], Value::Null),
        ex(
            "arrays_to_object",
            vec![s("a"), arr(vec![int(1), int(2)]), s("b"), arr(vec![int(3)])],
            json(r#"[{"a": 1, "b": 3}, {"a": 2}]"#),
        ),
    ]);
}

#[test]
fn array_functions_give_the_reference_examples() {
    let null = || Value::Null;
    check(vec![
        ex(
            "coalesce",
            vec![null(), null(), null(), s("first"), null(), s("second")],
            s("first"),
        ),
        ex("first", vec![s("1"), s("2"), s("3")], s("1")),
        ex("last", vec![s("1"), s("2"), s("3")], s("3")),
        ex(
            "add_to_array",
            vec![strs(&["a", "b"]), s("c"), s("d")],
            strs(&["a", "b", "c", "d"]),
        ),
        ex(
            "join_arrays",
            vec![strs(&["a", "b"]), strs(&["c"]), strs(&["d", "e"])],
            strs(&["a", "b", "c", "d", "e"]),
        ),
        ex(
            "to_array",
            vec![Value::Bool(false), int(1), null(), int(2), int(3)],
            arr(vec![int(1), int(2), int(3)]),
        ),
        ex(
            "size_of",
            vec![arr(vec![int(1), int(2), int(3), int(4)])],
            int(4),
        ),
        ex(
            "upsert_array_append",
            vec![arr(vec![int(123), int(456)])],
            arr(vec![int(123), int(456)]),
        ),
        ex(
            "upsert_array_replace",
            vec![arr(vec![int(123), int(456)]), int(1)],
            arr(vec![int(123), int(456)]),
        ),
    ]);
}

#[test]
fn array_functions_take_one_array_and_skip_nulls_where_documented() {
    check(vec![
        ex("coalesce", vec![arr(vec![Value::Null, int(2)])], int(2)),
        ex("coalesce", vec![Value::Null, Value::Null], Value::Null),
        ex("first", vec![arr(vec![])], Value::Null),
        ex("first", vec![Value::Null], Value::Null),
        ex("first", vec![strs(&["x", "y"])], s("x")),
        ex("last", vec![strs(&["x", "y"])], s("y")),
        ex(
            "to_array",
            vec![Value::Bool(true), int(1), Value::Null],
            arr(vec![int(1), Value::Null]),
        ),
        ex("size_of", vec![s("héllo")], int(5)),
        ex("size_of", vec![obj(vec![("a", int(1))])], int(1)),
        ex("size_of", vec![Value::Null], int(0)),
        ex("add_to_array", vec![Value::Null, int(1)], arr(vec![int(1)])),
        ex(
            "join_arrays",
            vec![strs(&["a"]), Value::Null, s("b")],
            strs(&["a", "b"]),
        ),
    ]);
    check_errors(vec![
        (
            "size_of",
            vec![int(3)],
            "size_of: argument 1 (INPUT) must be an array",
        ),
        (
            "to_array",
            vec![int(3), int(1)],
            "to_array: argument 1 (INCLUDE_NULLS) must be a boolean",
        ),
    ]);
}

#[test]
fn logical_and_aggregation_functions_give_the_reference_examples() {
    let states = |code: Value| {
        vec![
            code,
            s("ca"),
            s("California"),
            s("pa"),
            s("Pennsylvania"),
            s("N/A"),
        ]
    };
    check(vec![
        ex("decode", states(s("pa")), s("Pennsylvania")),
        ex("decode", states(s("ny")), s("N/A")),
        ex(
            "decode",
            vec![s("ny"), s("ca"), s("California")],
            Value::Null,
        ),
        ex("decode", vec![int(1), float(1.0), s("one")], s("one")),
        // `"s".equalsIgnoreCase("S")` is a method call the evaluator computes: true.
        ex(
            "iif",
            vec![Value::Bool(true), s("True"), s("False")],
            s("True"),
        ),
        ex("iif", vec![Value::Null, s("True"), s("False")], s("False")),
        ex("min", vec![int(3), int(1), int(4)], int(1)),
        ex("max", vec![int(3), int(1), int(4)], int(4)),
        ex("max", vec![int(3), float(3.5), Value::Null], float(3.5)),
        ex("min", vec![s("pear"), s("apple")], s("apple")),
        ex(
            "max",
            vec![date("2019-10-23T11:24:00Z"), date("2020-01-01T00:00:00Z")],
            date("2020-01-01T00:00:00Z"),
        ),
        ex("min", vec![arr(vec![int(2), int(1)])], int(1)),
        ex("min", vec![Value::Null], Value::Null),
    ]);
    check_errors(vec![(
        "min",
        vec![int(1), s("a")],
        "min: cannot compare string with integer",
    )]);
}

#[test]
fn conversions_give_the_reference_examples() {
    check(vec![
        // The reference prints 1000000.34, impossible for a BigInteger: the fraction is cut.
        ex("to_bigint", vec![s("1000000.34")], int(1_000_000)),
        ex("to_decimal", vec![s("20.5")], float(20.5)),
        // The reference prints 12.34566, a typo for 12.3456.
        ex("to_float", vec![s("12.3456")], float(12.3456)),
        ex("to_integer", vec![s("12")], int(12)),
        ex(
            "json_to_object",
            vec![s(r#"{"name": "John", "age": 30, "tags": ["a"]}"#)],
            json(r#"{"name": "John", "age": 30, "tags": ["a"]}"#),
        ),
        ex(
            "json_to_object",
            vec![json(r#"{"a": 1}"#)],
            json(r#"{"a": 1}"#),
        ),
    ]);
}

#[test]
fn conversions_truncate_parse_and_refuse_as_documented() {
    check(vec![
        ex("to_bigint", vec![s("-12.99")], int(-12)),
        ex(
            "to_bigint",
            vec![s(" 9007199254740993 ")],
            int(9_007_199_254_740_993),
        ),
        ex("to_bigint", vec![s("1e3")], int(1000)),
        ex("to_bigint", vec![int(5)], int(5)),
        ex("to_integer", vec![s("-2147483648")], int(-2_147_483_648)),
        ex("to_integer", vec![float(12.9)], int(12)),
        ex("to_integer", vec![Value::Null], Value::Null),
        ex("to_float", vec![s("0.1")], float(0.1)),
        ex("to_decimal", vec![s("1e-3")], float(0.001)),
        ex("json_to_object", vec![Value::Null], Value::Null),
    ]);
    check_errors(vec![
        (
            "to_integer",
            vec![s("abc")],
            "to_integer: argument 1 (STRING) is not an integer: \"abc\"",
        ),
        ("to_integer", vec![s("12.5")], "is not an integer"),
        (
            "to_integer",
            vec![s("2147483648")],
            "is out of the 32-bit integer range",
        ),
        (
            "to_bigint",
            vec![s("99999999999999999999")],
            "is out of the 64-bit integer range",
        ),
        (
            "to_bigint",
            vec![s("twelve")],
            "to_bigint: argument 1 (STRING) is not a number",
        ),
        (
            "to_decimal",
            vec![Value::Bool(true)],
            "must be a number or a numeric string",
        ),
        ("to_float", vec![s("1e40")], "is out of the float range"),
        (
            "json_to_object",
            vec![s("{oops")],
            "json_to_object: argument 1 (STRING) is not JSON",
        ),
    ]);
}

#[test]
fn uuid_and_guid_are_random_lowercase_version_4() {
    for name in ["uuid", "guid"] {
        let Value::Str(first) = value(name, vec![]) else {
            panic!("{name} gave no string");
        };
        let parsed = uuid::Uuid::parse_str(&first).unwrap();
        assert_eq!(parsed.get_version_num(), 4, "{first}");
        assert_eq!(first, first.to_lowercase());
        assert_eq!(first.len(), 36);
        assert_ne!(value(name, vec![]), Value::Str(first));
    }
}

#[test]
fn functions_without_a_public_algorithm_or_only_for_destinations_are_not_registered() {
    for name in [
        "fpid_to_ecid",
        "filterArray",
        "transformArray",
        "flattenArray",
        "array_to_string",
        "equals",
        "equalsIgnoreCase",
    ] {
        assert!(lookup(name).is_none(), "{name} is registered");
    }
}

#[test]
fn no_two_functions_share_a_name() {
    let mut names: Vec<&str> = FAMILIES
        .iter()
        .flat_map(|(_, family)| family.iter())
        .map(|function| function.name)
        .collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count, "a name is registered twice");
}

#[test]
fn arity_is_checked_from_the_registry() {
    let accepts = |name: &str, count: usize| lookup(name).unwrap().accepts(count);
    assert!(accepts("concat", 0) && accepts("concat", 7));
    assert!(accepts("explode", 1) && accepts("explode", 2) && !accepts("explode", 3));
    assert!(!accepts("instr", 1) && accepts("instr", 4) && !accepts("instr", 5));
    assert!(accepts("nullify", 0) && !accepts("nullify", 1));
    assert!(!accepts("uuid", 1));
    assert!(accepts("sha256", 2) && !accepts("sha256", 3));
    assert_eq!(lookup("lpad").unwrap().arity(), "3");
    assert_eq!(lookup("explode").unwrap().arity(), "1 to 2");
    assert_eq!(lookup("coalesce").unwrap().arity(), "at least 1");
    assert!(lookup("LOWER").is_none(), "names are case-sensitive");
}

/// `date(text)` with the auto-format list, for nested calls.
fn parsed(text: &str) -> Value {
    value("date", vec![s(text)])
}

#[test]
fn date_functions_give_the_reference_examples() {
    let now_value = || value("now", vec![]);
    check(vec![
        ex("now", vec![], date(NOW)),
        ex("timestamp", vec![], int(1_635_243_024_000)),
        // The reference prints 11:24:35, a doc artefact: the input has no seconds.
        ex(
            "format",
            vec![
                date("2019-10-23T11:24:00+00:00[UTC]"),
                s("yyyy-MM-dd HH:mm:ss"),
            ],
            s("2019-10-23 11:24:00"),
        ),
        ex(
            "dformat",
            vec![int(1_571_829_875_000), s("yyyy-MM-dd'T'HH:mm:ss.SSSX")],
            s("2019-10-23T11:24:35.000Z"),
        ),
        ex(
            "date",
            vec![s("2019-10-23 11:24"), s("yyyy-MM-dd HH:mm"), now_value()],
            date("2019-10-23T11:24:00Z"),
        ),
        ex(
            "date",
            vec![s("2019-10-23 11:24"), s("yyyy-MM-dd HH:mm")],
            date("2019-10-23T11:24:00Z"),
        ),
        ex(
            "date",
            vec![s("2019-10-23 11:24")],
            date("2019-10-23T11:24:00Z"),
        ),
        ex(
            "date_part",
            vec![s("MM"), parsed("2019-10-17 11:55:12")],
            int(10),
        ),
        // The reference prints 2016-04-09T11:44:44Z; the milliseconds the input has are kept
        // (Java's withMonth keeps them too).
        ex(
            "set_date_part",
            vec![s("m"), int(4), parsed("2016-11-09T11:44:44.797")],
            date("2016-04-09T11:44:44.797Z"),
        ),
        // The reference prints 2019-10-17T11:55:12Z although the zone is Los Angeles: the
        // zone is kept.
        ex(
            "make_date_time",
            vec![
                int(2019),
                int(10),
                int(17),
                int(11),
                int(55),
                int(12),
                int(999),
                s("America/Los_Angeles"),
            ],
            date("2019-10-17T11:55:12.000000999-07:00[America/Los_Angeles]"),
        ),
        ex(
            "zone_date_to_utc",
            vec![value(
                "date",
                vec![s("2019-10-17T11:55:12 PST"), s("yyyy-MM-dd'T'HH:mm:ss z")],
            )],
            date("2019-10-17T19:55:12Z"),
        ),
        ex(
            "zone_date_to_zone",
            vec![now_value(), s("Europe/Paris")],
            date("2021-10-26T12:10:24+02:00[Europe/Paris]"),
        ),
    ]);
}

#[test]
fn date_without_a_format_tries_the_reference_list_in_order() {
    let rows = [
        // One row per format of the list, in its order.
        (
            "2019-10-23 11:24:35-0800",
            "2019-10-23T11:24:35-08:00[-08:00]",
        ),
        (
            "2019-10-23 11:24:35.123+0100",
            "2019-10-23T11:24:35.123+01:00[+01:00]",
        ),
        ("2019-10-23 11:24:35.123", "2019-10-23T11:24:35.123Z"),
        ("2019-10-23T11:24:35.123Z", "2019-10-23T11:24:35.123Z"),
        ("2019-10-23T11:24:35Z", "2019-10-23T11:24:35Z"),
        ("2019-10-23", "2019-10-23T00:00:00Z"),
        ("2019/10/23", "2019-10-23T00:00:00Z"),
        ("2019.10.23", "2019-10-23T00:00:00Z"),
        ("2019-Oct-23", "2019-10-23T00:00:00Z"),
        ("20191023", "2019-10-23T00:00:00Z"),
        ("10-23-2019", "2019-10-23T00:00:00Z"),
        ("10232019", "2019-10-23T00:00:00Z"),
        ("1/05/2019", "2019-01-05T00:00:00Z"),
        ("23.1.2019", "2019-01-23T00:00:00Z"),
        ("1/05/2019 02:30:00 PM", "2019-01-05T14:30:00Z"),
        ("23.1.2019 02:30:00 AM", "2019-01-23T02:30:00Z"),
        ("23.Oct.2019", "2019-10-23T00:00:00Z"),
        ("23-Oct-2019", "2019-10-23T00:00:00Z"),
        // Adobe's warning: 12112020 reads as MMddyyyy even if ddMMyyyy was meant
        // (yyyyMMdd, tried first, gives no month 20).
        ("12112020", "2020-12-11T00:00:00Z"),
        // The tip: a numeric offset keeps the milliseconds.
        (
            "2024-05-05 20:39:00.005-0800",
            "2024-05-05T20:39:00.005-08:00[-08:00]",
        ),
        // RFC 3339 offsets match yyyy-MM-dd'T'HH:mm:ss.SSSX.
        (
            "2018-07-10T15:05:59.000-08:00",
            "2018-07-10T15:05:59-08:00[-08:00]",
        ),
        // Forms the list lacks: ISO-8601 without a zone (UTC), with an offset or a zone id.
        ("2019-10-17 11:55:12", "2019-10-17T11:55:12Z"),
        ("2016-11-09T11:44:44.797", "2016-11-09T11:44:44.797Z"),
        (
            "2019-10-23T11:24:00-08:00",
            "2019-10-23T11:24:00-08:00[-08:00]",
        ),
        (
            "2019-10-23T11:24:00+02:00[Europe/Paris]",
            "2019-10-23T11:24:00+02:00[Europe/Paris]",
        ),
        // Epoch milliseconds.
        ("1571829875000", "2019-10-23T11:24:35Z"),
    ];
    check(
        rows.iter()
            .map(|(input, expected)| ex("date", vec![s(input)], date(expected)))
            .collect(),
    );
}

#[test]
fn date_returns_the_default_for_a_null_date_and_passes_dates_through() {
    check(vec![
        ex(
            "date",
            vec![Value::Null, s("yyyy-MM-dd"), value("now", vec![])],
            date(NOW),
        ),
        ex(
            "date",
            vec![s(" "), s("yyyy-MM-dd"), value("now", vec![])],
            date(NOW),
        ),
        ex("date", vec![Value::Null], Value::Null),
        ex("date", vec![Value::Null, s("yyyy-MM-dd")], Value::Null),
        ex(
            "date",
            vec![date("2019-10-23T11:24:00Z")],
            date("2019-10-23T11:24:00Z"),
        ),
        ex(
            "date",
            vec![int(1_571_829_875_000)],
            date("2019-10-23T11:24:35Z"),
        ),
        ex(
            "date",
            vec![s("2019-10-23"), Value::Null],
            date("2019-10-23T00:00:00Z"),
        ),
        ex("format", vec![Value::Null, s("yyyy")], Value::Null),
        ex(
            "format",
            vec![s("2019-10-23"), s("dd/MM/yyyy")],
            s("23/10/2019"),
        ),
        ex("zone_date_to_utc", vec![Value::Null], Value::Null),
    ]);
}

#[test]
fn java_pattern_letters_format_as_date_time_formatter_does() {
    let afternoon = || date("2019-10-07T15:05:09.123456789-07:00[America/Los_Angeles]");
    let rows = [
        ("G", "AD"),
        ("yy", "19"),
        ("y", "2019"),
        ("yyyy", "2019"),
        ("M", "10"),
        ("MM", "10"),
        ("MMM", "Oct"),
        ("MMMM", "October"),
        ("LLL", "Oct"),
        ("d", "7"),
        ("dd", "07"),
        ("D", "280"),
        ("E", "Mon"),
        ("EEEE", "Monday"),
        ("u", "1"),
        ("a", "PM"),
        ("H", "15"),
        ("k", "15"),
        ("K", "3"),
        ("h", "3"),
        ("hh", "03"),
        ("mm", "05"),
        ("ss", "09"),
        ("S", "1"),
        ("SSS", "123"),
        ("SSSSSS", "123456"),
        ("z", "PDT"),
        ("zzzz", "Pacific Daylight Time"),
        ("Z", "-0700"),
        ("ZZZZ", "GMT-07:00"),
        ("ZZZZZ", "-07:00"),
        ("X", "-07"),
        ("XX", "-0700"),
        ("XXX", "-07:00"),
        ("x", "-07"),
        ("O", "GMT-7"),
        ("OOOO", "GMT-07:00"),
        ("VV", "America/Los_Angeles"),
        ("Q", "4"),
        ("QQQ", "Q4"),
        ("QQQQ", "4th quarter"),
        ("w", "41"),
        ("F", "1"),
        (
            "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
            "2019-10-07T15:05:09.123-07:00",
        ),
        ("hh 'o''clock' a", "03 o'clock PM"),
        (
            "EEE, dd MMM yyyy HH:mm:ss Z",
            "Mon, 07 Oct 2019 15:05:09 -0700",
        ),
    ];
    let mut examples: Vec<Example> = rows
        .iter()
        .map(|(pattern, expected)| ex("format", vec![afternoon(), s(pattern)], s(expected)))
        .collect();
    let midnight = || date("2019-10-07T00:00:00Z");
    for (pattern, expected) in [
        ("k", "24"),
        ("h a", "12 AM"),
        ("X", "Z"),
        ("x", "+00"),
        ("z", "UTC"),
    ] {
        examples.push(ex("format", vec![midnight(), s(pattern)], s(expected)));
    }
    check(examples);
}

#[test]
fn java_patterns_parse_names_widths_and_zones() {
    check(vec![
        ex(
            "date",
            vec![s("07.oct.2019 03:05 pm"), s("dd.MMM.yyyy hh:mm a")],
            date("2019-10-07T15:05:00Z"),
        ),
        ex(
            "date",
            vec![
                s("Mon, 07 Oct 2019 15:05:09 -0700"),
                s("EEE, dd MMM yyyy HH:mm:ss Z"),
            ],
            date("2019-10-07T15:05:09-07:00[-07:00]"),
        ),
        ex(
            "date",
            vec![s("7 October 2019"), s("d MMMM yyyy")],
            date("2019-10-07T00:00:00Z"),
        ),
        ex(
            "date",
            vec![
                s("2019-10-07 15:05 America/Los_Angeles"),
                s("yyyy-MM-dd HH:mm VV"),
            ],
            date("2019-10-07T15:05:00-07:00[America/Los_Angeles]"),
        ),
        ex(
            "date",
            vec![s("2019-10-07 15:05 GMT+02:00"), s("yyyy-MM-dd HH:mm z")],
            date("2019-10-07T15:05:00+02:00[+02:00]"),
        ),
        ex(
            "date",
            vec![s("2019-280"), s("yyyy-DDD")],
            date("2019-10-07T00:00:00Z"),
        ),
        ex(
            "date",
            vec![s("19-10-07"), s("yy-MM-dd")],
            date("2019-10-07T00:00:00Z"),
        ),
        ex(
            "date",
            vec![s("201910071505"), s("yyyyMMddHHmm")],
            date("2019-10-07T15:05:00Z"),
        ),
        ex(
            "date",
            vec![s("2019-10-07T15:05:09.5Z"), s("yyyy-MM-dd'T'HH:mm:ss.SX")],
            date("2019-10-07T15:05:09.5Z"),
        ),
        ex(
            "date",
            vec![s("2019-10-07 24"), s("yyyy-MM-dd kk")],
            date("2019-10-07T00:00:00Z"),
        ),
    ]);
}

#[test]
fn date_part_and_set_date_part_use_the_t_sql_components() {
    let thursday = || date("2019-10-17T15:55:12.345Z");
    let rows = [
        ("year", 2019),
        ("yyyy", 2019),
        ("yy", 2019),
        ("quarter", 4),
        ("q", 4),
        ("month", 10),
        ("m", 10),
        ("dayofyear", 290),
        ("y", 290),
        ("day", 17),
        ("dd", 17),
        ("week", 42),
        ("ww", 42),
        ("weekday", 4),
        ("w", 4),
        ("dw", 4),
        ("hour", 15),
        ("hh24", 15),
        ("hh12", 3),
        ("minute", 55),
        ("mi", 55),
        ("n", 55),
        ("second", 12),
        ("s", 12),
        ("millisecond", 345),
        ("SSS", 345),
    ];
    let mut examples: Vec<Example> = rows
        .iter()
        .map(|(component, part)| ex("date_part", vec![s(component), thursday()], int(*part)))
        .collect();
    examples.extend([
        ex(
            "set_date_part",
            vec![s("year"), int(2020), thursday()],
            date("2020-10-17T15:55:12.345Z"),
        ),
        ex(
            "set_date_part",
            vec![s("dd"), int(1), thursday()],
            date("2019-10-01T15:55:12.345Z"),
        ),
        ex(
            "set_date_part",
            vec![s("hh"), int(0), thursday()],
            date("2019-10-17T00:55:12.345Z"),
        ),
        ex(
            "set_date_part",
            vec![s("mi"), int(7), thursday()],
            date("2019-10-17T15:07:12.345Z"),
        ),
        ex(
            "set_date_part",
            vec![s("ss"), int(59), thursday()],
            date("2019-10-17T15:55:59.345Z"),
        ),
        ex("date_part", vec![s("day"), Value::Null], Value::Null),
    ]);
    check(examples);
}

#[test]
fn date_functions_refuse_bad_dates_formats_zones_and_parts() {
    let some_date = || date("2019-10-17T11:55:12Z");
    check_errors(vec![
        (
            "date",
            vec![s("not a date")],
            "date: argument 1 (DATE) is not a date in a known format: \"not a date\"",
        ),
        (
            "date",
            vec![s("2019-13-01"), s("yyyy-MM-dd")],
            "does not match the format \"yyyy-MM-dd\"",
        ),
        (
            "date",
            vec![s("2019-10-07 extra"), s("yyyy-MM-dd")],
            "has unparsed text",
        ),
        (
            "date",
            vec![s("Tue, 07 Oct 2019"), s("EEE, dd MMM yyyy")],
            "is not a Tuesday",
        ),
        (
            "format",
            vec![some_date(), s("yyyy-bb")],
            "format: argument 2 (FORMAT) \"yyyy-bb\" uses the unsupported pattern letter 'b'",
        ),
        (
            "format",
            vec![some_date(), s("'T")],
            "has an unclosed quote",
        ),
        (
            "format",
            vec![some_date(), s("yyyy[-MM]")],
            "optional sections are not supported",
        ),
        (
            "zone_date_to_zone",
            vec![some_date(), s("Mars/Base")],
            "argument 2 (ZONE) names no known time zone: \"Mars/Base\"",
        ),
        (
            "date_part",
            vec![s("fortnight"), some_date()],
            "date_part: argument 1 (COMPONENT) names no date component",
        ),
        (
            "set_date_part",
            vec![s("week"), int(3), some_date()],
            "must be year, month, day, hour, minute or second",
        ),
        (
            "set_date_part",
            vec![s("d"), int(31), date("2019-04-01T00:00:00Z")],
            "argument 2 (VALUE) gives no such date",
        ),
        (
            "set_date_part",
            vec![s("m"), int(13), some_date()],
            "argument 2 (VALUE) must be between 1 and 12",
        ),
        (
            "make_date_time",
            vec![
                int(2019),
                int(13),
                int(1),
                int(0),
                int(0),
                int(0),
                int(0),
                s("UTC"),
            ],
            "make_date_time: argument 2 (MONTH) must be between 1 and 12",
        ),
        (
            "make_date_time",
            vec![int(2019), int(2), int(30), int(0), int(0), int(0), int(0)],
            "gives no such date",
        ),
        (
            "dformat",
            vec![s("soon"), s("yyyy")],
            "dformat: argument 1 (TIMESTAMP) must be an integer",
        ),
        (
            "zone_date_to_utc",
            vec![Value::Bool(true)],
            "argument 1 (DATE) must be a date",
        ),
    ]);
}
