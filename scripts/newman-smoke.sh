#!/usr/bin/env bash
# Route and shape smoke test: Adobe's published Postman collection for Flow
# Service, run with newman against a flowd started on a throwaway data dir.
# Every request must be answered without a 5xx and without a connection error.
#
# Usage: scripts/newman-smoke.sh [PATH/TO/flowd] [PATH/TO/collection.json]
# Needs node/npm (newman is installed into a temporary prefix when absent).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
flowd=${1:-$root/target/debug/flowd}
collection=${2:-$root/../shared/aep-flow-service/flow-service-sources.postman_collection.json}
work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

if command -v newman >/dev/null 2>&1; then
  newman=newman
else
  npm install --silent --prefix "$work/npm" newman@6 >/dev/null
  newman="$work/npm/node_modules/.bin/newman"
fi

"$flowd" serve --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/stdout" 2>"$work/stderr" &
server=$!
for _ in $(seq 1 100); do
  grep -q "listening on http://" "$work/stderr" && break
  sleep 0.1
done
address=$(grep -o "listening on http://[0-9.:]*" "$work/stderr" | head -1 | sed 's|listening on http://||')
[ -n "$address" ] || { echo "flowd did not start"; cat "$work/stderr"; exit 1; }

# The collection's header values are "<string>" placeholders and it sends no
# Authorization: fill in the bootstrap credential so requests reach the
# handlers, and add a test asserting that no answer is a 5xx.
python3 - "$collection" "$work/data/initial-credential.json" "$work/collection.json" <<'PY'
import json, sys
collection = json.load(open(sys.argv[1]))
credential = json.load(open(sys.argv[2]))
values = {"x-api-key": credential["apiKey"], "x-gw-ims-org-id": credential["imsOrgId"], "x-sandbox-name": "prod"}
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
        item["event"] = [{"listen": "test", "script": {"type": "text/javascript", "exec": [
            "pm.test('answered without a server error', function () { pm.expect(pm.response.code).to.be.below(500); });",
            "pm.test('answered in JSON or with no body', function () { if (pm.response.code !== 204) { pm.response.json(); } });"
        ]}}]
walk(collection["item"])
json.dump(collection, open(sys.argv[3], "w"))
PY

"$newman" run "$work/collection.json" \
  --env-var "baseUrl=http://$address/data/foundation/flowservice" \
  --reporters cli --color off --disable-unicode
