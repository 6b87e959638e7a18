//! The commands of `flowd api` other than `runs watch`: `login` and `profiles`, the generic
//! `list`/`get`/`create`/`delete` over a [`Kind`]'s collection (Flow Service's `{"items"}`,
//! Catalog's object keyed by id and Data Prep's `{"data"}` read the same way), flows' `ENABLE`
//! and `DISABLE`, and runs' trigger and re-trigger.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::profile::{self, DEFAULT_PROFILE, Profile, Profiles};
use super::{Client, FLOW_SERVICE, Kind, Output};

/// `flowd api login`: a credential given inline or as the JSON `flowd serve` printed.
#[derive(clap::Args, Debug)]
pub struct LoginArgs {
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    #[arg(long)]
    url: String,
    /// The credential's API key (`apiKey`).
    #[arg(long, required_unless_present = "credential_file")]
    api_key: Option<String>,
    /// The credential's access token (`accessToken`); stored, never printed.
    #[arg(long, required_unless_present = "credential_file")]
    access_token: Option<String>,
    /// The IMS org id the credential acts for (`imsOrgId`).
    #[arg(long)]
    org: Option<String>,
    /// A credential as `flowd serve` and `flowd credentials create` print it
    /// (`{"apiKey", "accessToken", "imsOrgId"}`), e.g. the data dir's initial-credential.json.
    #[arg(long, conflicts_with_all = ["api_key", "access_token"])]
    credential_file: Option<PathBuf>,
}

pub async fn login(
    args: LoginArgs,
    name: Option<String>,
    sandbox: Option<String>,
) -> anyhow::Result<()> {
    let (api_key, access_token, file_org) = match &args.credential_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let credential: Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            let field = |name: &str| -> anyhow::Result<String> {
                credential[name]
                    .as_str()
                    .map(str::to_owned)
                    .with_context(|| {
                        format!(
                            "{} has no `{name}` (a credential as flowd prints it)",
                            path.display()
                        )
                    })
            };
            (
                field("apiKey")?,
                field("accessToken")?,
                credential["imsOrgId"].as_str().map(str::to_owned),
            )
        }
        None => (
            args.api_key.clone().unwrap_or_default(),
            args.access_token.clone().unwrap_or_default(),
            None,
        ),
    };
    let Some(org) = args.org.clone().or(file_org) else {
        bail!("--org is required (the IMS org id the credential acts for)");
    };
    let url = args.url.trim_end_matches('/').to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("--url {url} has no scheme (http:// or https://)");
    }
    let profile = Profile {
        url,
        api_key,
        access_token,
        org,
        sandbox: sandbox.unwrap_or_else(|| "prod".to_owned()),
    };
    // A GET that needs the whole credential: a wrong half is refused here, not on first use.
    let client = Client::new(profile.clone())?;
    client
        .call(
            Method::GET,
            &format!("{FLOW_SERVICE}/connectionSpecs?limit=1"),
            None,
        )
        .await
        .context("the credential was not accepted; nothing stored")?;
    let path = profile::profiles_path()?;
    let mut profiles = Profiles::load(&path)?;
    let name = name.unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
    println!(
        "logged in to {} as org {} (sandbox {}); saved as profile `{name}` in {}",
        profile.url,
        profile.org,
        profile.sandbox,
        path.display()
    );
    profiles.profiles.insert(name, profile);
    profiles.save(&path)
}

pub fn list_profiles() -> anyhow::Result<()> {
    let path = profile::profiles_path()?;
    let profiles = Profiles::load(&path)?;
    if profiles.profiles.is_empty() {
        println!(
            "no profiles in {} (add one with `flowd api login`)",
            path.display()
        );
        return Ok(());
    }
    let rows: Vec<Vec<String>> = profiles
        .profiles
        .iter()
        .map(|(name, profile)| {
            vec![
                name.clone(),
                profile.url.clone(),
                profile.org.clone(),
                profile.sandbox.clone(),
                profile.api_key.clone(),
                profile.masked_token().to_owned(),
            ]
        })
        .collect();
    print_table(
        &["NAME", "URL", "ORG", "SANDBOX", "API KEY", "TOKEN"],
        &rows,
    );
    Ok(())
}

/// The items of one answer of a collection, whatever its shape, each with its `id`.
fn items_of(kind: Kind, body: &Value) -> Vec<Value> {
    match kind {
        Kind::Datasets => body
            .as_object()
            .into_iter()
            .flatten()
            .map(|(id, dataset)| {
                let mut dataset = dataset.clone();
                if let Some(object) = dataset.as_object_mut() {
                    object.entry("id").or_insert_with(|| json!(id));
                }
                dataset
            })
            .collect(),
        Kind::MappingSets => body["data"].as_array().cloned().unwrap_or_default(),
        _ => body["items"].as_array().cloned().unwrap_or_default(),
    }
}

pub async fn list(client: &Client, kind: Kind, output: Output) -> anyhow::Result<()> {
    let mut items = Vec::new();
    let mut path = kind.collection();
    // Flow Service pages with `_links.next.href`; follow it so the listing is whole.
    for _ in 0..1000 {
        let (_, body) = client.call(Method::GET, &path, None).await?;
        items.extend(items_of(kind, &body));
        match body["_links"]["next"]["href"].as_str() {
            Some(next) if !next.is_empty() && kind.collection().starts_with(FLOW_SERVICE) => {
                path = format!("{FLOW_SERVICE}{next}");
            }
            _ => break,
        }
    }
    if output == Output::Json {
        println!("{}", serde_json::to_string_pretty(&Value::Array(items))?);
        return Ok(());
    }
    if items.is_empty() {
        println!("no {}", kind.name());
        return Ok(());
    }
    let rows: Vec<Vec<String>> = items.iter().map(|item| row_of(kind, item)).collect();
    print_table(&["ID", "NAME", "STATE", "UPDATED"], &rows);
    Ok(())
}

/// id, name, state, updated of one item.
fn row_of(kind: Kind, item: &Value) -> Vec<String> {
    let text = |value: &Value| match value {
        Value::String(text) => text.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    let (name, state) = match kind {
        Kind::Runs => (
            item["flowId"].as_str().map(|flow| format!("flow {flow}")),
            item["metrics"]["statusSummary"]["status"].clone(),
        ),
        Kind::Datasets => (
            item["name"].as_str().map(str::to_owned),
            item["lastBatchStatus"].clone(),
        ),
        _ => (
            item["name"].as_str().map(str::to_owned),
            item["state"].clone(),
        ),
    };
    let updated = ["updatedAt", "updated", "modifiedDate"]
        .iter()
        .find_map(|field| item[field].as_i64())
        .map(format_millis)
        .unwrap_or_else(|| "-".to_owned());
    vec![
        text(&item["id"]),
        name.unwrap_or_else(|| "-".to_owned()),
        text(&state),
        updated,
    ]
}

/// Epoch milliseconds as an RFC 3339 instant to the second.
pub fn format_millis(millis: i64) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .map(|instant| instant.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| millis.to_string())
}

/// Left-aligned columns two spaces apart.
pub fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers
        .iter()
        .map(|header| header.chars().count())
        .collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

pub async fn get(client: &Client, kind: Kind, id: &str) -> anyhow::Result<()> {
    let (_, body) = client
        .call(Method::GET, &format!("{}/{id}", kind.collection()), None)
        .await?;
    let item = match kind {
        Kind::MappingSets => body,
        _ => items_of(kind, &body).into_iter().next().unwrap_or(body),
    };
    println!("{}", serde_json::to_string_pretty(&item)?);
    Ok(())
}

fn read_body(file: &Path) -> anyhow::Result<Value> {
    let text = if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
    };
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))
}

pub async fn create(client: &Client, kind: Kind, file: &Path) -> anyhow::Result<()> {
    let body = read_body(file)?;
    let (_, created) = client
        .call(Method::POST, &kind.collection(), Some(&body))
        .await?;
    // Catalog answers `["@/dataSets/<id>"]`; the others an object with the id.
    let id = match &created {
        Value::Array(references) => references
            .first()
            .and_then(Value::as_str)
            .map(|reference| reference.rsplit('/').next().unwrap_or(reference).to_owned()),
        other => other["id"].as_str().map(str::to_owned),
    }
    .with_context(|| format!("the answer holds no id: {created}"))?;
    match created["etag"].as_str() {
        Some(etag) => eprintln!("created {} {id} (etag {etag})", kind.name()),
        None => eprintln!("created {} {id}", kind.name()),
    }
    println!("{id}");
    Ok(())
}

pub async fn delete(client: &Client, kind: Kind, id: &str) -> anyhow::Result<()> {
    client
        .call(Method::DELETE, &format!("{}/{id}", kind.collection()), None)
        .await?;
    println!("deleted {} {id}", kind.name());
    Ok(())
}

pub async fn flow_action(client: &Client, id: &str, op: &str) -> anyhow::Result<()> {
    let (_, answer) = client
        .call(
            Method::POST,
            &format!("{FLOW_SERVICE}/flows/{id}/action?op={op}"),
            None,
        )
        .await?;
    let done = if op == "ENABLE" {
        "enabled"
    } else {
        "disabled"
    };
    match answer["etag"].as_str() {
        Some(etag) => println!("flow {id} {done} (etag {etag})"),
        None => println!("flow {id} {done}"),
    }
    Ok(())
}

/// `START/END` as epoch seconds; START may be empty, END defaults to now.
pub fn parse_window(window: Option<&str>) -> anyhow::Result<(Option<i64>, i64)> {
    let now = jiff::Timestamp::now().as_second();
    let Some(window) = window else {
        return Ok((None, now));
    };
    let Some((start, end)) = window.split_once('/') else {
        bail!(
            "--window {window}: expected START/END (RFC 3339 or epoch seconds; START may be empty)"
        );
    };
    let instant = |side: &str, text: &str| -> anyhow::Result<Option<i64>> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        flowd_connector::trial::parse_instant(text)
            .map(|instant| Some(instant.as_second()))
            .map_err(|error| anyhow::anyhow!("--window {side}: {error}"))
    };
    let start = instant("start", start)?;
    let end = instant("end", end)?.unwrap_or(now);
    if let Some(start) = start
        && start >= end
    {
        bail!("--window: the start must be before the end");
    }
    Ok((start, end))
}

pub async fn trigger(client: &Client, flow: &str, window: Option<&str>) -> anyhow::Result<()> {
    let (start, end) = parse_window(window)?;
    let mut params = json!({"windowEndTime": end});
    if let Some(start) = start {
        params["windowStartTime"] = json!(start);
    }
    let (_, run) = client
        .call(
            Method::POST,
            &format!("{FLOW_SERVICE}/runs"),
            Some(&json!({"flowId": flow, "params": params})),
        )
        .await?;
    let id = run["id"].as_str().context("the answer holds no run id")?;
    eprintln!(
        "run {id} of flow {flow} {} over {}",
        run["metrics"]["statusSummary"]["status"]
            .as_str()
            .unwrap_or("pending"),
        super::watch::window_text(&run)
    );
    println!("{id}");
    Ok(())
}

pub async fn retrigger(client: &Client, run: &str) -> anyhow::Result<()> {
    let (_, answer) = client
        .call(
            Method::POST,
            &format!("{FLOW_SERVICE}/runs/{run}/action?op=RE_TRIGGER"),
            None,
        )
        .await?;
    println!(
        "run {run} re-triggered: {} over {}",
        answer["metrics"]["statusSummary"]["status"]
            .as_str()
            .unwrap_or("pending"),
        super::watch::window_text(&answer)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_window;

    #[test]
    fn a_window_takes_both_forms_and_an_open_start() {
        assert_eq!(
            parse_window(Some("2024-01-01T00:00:00Z/1704070800")).unwrap(),
            (Some(1_704_067_200), 1_704_070_800)
        );
        assert_eq!(
            parse_window(Some("/1704070800")).unwrap(),
            (None, 1_704_070_800)
        );
        let error = parse_window(Some("1704070800")).unwrap_err().to_string();
        assert!(error.contains("expected START/END"), "{error}");
    }
}
