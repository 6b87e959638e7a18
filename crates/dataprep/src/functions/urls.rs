//! URL functions (reference §7.4), on WHATWG URL parsing (the `url` crate).
//!
//! Null: a null or unparseable URL gives null (the reference documents this for the URL
//! parts); `get_url_encoded`/`get_url_decoded` of null are null too.
//!
//! `get_url_port` falls back to the scheme's default port, from a table wider than the
//! WHATWG one (which stops at http, https, ws, wss and ftp): the example needs `sftp` → 22.
//! `get_url_query_str` percent-decodes names and values and keeps the last of repeated
//! names (a Java map's `put`). `get_url_encoded` keeps only `A–Z a–z 0–9 - _ .` and
//! percent-encodes every other byte of the UTF-8 text, space as `%20`: the reference's table
//! (its `|` → `%5C` is a doc error; `|` is `%7C`, `\` is `%5C`).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use url::Url;

use crate::functions::args::{Args, quote};
use crate::functions::{CallContext, Function, FunctionError};
use crate::value::Value;

pub static URL_FUNCTIONS: &[Function] = &[
    Function::new("get_url_protocol", 1, Some(1), get_url_protocol),
    Function::new("get_url_host", 1, Some(1), get_url_host),
    Function::new("get_url_port", 1, Some(1), get_url_port),
    Function::new("get_url_path", 1, Some(2), get_url_path),
    Function::new("get_url_query_str", 2, Some(2), get_url_query_str),
    Function::new("get_url_encoded", 1, Some(1), get_url_encoded),
    Function::new("get_url_decoded", 1, Some(1), get_url_decoded),
];

type Outcome = Result<Value, FunctionError>;

/// Every byte but the unreserved `A–Z a–z 0–9 - _ .` is encoded.
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// The query key `get_url_query_str(…, "append")` stores the fragment under.
const ANCHOR_KEY: &str = "_anchor_";

/// The URL argument parsed; `None` when null or not an absolute URL.
fn url(args: &Args<'_>) -> Result<Option<Url>, FunctionError> {
    Ok(args
        .optional_text(0, "URL")?
        .and_then(|text| Url::parse(text.trim()).ok()))
}

fn text_or_null(text: Option<&str>) -> Value {
    text.map_or(Value::Null, |text| Value::Str(text.to_owned()))
}

fn get_url_protocol(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("get_url_protocol", values);
    Ok(text_or_null(url(&args)?.as_ref().map(Url::scheme)))
}

fn get_url_host(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("get_url_host", values);
    Ok(text_or_null(url(&args)?.as_ref().and_then(Url::host_str)))
}

/// The port a scheme listens on when the URL names none.
fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "http" | "ws" => 80,
        "https" | "wss" => 443,
        "ftp" => 21,
        "sftp" | "ssh" | "scp" => 22,
        "ftps" => 990,
        "telnet" => 23,
        "smtp" => 25,
        "gopher" => 70,
        "pop3" => 110,
        "nntp" => 119,
        "imap" => 143,
        "ldap" => 389,
        "ldaps" => 636,
        "imaps" => 993,
        "pop3s" => 995,
        "rtsp" => 554,
        _ => return None,
    })
}

fn get_url_port(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("get_url_port", values);
    let port = url(&args)?.and_then(|url| url.port().or_else(|| default_port(url.scheme())));
    Ok(port.map_or(Value::Null, |port| Value::Int(i64::from(port))))
}

fn get_url_path(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("get_url_path", values);
    let full_path = match args.get(1) {
        Value::Null => true,
        _ => args.boolean(1, "FULL_PATH")?,
    };
    let Some(url) = url(&args)? else {
        return Ok(Value::Null);
    };
    let path = url.path();
    Ok(Value::Str(if full_path {
        path.to_owned()
    } else {
        path.rsplit('/').next().unwrap_or_default().to_owned()
    }))
}

/// What `get_url_query_str` does with the fragment.
enum Anchor {
    /// Left on the last parameter's value, as a naive split on `&` and `=` would.
    Retain,
    /// Dropped.
    Remove,
    /// Stored under [`ANCHOR_KEY`].
    Append,
}

fn get_url_query_str(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("get_url_query_str", values);
    let anchor_text = args.text(1, "ANCHOR")?;
    let anchor = match anchor_text.to_ascii_lowercase().as_str() {
        "retain" => Anchor::Retain,
        "remove" => Anchor::Remove,
        "append" => Anchor::Append,
        _ => {
            return Err(args.invalid(
                1,
                "ANCHOR",
                &format!(
                    "must be \"retain\", \"remove\" or \"append\", got {}",
                    quote(&anchor_text)
                ),
            ));
        }
    };
    let Some(url) = url(&args)? else {
        return Ok(Value::Null);
    };
    let mut parameters: crate::value::Fields = url
        .query_pairs()
        .map(|(name, value)| (name.into_owned(), Value::Str(value.into_owned())))
        .collect();
    if let Some(fragment) = url.fragment() {
        match anchor {
            Anchor::Retain => {
                if let Some((_, Value::Str(last))) = parameters.last_mut() {
                    last.push('#');
                    last.push_str(fragment);
                }
            }
            Anchor::Remove => {}
            Anchor::Append => {
                parameters.insert(ANCHOR_KEY.into(), Value::Str(fragment.to_owned()));
            }
        }
    }
    Ok(Value::Object(parameters))
}

fn get_url_encoded(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("get_url_encoded", values);
    Ok(args.optional_text(0, "URL")?.map_or(Value::Null, |text| {
        Value::Str(utf8_percent_encode(&text, ENCODED).to_string())
    }))
}

fn get_url_decoded(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("get_url_decoded", values);
    let Some(text) = args.optional_text(0, "URL")? else {
        return Ok(Value::Null);
    };
    let decoded = percent_decode_str(&text).decode_utf8().map_err(|_| {
        args.invalid(
            0,
            "URL",
            "does not decode to UTF-8 text (a percent-encoded byte sequence is not UTF-8)",
        )
    })?;
    Ok(Value::Str(decoded.into_owned()))
}
