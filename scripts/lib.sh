#!/usr/bin/env bash
# Shared by the scripts that start processes (run-local.sh, bench.sh): track what was started, stop all of it on exit.
# Usage: source scripts/lib.sh; start_tracking "name"; some_process & track $!

pids=()

# Remembers a background process to stop on exit.
track() { pids+=("$1"); }

# True when something listens on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Stops every tracked process: TERM, up to 5 seconds to exit, then KILL whatever is left.
stop_tracked() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  [ -z "${TRACKING_NAME:-}" ] || echo "$TRACKING_NAME: stopped"
}

# Installs the exit trap; $1 names the script in the "stopped" message (empty: no message).
start_tracking() {
  TRACKING_NAME="${1:-}"
  trap stop_tracked INT TERM EXIT
}
