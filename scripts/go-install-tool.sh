#!/usr/bin/env bash
# Builds one Go command with `go install` from the Go module proxy into the toolchain cache, for
# the tools whose release downloads are out of reach here (their modules have no replace
# directives, so `go install module/cmd@version` works).
#
#   scripts/go-install-tool.sh NAME PACKAGE VERSION MIN_GO LDFLAGS
#
# Cached in $MODELSHIP_CACHE/toolchain (default /var/cache/modelship/toolchain): bin/NAME with a
# stamp (bin/.stamp-NAME) naming the version, the Go version and GOEXPERIMENT; a rerun whose
# stamp matches builds nothing. Prints NAME=PATH on stdout; progress goes to stderr.
set -euo pipefail

[[ $# -eq 5 ]] || { echo "usage: $0 NAME PACKAGE VERSION MIN_GO LDFLAGS" >&2; exit 2; }
name=$1 package=$2 version=$3 min_go=$4 ldflags=$5

root=${MODELSHIP_CACHE:-/var/cache/modelship}/toolchain
bin=$root/bin
export GOMODCACHE=$root/gomod GOCACHE=$root/gocache GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOWORK=off
export PATH=/usr/local/go/bin:$PATH
unset GOOS GOARCH GOBIN

die() { echo "go-install-tool: $name: error: $*" >&2; exit 1; }
log() { echo "go-install-tool: $name: $*" >&2; }

command -v go >/dev/null || die "go not found (expected go >= $min_go at /usr/local/go/bin/go)"
go_version=$(go env GOVERSION)
go_version=${go_version#go}
if [ "$(printf '%s\n%s\n' "$min_go" "${go_version%%[!0-9.]*}" | sort -V | head -n 1)" != "$min_go" ]; then
    die "go is $go_version; $package@$version needs go >= $min_go"
fi
mkdir -p "$bin" "$GOMODCACHE" "$GOCACHE" "$root/src"

key="$name $version go$go_version${GOEXPERIMENT:+ $GOEXPERIMENT}"
if [[ -x $bin/$name && -f $bin/.stamp-$name && "$(cat "$bin/.stamp-$name")" == "$key" ]]; then
    log "cached ($bin/$name)"
    echo "$name=$bin/$name"
    exit 0
fi

start=$SECONDS
log "building $package@$version ..."
rm -f "$bin/.stamp-$name"
if ! GOBIN=$root/src/$name-bin go install -trimpath -ldflags "$ldflags" "$package@$version" >"$root/src/$name.log" 2>&1; then
    tail -n 30 "$root/src/$name.log" >&2
    die "go install failed after $((SECONDS - start))s (full log: $root/src/$name.log)"
fi
mv -f "$root/src/$name-bin/$name" "$bin/$name"
echo "$key" >"$bin/.stamp-$name"
log "built in $((SECONDS - start))s"
echo "$name=$bin/$name"
