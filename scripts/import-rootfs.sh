#!/usr/bin/env bash
# Makes an image of a root filesystem (`docker import`, with PATH set and the given Dockerfile
# instructions, e.g. 'CMD ["node"]') unless the local engine has it already, pushes it to its
# registry, and prints its reference by digest: <registry>/<name>@sha256:<digest>.
# Usage: import-rootfs.sh <rootfs> <registry>/<name>:<tag> [instruction ...]
set -euo pipefail

rootfs=${1:?usage: import-rootfs.sh <rootfs> <registry>/<name>:<tag> [instruction ...]}
image=${2:?usage: import-rootfs.sh <rootfs> <registry>/<name>:<tag> [instruction ...]}
shift 2
name=${image%:*}

if ! docker image inspect "$image" >/dev/null 2>&1; then
    changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
    for instruction in "$@"; do changes+=(--change "$instruction"); done
    echo "importing $image" >&2
    tar --exclude=./.modelship-complete -c -C "$rootfs" . | docker import "${changes[@]}" - "$image" >/dev/null
fi
docker push "$image" >/dev/null
docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$image" | grep -m1 "^$name@sha256:"
