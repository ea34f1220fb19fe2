#!/usr/bin/env bash
# A real Kubernetes API server for tests: a kwok cluster named "modelship" (kwokctl --runtime
# binary) whose every binary comes from scripts/kube-toolchain.sh, so nothing is downloaded.
#
#   scripts/kube-cluster.sh up     create the cluster (idempotent); prints the kubeconfig path
#   scripts/kube-cluster.sh env    prints `export KUBECONFIG=...`
#   scripts/kube-cluster.sh down   delete the cluster and stop its processes
#
# Everything binds 127.0.0.1. kwok's files (cluster dir, pki, logs, etcd data) live under
# $MODELSHIP_CACHE/kwok (default /var/cache/modelship/kwok, via KWOK_WORKDIR); ~/.kwok and
# ~/.kube/config are not touched. The kubeconfig is $MODELSHIP_CACHE/kwok/clusters/modelship/kubeconfig.yaml.
#
# What `up` puts in the cluster:
#   - nodes kwok-node-0..N-1 (MODELSHIP_KWOK_NODES, default 2), annotated kwok.x-k8s.io/node=fake,
#     untainted, 32 cpu / 256Gi / 110 pods / 8 nvidia.com/gpu each;
#   - kwok Stages as Stage objects (--enable-crds=Stage, so tests may apply their own, e.g. pods
#     that never become ready): kwok's defaults (node-initialize, node-heartbeat-with-lease,
#     pod-ready, pod-complete, pod-delete);
#   - the Gateway API CRDs, sigs.k8s.io/gateway-api $MODELSHIP_GATEWAY_API_VERSION, channel
#     $MODELSHIP_GATEWAY_API_CHANNEL (experimental, the default, is standard plus e.g. sessionPersistence).
set -euo pipefail
log_elapsed=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

name=${MODELSHIP_KWOK_CLUSTER:-modelship}
nodes=${MODELSHIP_KWOK_NODES:-2}
export KWOK_WORKDIR=$cache/kwok
cluster_dir=$KWOK_WORKDIR/clusters/$name
kubeconfig=$cluster_dir/kubeconfig.yaml


load_toolchain() {
    load_tools kube-toolchain.sh kwokctl kwok etcd kube-apiserver kube-controller-manager kube-scheduler kubectl gateway-api-crds kwok-stages
    kwokctl=${tool[kwokctl]}
}
kubectl() { "${tool[kubectl]}" --kubeconfig "$kubeconfig" "$@"; }

cluster_exists() { [[ -f $cluster_dir/kwok.yaml ]]; }

up() {
    load_toolchain
    mkdir -p "$KWOK_WORKDIR"
    if cluster_exists && kubectl get --raw /readyz >/dev/null 2>&1; then
        log "cluster $name already up"
        echo "$kubeconfig"
        return
    fi
    if cluster_exists; then
        # A cluster left by a run that was killed holds that run's objects, under field managers no
        # later stack owns (their updates then fail with Server-Side Apply conflicts): start afresh.
        log "cluster $name exists but is not answering; recreating it"
        (down) || { log "kwokctl could not delete it; removing $cluster_dir"; rm -rf "$cluster_dir"; }
    fi
    if ! cluster_exists; then
        # Options that have no flag (bindAddress, kubectlBinary) go in a config file.
        cat >"$KWOK_WORKDIR/$name.kwokctl.yaml" <<YAML
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  bindAddress: 127.0.0.1
  kubectlBinary: ${tool[kubectl]}
  quietPull: true
YAML
        log "creating kwok cluster $name ($("${tool[kube-apiserver]}" --version), $("${tool[kwok]}" --version 2>&1 | head -n1))"
        "$kwokctl" --name "$name" --config "$KWOK_WORKDIR/$name.kwokctl.yaml" create cluster \
            --runtime binary \
            --kubeconfig "" \
            --kube-apiserver-binary "${tool[kube-apiserver]}" \
            --kube-controller-manager-binary "${tool[kube-controller-manager]}" \
            --kube-scheduler-binary "${tool[kube-scheduler]}" \
            --etcd-binary "${tool[etcd]}" \
            --kwok-controller-binary "${tool[kwok]}" \
            --enable-crds Stage \
            --wait 120s >&2 || die "kwokctl create cluster failed (logs: $cluster_dir/logs)"
    fi
    [[ -f $kubeconfig ]] || die "no kubeconfig at $kubeconfig"
    for _ in $(seq 60); do kubectl get --raw /readyz >/dev/null 2>&1 && break; sleep 1; done
    kubectl get --raw /readyz >/dev/null || die "kube-apiserver not ready"

    log "applying kwok stages"
    for _ in $(seq 30); do kubectl get crd stages.kwok.x-k8s.io >/dev/null 2>&1 && break; sleep 1; done
    {
        for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
            pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
            [[ -f ${tool[kwok-stages]}/$f ]] || die "missing kwok stage ${tool[kwok-stages]}/$f"
            echo "---"
            cat "${tool[kwok-stages]}/$f"
        done
    } | kubectl apply -f - >&2 || die "applying kwok stages failed"

    log "creating $nodes fake nodes"
    for ((i = 0; i < nodes; i++)); do
        cat <<YAML
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    type: kwok
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110", nvidia.com/gpu: "8"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110", nvidia.com/gpu: "8"}
  nodeInfo:
    architecture: amd64
    kubeletVersion: fake
    kubeProxyVersion: fake
    operatingSystem: linux
YAML
    done | kubectl apply -f - >&2 || die "creating nodes failed"

    log "installing Gateway API CRDs ($GATEWAY_API_CHANNEL) from ${tool[gateway-api-crds]}"
    kubectl apply --server-side --force-conflicts -k "${tool[gateway-api-crds]}/$GATEWAY_API_CHANNEL" >&2 ||
        die "applying Gateway API CRDs failed"
    kubectl wait --for condition=Established --timeout 60s crd/httproutes.gateway.networking.k8s.io \
        crd/gateways.gateway.networking.k8s.io >&2 || die "Gateway API CRDs not established"
    kubectl wait --for condition=Ready --timeout 60s node --all >&2 || die "fake nodes not Ready"
    for _ in $(seq 30); do kubectl get serviceaccount default >/dev/null 2>&1 && break; sleep 1; done
    log "cluster $name up"
    echo "$kubeconfig"
}

down() {
    load_toolchain
    if cluster_exists || [[ -d $cluster_dir ]]; then
        # --kubeconfig "" is refused here ("empty path"); the cluster's own kubeconfig is harmless
        # (kwokctl removes the context from it, then deletes the cluster dir).
        "$kwokctl" --name "$name" delete cluster --kubeconfig "$kubeconfig" >&2 || die "kwokctl delete cluster failed"
    fi
    rm -f "$KWOK_WORKDIR/$name.kwokctl.yaml"
    log "cluster $name down"
}

case ${1:-} in
up) up ;;
down) down ;;
env) echo "export KUBECONFIG=$kubeconfig" ;;
*)
    echo "usage: $0 up|down|env" >&2
    exit 2
    ;;
esac
