#!/usr/bin/env bash
# Builds Traefik (github.com/traefik/traefik/v3, cmd/traefik) from the Go module proxy only: a
# Gateway API implementation with a real data plane for the end-to-end tests (its
# kubernetesgateway provider routes HTTPRoute weights and header matches; it does not implement
# RequestMirror, see the table of Gateway API implementations in docs/targets.md). The dashboard's assets
# are not in the module (webui/static is built by yarn upstream), so the dashboard is empty.
#
# The module replaces three dependencies with forks, so `go install module/cmd@version` refuses
# it: a wrapper module requires it and copies its non-local replace directives, as
# scripts/kube-toolchain.sh does for Kubernetes. Cached in $MODELSHIP_CACHE/toolchain (default
# /var/cache/modelship/toolchain): bin/traefik with a stamp (bin/.stamp-traefik) naming the version
# and the Go version; a rerun whose stamp matches builds nothing. Prints traefik=PATH on stdout;
# progress goes to stderr. Long: see docs/toolchain.md for the measured cold time. Its version is
# TRAEFIK_VERSION in versions.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODULE=github.com/traefik/traefik/v3
use_go "$TRAEFIK_MIN_GO" "$MODULE@$TRAEFIK_VERSION"

key="$MODULE@$TRAEFIK_VERSION go$go_version"
if stamp_current traefik "$key"; then
    log "traefik: cached ($toolchain_bin/traefik)"
    echo "traefik=$toolchain_bin/traefik"
    exit 0
fi

toolchain_dirs
start=$SECONDS
log "$MODULE@$TRAEFIK_VERSION: fetching module and dependencies ..."
info=$("$go_bin" mod download -json "$MODULE@$TRAEFIK_VERSION") || die "go mod download $MODULE@$TRAEFIK_VERSION failed"
gomod=$(sed -n 's/.*"GoMod": *"\(.*\)".*/\1/p' <<<"$info")
[[ -f $gomod ]] || die "no go.mod for $MODULE@$TRAEFIK_VERSION"
build_date=$(sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "${gomod%.mod}.info" | head -n1)

# Its replace directives, block and single-line forms, except those to local paths.
mapfile -t replaces < <(
    { sed -n '/^replace (/,/^)/p' "$gomod" | sed '1d;$d'; sed -n 's/^replace \([^(].*\)/\1/p' "$gomod"; } |
        awk -F' => ' 'NF == 2 && $2 !~ /^\.\.?\// {sub(/^[ \t]+/, "", $1); print $1 " => " $2}'
)
((${#replaces[@]} > 0)) || die "could not read the replace directives of $gomod"

dir=$toolchain/src/traefik
go_wrapper_module "$dir" "$MODULE" "$TRAEFIK_VERSION" "${replaces[@]}"
(cd "$dir" && "$go_bin" get "$MODULE/cmd/traefik@$TRAEFIK_VERSION") >"$toolchain/src/traefik-get.log" 2>&1 ||
    { tail -n 30 "$toolchain/src/traefik-get.log" >&2; die "go get $MODULE@$TRAEFIK_VERSION failed (log: $toolchain/src/traefik-get.log)"; }
log "$MODULE@$TRAEFIK_VERSION: modules ready in $((SECONDS - start))s (${#replaces[@]} replaces copied)"

built=$SECONDS
log "traefik: building $MODULE/cmd/traefik ..."
ld="-s -w -X $MODULE/pkg/version.Version=${TRAEFIK_VERSION#v} -X $MODULE/pkg/version.BuildDate=${build_date:-1970-01-01T00:00:00Z}"
if ! (cd "$dir" && "$go_bin" build -trimpath -ldflags "$ld" -o "$toolchain_bin/traefik.tmp" "$MODULE/cmd/traefik") >"$toolchain/src/traefik.log" 2>&1; then
    tail -n 30 "$toolchain/src/traefik.log" >&2
    die "traefik: go build failed after $((SECONDS - built))s (full log: $toolchain/src/traefik.log)"
fi
install_stamped "$toolchain_bin/traefik.tmp" traefik "$key"
log "traefik: built in $((SECONDS - built))s ($((SECONDS - start))s with the modules)"
echo "traefik=$toolchain_bin/traefik"
