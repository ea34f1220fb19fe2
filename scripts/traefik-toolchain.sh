#!/usr/bin/env bash
# Builds Traefik (github.com/traefik/traefik/v3, cmd/traefik) from the Go module proxy only: a
# Gateway API implementation with a real data plane for the end-to-end tests (its
# kubernetesgateway provider routes HTTPRoute weights and header matches; it does not implement
# RequestMirror, see the README's table of Gateway API implementations). The dashboard's assets
# are not in the module (webui/static is built by yarn upstream), so the dashboard is empty.
#
# The module replaces three dependencies with forks, so `go install module/cmd@version` refuses
# it: a wrapper module requires it and copies its non-local replace directives, as
# scripts/kube-toolchain.sh does for Kubernetes. Cached in $MODELSHIP_CACHE/toolchain (default
# /var/cache/modelship/toolchain): bin/traefik with a stamp (bin/.stamp-traefik) naming the version
# and the Go version; a rerun whose stamp matches builds nothing. Prints traefik=PATH on stdout;
# progress goes to stderr. Long: see the README for the measured cold time.
set -euo pipefail

TRAEFIK_VERSION=${MODELSHIP_TRAEFIK_VERSION:-v3.6.12}   # 3.7.x does not resolve from the proxy
MODULE=github.com/traefik/traefik/v3

root=${MODELSHIP_CACHE:-/var/cache/modelship}/toolchain
bin=$root/bin
export GOMODCACHE=$root/gomod GOCACHE=$root/gocache GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
export PATH=/usr/local/go/bin:$PATH
unset GOOS GOARCH GOBIN
export GOWORK=off

die() { echo "traefik-toolchain: error: $*" >&2; exit 1; }
log() { echo "traefik-toolchain: $*" >&2; }

command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
go_version=$(go env GOVERSION)
mkdir -p "$bin" "$GOMODCACHE" "$GOCACHE" "$root/src"

key="$MODULE@$TRAEFIK_VERSION $go_version"
if [[ -x $bin/traefik && -f $bin/.stamp-traefik && "$(cat "$bin/.stamp-traefik")" == "$key" ]]; then
    log "traefik: cached ($bin/traefik)"
    echo "traefik=$bin/traefik"
    exit 0
fi

start=$SECONDS
log "$MODULE@$TRAEFIK_VERSION: fetching module and dependencies ..."
info=$(go mod download -json "$MODULE@$TRAEFIK_VERSION") || die "go mod download $MODULE@$TRAEFIK_VERSION failed"
gomod=$(sed -n 's/.*"GoMod": *"\(.*\)".*/\1/p' <<<"$info")
[[ -f $gomod ]] || die "no go.mod for $MODULE@$TRAEFIK_VERSION"
build_date=$(sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "${gomod%.mod}.info" | head -n1)

# Its replace directives, block and single-line forms, except those to local paths.
mapfile -t replaces < <(
    { sed -n '/^replace (/,/^)/p' "$gomod" | sed '1d;$d'; sed -n 's/^replace \([^(].*\)/\1/p' "$gomod"; } |
        awk -F' => ' 'NF == 2 && $2 !~ /^\.\.?\// {sub(/^[ \t]+/, "", $1); print $1 " => " $2}'
)
((${#replaces[@]} > 0)) || die "could not read the replace directives of $gomod"

dir=$root/src/traefik
mkdir -p "$dir"
{
    echo "module modelship.local/toolchain"
    echo
    echo "go ${go_version#go}"
    echo
    echo "require $MODULE $TRAEFIK_VERSION"
    echo
    echo "replace ("
    printf '\t%s\n' "${replaces[@]}"
    echo ")"
} >"$dir/go.mod.new"
if ! cmp -s "$dir/go.mod.new" "$dir/go.mod"; then
    mv "$dir/go.mod.new" "$dir/go.mod"
    rm -f "$dir/go.sum"
else
    rm -f "$dir/go.mod.new"
fi
(cd "$dir" && go get "$MODULE/cmd/traefik@$TRAEFIK_VERSION") >"$root/src/traefik-get.log" 2>&1 ||
    { tail -n 30 "$root/src/traefik-get.log" >&2; die "go get $MODULE@$TRAEFIK_VERSION failed (log: $root/src/traefik-get.log)"; }
log "$MODULE@$TRAEFIK_VERSION: modules ready in $((SECONDS - start))s (${#replaces[@]} replaces copied)"

built=$SECONDS
log "traefik: building $MODULE/cmd/traefik ..."
rm -f "$bin/.stamp-traefik"
ld="-s -w -X $MODULE/pkg/version.Version=${TRAEFIK_VERSION#v} -X $MODULE/pkg/version.BuildDate=${build_date:-1970-01-01T00:00:00Z}"
if ! (cd "$dir" && go build -trimpath -ldflags "$ld" -o "$bin/traefik.tmp" "$MODULE/cmd/traefik") >"$root/src/traefik.log" 2>&1; then
    tail -n 30 "$root/src/traefik.log" >&2
    die "traefik: go build failed after $((SECONDS - built))s (full log: $root/src/traefik.log)"
fi
mv -f "$bin/traefik.tmp" "$bin/traefik"
echo "$key" >"$bin/.stamp-traefik"
log "traefik: built in $((SECONDS - built))s ($((SECONDS - start))s with the modules)"
echo "traefik=$bin/traefik"
