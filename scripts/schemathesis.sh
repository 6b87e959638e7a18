#!/usr/bin/env bash
# Property-based run of flowd's own OpenAPI document against a real flowd: schemathesis (from
# PyPI, 4.x) reads GET /openapi.json and sends every operation generated requests, valid and
# invalid, with the bootstrap credential's four AEP headers. Checks: no 5xx
# (not_a_server_error), every answer's status, content type and body as documented
# (status_code_conformance, content_type_conformance, response_schema_conformance).
# A fixed seed and a bounded number of examples per operation keep it reproducible and within
# a few minutes on two cores.
#
# Nothing is excluded from the fuzzing:
# - DELETE /console/session could sign the run out if the run used a session; it uses the
#   bearer token and API key, which a sign-out does not touch (and no cookie is ever sent).
# - Spec tests, connection tests and previews would call out to whatever URL a generated spec
#   or authorizationTestUrl names: flowd runs with every upstream address denied
#   (--deny-upstream 0.0.0.0/0 and ::/0), so no request leaves the machine and such a call is
#   answered as a refused upstream, which is the documented 4xx / 200-with-error.
# - Creates and deletes act only on the throwaway data dir's sandbox.
#
# Usage: scripts/schemathesis.sh [PATH/TO/flowd]
# Environment: FLOWD_SCHEMATHESIS_EXAMPLES (examples per operation, 25), FLOWD_SCHEMATHESIS_SEED
# (16). Installs schemathesis into a temporary virtualenv when `schemathesis` is not on PATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
flowd=${1:-$root/target/debug/flowd}
examples=${FLOWD_SCHEMATHESIS_EXAMPLES:-25}
seed=${FLOWD_SCHEMATHESIS_SEED:-16}
work=$(mktemp -d)
trap 'kill "${flowd_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

if command -v schemathesis >/dev/null 2>&1 && schemathesis --version | grep -q 'version 4\.'; then
  schemathesis=schemathesis
else
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
  schemathesis="$work/venv/bin/schemathesis"
fi

# shellcheck source=lib/start-flowd.sh
. "$root/scripts/lib/start-flowd.sh"
start_flowd "$flowd" "$work" --deny-upstream 0.0.0.0/0 --deny-upstream ::/0
credential=$(head -1 "$work/flowd.out")
field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$credential" "$1"; }
token=$(field accessToken)
api_key=$(field apiKey)
org=$(field imsOrgId)

started=$(date +%s)
status=0
# schemathesis keeps its cache in the working directory: the throwaway one, not the repository.
cd "$work"
"$schemathesis" run "http://$address/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --seed "$seed" --max-examples "$examples" --workers 1 \
  --phases examples,coverage,fuzzing,stateful \
  --suppress-health-check all \
  --request-timeout 30 \
  --header "Authorization: Bearer $token" --header "x-api-key: $api_key" \
  --header "x-gw-ims-org-id: $org" --header "x-sandbox-name: prod" \
  --report junit --report-dir "$root/target/schemathesis" || status=$?
echo "schemathesis: $(( $(date +%s) - started )) s, exit $status (report: target/schemathesis/)"
if grep -q "panicked" "$work/flowd.err"; then
  echo "flowd panicked:"; grep -A3 "panicked" "$work/flowd.err"; status=1
fi
exit "$status"
