#!/usr/bin/env bash
# Builds the nginx router image of the docker target without any image registry on the internet:
# Debian bookworm with Debian's nginx-light (scripts/debian-rootfs.sh), laid out as the usual nginx
# images are (user nginx with uid/gid 101, logs to stdout/stderr, nginx in the foreground as PID 1),
# `docker import`ed and pushed to the local registry so it can be named by digest. Prints that
# reference: <registry>/modelship-base/nginx@sha256:<digest>. Cached; a second run takes seconds.
# Usage: router-image.sh <registry host:port>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

registry=${1:?usage: router-image.sh <registry host:port>}
rootfs=$(bash "$(dirname "$0")/debian-rootfs.sh" nginx nginx-light)
nginx_version=$(sed -n 's/^Version: \(.*\)$/\1/p' <(awk '/^Package: nginx-light$/,/^$/' "$rootfs/var/lib/dpkg/status") | head -n 1)
[ -n "$nginx_version" ] || die "no nginx-light in $rootfs"
name="$registry/modelship-base/nginx"
tag="${nginx_version%%-*}-bookworm"

if ! docker image inspect "$name:$tag" >/dev/null 2>&1; then
    grep -q '^nginx:' "$rootfs/etc/group" || echo 'nginx:x:101:' >>"$rootfs/etc/group"
    grep -q '^nginx:' "$rootfs/etc/passwd" || echo 'nginx:x:101:101:nginx:/nonexistent:/usr/sbin/nologin' >>"$rootfs/etc/passwd"
    # nginx opens its compiled-in log files before it reads the config: send them where docker reads.
    mkdir -p "$rootfs/var/log/nginx"
    ln -sf /dev/stdout "$rootfs/var/log/nginx/access.log"
    ln -sf /dev/stderr "$rootfs/var/log/nginx/error.log"
fi
bash "$(dirname "$0")/import-rootfs.sh" "$rootfs" "$name:$tag" 'EXPOSE 8080' 'CMD ["nginx", "-g", "daemon off;"]'
