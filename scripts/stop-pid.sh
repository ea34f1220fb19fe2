#!/usr/bin/env bash
# Stops a daemon one of the scripts here started: SIGTERM, up to <seconds> (default 10) to exit,
# then SIGKILL. Quiet and successful when the process is gone already.
# Usage: stop-pid.sh <pid> [seconds]
pid=${1:?usage: stop-pid.sh <pid> [seconds]}
seconds=${2:-10}
kill "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 $((seconds * 4))); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.25; done
kill -9 "$pid" 2>/dev/null || true
