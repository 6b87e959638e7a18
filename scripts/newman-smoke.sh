#!/usr/bin/env bash
# Route and shape smoke test: Adobe's published Postman collection for Flow
# Service, run with newman against a flowd started on a throwaway data dir.
# Every request must be answered without a 5xx and without a connection error, every
# error in the Flow Service format, and every id a create answers must read back.
#
# Then Adobe's second collection (the older samples, URLs rewritten to this flowd), and Data
# Prep's two collections, with the same checks.
#
# Usage: scripts/newman-smoke.sh [PATH/TO/flowd] [PATH/TO/collection.json] [PATH/TO/samples.json]
# Needs node/npm (newman is installed into a temporary prefix when absent).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
flowd=${1:-$root/target/debug/flowd}
collection=${2:-$root/../shared/aep-flow-service/flow-service-sources.postman_collection.json}
samples=${3:-$root/../shared/aep-flow-service/flow-service-samples.postman_collection.json}
dataprep=$root/../shared/aep-data-prep/data-prep.postman_collection.json
dataprep_samples=$root/../shared/aep-data-prep/data-prep-samples.postman_collection.json
work=$(mktemp -d)
trap 'kill "${flowd_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

if command -v newman >/dev/null 2>&1; then
  newman=newman
else
  npm install --silent --prefix "$work/npm" newman@6 >/dev/null
  newman="$work/npm/node_modules/.bin/newman"
fi

# shellcheck source=lib/start-flowd.sh
. "$root/scripts/lib/start-flowd.sh"
start_flowd "$flowd" "$work"

# The collection's header values are "<string>" placeholders and it sends no
# Authorization: fill in the bootstrap credential so requests reach the
# handlers, and add a test asserting that no answer is a 5xx.
python3 - "$collection" "$work/data/initial-credential.json" "$work/collection.json" "$root" "$work/workflow.json" "$dataprep" "$work/dataprep.json" <<'PY'
import json, sys
collection = json.load(open(sys.argv[1]))
credential = json.load(open(sys.argv[2]))
values = {"x-api-key": credential["apiKey"], "x-gw-ims-org-id": credential["imsOrgId"], "x-sandbox-name": "prod"}
# Checks on every answer: no 5xx; JSON (or no body); an error in one of the two Flow
# Service formats (the gateway's {error_code, message}, or {type, title, status, report});
# and a 2xx create answering an id that reads back with GET.
CHECKS = r"""
const code = pm.response.code;
pm.test('answered without a server error', () => pm.expect(code).to.be.below(500));
const body = code === 204 ? null : pm.response.json();
if (code >= 400) {
  pm.test('the error is in the Flow Service format', () => {
    if ('error_code' in body) {
      pm.expect(body.error_code).to.be.a('string');
      pm.expect(body.message).to.be.a('string');
    } else {
      pm.expect(body.type).to.match(/^https:\/\/ns\.adobe\.com\/aep\/errors\/FLOW-/);
      pm.expect(body.status).to.equal(code);
      pm.expect(body.title).to.be.a('string');
      pm.expect(body.report).to.be.an('object');
    }
  });
}
const collections = ['connections', 'sourceConnections', 'targetConnections', 'flows', 'connectionSpecs', 'runs'];
const path = pm.request.url.getPath();
const last = path.split('/').filter((part) => part).pop();
if (code >= 200 && code < 300 && pm.request.method === 'POST' && body && typeof body.id === 'string' && collections.includes(last)) {
  const url = pm.variables.replaceIn(pm.request.url.toString()).split('?')[0] + '/' + body.id;
  pm.sendRequest({url: url, method: 'GET', header: pm.request.headers.toObject()}, (error, read) => {
    pm.test('the created ' + last + ' ' + body.id + ' reads back', () => {
      pm.expect(error).to.equal(null);
      pm.expect(read.code).to.equal(200);
      pm.expect(read.json().items[0].id).to.equal(body.id);
    });
  });
}
""".strip().splitlines()

def walk(items):
    for item in items:
        if "item" in item:
            walk(item["item"])
            continue
        headers = item["request"].setdefault("header", [])
        for header in headers:
            if header["key"].lower() in values:
                header["value"] = values[header["key"].lower()]
        present = {header["key"].lower() for header in headers}
        for name, value in values.items():
            if name not in present:
                headers.append({"key": name, "value": value})
        headers.append({"key": "Authorization", "value": "Bearer " + credential["accessToken"]})
        item["event"] = [{"listen": "test", "script": {"type": "text/javascript", "exec": list(CHECKS)}}]
walk(collection["item"])
json.dump(collection, open(sys.argv[3], "w"))
# Adobe's Data Prep collection is built the same way ({{baseUrl}}, placeholder headers).
dataprep = json.load(open(sys.argv[6]))
walk(dataprep["item"])
json.dump(dataprep, open(sys.argv[7], "w"))

# The collection's bodies are placeholders, so it creates nothing. A second collection walks
# the documented workflow with real bodies, each step reading its id back (the checks above).
root = sys.argv[4]
spec = json.load(open(f"{root}/crates/cli/tests/fixtures/seed_mailchimp_update.json"))
REST_STORAGE_TO_AEP = "6499120c-0b15-42dc-936e-847ea3c24d72"
DATA_LAKE = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
def step(name, method, url, body=None, keep=None):
    request = {"method": method, "url": url, "header": [{"key": "Content-Type", "value": "application/json"}]}
    if body is not None:
        request["body"] = {"mode": "raw", "raw": body if isinstance(body, str) else json.dumps(body)}
    item = {"name": name, "request": request}
    if keep:
        item["keep"] = keep
    return item
steps = [
    step("Create the connection spec", "POST", "{{baseUrl}}/connectionSpecs", spec, "pm.environment.set('specId', pm.response.json().id);"),
    step("Create a connection", "POST", "{{baseUrl}}/connections",
         {"name": "members", "connectionSpec": {"id": "{{specId}}", "version": "1.0"},
          "auth": {"specName": "Basic Authentication", "params": {"host": "https://api.example.com", "username": "anystring", "password": "postman-password"}}},
         "pm.environment.set('connectionId', pm.response.json().id);"),
    step("Create a source connection", "POST", "{{baseUrl}}/sourceConnections",
         {"name": "source", "baseConnectionId": "{{connectionId}}", "connectionSpec": {"id": "{{specId}}", "version": "1.0"},
          "data": {"format": "json"}, "params": {"listId": "a1b2c3d4e5"}},
         "pm.environment.set('sourceId', pm.response.json().id);"),
    step("Create a dataset", "POST", "{{catalogUrl}}/dataSets",
         {"name": "members", "schemaRef": {"id": "https://ns.adobe.com/t/schemas/m", "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
         "pm.environment.set('datasetId', pm.response.json()[0].replace('@/dataSets/', ''));"),
    step("Create a target connection", "POST", "{{baseUrl}}/targetConnections",
         {"name": "target", "connectionSpec": {"id": DATA_LAKE, "version": "1.0"}, "data": {"format": "parquet_xdm"}, "params": {"dataSetId": "{{datasetId}}"}},
         "pm.environment.set('targetId', pm.response.json().id);"),
    step("Read the flow spec", "GET", f"{{{{baseUrl}}}}/flowSpecs/{REST_STORAGE_TO_AEP}", None,
         "const flowSpec = pm.response.json().items[0]; flowSpec.sourceConnectionSpecIds.push(pm.environment.get('specId')); pm.environment.set('flowSpecBody', JSON.stringify(flowSpec));"),
    step("Allow the spec in the flow spec", "PUT", f"{{{{baseUrl}}}}/flowSpecs/{REST_STORAGE_TO_AEP}", "{{flowSpecBody}}"),
    step("Create a flow", "POST", "{{baseUrl}}/flows",
         {"name": "members", "flowSpec": {"id": REST_STORAGE_TO_AEP, "version": "1.0"},
          "sourceConnectionIds": ["{{sourceId}}"], "targetConnectionIds": ["{{targetId}}"],
          "scheduleParams": {"startTime": "1700000000", "frequency": "minute", "interval": "15", "backfill": "false"}},
         "pm.environment.set('flowId', pm.response.json().id);"),
    step("Disable the flow", "POST", "{{baseUrl}}/flows/{{flowId}}/action?op=DISABLE"),
    step("Delete the flow", "DELETE", "{{baseUrl}}/flows/{{flowId}}"),
]
keeps = [item.pop("keep", None) for item in steps]
walk(steps)
for item, keep in zip(steps, keeps):
    # A workflow step must succeed, and hands its id to the next steps.
    exec_lines = item["event"][0]["script"]["exec"]
    exec_lines.append("pm.test('the step succeeds', () => pm.expect(pm.response.code).to.be.within(200, 299));")
    if keep:
        exec_lines.append(keep)
workflow = {"info": {"name": "flowd workflow", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"}, "item": steps}
json.dump(workflow, open(sys.argv[5], "w"))
PY

for run in collection workflow; do
  "$newman" run "$work/$run.json" \
    --env-var "baseUrl=http://$address/data/foundation/flowservice" \
    --env-var "catalogUrl=http://$address/data/foundation/catalog" \
    --export-environment "$work/$run.env.json" \
    --reporters cli --color off --disable-unicode
done

# The second collection (Adobe's older samples) has its URLs hard-wired to platform.adobe.io:
# each request's protocol, host and port are pointed at this flowd, its variables filled with
# the credential and the ids the workflow created (its flow deleted: that one answers 404),
# and every answer checked as above.
cat >"$work/samples.py" <<'PY'
import json, sys
samples = json.load(open(sys.argv[1]))
credential = json.load(open(sys.argv[2]))
created = {value["key"]: value["value"] for value in json.load(open(sys.argv[3]))["values"]}
host, port = sys.argv[4].rsplit(":", 1)
checks = json.load(open(sys.argv[7]))
# The checks of the first collection, taken from one of its requests.
def first_event(items):
    for item in items:
        if "item" in item:
            found = first_event(item["item"])
            if found:
                return found
        elif item.get("event"):
            return [event for event in item["event"] if event["listen"] == "test"]
    return None
test_event = first_event(checks["item"])
def walk(items):
    for item in items:
        if "item" in item:
            walk(item["item"])
            continue
        url = item["request"]["url"]
        url["protocol"] = "http"
        url["host"] = [host]
        url["port"] = port
        url["raw"] = url["raw"].replace("https://platform.adobe.io", f"http://{host}:{port}")
        events = [event for event in item.get("event", []) if event["listen"] != "test"]
        item["event"] = events + test_event
walk(samples["item"])
json.dump(samples, open(sys.argv[5], "w"))
values = {
    "ACCESS_TOKEN": credential["accessToken"], "API_KEY": credential["apiKey"],
    "IMS_ORG": credential["imsOrgId"], "SANDBOX_NAME": "prod",
    "CONNECTION_ID": created.get("connectionId", ""), "CONNECTION_SPEC_ID": created.get("specId", ""),
    "FLOW_ID": created.get("flowId", ""), "FLOW_SPEC_ID": "6499120c-0b15-42dc-936e-847ea3c24d72",
    "RUN_ID": "00000000-0000-4000-8000-000000000000",
    "SOURCE_CONNECTION_ID": created.get("sourceId", ""), "TARGET_CONNECTION_ID": created.get("targetId", ""),
    "property": "", "limit": "", "orderby": "", "continuationToken": "", "if-match": "", "body": "{}",
}
environment = {"name": "flowd", "values": [{"key": key, "value": value, "enabled": True} for key, value in values.items()]}
json.dump(environment, open(sys.argv[6], "w"))
PY
python3 "$work/samples.py" "$samples" "$work/data/initial-credential.json" "$work/workflow.env.json" "$address" "$work/samples.json" "$work/samples.env.json" "$work/collection.json"
"$newman" run "$work/samples.json" --environment "$work/samples.env.json" \
  --reporters cli --color off --disable-unicode

# Data Prep: Adobe's collection (bodies are placeholders, so its writes are refused with 400s),
# then its older samples pointed at this flowd like the Flow Service samples above.
"$newman" run "$work/dataprep.json" \
  --env-var "baseUrl=http://$address/data/foundation/conversion" \
  --reporters cli --color off --disable-unicode
python3 "$work/samples.py" "$dataprep_samples" "$work/data/initial-credential.json" "$work/workflow.env.json" "$address" "$work/dataprep-samples.json" "$work/dataprep-samples.env.json" "$work/collection.json"
"$newman" run "$work/dataprep-samples.json" --environment "$work/dataprep-samples.env.json" \
  --reporters cli --color off --disable-unicode
