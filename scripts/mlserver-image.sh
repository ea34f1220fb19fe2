#!/usr/bin/env bash
# Builds the MLServer image (model-server/mlserver/: Seldon's Open Inference Protocol v2 server with
# its scikit-learn runtime) without any image registry on the internet:
#   1. a Python base: a Debian bookworm root with Debian's python3, python3-venv and ca-certificates
#      (scripts/debian-rootfs.sh), `docker import`ed as <registry>/modelship-base/python:<python>-bookworm
#      and pushed to the local registry (scripts/import-rootfs.sh), so it is named by digest;
#   2. the server: `docker build` of model-server/mlserver/Dockerfile FROM that digest (pip installs
#      the pinned wheels from PyPI during the build), tagged <registry>/modelship/mlserver:<mlserver
#      version> and pushed.
# Prints the server's reference by digest: <registry>/modelship/mlserver@sha256:<digest>; messages go
# to stderr. The root filesystem is cached outside the checkout and the build uses the engine's
# layer cache: a second run takes seconds.
# Usage: mlserver-image.sh <registry host:port>
set -euo pipefail
log_elapsed=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

registry=${1:?usage: mlserver-image.sh <registry host:port>}
context=$project_dir/model-server/mlserver
if [ ! -f "$context/Dockerfile" ] || [ ! -f "$context/requirements.txt" ]; then die "no Dockerfile and requirements.txt in $context"; fi

# --- 1. the Python base ------------------------------------------------------------------------
# python3-venv for the build stage's `python3 -m venv` (it brings ensurepip's pip); the runtime
# stage uses the same base so the venv's interpreter (a symlink to /usr/bin/python3.11) is there.
rootfs=$(bash "$scripts_dir/debian-rootfs.sh" python python3 python3-venv ca-certificates)
python_version=$(awk '/^Package: python3$/,/^$/' "$rootfs/var/lib/dpkg/status" | sed -n 's/^Version: \(.*\)$/\1/p' | head -n 1)
[ -n "$python_version" ] || die "no python3 in $rootfs"
base_name="$registry/modelship-base/python"
base_tag="${python_version%%-*}-bookworm"

if ! docker image inspect "$base_name:$base_tag" >/dev/null 2>&1; then
    # As base-image.sh does for Node.js: the image trusts what this machine trusts (a proxy's CA
    # included), so pip in the build reaches PyPI the way this machine does.
    cp "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$rootfs/etc/ssl/certs/ca-certificates.crt"
fi
base_ref=$(bash "$scripts_dir/import-rootfs.sh" "$rootfs" "$base_name:$base_tag" 'CMD ["python3"]')
log "base $base_ref"

# --- 2. the server -----------------------------------------------------------------------------
mlserver_version=$(sed -n 's/^mlserver==\(.*\)$/\1/p' "$context/requirements.txt")
[ -n "$mlserver_version" ] || die "no mlserver==<version> in $context/requirements.txt"
name="$registry/modelship/mlserver"
image="$name:$mlserver_version"

# The engine's own builder (DOCKER_BUILDKIT=0): it needs no buildx and finds the base FROM its
# local digest without pulling; the Dockerfile uses nothing BuildKit-only. Its layer cache keys the
# pip layer on requirements.txt, so a second build reuses everything.
build_log=$cache/mlserver-build.log
log "building $image from $context (log: $build_log)"
DOCKER_BUILDKIT=0 docker build \
    --build-arg BASE_IMAGE="$base_ref" \
    --build-arg MLSERVER_VERSION="$mlserver_version" \
    -t "$image" "$context" >"$build_log" 2>&1 || {
    tail -n 30 "$build_log" >&2
    die "docker build of $context failed"
}
docker push "$image" >/dev/null || die "docker push $image failed"
log "pushed $image"
docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$image" | grep -m1 "^$name@sha256:" ||
    die "$image has no digest from $registry"
