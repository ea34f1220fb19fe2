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

log_name="go-install-tool: $name"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
use_go "$min_go" "$package@$version"

key="$name $version go$go_version${GOEXPERIMENT:+ $GOEXPERIMENT}"
if stamp_current "$name" "$key"; then
    log "cached ($toolchain_bin/$name)"
    echo "$name=$toolchain_bin/$name"
    exit 0
fi

toolchain_dirs
start=$SECONDS
log "building $package@$version ..."
if ! GOBIN=$toolchain/src/$name-bin "$go_bin" install -trimpath -ldflags "$ldflags" "$package@$version" >"$toolchain/src/$name.log" 2>&1; then
    tail -n 30 "$toolchain/src/$name.log" >&2
    die "go install failed after $((SECONDS - start))s (full log: $toolchain/src/$name.log)"
fi
install_stamped "$toolchain/src/$name-bin/$name" "$name" "$key"
log "built in $((SECONDS - start))s"
echo "$name=$toolchain_bin/$name"
