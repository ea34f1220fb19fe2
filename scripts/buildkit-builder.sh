#!/usr/bin/env bash
# A BuildKit builder for @pulumi/docker-build on machines that cannot pull moby/buildkit.
#
# docker-build builds with BuildKit through buildx drivers (it has no use for the engine's own
# builder): where no builder is selected it starts a privileged container from
# moby/buildkit:buildx-stable-1, pulled from Docker Hub. Where Docker Hub is out of reach (or
# privileged containers are refused), this script provides a builder from what is reachable:
#   - buildkitd BUILDKIT_VERSION (in versions.sh: the BuildKit of docker-build's buildx) built from
#     the Go module proxy, cached in the toolchain (bin/buildkitd, with a stamp);
#   - buildkitd running on this machine as root with Debian's runc (from docker.io), its state
#     and socket under ${MODELSHIP_CACHE:-/var/cache/modelship}/buildkit, build steps on the
#     host's network (so a build reaches a registry on 127.0.0.1 and the package registries);
#   - a buildx builder `modelship` (the `remote` driver, on that socket) written to buildx's store
#     and selected as the current builder, as `docker buildx create --driver remote --use` would.
# `load: true` builds are then loaded into the local engine as usual.
#
# Usage: buildkit-builder.sh [start]   prints the builder's name, then "started <pid>" when it
#                                     started buildkitd, "running" when one already answered
#        buildkit-builder.sh stop <pid>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILDER=modelship
state=$cache/buildkit
socket=$state/buildkitd.sock

case "${1:-start}" in
start) ;;
stop)
    stop_pid "${2:?usage: buildkit-builder.sh stop <pid>}"
    exit 0
    ;;
*) echo "usage: buildkit-builder.sh [start] | stop <pid>" >&2; exit 2 ;;
esac

# --- buildkitd from the Go module proxy (BUILDKIT_VERSION in versions.sh) -----------------------
use_go "$BUILDKIT_MIN_GO" "$BUILDKIT_MODULE@$BUILDKIT_VERSION"
key="$BUILDKIT_MODULE@$BUILDKIT_VERSION go$go_version"
if ! stamp_current buildkitd "$key"; then
    toolchain_dirs
    build_started=$SECONDS
    # buildkit's go.mod has exclude directives, so `go install pkg@version` refuses it: a wrapper
    # module requires it instead.
    src=$toolchain/src/buildkitd-$BUILDKIT_VERSION
    build_log=$toolchain/src/buildkitd.log
    rm -rf "$src"
    mkdir -p "$src"
    printf 'module modelship.local/toolchain/buildkitd\n\ngo %s\n' "$BUILDKIT_MIN_GO" >"$src/go.mod"
    log "building buildkitd $BUILDKIT_VERSION ... (log: $build_log)"
    (
        cd "$src"
        "$go_bin" get "$BUILDKIT_MODULE/cmd/buildkitd@$BUILDKIT_VERSION" &&
            "$go_bin" build -trimpath -ldflags "-s -w -X $BUILDKIT_MODULE/version.Version=$BUILDKIT_VERSION" -o "$toolchain_bin/.buildkitd.tmp" "$BUILDKIT_MODULE/cmd/buildkitd"
    ) >"$build_log" 2>&1 || { tail -n 30 "$build_log" >&2; die "building buildkitd failed"; }
    install_stamped "$toolchain_bin/.buildkitd.tmp" buildkitd "$key"
    log "built buildkitd in $((SECONDS - build_started)) s"
fi

# --- buildkitd, running -------------------------------------------------------------------------
started=
if ! { [ -S "$socket" ] && pgrep -f "buildkitd --addr unix://$socket" >/dev/null 2>&1; }; then
    [ "$(id -u)" = 0 ] || die "buildkitd runs as root here (it mounts and runs containers with runc)"
    command -v runc >/dev/null 2>&1 || die "runc is missing: it comes with Debian's docker.io (scripts/docker-engine.sh installs it)"
    mkdir -p "$state"
    rm -f "$socket"
    setsid "$toolchain_bin/buildkitd" --addr "unix://$socket" --root "$state/root" --oci-worker-net host \
        --oci-worker-gc --oci-worker-gc-keepstorage 10000 >"$state/buildkitd.log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 1 60); do
        [ -S "$socket" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    [ -S "$socket" ] || { tail -n 20 "$state/buildkitd.log" >&2; die "buildkitd did not come up"; }
    started=$pid
fi

# --- the builder, selected -----------------------------------------------------------------------
store=${DOCKER_CONFIG:-$HOME/.docker}/buildx
docker_endpoint=${DOCKER_HOST:-unix:///var/run/docker.sock}
mkdir -p "$store/instances"
chmod 700 "${DOCKER_CONFIG:-$HOME/.docker}" "$store" "$store/instances"
instance=$(printf '{"Name":"%s","Driver":"remote","Nodes":[{"Name":"%s0","Endpoint":"unix://%s","Platforms":null,"DriverOpts":null,"Flags":null,"Files":null}],"Dynamic":false}' \
    "$BUILDER" "$BUILDER" "$socket")
printf '%s' "$instance" >"$store/instances/$BUILDER.tmp"
mv -f "$store/instances/$BUILDER.tmp" "$store/instances/$BUILDER"
printf '{"Key":"%s","Name":"%s","Global":false}' "$docker_endpoint" "$BUILDER" >"$store/current.tmp"
mv -f "$store/current.tmp" "$store/current"
chmod 600 "$store/instances/$BUILDER" "$store/current"
echo "$BUILDER"
if [ -n "$started" ]; then echo "started $started"; else echo running; fi
