//! The inputs of `flowd spec test` as the command line gives them: JSON given inline, as
//! `@FILE` or (for `--auth`, as before) as a plain path; the auth object checked against the
//! spec's auth specs, so a wrong or missing `specName` and a missing `--auth` are named as such;
//! `--params` keys the spec does not declare; and the window in RFC 3339 or epoch seconds.

use std::path::Path;

use anyhow::{Context, bail};
use flowd_connector::Window;
use flowd_spec::AuthSpecs;
use serde_json::{Map, Value};

/// A JSON file's content.
pub fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

/// A JSON object given as `--FLAG` text: inline JSON, `@FILE`, or (when `plain_path` allows
/// it) a path without the `@`.
fn json_object(flag: &str, text: &str, plain_path: bool) -> anyhow::Result<Map<String, Value>> {
    let value: Value = match text.strip_prefix('@') {
        Some(path) => read_json(Path::new(path))?,
        None if plain_path && !text.trim_start().starts_with('{') => read_json(Path::new(text))?,
        None => serde_json::from_str(text)
            .map_err(|error| anyhow::anyhow!("{flag} is not valid JSON ({error})"))?,
    };
    match value {
        Value::Object(object) => Ok(object),
        _ => bail!("{flag} must be a JSON object"),
    }
}

/// The source connection's params (`--params`), empty when not given.
pub fn parse_params(params: Option<&str>) -> anyhow::Result<Map<String, Value>> {
    params.map_or_else(
        || Ok(Map::new()),
        |text| json_object("--params", text, false),
    )
}

/// Keys of `params` that `sourceSpec.spec.properties` does not declare, as warnings.
pub fn unknown_params_warnings(spec: &Value, params: &Map<String, Value>) -> Vec<String> {
    let declared = spec
        .pointer("/sourceSpec/spec/properties")
        .and_then(Value::as_object);
    let known: Vec<&str> = declared
        .map(|properties| properties.keys().map(String::as_str).collect())
        .unwrap_or_default();
    params
        .keys()
        .filter(|key| !known.contains(&key.as_str()))
        .map(|key| {
            let declared = if known.is_empty() {
                "it declares none".to_owned()
            } else {
                format!("it declares: {}", known.join(", "))
            };
            format!("--params key `{key}` is not in the spec's sourceSpec.spec properties ({declared}); it is ignored unless a placeholder uses it")
        })
        .collect()
}

/// The auth object of `--auth`: `{"specName": ..., "params": {...}}`.
#[derive(Debug)]
pub struct AuthArg {
    pub spec_name: String,
    pub params: Map<String, Value>,
}

/// The spec's auth specs, one per line: `  "Basic Authentication" (BasicAuthentication): params host, username, password`.
fn auth_spec_list(auth_specs: &AuthSpecs) -> String {
    auth_specs
        .iter()
        .map(|spec| {
            let params: Vec<&str> = spec
                .schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|properties| properties.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let params = if params.is_empty() {
                String::new()
            } else {
                format!(": params {}", params.join(", "))
            };
            format!("  \"{}\" ({}){params}", spec.name, spec.auth_type.as_str())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads `--auth` and checks its `specName` against the spec's auth specs (when they resolve;
/// otherwise the run's own checks report the spec's problems).
pub fn parse_auth(spec: &Value, auth: Option<&str>) -> anyhow::Result<Option<AuthArg>> {
    let auth_specs = AuthSpecs::resolve(spec).ok();
    let Some(text) = auth else {
        return Ok(None);
    };
    let object = json_object("--auth", text, true)?;
    let listing = match auth_specs.as_ref().map(auth_spec_list) {
        Some(listing) if !listing.is_empty() => listing,
        _ => "  (the spec declares none)".to_owned(),
    };
    let spec_name = match object.get("specName") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        Some(Value::String(_)) | None => bail!(
            "--auth has no specName: give the name of one of the spec's auth specs:\n{listing}"
        ),
        Some(_) => bail!("--auth: specName must be a string, one of:\n{listing}"),
    };
    let params = match object.get("params") {
        Some(Value::Object(params)) => params.clone(),
        None => Map::new(),
        Some(_) => bail!("--auth: params must be a JSON object"),
    };
    if let Some(auth_specs) = &auth_specs
        && auth_specs.find(&spec_name).is_none()
    {
        bail!(
            "--auth: the spec has no auth spec named \"{spec_name}\"; its auth specs are:\n{listing}"
        );
    }
    Ok(Some(AuthArg { spec_name, params }))
}

/// The error for a run the spec cannot make without credentials, when `--auth` is missing;
/// `None` when the spec declares no auth specs.
pub fn missing_auth(spec: &Value) -> Option<String> {
    let auth_specs = AuthSpecs::resolve(spec).ok()?;
    let first = auth_specs.iter().next()?;
    Some(format!(
        "this spec needs credentials: pass --auth '{{\"specName\": \"{}\", \"params\": {{...}}}}' (inline JSON or @FILE); its auth specs are:\n{}",
        first.name,
        auth_spec_list(&auth_specs)
    ))
}

/// `--window START/END`: each side RFC 3339 or epoch seconds, either may be empty.
pub fn parse_window(window: Option<&str>) -> anyhow::Result<Option<Window>> {
    let Some(window) = window else {
        return Ok(None);
    };
    let (start, end) = window.split_once('/').context(
        "--window must be START/END (RFC 3339 instants or epoch seconds, either side may be empty)",
    )?;
    let window =
        flowd_connector::trial::parse_window(Some(start), Some(end), jiff::Timestamp::now())
            .map_err(|error| {
                let side = match error.side {
                    Some(flowd_connector::trial::WindowSide::Start) => " start",
                    Some(flowd_connector::trial::WindowSide::End) => " end",
                    None => "",
                };
                anyhow::anyhow!("--window{side}: {error}")
            })?;
    Ok(Some(window))
}
