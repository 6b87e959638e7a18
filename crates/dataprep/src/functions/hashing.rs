//! Hashing functions (reference §7.3): the lowercase hex digest of the input's bytes in the
//! optional CHARSET (default UTF-8).
//!
//! Charsets are Java's, named case-insensitively: `UTF-8`, `UTF-16` (Java writes it big-endian
//! after a byte-order mark FE FF), `UTF-16BE`, `UTF-16LE` (no mark), `ISO-8859-1` and
//! `US-ASCII` (a character the charset lacks becomes `?`, as `String.getBytes` does); any other
//! name is an error. `crc32` prints the checksum's four bytes in little-endian order
//! (`"my text"` → `8df92e80`, the standard CRC-32 being `0x802ef98d`), as Adobe does.
//!
//! Null: a null input hashes to null, not to the digest of the empty string, so an absent
//! identity field never becomes the same hashed identity for every record.

use md5::Digest;

use crate::functions::args::{Args, quote};
use crate::functions::{CallContext, Function, FunctionError};
use crate::value::Value;

pub static HASHING_FUNCTIONS: &[Function] = &[
    Function::new("sha1", 1, Some(2), sha1),
    Function::new("sha256", 1, Some(2), sha256),
    Function::new("sha512", 1, Some(2), sha512),
    Function::new("md5", 1, Some(2), md5),
    Function::new("crc32", 1, Some(2), crc32),
];

/// The input's bytes in the call's charset; `None` for a null input.
fn input_bytes(args: &Args<'_>) -> Result<Option<Vec<u8>>, FunctionError> {
    let Some(input) = args.optional_text(0, "INPUT")? else {
        return Ok(None);
    };
    let charset = args
        .optional_text(1, "CHARSET")?
        .unwrap_or_else(|| "UTF-8".into());
    let bytes = match charset.to_ascii_uppercase().as_str() {
        "UTF-8" | "UTF8" => input.into_bytes(),
        "UTF-16" | "UTF16" => {
            if input.is_empty() {
                Vec::new()
            } else {
                let mut bytes = vec![0xFE, 0xFF];
                bytes.extend(input.encode_utf16().flat_map(u16::to_be_bytes));
                bytes
            }
        }
        "UTF-16BE" => input.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        "UTF-16LE" => input.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        "ISO-8859-1" | "ISO8859-1" | "ISO_8859_1" | "LATIN1" => input
            .chars()
            .map(|character| u8::try_from(u32::from(character)).unwrap_or(b'?'))
            .collect(),
        "US-ASCII" | "ASCII" => input
            .chars()
            .map(|character| {
                if character.is_ascii() {
                    character as u8
                } else {
                    b'?'
                }
            })
            .collect(),
        _ => {
            return Err(args.invalid(
                1,
                "CHARSET",
                &format!(
                    "names no supported charset (UTF-8, UTF-16, UTF-16BE, UTF-16LE, ISO-8859-1, US-ASCII), got {}",
                    quote(&charset)
                ),
            ));
        }
    };
    Ok(Some(bytes))
}

/// Runs `digest` on the input's bytes.
fn hash(
    function: &'static str,
    values: &[Value],
    digest: fn(&[u8]) -> String,
) -> Result<Value, FunctionError> {
    let args = Args::new(function, values);
    Ok(input_bytes(&args)?.map_or(Value::Null, |bytes| Value::Str(digest(&bytes))))
}

fn sha1(values: &[Value], _: &CallContext<'_>) -> Result<Value, FunctionError> {
    hash("sha1", values, |bytes| {
        hex::encode(sha1::Sha1::digest(bytes))
    })
}

fn sha256(values: &[Value], _: &CallContext<'_>) -> Result<Value, FunctionError> {
    hash("sha256", values, |bytes| {
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))
    })
}

fn sha512(values: &[Value], _: &CallContext<'_>) -> Result<Value, FunctionError> {
    hash("sha512", values, |bytes| {
        hex::encode(<sha2::Sha512 as sha2::Digest>::digest(bytes))
    })
}

fn md5(values: &[Value], _: &CallContext<'_>) -> Result<Value, FunctionError> {
    hash("md5", values, |bytes| hex::encode(md5::Md5::digest(bytes)))
}

fn crc32(values: &[Value], _: &CallContext<'_>) -> Result<Value, FunctionError> {
    hash("crc32", values, |bytes| {
        format!("{:08x}", crc32fast::hash(bytes).swap_bytes())
    })
}
