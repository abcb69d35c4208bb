#!/usr/bin/env bash
# Shared by the scripts that start processes (run-local.sh, bench.sh): track what was started, stop all of it on exit.
# Usage: source scripts/lib.sh; start_tracking "name"; some_process & track $!

pids=()
graces=()

# Remembers a background process to stop on exit, and how many seconds it gets to exit after TERM (default 5).
track() { pids+=("$1"); graces+=("${2:-5}"); }

# True when something listens on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Stops every tracked process, the last started first (the host before the Azurite it needs to shut down cleanly):
# TERM, its grace to exit, then KILL. The local host usually stops in a second and is given 80: each step of its stop
# is bounded and logged as "Stopped: …", the longest being the Durable provider's (60 s, reached when Azurite pauses
# for its queue clean-up at that moment), and a host killed before it released its partition leases leaves them to
# expire instead. Azurite saves and closes its services at once but its process lingers for
# a minute after TERM, so it keeps the 5-second default. A second Ctrl-C or TERM while this runs is ignored, so it
# cannot cut the clean-up short and leave a process behind.
stop_tracked() {
  trap '' INT TERM
  trap - EXIT
  local i pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 $((graces[i] * 10))); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  done
  [ -z "${TRACKING_NAME:-}" ] || echo "$TRACKING_NAME: stopped"
}

# Installs the exit trap; $1 names the script in the "stopped" message (empty: no message).
start_tracking() {
  TRACKING_NAME="${1:-}"
  trap stop_tracked EXIT
  # A signal stops everything and ends the script there (not after the `wait` it interrupted).
  trap 'stop_tracked; exit 130' INT
  trap 'stop_tracked; exit 143' TERM
}
