#!/usr/bin/env bash
# Builds Alertmanager (github.com/prometheus/alertmanager/cmd/alertmanager), the receiving end of
# the rollout notifications in the integration tests, from the Go module proxy, for machines where
# its release downloads are out of reach. Prints alertmanager=PATH on stdout; progress on stderr.
#
# `go install module/cmd@version` cannot build it: its web UI is embedded from ui/app/dist, which
# the release process generates with npm and the module does not contain. So the module is
# downloaded, copied, given a one-page placeholder for each UI, and built in place against its own
# go.sum. The API, routing and receivers are unchanged; only the browser UI is missing.
#
# Cached in $MODELSHIP_CACHE/toolchain (default /var/cache/modelship/toolchain): bin/alertmanager
# with a stamp naming the version and the Go version; a rerun whose stamp matches builds nothing.
# Its version is ALERTMANAGER_VERSION in versions.sh.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
module=github.com/prometheus/alertmanager
version=$ALERTMANAGER_VERSION
use_go "$ALERTMANAGER_MIN_GO" "$module@$version"

key="alertmanager $version go$go_version"
if stamp_current alertmanager "$key"; then
    log "cached ($toolchain_bin/alertmanager)"
    echo "alertmanager=$toolchain_bin/alertmanager"
    exit 0
fi

toolchain_dirs
start=$SECONDS
build_log=$toolchain/src/alertmanager.log
log "building $module/cmd/alertmanager@$version ..."
module_dir=$("$go_bin" mod download -json "$module@$version" 2>"$build_log" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p') || true
[ -n "$module_dir" ] && [ -d "$module_dir" ] || { cat "$build_log" >&2; die "could not download $module@$version from the Go module proxy"; }

# A writable copy: the module cache is read-only by design, and the placeholders go into it.
src=$toolchain/src/alertmanager-$version
rm -rf "$src"
cp -R "$module_dir" "$src"
chmod -R u+w "$src"
for ui in elm mantine; do
    mkdir -p "$src/ui/app/dist/$ui"
    printf '<!doctype html><title>Alertmanager</title><p>This build has no web UI; the API is at /api/v2/.</p>\n' >"$src/ui/app/dist/$ui/index.html"
done

ldflags="-s -w -X github.com/prometheus/common/version.Version=${version#v} -X github.com/prometheus/common/version.Branch=HEAD"
if ! (cd "$src" && "$go_bin" build -trimpath -ldflags "$ldflags" -o "$src/alertmanager" ./cmd/alertmanager) >>"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    die "go build failed after $((SECONDS - start))s (full log: $build_log)"
fi
install_stamped "$src/alertmanager" alertmanager "$key"
rm -rf "$src"
log "built in $((SECONDS - start))s"
echo "alertmanager=$toolchain_bin/alertmanager"
