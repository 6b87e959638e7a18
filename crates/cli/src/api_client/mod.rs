//! `flowd api …`: a command-line client of a running flowd. A stored profile ([`profile`])
//! says where the server answers and with which credential; [`commands`] lists, reads,
//! creates and deletes the main resources from JSON files, enables and disables flows and
//! triggers runs; [`watch`] follows a flow's runs live. [`Client`] is the one place that sends
//! a request and turns the API's error bodies (the gateway's `{error_code, message}` and
//! Flow Service's `report` with its `problems` and their pointers) into a printed error.

mod commands;
mod profile;
mod watch;

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;

pub use profile::Profile;

/// Flow Service's base path, under which most kinds live.
const FLOW_SERVICE: &str = "/data/foundation/flowservice";

/// `flowd api [--profile NAME] [--sandbox NAME] COMMAND`.
#[derive(Args, Debug)]
pub struct ApiArgs {
    /// The stored profile to use (`flowd api profiles` lists them); `default` unless given.
    #[arg(long, env = "FLOWD_PROFILE", global = true)]
    profile: Option<String>,
    /// The sandbox of this call, instead of the profile's.
    #[arg(long, global = true)]
    sandbox: Option<String>,
    #[command(subcommand)]
    command: ApiCommand,
}

#[derive(Subcommand, Debug)]
enum ApiCommand {
    /// Check a credential against a server and store it as a profile (the token is never
    /// printed back).
    Login(commands::LoginArgs),
    /// List the stored profiles (tokens masked).
    Profiles,
    /// List a kind's resources: a table of id, name, state and last update, or JSON.
    List {
        kind: Kind,
        /// `table` (the default) or `json` (the API's answer as is).
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Print one resource as JSON.
    Get { kind: Kind, id: String },
    /// Create a resource from a JSON file (`-` for stdin); prints the new id.
    Create {
        kind: Kind,
        /// The request body: a JSON file, or `-` to read it from stdin.
        #[arg(long, short)]
        file: PathBuf,
    },
    /// Delete a resource.
    Delete { kind: Kind, id: String },
    /// Enable or disable flows.
    Flows {
        #[command(subcommand)]
        command: FlowsCommand,
    },
    /// Trigger, re-trigger and watch runs.
    Runs {
        #[command(subcommand)]
        command: RunsCommand,
    },
}

#[derive(Subcommand, Debug)]
enum FlowsCommand {
    /// Enable a flow: its schedule starts producing runs.
    Enable { id: String },
    /// Disable a flow: no more scheduled runs.
    Disable { id: String },
}

#[derive(Subcommand, Debug)]
enum RunsCommand {
    /// Start an ad hoc run of a flow (`POST /runs`); prints the run's id.
    Trigger {
        flow: String,
        /// The window `START/END`, each side RFC 3339 or epoch seconds; START may be empty
        /// (from the beginning of time), END defaults to now.
        #[arg(long)]
        window: Option<String>,
    },
    /// Run a failed (or successful) run's window again.
    Retrigger { run: String },
    /// Show a flow's runs updating live, polling every second, until Ctrl-C.
    Watch(watch::WatchArgs),
}

/// The resource kinds `list`, `get`, `create` and `delete` know.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    ConnectionSpecs,
    FlowSpecs,
    Connections,
    SourceConnections,
    TargetConnections,
    Flows,
    Runs,
    /// Catalog's datasets.
    Datasets,
    /// Data Prep's mapping sets.
    MappingSets,
}

impl Kind {
    /// The collection's path from the server's root.
    fn collection(self) -> String {
        let flow_service = |name: &str| format!("{FLOW_SERVICE}/{name}");
        match self {
            Kind::ConnectionSpecs => flow_service("connectionSpecs"),
            Kind::FlowSpecs => flow_service("flowSpecs"),
            Kind::Connections => flow_service("connections"),
            Kind::SourceConnections => flow_service("sourceConnections"),
            Kind::TargetConnections => flow_service("targetConnections"),
            Kind::Flows => flow_service("flows"),
            Kind::Runs => flow_service("runs"),
            Kind::Datasets => "/data/foundation/catalog/dataSets".into(),
            Kind::MappingSets => "/data/foundation/conversion/mappingSets".into(),
        }
    }

    /// The name as typed on the command line.
    fn name(self) -> String {
        self.to_possible_value()
            .map(|value| value.get_name().to_owned())
            .unwrap_or_default()
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Table,
    Json,
}

/// A profile's server, ready to call.
pub struct Client {
    http: reqwest::Client,
    profile: Profile,
}

impl Client {
    pub fn new(profile: Profile) -> anyhow::Result<Client> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()?;
        Ok(Client { http, profile })
    }

    /// Sends `method path` (from the server's root) with the profile's headers and `body`;
    /// answers the status and the JSON body (`Null` when empty), or the API's error printed
    /// with its message and pointers.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let url = format!("{}{path}", self.profile.url.trim_end_matches('/'));
        let mut request = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.profile.access_token)
            .header("x-api-key", &self.profile.api_key)
            .header("x-gw-ims-org-id", &self.profile.org)
            .header("x-sandbox-name", &self.profile.sandbox);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {url}"))?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status >= 400 {
            bail!("{method} {path}: {}", describe_error(status, &value));
        }
        Ok((status, value))
    }
}

/// The API's error body in words: the code, the message, then each problem at its pointer.
pub fn describe_error(status: u16, body: &Value) -> String {
    if let Some(message) = body.get("message").and_then(Value::as_str) {
        let code = body["error_code"].as_str().unwrap_or_default();
        return format!("HTTP {status} ({code}): {message}");
    }
    let code = body["type"]
        .as_str()
        .and_then(|kind| kind.rsplit('/').next())
        .unwrap_or_default();
    let mut message = body["report"]["detailed-message"]
        .as_str()
        .or_else(|| body["title"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| body.to_string());
    let problems = body["problems"].as_array().cloned().unwrap_or_default();
    let pointer_of = |problem: &Value| {
        let pointer = problem["pointer"].as_str().unwrap_or_default();
        if pointer.is_empty() {
            "(root)"
        } else {
            pointer
        }
        .to_owned()
    };
    // The message lists the problems too (`… (2 problems): /a: …; /b: …`): print them once,
    // each on its own line below.
    if let Some(first) = problems.first() {
        let listing = format!(
            "{}: {}",
            pointer_of(first),
            first["message"].as_str().unwrap_or_default()
        );
        if let Some(at) = message.find(&listing) {
            message = message[..at].trim_end_matches([' ', ':']).to_owned();
        }
    }
    let mut described = if code.is_empty() {
        format!("HTTP {status}: {message}")
    } else {
        format!("HTTP {status} ({code}): {message}")
    };
    for problem in &problems {
        let text = problem["message"].as_str().unwrap_or_default();
        described.push_str(&format!("\n  at {}: {text}", pointer_of(problem)));
    }
    described
}

/// Runs one `flowd api` command.
pub async fn run(args: ApiArgs) -> anyhow::Result<()> {
    let ApiArgs {
        profile,
        sandbox,
        command,
    } = args;
    if let ApiCommand::Login(login) = command {
        return commands::login(login, profile, sandbox).await;
    }
    if let ApiCommand::Profiles = command {
        return commands::list_profiles();
    }
    let path = profile::profiles_path()?;
    let (_, mut selected) = profile::Profiles::load(&path)?.select(profile.as_deref())?;
    if let Some(sandbox) = sandbox {
        selected.sandbox = sandbox;
    }
    let client = Client::new(selected)?;
    match command {
        ApiCommand::Login(_) | ApiCommand::Profiles => unreachable!("handled above"),
        ApiCommand::List { kind, output } => commands::list(&client, kind, output).await,
        ApiCommand::Get { kind, id } => commands::get(&client, kind, &id).await,
        ApiCommand::Create { kind, file } => commands::create(&client, kind, &file).await,
        ApiCommand::Delete { kind, id } => commands::delete(&client, kind, &id).await,
        ApiCommand::Flows { command } => match command {
            FlowsCommand::Enable { id } => commands::flow_action(&client, &id, "ENABLE").await,
            FlowsCommand::Disable { id } => commands::flow_action(&client, &id, "DISABLE").await,
        },
        ApiCommand::Runs { command } => match command {
            RunsCommand::Trigger { flow, window } => {
                commands::trigger(&client, &flow, window.as_deref()).await
            }
            RunsCommand::Retrigger { run } => commands::retrigger(&client, &run).await,
            RunsCommand::Watch(args) => watch::run(&client, args).await,
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::describe_error;

    #[test]
    fn a_refusal_prints_its_message_and_each_pointer() {
        let body = json!({
            "type": "https://ns.adobe.com/aep/errors/FLOW-1100-400",
            "title": "Invalid request",
            "report": {"detailed-message": "The connection spec is invalid (1 problem): /name: is required"},
            "problems": [{"pointer": "/name", "message": "is required"}],
        });
        assert_eq!(
            describe_error(400, &body),
            "HTTP 400 (FLOW-1100-400): The connection spec is invalid (1 problem)\n  at /name: is required"
        );
        let gateway = json!({"error_code": "401013", "message": "Oauth token is not valid"});
        assert_eq!(
            describe_error(401, &gateway),
            "HTTP 401 (401013): Oauth token is not valid"
        );
    }
}
