#!/usr/bin/env bash
# Makes a Docker engine available on this machine: installs Debian's docker.io when dockerd is
# missing and starts dockerd when no engine answers. Prints "started <pid>" when it started one
# (the caller may stop it with `docker-engine.sh stop <pid>`), "running" when one already answered.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

log_dir=$cache
mkdir -p "$log_dir"

case "${1:-start}" in
start)
    if docker info >/dev/null 2>&1; then
        echo running
        exit 0
    fi
    if ! command -v dockerd >/dev/null 2>&1; then
        [ "$(id -u)" = 0 ] || { echo "dockerd is missing and installing docker.io needs root" >&2; exit 2; }
        apt_install docker.io
    fi
    setsid dockerd >"$log_dir/dockerd.log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 1 60); do
        if docker info >/dev/null 2>&1; then
            echo "started $pid"
            exit 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    echo "dockerd did not come up; its log:" >&2
    tail -n 20 "$log_dir/dockerd.log" >&2
    exit 1
    ;;
stop)
    stop_pid "${2:?usage: docker-engine.sh stop <pid>}"
    ;;
*)
    echo "usage: docker-engine.sh start|stop <pid>" >&2
    exit 2
    ;;
esac
