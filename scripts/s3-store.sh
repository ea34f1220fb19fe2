#!/usr/bin/env bash
# A real S3-compatible store for tests: moto's server mode (moto[server]==5.2.1) with its IAM
# access control on, answering S3, IAM and STS (AssumeRoleWithWebIdentity) on one address.
#
#   scripts/s3-store.sh up [--address A] [--port P]   start it (idempotent); prints the endpoint URL
#   scripts/s3-store.sh env                           prints `export ...` lines: the endpoint and the admin's key
#   scripts/s3-store.sh seed s3://<bucket>/<prefix>/ [options]
#                                                     the bucket, every shipped model version under
#                                                     <prefix><model>/<version>/ (model.json,
#                                                     model.json.sha256 and every file beside them,
#                                                     e.g. an ONNX file), and per model its pods' IAM
#                                                     role with the project's own documents; prints
#                                                     "<model> <artifact> <role ARN>" per model
#   scripts/s3-store.sh down                          stop it (by its PID); its state is gone
#   scripts/s3-store.sh --help
#
# seed options (seed again without them to put everything back as shipped):
#   --corrupt <model>/<version>   serve that version's model.json one byte longer than its recorded
#                                 checksum (a version that is not shipped: a copy of the model's last one)
#   --forbid <model>/<version>    upload that version (a copy of the last one if not shipped) and add an
#                                 explicit Deny of s3:GetObject on <prefix><model>/<version>/* to the
#                                 model's role, beside the project's own policy, which stays as rendered
#   --environment E  --namespace N  --oidc-issuer I
#                                 what the roles are named and trusted by (default lab, models,
#                                 kubernetes.default.svc): role modelship-<E>-<model>-pods, trusted for
#                                 system:serviceaccount:<N>:<model> with audience sts.amazonaws.com
#   --models DIR                  the models to upload (default model-server/models)
#
# The address and port: --address/--port, else MODELSHIP_S3_ADDRESS (default 127.0.0.1) and
# MODELSHIP_S3_PORT (default 9000). State (PID, log, the admin's key) is in $MODELSHIP_S3_STATE
# (default $MODELSHIP_CACHE/s3-store, MODELSHIP_CACHE defaulting to /var/cache/modelship).
#
# Access control: moto starts with INITIAL_NO_AUTH_ACTION_COUNT=0, so from its first request every
# call must be signed by a key IAM knows. `up` then opens exactly three unchecked requests
# (moto's /moto-api/reset-auth) to create the admin user, its allow-all policy and its key, closes
# them again, and checks that the key works and a made-up one is refused. Anyone who reaches the
# address can reset moto's auth the same way: this is a test store, never a real one.
#
# Python: the machine's python3 when it has moto MOTO_VERSION (5.2.1, in versions.sh) with its
# server extras; otherwise a venv in $MODELSHIP_CACHE/toolchain/moto-<version> with
# `pip install moto[server]==<version>` (once).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

state=${MODELSHIP_S3_STATE:-$cache/s3-store}
address=${MODELSHIP_S3_ADDRESS:-127.0.0.1}
port=${MODELSHIP_S3_PORT:-9000}


has_moto() { "$1" -c "import moto, flask, flask_cors, boto3, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; }

python_with_moto() {
    if command -v python3 >/dev/null && has_moto python3; then
        command -v python3
        return
    fi
    local venv=$toolchain/moto-$MOTO_VERSION
    if ! has_moto "$venv/bin/python"; then
        command -v python3 >/dev/null || die "python3 is missing (apt-get install python3 python3-venv)"
        log "installing moto[server]==$MOTO_VERSION into $venv"
        python3 -m venv "$venv" >&2 || die "python3 -m venv failed (apt-get install python3-venv)"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2 || die "pip install moto[server]==$MOTO_VERSION failed"
    fi
    echo "$venv/bin/python"
}

endpoint() { echo "http://$(url_host "$1"):$2"; }
url_host() { if [[ $1 == *:* ]]; then echo "[$1]"; else echo "$1"; fi; }
answers() { curl -fsS -o /dev/null --max-time 2 "$1/moto-api/data.json" 2>/dev/null; }
running() { [[ -f $state/pid ]] && kill -0 "$(cat "$state/pid")" 2>/dev/null; }

up() {
    while [[ $# -gt 0 ]]; do
        case $1 in
        --address) address=${2:?--address needs a value}; shift 2 ;;
        --port) port=${2:?--port needs a value}; shift 2 ;;
        *) die "up: unknown option $1 (see --help)" ;;
        esac
    done
    local url
    url=$(endpoint "$address" "$port")
    if running && [[ $(cat "$state/endpoint") == "$url" ]] && answers "$url" && [[ -s $state/admin.env ]]; then
        log "already up at $url"
        echo "$url"
        return
    fi
    running && die "a store started from $state is running at $(cat "$state/endpoint"); run down first"
    local python
    python=$(python_with_moto)
    mkdir -p "$state"
    rm -f "$state/admin.env"
    INITIAL_NO_AUTH_ACTION_COUNT=0 setsid "$python" "$scripts_dir/s3-store.py" serve --host "$address" --port "$port" >"$state/log" 2>&1 </dev/null &
    echo $! >"$state/pid"
    echo "$url" >"$state/endpoint"
    await_started "moto on $url" "$(cat "$state/pid")" "$state/log" 80 0.25 answers "$url"
    (umask 077 && "$python" "$scripts_dir/s3-store.py" admin --endpoint "$url" >"$state/admin.env") || die "creating the admin identity failed (log: $state/log)"
    log "up at $url (moto $MOTO_VERSION, IAM access control on; pid $(cat "$state/pid"))"
    echo "$url"
}

admin_env() {
    [[ -s $state/admin.env ]] && running || die "no store is up from $state: run $0 up"
    echo "export AWS_ENDPOINT_URL=$(cat "$state/endpoint")"
    echo "export AWS_REGION=us-east-1"
    sed 's/^/export /' "$state/admin.env"
}

seed() {
    local prefix=${1:-}
    [[ $prefix == s3://* ]] || die "seed: the first argument is the s3://<bucket>/<prefix>/ the models go under (see --help)"
    shift
    local environment=lab namespace=models issuer=kubernetes.default.svc models=$project_dir/model-server/models
    local -a store_args=()
    while [[ $# -gt 0 ]]; do
        case $1 in
        --corrupt | --forbid) store_args+=("$1" "${2:?$1 needs <model>/<version>}"); shift 2 ;;
        --environment) environment=${2:?}; shift 2 ;;
        --namespace) namespace=${2:?}; shift 2 ;;
        --oidc-issuer) issuer=${2:?}; shift 2 ;;
        --models) models=${2:?}; shift 2 ;;
        *) die "seed: unknown option $1 (see --help)" ;;
        esac
    done
    [[ -d $models ]] || die "seed: no models directory $models"
    local roles_tool=$project_dir/dist/tools/artifact-store-roles.js
    [[ -f $roles_tool ]] || die "seed: $roles_tool is missing: run npm run build first"
    local python
    python=$(python_with_moto)
    local -a model_args=()
    local model
    for model in "$models"/*/; do
        model=$(basename "$model")
        compgen -G "$models/$model/*/model.json" >/dev/null && model_args+=(--model "$model")
    done
    [[ ${#model_args[@]} -gt 0 ]] || die "seed: no <model>/<version>/model.json under $models"
    # Admin credentials only for these two commands; the caller's own AWS settings never reach moto.
    (
        eval "$(admin_env)"
        # Rendered first: a refused location stops here with the tool's own message.
        roles=$(node "$roles_tool" --prefix "$prefix" --environment "$environment" --namespace "$namespace" --oidc-issuer "$issuer" "${model_args[@]}") ||
            die "seed: rendering the roles for $prefix failed (above)"
        "$python" "$scripts_dir/s3-store.py" seed --endpoint "$AWS_ENDPOINT_URL" --models "$models" "${store_args[@]}" <<<"$roles"
    )
}

down() {
    if [[ -f $state/pid ]]; then
        stop_pid "$(cat "$state/pid")"
        log "stopped pid $(cat "$state/pid")"
    fi
    rm -f "$state/pid" "$state/endpoint" "$state/admin.env"
}

case ${1:-} in
up) shift; up "$@" ;;
env) admin_env ;;
seed) shift; seed "$@" ;;
down) down ;;
-h | --help) usage ;;
*)
    usage >&2
    exit 2
    ;;
esac
