//! End to end: one ad hoc run of `flowd serve`, from the mock API to
//! committed Parquet, timed over HTTP, with the server's peak RSS.
//!
//! 1. Starts `flowd serve --listen 127.0.0.1:0 --workers 1` on a fresh data
//!    dir; reads the bootstrap credential (first stdout line, JSON) and the
//!    address (`listening on http://…` on stderr).
//! 2. Over the API, as the documented workflow does: the OFFSET connection
//!    spec of the engine measurement (no `scheduleParams`, so the runtime
//!    sends no window to the mock and the whole dataset is one run), allowed
//!    in `RestStorageToAEP`'s `sourceConnectionSpecIds`; a base connection
//!    (Basic auth: the mock checks none), a JSON source connection, a dataset,
//!    a data-lake target connection (`parquet_xdm`), and a flow whose
//!    schedule starts a day from now, so the planner never runs it.
//! 3. `POST /runs` with a window ending now; the clock runs from that request
//!    until `GET /runs/{id}` says `success` (polled every 20 ms), while
//!    `VmHWM` and the CPU time of the `flowd` process are read.
//! 4. Checks the run's `outputRecordCount`, stops the server (SIGTERM), and
//!    reads the dataset's batches and records back with
//!    `flowd dataset list`, which counts them from the Parquet files.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::engine;
use crate::mock::MockServer;
use crate::proc_stats::{clock_ticks, cpu_ticks, dataset_counts, parquet_bytes, vm_hwm};

pub(crate) const FLOW_SERVICE: &str = "/data/foundation/flowservice";
pub(crate) const CATALOG: &str = "/data/foundation/catalog";
pub(crate) const REST_STORAGE_TO_AEP: &str = "6499120c-0b15-42dc-936e-847ea3c24d72";
pub(crate) const DATA_LAKE: &str = "c604ff05-7f1a-43c0-8e18-33bf874cb11c";
/// How often the run is polled (and `VmHWM` read).
const POLL: Duration = Duration::from_millis(20);
/// A run that has not finished by then is reported as a failure.
const RUN_TIMEOUT: Duration = Duration::from_secs(900);

/// What one end-to-end run measured.
pub struct EndToEndRun {
    /// `metrics.recordSummary.outputRecordCount` of the run.
    pub output_records: u64,
    /// Records in the dataset's committed Parquet files (`flowd dataset list`).
    pub dataset_records: u64,
    /// Committed batches of the dataset.
    pub batches: u64,
    /// Bytes of the committed Parquet files.
    pub parquet_bytes: u64,
    /// From `POST /runs` until `GET /runs/{id}` said `success`.
    pub wall: Duration,
    /// Peak RSS of `flowd serve` (KiB) before the run was posted (idle).
    pub idle_rss_kib: u64,
    /// Peak RSS of `flowd serve` (KiB) when the run had succeeded.
    pub peak_rss_kib: u64,
    /// CPU seconds (user, system) `flowd serve` spent during the run.
    pub cpu_user: f64,
    pub cpu_system: f64,
    /// `metrics.sizeSummary.inputBytes` / `outputBytes` of the run.
    pub input_bytes: u64,
    pub output_bytes: u64,
}

/// A running `flowd serve`, killed and reaped on drop.
pub(crate) struct Serve {
    child: Child,
    pub(crate) base_url: String,
    /// The bootstrap credential it printed (`Null` when the store already had one).
    pub(crate) credential: Value,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    fn start(flowd: &Path, data_dir: &Path) -> Result<Serve, String> {
        Serve::start_with(
            flowd,
            data_dir,
            &["--workers", "1", "--planner-tick-ms", "100"],
            &[],
            true,
        )
    }

    /// `flowd serve` with `arguments` and `environment`; with `bootstraps`, it must print the
    /// first credential.
    pub(crate) fn start_with(
        flowd: &Path,
        data_dir: &Path,
        arguments: &[&str],
        environment: &[(&str, &str)],
        bootstraps: bool,
    ) -> Result<Serve, String> {
        let mut child = Command::new(flowd)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(arguments)
            .envs(environment.iter().copied())
            .env("FLOWD_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {} serve: {e}", flowd.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let stderr = child.stderr.take().ok_or("no stderr pipe")?;
        // Both pipes are drained for the server's whole life so it never
        // blocks on a full pipe; the log goes nowhere but the address line.
        let (address_tx, address_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let address = rest.split_whitespace().next().unwrap_or_default();
                    let _ = address_tx.send(address.to_owned());
                }
            }
        });
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = line_tx.send(line);
            }
        });
        let mut serve = Serve {
            child,
            base_url: String::new(),
            credential: Value::Null,
        };
        let address = address_rx
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| "flowd serve did not log `listening on http://…`".to_owned())?;
        serve.base_url = format!("http://{address}");
        if !bootstraps {
            return Ok(serve);
        }
        // The credential is printed on first start, before the listen line.
        let line = line_rx
            .recv_timeout(Duration::from_secs(5))
            .map_err(|_| "flowd serve printed no bootstrap credential".to_owned())?;
        serve.credential = serde_json::from_str(&line)
            .map_err(|e| format!("bootstrap credential is not JSON ({e}): {line:?}"))?;
        Ok(serve)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then up to 30 s for a clean exit (SIGKILL after that).
    pub(crate) fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Drop kills and reaps.
    }
}

/// An authenticated client of one `flowd serve`.
pub(crate) struct Api<'a> {
    pub(crate) client: reqwest::Client,
    pub(crate) serve: &'a Serve,
    /// The credential it calls with (the one `serve` printed when `None`).
    pub(crate) credential: Option<&'a Value>,
}

impl Api<'_> {
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let credential = self.credential.unwrap_or(&self.serve.credential);
        let header = |name: &str| credential[name].as_str().unwrap_or_default().to_owned();
        let url = format!("{}{path}", self.serve.base_url);
        let mut request = self
            .client
            .request(method.clone(), &url)
            .bearer_auth(header("accessToken"))
            .header("x-api-key", header("apiKey"))
            .header("x-gw-ims-org-id", header("imsOrgId"))
            .header("x-sandbox-name", "prod");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("{method} {url}: {e}"))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| format!("{method} {url}: {e}"))?;
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok((status, value))
    }

    /// A call that must answer `expected`.
    pub(crate) async fn expect(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        expected: u16,
    ) -> Result<Value, String> {
        let (status, value) = self.call(method.clone(), path, body).await?;
        if status == expected {
            Ok(value)
        } else {
            Err(format!(
                "{method} {path}: expected {expected}, got {status}: {value}"
            ))
        }
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        self.expect(reqwest::Method::POST, path, Some(&body), 201)
            .await
    }
}

/// `id` of a created resource (or of the first of `items`).
pub(crate) fn id_of(value: &Value) -> Result<String, String> {
    let item = value
        .get("items")
        .and_then(|items| items.get(0))
        .unwrap_or(value);
    item["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no id in {value}"))
}

pub(crate) fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A Schema Registry schema for the dataset and a Data Prep mapping set (its `outputSchema`
/// filled in with the schema's id) the flow names.
pub struct MappingSetup {
    pub schema: Value,
    pub mapping_set: Value,
}

/// Creates the chain and returns (flow id, dataset id); `source_extra` goes into the source
/// connection.
async fn create_flow(
    api: &Api<'_>,
    mock_url: &str,
    source_extra: &Value,
    mapping: Option<&MappingSetup>,
) -> Result<(String, String), String> {
    let (spec_id, connection_id) = create_connection(api, mock_url).await?;
    // Scheduled a day from now: the planner leaves it alone, only the ad hoc
    // run below executes.
    let schedule = json!({"startTime": (now_seconds() + 86_400).to_string(),
                          "frequency": "day", "interval": "1"});
    add_flow_with(
        api,
        &spec_id,
        &connection_id,
        schedule,
        source_extra,
        mapping,
    )
    .await
}

/// The OFFSET connection spec over `mock_url`, allowed in the flow spec, and a connection to
/// it: (spec id, connection id).
pub(crate) async fn create_connection(
    api: &Api<'_>,
    mock_url: &str,
) -> Result<(String, String), String> {
    let spec = api
        .post(
            &format!("{FLOW_SERVICE}/connectionSpecs"),
            engine::offset_spec(mock_url),
        )
        .await?;
    let spec_id = id_of(&spec)?;
    let flow_spec_path = format!("{FLOW_SERVICE}/flowSpecs/{REST_STORAGE_TO_AEP}");
    let flow_specs = api
        .expect(reqwest::Method::GET, &flow_spec_path, None, 200)
        .await?;
    let mut flow_spec = flow_specs
        .get("items")
        .and_then(|items| items.get(0))
        .unwrap_or(&flow_specs)
        .clone();
    flow_spec["sourceConnectionSpecIds"] = json!([spec_id]);
    api.expect(reqwest::Method::PUT, &flow_spec_path, Some(&flow_spec), 200)
        .await?;
    let connection = api
        .post(
            &format!("{FLOW_SERVICE}/connections"),
            json!({"name": "flowd-bench", "connectionSpec": {"id": spec_id, "version": "1.0"},
                   "auth": {"specName": "Basic Authentication",
                            "params": {"username": "bench", "password": "not-checked-by-the-mock"}}}),
        )
        .await?;
    Ok((spec_id, id_of(&connection)?))
}

/// A source connection, dataset, target connection and flow with `schedule` on the
/// connection: (flow id, dataset id).
pub(crate) async fn add_flow(
    api: &Api<'_>,
    spec_id: &str,
    connection_id: &str,
    schedule: Value,
) -> Result<(String, String), String> {
    add_flow_with(api, spec_id, connection_id, schedule, &json!({}), None).await
}

/// [`add_flow`] with `source_extra` merged into the source connection.
async fn add_flow_with(
    api: &Api<'_>,
    spec_id: &str,
    connection_id: &str,
    schedule: Value,
    source_extra: &Value,
    mapping: Option<&MappingSetup>,
) -> Result<(String, String), String> {
    let mut schema_id = "https://ns.adobe.com/flowd/schemas/bench".to_owned();
    let mut transformations = json!([]);
    if let Some(mapping) = mapping {
        let schema = api
            .post(
                "/data/foundation/schemaregistry/tenant/schemas",
                mapping.schema.clone(),
            )
            .await?;
        schema_id = schema["$id"]
            .as_str()
            .ok_or("the schema has no $id")?
            .to_owned();
        let mut set = mapping.mapping_set.clone();
        set["outputSchema"] = json!({"schemaRef": {"id": schema_id, "contentType": "application/vnd.adobe.xed-full+json;version=1"}});
        let set = api
            .expect(
                reqwest::Method::POST,
                "/data/foundation/conversion/mappingSets",
                Some(&set),
                200,
            )
            .await?;
        transformations = json!([{"name": "Mapping", "params": {"mappingId": id_of(&set)?, "mappingVersion": 0}}]);
    }
    let mut source = json!({"name": "flowd-bench source", "baseConnectionId": connection_id,
                            "connectionSpec": {"id": spec_id, "version": "1.0"}, "data": {"format": "json"}});
    for (name, value) in source_extra.as_object().into_iter().flatten() {
        source[name] = value.clone();
    }
    let source = api
        .post(&format!("{FLOW_SERVICE}/sourceConnections"), source)
        .await?;
    let dataset = api
        .post(
            &format!("{CATALOG}/dataSets"),
            json!({"name": "flowd-bench", "schemaRef": {"id": schema_id,
                   "contentType": "application/vnd.adobe.xed-full+json;version=1"}}),
        )
        .await?;
    let dataset_id = dataset
        .get(0)
        .and_then(Value::as_str)
        .map(|id| id.trim_start_matches("@/dataSets/").to_owned())
        .ok_or_else(|| format!("no dataset id in {dataset}"))?;
    let target = api
        .post(
            &format!("{FLOW_SERVICE}/targetConnections"),
            json!({"name": "flowd-bench target", "connectionSpec": {"id": DATA_LAKE, "version": "1.0"},
                   "data": {"format": "parquet_xdm"}, "params": {"dataSetId": dataset_id}}),
        )
        .await?;
    let flow = api
        .post(
            &format!("{FLOW_SERVICE}/flows"),
            json!({"name": "flowd-bench", "flowSpec": {"id": REST_STORAGE_TO_AEP, "version": "1.0"},
                   "sourceConnectionIds": [id_of(&source)?], "targetConnectionIds": [id_of(&target)?],
                   "transformations": transformations, "scheduleParams": schedule}),
        )
        .await?;
    Ok((id_of(&flow)?, dataset_id))
}

/// The run of `GET /runs/{id}` (the answer itself, or its first item).
fn run_of(value: &Value) -> &Value {
    value
        .get("items")
        .and_then(|items| items.get(0))
        .unwrap_or(value)
}

/// Runs the whole measurement against `mock`, with data under `work_dir`.
pub fn run(flowd: &Path, mock: &MockServer, work_dir: &Path) -> Result<EndToEndRun, String> {
    run_into(flowd, mock, work_dir, None, &[])
}

/// [`run`] with `source_extra` merged into the source connection (`{"flowd": {…}}`).
pub fn run_with_source(
    flowd: &Path,
    mock: &MockServer,
    work_dir: &Path,
    source_extra: &Value,
) -> Result<EndToEndRun, String> {
    run_configured(flowd, mock, work_dir, None, &[], source_extra, None)
}

/// [`run`] of a flow whose records are shaped by `mapping` into a dataset typed by its schema.
pub fn run_mapped(
    flowd: &Path,
    mock: &MockServer,
    work_dir: &Path,
    mapping: &MappingSetup,
) -> Result<EndToEndRun, String> {
    run_configured(flowd, mock, work_dir, None, &[], &json!({}), Some(mapping))
}

/// [`run`], writing the dataset to `datasets_url` (with `environment`, e.g. an object
/// store's variables) instead of the data dir.
pub fn run_into(
    flowd: &Path,
    mock: &MockServer,
    work_dir: &Path,
    datasets_url: Option<&str>,
    environment: &[(&str, &str)],
) -> Result<EndToEndRun, String> {
    run_configured(
        flowd,
        mock,
        work_dir,
        datasets_url,
        environment,
        &json!({}),
        None,
    )
}

fn run_configured(
    flowd: &Path,
    mock: &MockServer,
    work_dir: &Path,
    datasets_url: Option<&str>,
    environment: &[(&str, &str)],
    source_extra: &Value,
    mapping: Option<&MappingSetup>,
) -> Result<EndToEndRun, String> {
    let data_dir = work_dir.join("flowd-data");
    let serve = match datasets_url {
        None => Serve::start(flowd, &data_dir)?,
        Some(url) => Serve::start_with(
            flowd,
            &data_dir,
            &[
                "--workers",
                "1",
                "--planner-tick-ms",
                "100",
                "--datasets-url",
                url,
            ],
            environment,
            true,
        )?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let api = Api {
        client: reqwest::Client::new(),
        serve: &serve,
        credential: None,
    };
    let (flow_id, dataset_id) =
        runtime.block_on(create_flow(&api, mock.base_url(), source_extra, mapping))?;
    let pid = serve.pid();
    let ticks = clock_ticks();
    let idle_rss_kib = vm_hwm(pid).unwrap_or(0);
    let (user_before, system_before) = cpu_ticks(pid).unwrap_or((0, 0));

    let now = now_seconds();
    let started = Instant::now();
    let run = runtime.block_on(async {
        let created = api
            .post(
                &format!("{FLOW_SERVICE}/runs"),
                json!({"flowId": flow_id, "params": {"windowStartTime": now - 86_400, "windowEndTime": now}}),
            )
            .await?;
        let run_id = id_of(&created)?;
        let path = format!("{FLOW_SERVICE}/runs/{run_id}");
        loop {
            let answer = api.expect(reqwest::Method::GET, &path, None, 200).await?;
            let run = run_of(&answer);
            match run["metrics"]["statusSummary"]["status"].as_str() {
                Some("success") => return Ok::<Value, String>(run.clone()),
                Some("failed") => return Err(format!("the end-to-end run failed: {run}")),
                _ => {}
            }
            if started.elapsed() > RUN_TIMEOUT {
                return Err(format!(
                    "the end-to-end run did not finish in {} s: {run}",
                    RUN_TIMEOUT.as_secs()
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    })?;
    let wall = started.elapsed();
    let peak_rss_kib = vm_hwm(pid).unwrap_or(0);
    let (user_after, system_after) = cpu_ticks(pid).unwrap_or((0, 0));
    drop(api);
    serve.stop();

    let metrics = &run["metrics"];
    let count = |value: &Value| value.as_u64().unwrap_or(0);
    let (batches, dataset_records) = dataset_counts(flowd, &data_dir, &dataset_id)?;
    let parquet_bytes = match datasets_url {
        None => parquet_bytes(&data_dir.join("datasets").join(&dataset_id)),
        Some(_) => count(&metrics["sizeSummary"]["outputBytes"]),
    };
    Ok(EndToEndRun {
        output_records: count(&metrics["recordSummary"]["outputRecordCount"]),
        dataset_records,
        batches,
        parquet_bytes,
        wall,
        idle_rss_kib,
        peak_rss_kib,
        cpu_user: user_after.saturating_sub(user_before) as f64 / ticks,
        cpu_system: system_after.saturating_sub(system_before) as f64 / ticks,
        input_bytes: count(&metrics["sizeSummary"]["inputBytes"]),
        output_bytes: count(&metrics["sizeSummary"]["outputBytes"]),
    })
}
