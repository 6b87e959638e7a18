#!/usr/bin/env bash
# Runs every cargo-fuzz target (or the ones named) for SECONDS each and prints one line per
# target: runs, executions per second, and whether it found a crash. Needs the nightly
# toolchain and cargo-fuzz (`cargo install cargo-fuzz`); not part of the CI gate.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (default: 600 seconds, every target)
#
# Seeds come from the repository (spec fixtures, the JSONPath compliance suite); corpora and
# crash artifacts stay under fuzz/corpus and fuzz/artifacts (not committed). A crash's input
# is kept there; turn it into a regression test before fixing it.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-600}"
shift || true
targets=("$@")
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo-fuzz is not installed for the nightly toolchain (cargo install cargo-fuzz)" >&2
  exit 2
fi
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

seed() {
  local target="$1" dir="corpus/$1"
  mkdir -p "$dir"
  case "$target" in
    connection_spec)
      cp ../crates/spec/testdata/connection_specs/valid/*.json "$dir"/ 2>/dev/null || true
      for file in ../crates/spec/testdata/connection_specs/invalid/*.json; do
        python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["spec"]))' "$file" \
          > "$dir/invalid-$(basename "$file")"
      done ;;
    flow_and_schedule)
      printf '%s' '{"name":"f","flowSpec":{"id":"6499120c-0b15-42dc-936e-847ea3c24d72","version":"1.0"},"sourceConnectionIds":["a"],"targetConnectionIds":["b"],"scheduleParams":{"startTime":"1700000000","frequency":"minute","interval":"15","backfill":"true"}}' > "$dir/flow.json" ;;
    json_path)
      python3 - "$dir" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
cts = json.load(open("../crates/spec/testdata/jsonpath-cts/cts.json"))
for index, test in enumerate(cts.get("tests", [])[:400]):
    if "document" in test:
        (out / f"cts-{index}").write_bytes(test["selector"].encode() + b"\0" + json.dumps(test["document"]).encode())
(out / "deep").write_bytes(b"$..*\0" + b'{"k":' * 50 + b'1' + b'}' * 50)
PY
      ;;
    property_filter) printf 'inheritedAttributes.baseConnection.id==abc,def' > "$dir/in" ;;
    patch) printf '%s' '[{"op":"replace","path":"/name","value":"x"},{"op":"add","path":"/items/-","value":1}]' > "$dir/ops" ;;
    date_format) printf "yyyy-MM-dd'T'HH:mm:ss.fffffffK" > "$dir/iso" ;;
    placeholders) printf '${host}/lists/${listId}?since={START_TIME}&q=@{pipeline().x}' > "$dir/url" ;;
    json_body) printf '{"a": 123456789012345678901234, "b": [1.5, -0, "x"]}' > "$dir/wide" ;;
  esac
}

printf '%-20s %12s %10s %s\n' target runs exec/s result
for target in "${targets[@]}"; do
  seed "$target"
  log="$(mktemp)"
  status=0
  cargo +nightly fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  # A target that did not build or run has no statistics: report it and go on.
  runs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1 || true)"
  speed="$(grep -Eo 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1 || true)"
  if [ "$status" -eq 0 ]; then result="no crash"; else result="FAILED (exit $status; see fuzz/artifacts/$target)"; fi
  printf '%-20s %12s %10s %s\n' "$target" "${runs:-?}" "${speed:-?}" "$result"
  mkdir -p logs
  mv "$log" "logs/$target.log"
done
