//! The `flowd` binary: a thin command-line layer over the library crates.
//! It parses arguments, sets up logging, and wires the store into the API;
//! all behaviour lives in the libraries.

mod api_client;
mod config;
mod data;
mod dataset;
mod demo_api;
mod failpoints;
mod keys;
mod logging;
mod serve;
mod spec_init;
mod spec_test;
mod spec_validate;
mod store_copy;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// flowd: a self-hosted REST ingestion service compatible with AEP's Flow Service.
#[derive(Parser, Debug)]
#[command(name = "flowd", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTP API, the planner and the workers (on the embedded store by default).
    Serve(ServeArgs),
    /// Manage API credentials.
    Credentials {
        #[command(subcommand)]
        command: CredentialsCommand,
    },
    /// Work with connection and flow spec files offline.
    Spec {
        #[command(subcommand)]
        command: SpecCommand,
    },
    /// Work with a running flowd from the terminal, through a stored profile.
    Api(api_client::ApiArgs),
    /// Read datasets back from the data dir (no server needed).
    Dataset(dataset::DatasetArgs),
    /// Work with whole stores.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// Serve the demo upstream API (paginated records, Basic/OAuth2/API-key checks) for the
    /// tutorial and examples/, until Ctrl-C.
    DemoApi(demo_api::DemoApiArgs),
    /// Manage the keys that seal connection secrets.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
}

#[derive(Subcommand, Debug)]
enum StoreCommand {
    /// Copy every resource, credential hash, sandbox, run and dataset statistic into a new,
    /// empty store (moving a single-node install onto PostgreSQL); refuses a non-empty target.
    Copy(store_copy::CopyArgs),
}

#[derive(Subcommand, Debug)]
enum SecretsCommand {
    /// Re-seal every stored secret with the current key (the one --secret-key-file,
    /// FLOWD_SECRET_KEY or the data dir's secret.key gives), opening each with whichever key
    /// sealed it (pass the previous one with --old-secret-key-file). Afterwards the old key
    /// can be dropped.
    Rotate {
        /// Directory holding the database.
        #[arg(long, env = "FLOWD_DATA_DIR", default_value = "./flowd-data")]
        data_dir: PathBuf,
        /// The metadata store, as a URL: `sqlite://PATH` or `postgres://USER:PASS@HOST:PORT/DB`
        /// (shared by a fleet); the data dir's SQLite file by default.
        #[arg(long = "store", env = "FLOWD_STORE_URL")]
        store: Option<String>,
        #[command(flatten)]
        keys: keys::KeyArgs,
    },
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// A TOML file holding any of these flags under its long name (`workers = 4`); flags and
    /// environment variables take precedence over it.
    #[arg(long, env = "FLOWD_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "FLOWD_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Directory holding the database and every other file flowd writes.
    #[arg(long, env = "FLOWD_DATA_DIR", default_value = "./flowd-data")]
    data_dir: PathBuf,
    /// The metadata store, as a URL: `sqlite://PATH` or `postgres://USER:PASS@HOST:PORT/DB`
    /// (shared by a fleet of processes); the data dir's SQLite file by default.
    #[arg(long = "store", env = "FLOWD_STORE_URL")]
    store: Option<String>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "FLOWD_MAX_BODY_BYTES", default_value_t = flowd_api::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Workers executing runs concurrently.
    #[arg(long, env = "FLOWD_WORKERS", default_value_t = 2)]
    workers: usize,
    /// Attempts of a failing run before it is marked failed.
    #[arg(long, env = "FLOWD_RUN_ATTEMPTS", default_value_t = 3)]
    run_attempts: u32,
    /// Retries of one upstream request (connection errors, 429, 5xx).
    #[arg(long, env = "FLOWD_HTTP_RETRIES", default_value_t = 5)]
    http_retries: u32,
    /// Delay before a failed run's first retry, in milliseconds (doubled each time).
    #[arg(long, env = "FLOWD_RETRY_BACKOFF_MS", default_value_t = 5_000)]
    retry_backoff_ms: u64,
    /// Lease of a running run, in milliseconds: a run whose worker stops
    /// heartbeating (it died) is taken over by another worker after this.
    #[arg(long, env = "FLOWD_LEASE_MS", default_value_t = 60_000)]
    lease_ms: u64,
    /// How often the planner looks for due windows, in milliseconds.
    #[arg(long, env = "FLOWD_PLANNER_TICK_MS", default_value_t = 5_000)]
    planner_tick_ms: u64,
    /// Longest a run may take, in seconds; a run still fetching then fails with
    /// LIMIT_EXCEEDED and writes nothing.
    #[arg(long, env = "FLOWD_MAX_RUN_SECONDS", default_value_t = 6 * 60 * 60)]
    max_run_seconds: u64,
    /// Runs one sandbox may have in progress at once, so that one tenant's slow runs cannot
    /// take every worker; 0 is no cap. Default: one less than --workers (at least 1).
    #[arg(long, env = "FLOWD_MAX_RUNS_PER_SANDBOX")]
    max_runs_per_sandbox: Option<u32>,
    /// Largest upstream page, in bytes after decoding: a larger one fails the request (and
    /// its run, with LIMIT_EXCEEDED) as soon as the limit is passed while reading.
    #[arg(long, env = "FLOWD_MAX_PAGE_BYTES", default_value_t = flowd_connector::HttpOptions::DEFAULT_MAX_BODY_BYTES)]
    max_page_bytes: u64,
    /// A network upstream requests may not reach: a CIDR block, an address, `loopback`,
    /// `private` or `link-local` (repeatable; `link-local` is always denied unless allowed).
    #[arg(
        long = "deny-upstream",
        env = "FLOWD_DENY_UPSTREAM",
        value_delimiter = ','
    )]
    deny_upstream: Vec<flowd_connector::NetRule>,
    /// A network upstream requests may reach even when a deny rule covers it (repeatable).
    #[arg(
        long = "allow-upstream",
        env = "FLOWD_ALLOW_UPSTREAM",
        value_delimiter = ','
    )]
    allow_upstream: Vec<flowd_connector::NetRule>,
    /// Longest a client may take to send a request head, in milliseconds; also how long an
    /// idle keep-alive connection stays open.
    #[arg(long, env = "FLOWD_HEAD_TIMEOUT_MS", default_value_t = 10_000)]
    head_timeout_ms: u64,
    /// Longest a client may take to send a request body, in milliseconds (408 past it).
    #[arg(long, env = "FLOWD_BODY_TIMEOUT_MS", default_value_t = 30_000)]
    body_timeout_ms: u64,
    /// Connections open at once; past it the oldest one with no request in progress is closed.
    #[arg(long, env = "FLOWD_MAX_CONNECTIONS", default_value_t = 512)]
    max_connections: usize,
    /// On SIGTERM/SIGINT, how long runs in progress may take to finish, in seconds; one still
    /// running then is handed back, for any flowd process to take over at once.
    #[arg(long, env = "FLOWD_SHUTDOWN_GRACE_SECONDS", default_value_t = 30)]
    shutdown_grace_seconds: u64,
    /// Pages one run may fetch; a run with more fails with LIMIT_EXCEEDED and writes nothing.
    #[arg(long, env = "FLOWD_MAX_PAGES_PER_RUN", default_value_t = 100_000)]
    max_pages_per_run: u64,
    /// Pages one run may fetch at once: the most a source connection's
    /// `flowd.pageConcurrency` is granted (OFFSET and PAGE pagination only).
    #[arg(long, env = "FLOWD_MAX_PAGE_CONCURRENCY", default_value_t = 8)]
    max_page_concurrency: u64,
    /// What this process does: `all` (the API, the planner and the workers), `api` (the API
    /// only) or `worker` (the planner and the workers; HTTP serves only /healthz, /readyz and
    /// /metrics). Processes sharing one store split the work this way.
    #[arg(long, env = "FLOWD_ROLE", value_enum, default_value_t = ServeRole::All)]
    role: ServeRole,
    /// Where datasets are written: a local path or `file:///PATH` (a shared filesystem for
    /// several processes), or `s3://BUCKET/PREFIX` (S3-compatible object storage, configured
    /// by the standard AWS variables). Default: `<data-dir>/datasets`.
    #[arg(long = "datasets-url", env = "FLOWD_DATASETS_URL")]
    datasets_url: Option<String>,
    #[command(flatten)]
    keys: keys::KeyArgs,
}

#[derive(Subcommand, Debug)]
enum CredentialsCommand {
    /// Create a credential bound to one org and print it once as JSON.
    Create {
        /// Directory holding the database.
        #[arg(long, env = "FLOWD_DATA_DIR", default_value = "./flowd-data")]
        data_dir: PathBuf,
        /// The metadata store, as a URL: `sqlite://PATH` or `postgres://USER:PASS@HOST:PORT/DB`
        /// (shared by a fleet); the data dir's SQLite file by default.
        #[arg(long = "store", env = "FLOWD_STORE_URL")]
        store: Option<String>,
        /// The IMS org id the credential may act for (x-gw-ims-org-id).
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand, Debug)]
enum SpecCommand {
    /// Check spec files without a server; exit 1 when any is invalid.
    Validate {
        /// Spec files (JSON). A file may also hold `{"items": [...]}` as GET returns it.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
        /// Which kind of spec the files hold.
        #[arg(long, value_enum, default_value_t = SpecKind::Auto)]
        kind: SpecKind,
    },
    /// Run a connection spec against the live API and show pages, records and schema.
    Test(spec_test::SpecTestArgs),
    /// Print a complete starter connection spec for a pagination and an auth type.
    Init(spec_init::SpecInitArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ServeRole {
    All,
    Api,
    Worker,
}

impl From<ServeRole> for flowd_api::Role {
    fn from(role: ServeRole) -> flowd_api::Role {
        match role {
            ServeRole::All => flowd_api::Role::All,
            ServeRole::Api => flowd_api::Role::Api,
            ServeRole::Worker => flowd_api::Role::Worker,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum OutputFormat {
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum SpecKind {
    /// Flow specs are recognised by their connection spec id lists.
    Auto,
    Connection,
    Flow,
}

fn main() -> ExitCode {
    let cli = config::parse::<Cli>();
    failpoints::install();
    data::create_owner_only();
    match cli.command {
        Command::Spec {
            command:
                SpecCommand::Validate {
                    files,
                    format,
                    kind,
                },
        } => spec_validate::run(&files, format, kind),
        Command::Spec {
            command: SpecCommand::Test(args),
        } => spec_test::run(args),
        Command::Spec {
            command: SpecCommand::Init(args),
        } => spec_init::run(&args),
        Command::Api(args) => report(run_async(api_client::run(args))),
        Command::Dataset(args) => report(run_async(dataset::run(args))),
        Command::DemoApi(args) => report(run_async(demo_api::run(args))),
        Command::Secrets {
            command:
                SecretsCommand::Rotate {
                    data_dir,
                    store,
                    keys,
                },
        } => report(run_async(keys::rotate(data_dir, store, keys))),
        Command::Store {
            command: StoreCommand::Copy(args),
        } => report(run_async(store_copy::run(args))),
        Command::Serve(args) => report(run_async(serve::run(args))),
        Command::Credentials {
            command:
                CredentialsCommand::Create {
                    data_dir,
                    store,
                    org,
                },
        } => report(run_async(serve::create_credential(data_dir, store, org))),
    }
}

fn run_async<F: std::future::Future<Output = anyhow::Result<()>>>(future: F) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(future)
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("flowd: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
