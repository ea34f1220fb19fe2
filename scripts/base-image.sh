#!/usr/bin/env bash
# Builds the Node.js base image the model-server Dockerfile takes as BASE_IMAGE, without any
# image registry on the internet: debootstrap a Debian bookworm root, add this machine's Node.js
# and npm (Debian bookworm, so the same glibc), `docker import` it, and push it to the local
# registry so it can be named by digest. Prints that reference: <registry>/<name>@sha256:<digest>.
# The root filesystem is cached outside the checkout; a second run takes seconds.
set -euo pipefail

registry=${1:?usage: base-image.sh <registry host:port>}
node_bin=$(command -v node)
node_version=$("$node_bin" --version)
name="$registry/modelship-base/node"
tag="${node_version#v}-bookworm"

rootfs=$(bash "$(dirname "$0")/debian-rootfs.sh" minbase)

if ! docker image inspect "$name:$tag" >/dev/null 2>&1; then
    # Node.js lives in /usr/local as in the usual node images; replaced whenever this machine's changes.
    rm -rf "$rootfs/usr/local/bin/node" "$rootfs/usr/local/bin/npm" "$rootfs/usr/local/bin/npx" "$rootfs/usr/local/lib/node_modules"
    mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules"
    cp "$node_bin" "$rootfs/usr/local/bin/node"
    npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
    cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
    # The image trusts what this machine trusts (a proxy's CA included), so `npm ci` in a build
    # reaches the registry the way this machine does.
    mkdir -p "$rootfs/etc/ssl/certs"
    cp "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$rootfs/etc/ssl/certs/ca-certificates.crt"
fi
bash "$(dirname "$0")/import-rootfs.sh" "$rootfs" "$name:$tag" 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' 'CMD ["node"]'
