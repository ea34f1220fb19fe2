#!/usr/bin/env bash
# A Debian bookworm root filesystem made with debootstrap (minbase) plus the given Debian packages,
# cached outside the checkout by name. Prints its directory. A second run with the same packages
# takes no time; other packages make a new root.
# Usage: debian-rootfs.sh <name> [package ...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

name=${1:?usage: debian-rootfs.sh <name> [package ...]}
shift
packages=$*
rootfs="$cache/rootfs-bookworm-$name"
stamp="$rootfs/.modelship-complete"

if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "packages=$packages" ]; then
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    rm -rf "$rootfs"
    mkdir -p "$cache"
    echo "debootstrapping Debian bookworm${packages:+ with $packages} into $rootfs" >&2
    log="$cache/debootstrap-$name.log"
    debootstrap --variant=minbase ${packages:+--include="${packages// /,}"} bookworm "$rootfs" http://deb.debian.org/debian >"$log" 2>&1 || {
        tail -n 20 "$log" >&2
        exit 1
    }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    echo "packages=$packages" >"$stamp"
fi
echo "$rootfs"
