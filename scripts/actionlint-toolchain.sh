#!/usr/bin/env bash
# Builds actionlint (github.com/rhysd/actionlint), the linter for .github/workflows, from the Go
# module proxy. Cached in $MODELSHIP_CACHE/toolchain (default /var/cache/modelship/toolchain):
# bin/actionlint with a stamp (bin/.stamp-actionlint); a rerun whose stamp matches builds nothing.
# Prints actionlint=PATH on stdout; progress goes to stderr.
set -euo pipefail

ACTIONLINT_VERSION=${MODELSHIP_ACTIONLINT_VERSION:-v1.7.12}

root=${MODELSHIP_CACHE:-/var/cache/modelship}/toolchain
bin=$root/bin
export GOMODCACHE=$root/gomod GOCACHE=$root/gocache GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOWORK=off
export PATH=/usr/local/go/bin:$PATH
unset GOOS GOARCH GOBIN

die() { echo "actionlint-toolchain: error: $*" >&2; exit 1; }
log() { echo "actionlint-toolchain: $*" >&2; }

command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
mkdir -p "$bin" "$GOMODCACHE" "$GOCACHE" "$root/src"

key="actionlint $ACTIONLINT_VERSION $(go env GOVERSION)"
if [[ -x $bin/actionlint && -f $bin/.stamp-actionlint && "$(cat "$bin/.stamp-actionlint")" == "$key" ]]; then
    log "actionlint: cached ($bin/actionlint)"
    echo "actionlint=$bin/actionlint"
    exit 0
fi

start=$SECONDS
log "actionlint: building github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION ..."
rm -f "$bin/.stamp-actionlint"
if ! GOBIN=$root/src/actionlint-bin go install -trimpath \
    -ldflags "-s -w -X github.com/rhysd/actionlint.version=${ACTIONLINT_VERSION}" \
    "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >"$root/src/actionlint.log" 2>&1; then
    tail -n 30 "$root/src/actionlint.log" >&2
    die "actionlint: go install failed after $((SECONDS - start))s (full log: $root/src/actionlint.log)"
fi
mv -f "$root/src/actionlint-bin/actionlint" "$bin/actionlint"
echo "$key" >"$bin/.stamp-actionlint"
log "actionlint: built in $((SECONDS - start))s ($("$bin/actionlint" -version | head -n 1))"
echo "actionlint=$bin/actionlint"
