#!/usr/bin/env bash
# Builds the image scanner the scan gate runs, trivy (github.com/aquasecurity/trivy/cmd/trivy),
# from the Go module proxy, for machines where its release downloads are out of reach.
# Cached outside the clone, in $MODELSHIP_CACHE/toolchain (default /var/cache/modelship/toolchain):
# bin/trivy, with a stamp (bin/.stamp-trivy) naming what it was built from; a rerun whose stamp
# matches builds nothing. Prints trivy=PATH on stdout; progress goes to stderr.
#
# Without network access trivy has no vulnerability database; the scan gate then still runs its
# secret and misconfiguration scanners and reports the image as NOT SCANNED, never as clean.
set -euo pipefail

TRIVY_VERSION=${MODELSHIP_TRIVY_VERSION:-v0.74.0}
# trivy uses encoding/json/v2, still an experiment in go 1.26.
MIN_GO=1.26.3

root=${MODELSHIP_CACHE:-/var/cache/modelship}/toolchain
bin=$root/bin
export GOMODCACHE=$root/gomod GOCACHE=$root/gocache GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOEXPERIMENT=jsonv2 GOWORK=off
export PATH=/usr/local/go/bin:$PATH
unset GOOS GOARCH GOBIN

die() { echo "scanner-toolchain: error: $*" >&2; exit 1; }
log() { echo "scanner-toolchain: $*" >&2; }

command -v go >/dev/null || die "go not found (expected go >= $MIN_GO at /usr/local/go/bin/go)"
go_version=$(go env GOVERSION)
go_version=${go_version#go}
if [ "$(printf '%s\n%s\n' "$MIN_GO" "${go_version%%[!0-9.]*}" | sort -V | head -n 1)" != "$MIN_GO" ]; then
    die "go is $go_version; trivy $TRIVY_VERSION needs go >= $MIN_GO"
fi
mkdir -p "$bin" "$GOMODCACHE" "$GOCACHE" "$root/src"

key="trivy $TRIVY_VERSION go$go_version $GOEXPERIMENT"
if [[ -x $bin/trivy && -f $bin/.stamp-trivy && "$(cat "$bin/.stamp-trivy")" == "$key" ]]; then
    log "trivy: cached ($bin/trivy)"
    echo "trivy=$bin/trivy"
    exit 0
fi

start=$SECONDS
log "trivy: building github.com/aquasecurity/trivy/cmd/trivy@$TRIVY_VERSION (about 10 minutes on 2 cores the first time) ..."
rm -f "$bin/.stamp-trivy"
# `go install` works here: trivy's go.mod has no replace directives.
if ! GOBIN=$root/src/trivy-bin go install -trimpath \
    -ldflags "-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=${TRIVY_VERSION#v}" \
    "github.com/aquasecurity/trivy/cmd/trivy@$TRIVY_VERSION" >"$root/src/trivy.log" 2>&1; then
    tail -n 30 "$root/src/trivy.log" >&2
    die "trivy: go install failed after $((SECONDS - start))s (full log: $root/src/trivy.log)"
fi
mv -f "$root/src/trivy-bin/trivy" "$bin/trivy"
echo "$key" >"$bin/.stamp-trivy"
log "trivy: built in $((SECONDS - start))s ($("$bin/trivy" --version | head -n 1))"
echo "trivy=$bin/trivy"
