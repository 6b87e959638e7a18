#!/usr/bin/env bash
# README's tutorial ("First hour with flowd") as a test: extracts its ```sh tutorial blocks,
# runs them in order in a fresh directory (a copy of examples/, a fresh data dir) with the
# demo API and flowd on free loopback ports, then reads the dataset with pyarrow and checks
# every demo record is there once.
#
# Usage: scripts/tutorial-test.sh [DIR holding the flowd binary]   (default: flowd on PATH)
# Needs curl, jq and python3 with pyarrow.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ge 1 ]; then
  PATH="$(cd "$1" && pwd):$PATH"
fi
command -v flowd >/dev/null || { echo "tutorial-test: no flowd on PATH (pass its directory)" >&2; exit 1; }
for tool in curl jq python3; do
  command -v "$tool" >/dev/null || { echo "tutorial-test: the tutorial needs $tool" >&2; exit 1; }
done

work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cp -r "$root/examples" "$work/examples"

# The tutorial's commands, in order; its background processes end with it.
{
  echo 'set -euo pipefail'
  echo 'trap '\''kill $(jobs -p) 2>/dev/null || true'\'' EXIT'
  awk '/^```sh tutorial$/ {on=1; next} /^```/ {on=0} on' "$root/README.md"
} > "$work/tutorial.sh"
blocks=$(grep -c '^```sh tutorial$' "$root/README.md")
[ "$blocks" -ge 5 ] || { echo "tutorial-test: found $blocks tutorial blocks in README.md" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
export FLOWD_LISTEN=127.0.0.1:$(free_port) FLOWD_DEMO_LISTEN=127.0.0.1:$(free_port)
unset FLOWD_DATA_DIR FLOWD_STORE_URL FLOWD_DATASETS_URL FLOWD_CONFIG

if ! (cd "$work" && timeout 120 bash "$work/tutorial.sh" > "$work/tutorial.out" 2>&1); then
  echo "tutorial-test: README's tutorial failed; its output:" >&2
  cat "$work/tutorial.out" >&2
  for log in flowd.log demo-api.log; do
    [ -f "$work/$log" ] && { echo "--- $log" >&2; tail -40 "$work/$log" >&2; }
  done
  exit 1
fi

python3 - "$work/flowd-data/datasets" <<'PY'
import glob, sys
import pyarrow.dataset as ds
folders = glob.glob(sys.argv[1] + "/*/")
assert len(folders) == 1, f"expected one dataset, found {folders}"
table = ds.dataset(folders[0], format="parquet").to_table()
ids = sorted(table.column("id").to_pylist())
assert ids == list(range(1, 1001)), f"{table.num_rows} records, ids {ids[:5]}..."
print(f"tutorial-test: ok, {table.num_rows} records in the dataset, read back with pyarrow")
PY
