# Sourced by the end-to-end scripts: starts a flowd server on a free loopback port.
#
#   start_flowd FLOWD WORK [serve flags…]
#
# runs `FLOWD serve --listen 127.0.0.1:0 --data-dir WORK/data [flags…]` in the background with
# stdout in WORK/flowd.out (its first line is the bootstrap credential) and stderr in
# WORK/flowd.err, waits for its "listening on" line and sets `flowd_pid` and `address`
# (HOST:PORT). Fails, showing the log, when the server does not start within 15 s.
start_flowd() {
  local flowd=$1 work=$2
  shift 2
  "$flowd" serve --listen 127.0.0.1:0 --data-dir "$work/data" "$@" \
    >"$work/flowd.out" 2>"$work/flowd.err" &
  flowd_pid=$!
  for _ in $(seq 1 150); do
    grep -q "listening on http://" "$work/flowd.err" && break
    sleep 0.1
  done
  address=$(grep -o "listening on http://[0-9.:]*" "$work/flowd.err" | head -1 | sed 's|listening on http://||')
  if [ -z "$address" ]; then
    echo "flowd did not start" >&2
    cat "$work/flowd.err" >&2
    return 1
  fi
}
