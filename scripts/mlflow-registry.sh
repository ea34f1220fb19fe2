#!/usr/bin/env bash
# A real MLflow model registry for tests: MLflow's tracking server (mlflow==MLFLOW_VERSION from
# PyPI, in a venv of the toolchain cache) on loopback, with a SQLite backend store and its
# artifacts in a local directory served through the server (--serve-artifacts), so a version's
# files are reached at <url>/api/2.0/mlflow-artifacts/artifacts/... as a remote store's would be.
#
#   scripts/mlflow-registry.sh up [--port P] [--state DIR]   start it (idempotent); prints its URL
#   scripts/mlflow-registry.sh down [--state DIR]            stop it (by its PID); its state is removed
#   scripts/mlflow-registry.sh install                       only make the venv (CI warms it first)
#   scripts/mlflow-registry.sh --help
#
# The address is 127.0.0.1; the port --port, else MODELSHIP_MLFLOW_PORT (default 5055). State (the
# SQLite file, the artifacts, PID, log) is in --state, else $MODELSHIP_CACHE/mlflow-registry. It is a
# test registry: no authentication, fresh on every `up` after a `down`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

state=$cache/mlflow-registry
port=${MODELSHIP_MLFLOW_PORT:-5055}
venv=$toolchain/mlflow-$MLFLOW_VERSION

python_with_mlflow() {
    if ! "$venv/bin/python" -c "import mlflow, sys; sys.exit(mlflow.__version__ != '$MLFLOW_VERSION')" 2>/dev/null; then
        command -v python3 >/dev/null || die "python3 is missing (apt-get install python3 python3-venv)"
        log "installing mlflow==$MLFLOW_VERSION into $venv (about 2 minutes the first time)"
        rm -rf "$venv"
        python3 -m venv "$venv" >&2 || die "python3 -m venv failed (apt-get install python3-venv)"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "mlflow==$MLFLOW_VERSION" >&2 || die "pip install mlflow==$MLFLOW_VERSION failed"
    fi
    echo "$venv/bin/mlflow"
}

running() { [[ -f $state/pid ]] && kill -0 "$(cat "$state/pid")" 2>/dev/null; }
answers() { curl -fsS -o /dev/null --max-time 2 "$1/health" 2>/dev/null; }

options() {
    while [[ $# -gt 0 ]]; do
        case $1 in
        --port) port=${2:?--port needs a value}; shift 2 ;;
        --state) state=${2:?--state needs a directory}; shift 2 ;;
        *) die "unknown option $1 (see --help)" ;;
        esac
    done
}

up() {
    options "$@"
    local url="http://127.0.0.1:$port"
    if running && [[ $(cat "$state/url") == "$url" ]] && answers "$url"; then
        log "already up at $url"
        echo "$url"
        return
    fi
    running && die "a registry started from $state is running at $(cat "$state/url"); run down first"
    local mlflow
    mlflow=$(python_with_mlflow)
    mkdir -p "$state/artifacts"
    # One worker: the tests need no more, and each worker is a few hundred MB.
    setsid "$mlflow" server --host 127.0.0.1 --port "$port" --workers 1 \
        --backend-store-uri "sqlite:///$state/mlflow.db" --artifacts-destination "$state/artifacts" --serve-artifacts \
        >"$state/log" 2>&1 </dev/null &
    echo $! >"$state/pid"
    echo "$url" >"$state/url"
    # The first start creates the database schema: about 25 s on a 2-core machine.
    await_started "mlflow on $url" "$(cat "$state/pid")" "$state/log" 240 0.5 answers "$url"
    log "up at $url (mlflow $MLFLOW_VERSION, SQLite and artifacts in $state; pid $(cat "$state/pid"))"
    echo "$url"
}

down() {
    options "$@"
    if running; then
        local pid
        pid=$(cat "$state/pid")
        # setsid made it a process group: the server and its workers go together.
        kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -9 -- "-$pid" 2>/dev/null || true
    fi
    rm -rf "$state"
}

case ${1:-} in
up) shift; up "$@" ;;
down) shift; down "$@" ;;
install) python_with_mlflow >/dev/null ;;
--help | -h | help) usage ;;
*) usage >&2; exit 2 ;;
esac
