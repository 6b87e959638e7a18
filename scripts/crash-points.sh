#!/usr/bin/env bash
# Crashes a run at every named crash point ITERATIONS times (default 20) and prints, per
# point, how many records were lost or duplicated and how many partial batches a polling
# reader saw (all must be 0). Each iteration: a test build of `flowd serve` kills itself with
# SIGKILL at the point, is restarted, and the run is taken over (crates/cli/tests/crash_points.rs).
#
#   scripts/crash-points.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-20}"
FLOWD_CRASH_ITERATIONS="$iterations" cargo test -p flowd --test crash_points -- \
  --nocapture --test-threads 1 2>&1 | tee /dev/stderr | grep -Eo 'crash point .*|test result: .*'
