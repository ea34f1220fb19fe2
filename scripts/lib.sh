# shellcheck shell=bash
# What the scripts here share; each one sources it first:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# It reads the toolchain's versions (versions.sh) and sets
#   scripts_dir     this folder           project_dir    the checkout
#   cache           $MODELSHIP_CACHE, default /var/cache/modelship (everything kept outside the checkout)
#   toolchain       $cache/toolchain      toolchain_bin  $toolchain/bin (built binaries and their stamps)
# Messages go to stderr as "<log_name>: ...", log_name being the script's name unless the script
# sets it before sourcing; log_elapsed=1 adds the seconds since the script started.

scripts_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # for the scripts that source this file
project_dir=$(cd "$scripts_dir/.." && pwd)
# shellcheck source=versions.sh
source "$scripts_dir/versions.sh"

cache=${MODELSHIP_CACHE:-/var/cache/modelship}
toolchain=$cache/toolchain
toolchain_bin=$toolchain/bin

log_name=${log_name:-$(basename "$0" .sh)}
log() {
    if [ -n "${log_elapsed:-}" ]; then echo "$log_name: [${SECONDS}s] $*" >&2; else echo "$log_name: $*" >&2; fi
}
die() { echo "$log_name: error: $*" >&2; exit 1; }
# usage: the script's opening comment, up to its `set -euo pipefail`, without the comment marks.
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

# await_started NAME PID LOG TRIES INTERVAL CHECK...: a server just started in the background answers
# CHECK within TRIES checks INTERVAL seconds apart; dies with its log's tail when it exits first or
# never answers.
await_started() {
    local name=$1 pid=$2 log_file=$3 tries=$4 interval=$5
    shift 5
    for _ in $(seq 1 "$tries"); do
        "$@" && return 0
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$log_file" >&2; die "$name exited at start (log: $log_file)"; }
        sleep "$interval"
    done
    "$@" || { tail -n 20 "$log_file" >&2; die "$name does not answer (log: $log_file)"; }
}

# apt_install PACKAGE...: installs Debian packages, quietly (apt-get update once per run).
apt_install() {
    log "installing $* from Debian"
    if [ -z "${apt_updated:-}" ]; then
        apt-get update -qq >&2 || die "apt-get update failed; install $* yourself"
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 || die "apt-get install $* failed"
}

# version_at_least VERSION MIN: VERSION (suffixes such as "rc1" ignored) is MIN or newer.
version_at_least() { [ "$(printf '%s\n%s\n' "$2" "${1%%[!0-9.]*}" | sort -V | head -n 1)" = "$2" ]; }

# use_go MIN WHAT: the go of /usr/local/go (Debian's golang-go is too old), else the one on PATH,
# at least MIN for WHAT; sets go_bin and go_version (e.g. 1.26.8) and exports the build
# environment: this go only (GOTOOLCHAIN=local), Go's caches in the toolchain cache, static
# binaries for this machine, and a module cache that a plain rm -rf can delete.
use_go() {
    local min=$1 what=$2
    export PATH=/usr/local/go/bin:$PATH
    go_bin=$(command -v go 2>/dev/null) || die "go >= $min is needed at /usr/local/go/bin/go for $what (Debian's golang-go is too old)"
    export GOTOOLCHAIN=local GOWORK=off
    go_version=$("$go_bin" env GOVERSION) || die "'$go_bin env GOVERSION' failed"
    go_version=${go_version#go}
    version_at_least "$go_version" "$min" ||
        die "$go_bin is go $go_version; $what needs go >= $min (Debian's golang-go is too old; use /usr/local/go)"
    export GOMODCACHE=$toolchain/gomod GOCACHE=$toolchain/gocache CGO_ENABLED=0
    export GOFLAGS="-buildvcs=false -modcacherw"
    unset GOOS GOARCH GOBIN
}

# toolchain_dirs: makes the toolchain cache's folders (bin/, and src/ for wrapper modules and logs).
toolchain_dirs() {
    if ! mkdir -p "$toolchain_bin" "$toolchain/src" 2>/dev/null || [ ! -w "$toolchain" ]; then
        die "cannot write $toolchain (run as root, or set MODELSHIP_CACHE to a writable directory)"
    fi
}

# A binary's stamp, bin/.stamp-NAME, holds the key it was built from: the versions and the go
# that made it. A run whose key matches builds nothing.
# stamp_current NAME KEY: bin/NAME is there and was built from KEY.
stamp_current() {
    [ -x "$toolchain_bin/$1" ] && [ -f "$toolchain_bin/.stamp-$1" ] && [ "$(cat "$toolchain_bin/.stamp-$1")" = "$2" ]
}
# install_stamped FILE NAME KEY: moves a freshly built FILE to bin/NAME and stamps it with KEY.
install_stamped() {
    mv -f "$1" "$toolchain_bin/$2"
    echo "$3" >"$toolchain_bin/.stamp-$2"
}

# go_wrapper_module DIR MODULE VERSION [REPLACE...]: a throwaway module in DIR that requires
# MODULE@VERSION, with the given replace directives ("old => new version"), for the modules that
# `go install module/cmd@version` refuses (replace or exclude directives). go.sum is kept while
# go.mod stays the same.
go_wrapper_module() {
    local dir=$1 mod=$2 ver=$3
    shift 3
    mkdir -p "$dir"
    {
        echo "module modelship.local/toolchain"
        echo
        echo "go $go_version"
        echo
        echo "require $mod $ver"
        if (($#)); then
            echo
            echo "replace ("
            printf '\t%s\n' "$@"
            echo ")"
        fi
    } >"$dir/go.mod.new"
    if ! cmp -s "$dir/go.mod.new" "$dir/go.mod"; then
        mv "$dir/go.mod.new" "$dir/go.mod"
        rm -f "$dir/go.sum"
    else
        rm -f "$dir/go.mod.new"
    fi
}

# load_tools SCRIPT NAME...: the NAME=PATH lines a toolchain script prints (it builds on the first
# run, takes seconds afterwards) into the array `tool`; dies unless each NAME is an existing path.
load_tools() {
    local script=$1 k v
    shift
    declare -gA tool
    while IFS='=' read -r k v; do tool[$k]=$v; done < <("$scripts_dir/$script" || echo "failed=1")
    [[ -z ${tool[failed]:-} ]] || die "scripts/$script failed"
    for k in "$@"; do
        [[ -n ${tool[$k]:-} && -e ${tool[$k]} ]] || die "toolchain did not provide $k"
    done
}

# stop_pid PID [SECONDS]: stops a daemon a script here started: SIGTERM, up to SECONDS (default
# 10) to exit, then SIGKILL. Quiet and successful when the process is gone already.
stop_pid() {
    local pid=$1 seconds=${2:-10} _
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 $((seconds * 4))); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
}
