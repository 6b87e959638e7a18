#!/usr/bin/env bash
# The console's browser tests (README, "Console"): builds flowd and the mock API, starts the mock
# (slow pages, so a run in progress can be watched) and `flowd serve` on loopback port 0 with a
# throwaway data dir, then runs tests/console with `node --test`: Chromium driven by
# playwright-core signs in with the bootstrap credential and walks the console.
# Screenshots of each step land in target/console-screenshots/.
#
# Needs node/npm and Chromium (/usr/bin/chromium, or CHROMIUM=PATH). Without them the tests
# are skipped, saying so, unless FLOWD_REQUIRE_BROWSER=1 (CI), where they fail.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
chromium=${CHROMIUM:-/usr/bin/chromium}

missing=""
command -v node >/dev/null 2>&1 || missing="node"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -x "$chromium" ] || missing="$missing chromium ($chromium)"
if [ -n "$missing" ]; then
  if [ "${FLOWD_REQUIRE_BROWSER:-0}" = 1 ]; then
    echo "the console's browser tests need:$missing (FLOWD_REQUIRE_BROWSER=1)" >&2
    exit 1
  fi
  echo "skipped: the console's browser tests need:$missing"
  exit 0
fi

if [ ! -d tests/console/node_modules/playwright-core ]; then
  (cd tests/console && npm ci --no-audit --no-fund)
fi
CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0} cargo build --locked -p flowd -p flowd-mockapi
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null || echo "$root/target")

work=$(mktemp -d)
mock_pid=""
flowd_pid=""
cleanup() {
  [ -n "$flowd_pid" ] && kill "$flowd_pid" 2>/dev/null || true
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# 240 records in pages of 20 answered after 300 ms each: a run takes about 4 s.
"$target_dir/debug/flowd-mockapi" --records 240 --page-size 20 --latency-ms 300 >"$work/mock.out" 2>"$work/mock.err" &
mock_pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/mock.out" ] && break
  sleep 0.1
done
mock_url=$(head -1 "$work/mock.out")
[ -n "$mock_url" ] || { echo "flowd-mockapi did not start" >&2; cat "$work/mock.err" >&2; exit 1; }
echo "mock API at $mock_url"

# shellcheck source=lib/start-flowd.sh
. "$root/scripts/lib/start-flowd.sh"
FLOWD_LOG=${FLOWD_LOG:-info} start_flowd "$target_dir/debug/flowd" "$work" --planner-tick-ms 500
echo "flowd at http://$address"

rm -rf "$target_dir/console-screenshots"
mkdir -p "$target_dir/console-screenshots"
status=0
FLOWD_URL="http://$address" MOCK_URL="$mock_url" FLOWD_CREDENTIAL="$(head -1 "$work/flowd.out")" \
  CHROMIUM="$chromium" SCREENSHOT_DIR="$target_dir/console-screenshots" \
  node --test tests/console/ || status=$?
if [ "$status" != 0 ]; then
  echo "--- flowd's log (last 60 lines) ---" >&2
  tail -60 "$work/flowd.err" >&2
fi
exit "$status"
