#!/usr/bin/env bash
# Builds, from the Go module proxy only, the binaries for the test clusters (the kwok cluster of
# scripts/kube-cluster.sh and the real node of scripts/kube-node.sh):
#   kwokctl, kwok (sigs.k8s.io/kwok), kube-apiserver, kube-controller-manager, kube-scheduler,
#   kubectl, kubelet, kube-proxy (k8s.io/kubernetes), etcd (go.etcd.io/etcd/server/v3),
#   coredns (github.com/coredns/coredns: a main of our own with only the plugins the node uses).
# They are cached outside the clone, in $MODELSHIP_CACHE/toolchain (default
# /var/cache/modelship/toolchain): bin/ for binaries, gomod/ and gocache/ for Go's caches.
# Each binary has a stamp (bin/.stamp-NAME) holding what it was built from; a rerun whose stamps
# match builds nothing. Prints NAME=PATH for every binary (and gateway-api-crds=DIR) on stdout;
# progress goes to stderr. Their versions are in versions.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

use_go "$KUBE_MIN_GO" "Kubernetes $KUBE_VERSION, kwok $KWOK_VERSION and CoreDNS $COREDNS_VERSION"
toolchain_dirs

# build NAME KEY DIR PKG LDFLAGS: go build PKG inside module DIR to bin/NAME, timed, stamped.
build() {
    local name=$1 key=$2 dir=$3 pkg=$4 ldflags=$5 start=$SECONDS
    if stamp_current "$name" "$key"; then
        log "$name: cached ($toolchain_bin/$name)"
        return
    fi
    log "$name: building $pkg ..."
    if ! (cd "$dir" && "$go_bin" build -trimpath -ldflags "$ldflags" -o "$toolchain_bin/$name.tmp" "$pkg") >"$toolchain/src/$name.log" 2>&1; then
        tail -n 30 "$toolchain/src/$name.log" >&2
        die "$name: go build $pkg failed after $((SECONDS - start))s (full log: $toolchain/src/$name.log)"
    fi
    install_stamped "$toolchain_bin/$name.tmp" "$name" "$key"
    log "$name: built in $((SECONDS - start))s"
}

# origin_hash MODULE VERSION: the commit the proxy recorded for a module version, if any.
origin_hash() {
    "$go_bin" mod download -json "$1@$2" 2>/dev/null | sed -n 's/.*"Hash": *"\([0-9a-f]\{40\}\)".*/\1/p' | head -n1
}

# --- kwok, kwokctl -------------------------------------------------------------------------
kwok_key="sigs.k8s.io/kwok@$KWOK_VERSION kube=$KUBE_VERSION go$go_version"
if ! stamp_current kwok "$kwok_key" || ! stamp_current kwokctl "$kwok_key"; then
    dir=$toolchain/src/kwok
    go_wrapper_module "$dir" sigs.k8s.io/kwok "$KWOK_VERSION"
    (cd "$dir" && "$go_bin" mod download sigs.k8s.io/kwok && "$go_bin" get "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" \
        "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION") >"$toolchain/src/kwok-get.log" 2>&1 ||
        { cat "$toolchain/src/kwok-get.log" >&2; die "fetching sigs.k8s.io/kwok@$KWOK_VERSION failed"; }
    kwok_ld="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBE_VERSION#v}"
    build kwok "$kwok_key" "$dir" sigs.k8s.io/kwok/cmd/kwok "$kwok_ld"
    build kwokctl "$kwok_key" "$dir" sigs.k8s.io/kwok/cmd/kwokctl "$kwok_ld"
else
    log "kwok, kwokctl: cached"
fi

# --- etcd ----------------------------------------------------------------------------------
etcd_key="go.etcd.io/etcd/server/v3@$ETCD_VERSION go$go_version"
if ! stamp_current etcd "$etcd_key"; then
    dir=$toolchain/src/etcd
    go_wrapper_module "$dir" go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
    (cd "$dir" && "$go_bin" get "go.etcd.io/etcd/server/v3@$ETCD_VERSION") >"$toolchain/src/etcd-get.log" 2>&1 ||
        { cat "$toolchain/src/etcd-get.log" >&2; die "fetching go.etcd.io/etcd/server/v3@$ETCD_VERSION failed"; }
    sha=$(origin_hash go.etcd.io/etcd/server/v3 "$ETCD_VERSION")
    build etcd "$etcd_key" "$dir" go.etcd.io/etcd/server/v3 "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${sha:0:8}"
else
    log "etcd: cached"
fi

# --- Kubernetes ----------------------------------------------------------------------------
# k8s.io/kubernetes replaces each k8s.io/* staging module with ./staging/src/...; a module that
# depends on it must replace each one with its published v0.MINOR.PATCH instead.
kube_bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)
kube_key="k8s.io/kubernetes@$KUBE_VERSION go$go_version"
need=()
for b in "${kube_bins[@]}"; do stamp_current "$b" "$kube_key" || need+=("$b"); done
if ((${#need[@]})); then
    dir=$toolchain/src/kubernetes
    start=$SECONDS
    log "k8s.io/kubernetes@$KUBE_VERSION: fetching module and dependencies ..."
    kmod=$("$go_bin" mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": *"\(.*\)".*/\1/p')
    [[ -f $kmod ]] || die "go mod download k8s.io/kubernetes@$KUBE_VERSION failed"
    staging_ver=v0.${KUBE_VERSION#v1.}
    mapfile -t replaces < <(sed -n '/^replace (/,/^)/p' "$kmod" | awk -v v="$staging_ver" '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1 " => " $1 " " v}')
    ((${#replaces[@]} > 10)) || die "could not read the staging replace block of $kmod"
    go_wrapper_module "$dir" k8s.io/kubernetes "$KUBE_VERSION" "${replaces[@]}"
    pkgs=()
    for b in "${kube_bins[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b@$KUBE_VERSION"); done
    (cd "$dir" && "$go_bin" get "${pkgs[@]}") >"$toolchain/src/kubernetes-get.log" 2>&1 ||
        { tail -n 30 "$toolchain/src/kubernetes-get.log" >&2; die "go get k8s.io/kubernetes@$KUBE_VERSION failed (log: $toolchain/src/kubernetes-get.log)"; }
    log "k8s.io/kubernetes@$KUBE_VERSION: modules ready in $((SECONDS - start))s (${#replaces[@]} staging replaces -> $staging_ver)"
    major=${KUBE_VERSION#v}; major=${major%%.*}
    minor=${KUBE_VERSION#v*.}; minor=${minor%%.*}
    commit=$(origin_hash k8s.io/kubernetes "$KUBE_VERSION")
    build_date=$("$go_bin" mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' | head -n1)
    ld="-s -w"
    for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
        ld+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
        ld+=" -X $p.gitTreeState=clean -X $p.buildDate=${build_date:-1970-01-01T00:00:00Z}"
        [[ -n $commit ]] && ld+=" -X $p.gitCommit=$commit"
    done
    for b in "${kube_bins[@]}"; do
        build "$b" "$kube_key" "$dir" "k8s.io/kubernetes/cmd/$b" "$ld"
    done
else
    log "${kube_bins[*]}: cached"
fi

# --- CoreDNS --------------------------------------------------------------------------------
# coredns's own main links ~50 plugins (cloud DNS providers, etcd, ...); ours links only what the
# real node's Corefile uses, which keeps the cold build small. Plugin order comes from the
# directive list in core/dnsserver, so importing a subset changes nothing else.
coredns_plugins=(kubernetes forward errors health ready cache loop reload loadbalance log)
coredns_key="github.com/coredns/coredns@$COREDNS_VERSION plugins=${coredns_plugins[*]} go$go_version"
if ! stamp_current coredns "$coredns_key"; then
    dir=$toolchain/src/coredns
    go_wrapper_module "$dir" github.com/coredns/coredns "$COREDNS_VERSION"
    {
        echo "// Written by scripts/kube-toolchain.sh: CoreDNS with only the plugins the real node uses."
        echo "package main"
        echo
        echo "import ("
        echo '	"github.com/coredns/coredns/coremain"'
        echo
        printf '\t_ "github.com/coredns/coredns/plugin/%s"\n' "${coredns_plugins[@]}"
        echo ")"
        echo
        echo "func main() { coremain.Run() }"
    } >"$dir/main.go"
    pkgs=("github.com/coredns/coredns/coremain@$COREDNS_VERSION")
    for p in "${coredns_plugins[@]}"; do pkgs+=("github.com/coredns/coredns/plugin/$p@$COREDNS_VERSION"); done
    (cd "$dir" && "$go_bin" get "${pkgs[@]}") >"$toolchain/src/coredns-get.log" 2>&1 ||
        { tail -n 30 "$toolchain/src/coredns-get.log" >&2; die "go get github.com/coredns/coredns@$COREDNS_VERSION failed (log: $toolchain/src/coredns-get.log)"; }
    sha=$(origin_hash github.com/coredns/coredns "$COREDNS_VERSION")
    build coredns "$coredns_key" "$dir" . "-s -w -X github.com/coredns/coredns/coremain.GitCommit=${sha:0:8}"
else
    log "coredns: cached"
fi

kwok_stages=$GOMODCACHE/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage
[[ -d $kwok_stages ]] || "$go_bin" mod download "sigs.k8s.io/kwok@$KWOK_VERSION" || die "go mod download sigs.k8s.io/kwok@$KWOK_VERSION failed"

# --- Gateway API CRDs (yaml only, from the module zip) ---------------------------------------
gw_dir=$GOMODCACHE/sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION
if [[ ! -d $gw_dir/config/crd ]]; then
    "$go_bin" mod download "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" || die "go mod download sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION failed"
fi
[[ -d $gw_dir/config/crd/experimental ]] || die "$gw_dir/config/crd/experimental missing"

for b in kwokctl kwok etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy coredns; do
    echo "$b=$toolchain_bin/$b"
done
echo "gateway-api-crds=$gw_dir/config/crd"
echo "kwok-stages=$GOMODCACHE/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
