#!/usr/bin/env bash
# A single real Kubernetes node for end-to-end tests: pods run as runc containers, with their
# probes, volumes, service-account tokens, Service IPs (kube-proxy) and Service names (CoreDNS).
# Every Kubernetes binary and CoreDNS come from scripts/kube-toolchain.sh; containerd, runc, the
# CNI plugins and conntrack are Debian's (installed with apt-get when missing, as .ci/run does).
#
#   scripts/kube-node.sh up                  start the node (idempotent); prints the kubeconfig path
#   scripts/kube-node.sh down                stop every process by PID and remove what the node left
#   scripts/kube-node.sh env                 prints `export KUBECONFIG=...`
#   scripts/kube-node.sh exec -- CMD...      runs CMD inside the node's network namespace
#   scripts/kube-node.sh load-image IMAGE... copies images from the host's Docker engine into the node
#
# Everything runs inside the network namespace "modelship-node" (a veth pair kept inside it
# carries the node IP), started with `nsenter --net` so the host's mount namespace is shared (the
# kubelet's tmpfs volumes must be visible to containerd). The host's routes and iptables are never
# touched; the API server is reachable only from inside the namespace, so clients run through
# `exec`. Addresses:
#   node IP 10.200.0.2 (eth0), API server https://10.200.0.2:6443 (also https://127.0.0.1:6443),
#   pods 10.244.0.0/24 (bridge cni0, gateway 10.244.0.1), Services 10.96.0.0/16,
#   kubernetes Service 10.96.0.1, CoreDNS (kube-system/kube-dns) 10.96.0.10, domain cluster.local.
#
# Files live under $MODELSHIP_CACHE/kube-node (default /var/cache/modelship/kube-node): pki/ and
# images/ (the pause and CoreDNS images built here) are kept; node/ (etcd data, containerd's root
# and state, the kubelet's directory, CNI state) is removed by `down`; logs/ holds each process's
# log until the next `up`. The kubeconfig (cluster admin) is $MODELSHIP_CACHE/kube-node/kubeconfig.
set -euo pipefail
log_elapsed=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir=$cache/kube-node
node_dir=$dir/node
run=$dir/run
logs=$dir/logs
pki=$dir/pki
kubeconfig=$dir/kubeconfig

netns=modelship-node
netns_path=/var/run/netns/$netns
node_name=modelship-node
node_ip=10.200.0.2
node_gateway=10.200.0.1
pod_cidr=10.244.0.0/24
service_cidr=10.96.0.0/16
kubernetes_service_ip=10.96.0.1
dns_service_ip=10.96.0.10
cgroup_root=modelship-node
apiserver=https://$node_ip:6443
containerd_sock=$node_dir/containerd/containerd.sock
cni_network=modelship-node
pause_image=modelship.local/pause:3.10
coredns_image=modelship.local/coredns:latest
# Paths the kubelet, libcni (inside containerd) and `ip netns` use whatever the configuration
# says; `down` removes what this node put there, and each directory that `up` created.
host_dirs=(/var/lib/kubelet /var/log/containers /var/lib/cni /run/netns)
# Host-wide sysctls the kubelet sets when it starts (it wants panic on oops, overcommit, ...);
# `up` puts the machine's values back once the node is Ready, `down` again if needed.
kubelet_sysctls=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
# Started in this order (stopped together, after the kubelet and kube-proxy).
daemons=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy)

# in_node CMD...: CMD in the node's network namespace, in the host's mount namespace.
in_node() { nsenter --net="$netns_path" -- "$@"; }

# --- what the node needs from the machine ----------------------------------------------------
cni_bin=/usr/lib/cni
require_packages() {
    local missing=()
    for p in bridge host-local portmap loopback; do
        [[ -x $cni_bin/$p ]] || { missing+=(containernetworking-plugins); break; }
    done
    command -v conntrack >/dev/null || missing+=(conntrack)
    command -v containerd >/dev/null && command -v ctr >/dev/null &&
        command -v containerd-shim-runc-v2 >/dev/null || missing+=(containerd)
    command -v runc >/dev/null || missing+=(runc)
    command -v gcc >/dev/null || missing+=(gcc)
    [[ -f /usr/lib/x86_64-linux-gnu/libc.a || -f /usr/lib/libc.a ]] || missing+=(libc6-dev)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v ip >/dev/null || missing+=(iproute2)
    command -v iptables >/dev/null || missing+=(iptables)
    command -v nsenter >/dev/null || missing+=(util-linux)
    if ((${#missing[@]})); then
        apt_install "${missing[@]}"
    fi
}

load_toolchain() {
    load_tools kube-toolchain.sh etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy coredns gateway-api-crds
}
kubectl() { in_node "${tool[kubectl]}" --kubeconfig "$kubeconfig" "$@"; }

# --- processes ------------------------------------------------------------------------------
# pid_of NAME: the PID of a daemon this script started, if it still runs that binary.
pid_of() {
    local pid
    [[ -f $run/$1.pid ]] || return 1
    pid=$(<"$run/$1.pid")
    [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == */"$1" ]] || return 1
    echo "$pid"
}

# start NAME CMD...: CMD in the namespace, detached, its output in logs/NAME.log.
start() {
    local name=$1
    shift
    setsid nsenter --net="$netns_path" -- "$@" >"$logs/$name.log" 2>&1 </dev/null &
    echo $! >"$run/$name.pid"
}

# wait_for DESC SECONDS CMD...: until CMD succeeds; a daemon that died is named with its log.
wait_for() {
    local desc=$1 secs=$2 i
    shift 2
    for ((i = 0; i < secs * 2; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        for d in "${daemons[@]}"; do
            if [[ -f $run/$d.pid ]] && ! pid_of "$d" >/dev/null; then
                tail -n 20 "$logs/$d.log" >&2
                die "$d exited while waiting for $desc (log: $logs/$d.log)"
            fi
        done
        sleep 0.5
    done
    die "timed out after ${secs}s waiting for $desc (logs: $logs)"
}

# --- certificates and kubeconfigs ------------------------------------------------------------
# cert NAME CN O [SANS]: a key pair signed by the node's CA, for client and server use.
cert() {
    local name=$1 cn=$2 o=$3 sans=${4:-}
    [[ -f $pki/$name.crt ]] && return
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$pki/$name.key" \
        -subj "/O=$o/CN=$cn" -out "$pki/$name.csr" 2>/dev/null
    {
        echo "keyUsage = critical, digitalSignature, keyEncipherment"
        echo "extendedKeyUsage = serverAuth, clientAuth"
        [[ -z $sans ]] || echo "subjectAltName = $sans"
    } >"$pki/$name.ext"
    openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
        -days 3650 -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
    rm -f "$pki/$name.csr" "$pki/$name.ext"
}

make_pki() {
    mkdir -p "$pki"
    if [[ ! -f $pki/ca.crt ]]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
            -subj "/CN=modelship-node-ca" -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
    fi
    cert kube-apiserver kube-apiserver modelship \
        "IP:$node_ip, IP:$kubernetes_service_ip, IP:127.0.0.1, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local"
    cert admin modelship-admin system:masters
    cert kubelet "system:node:$node_name" system:nodes
    cert kubelet-serving "$node_name" modelship "IP:$node_ip, DNS:$node_name"
    cert kube-controller-manager system:kube-controller-manager modelship
    cert kube-scheduler system:kube-scheduler modelship
    cert kube-proxy system:kube-proxy modelship
    if [[ ! -f $pki/service-account.key ]]; then
        openssl genrsa -out "$pki/service-account.key" 2048 2>/dev/null
        openssl rsa -in "$pki/service-account.key" -pubout -out "$pki/service-account.pub" 2>/dev/null
    fi
}

# write_kubeconfig FILE CERT SERVER
write_kubeconfig() {
    cat >"$1" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: $node_name
  cluster: {server: "$3", certificate-authority: "$pki/ca.crt"}
users:
- name: $2
  user: {client-certificate: "$pki/$2.crt", client-key: "$pki/$2.key"}
contexts:
- name: $node_name
  context: {cluster: $node_name, user: $2}
current-context: $node_name
YAML
}

# --- images built here -----------------------------------------------------------------------
# image_tar TAR REF ROOTFS ENTRYPOINT_JSON: a one-layer image in `docker save` form, which
# `ctr images import` reads (and names REF).
image_tar() {
    local tar=$1 ref=$2 rootfs=$3 entrypoint=$4 work diff
    work=$(mktemp -d)
    tar --numeric-owner --owner 0 --group 0 -C "$rootfs" -cf "$work/layer.tar" .
    diff=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
    printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":%s,"Env":["PATH=/"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
        "$entrypoint" "$diff" >"$work/config.json"
    printf '[{"Config":"config.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$ref" >"$work/manifest.json"
    tar -C "$work" -cf "$tar.tmp" manifest.json config.json layer.tar
    mv -f "$tar.tmp" "$tar"
    rm -rf "$work"
}

# The pod sandbox image: a static pause binary compiled here (no registry needed).
make_images() {
    local images=$dir/images key rootfs
    mkdir -p "$images"
    key="$(sha256sum "$scripts_dir/kube-node/pause.c" | cut -d' ' -f1) $(gcc -dumpfullversion)"
    if [[ ! -f $images/pause.tar || "$(cat "$images/.stamp-pause" 2>/dev/null)" != "$key" ]]; then
        rootfs=$(mktemp -d)
        gcc -Os -static -s -o "$rootfs/pause" "$scripts_dir/kube-node/pause.c" || die "compiling pause.c failed"
        image_tar "$images/pause.tar" "$pause_image" "$rootfs" '["/pause"]'
        rm -rf "$rootfs"
        echo "$key" >"$images/.stamp-pause"
        log "built $pause_image"
    fi
    key=$(sha256sum "${tool[coredns]}" | cut -d' ' -f1)
    if [[ ! -f $images/coredns.tar || "$(cat "$images/.stamp-coredns" 2>/dev/null)" != "$key" ]]; then
        rootfs=$(mktemp -d)
        cp "${tool[coredns]}" "$rootfs/coredns"
        image_tar "$images/coredns.tar" "$coredns_image" "$rootfs" '["/coredns"]'
        rm -rf "$rootfs"
        echo "$key" >"$images/.stamp-coredns"
        log "built $coredns_image"
    fi
}

ctr_k8s() { ctr --address "$containerd_sock" --namespace k8s.io "$@"; }

# --- the network namespace -------------------------------------------------------------------
make_netns() {
    ip netns add "$netns"
    ip -n "$netns" link set lo up
    ip -n "$netns" link add eth0 type veth peer name eth0-peer
    ip -n "$netns" addr add "$node_ip/24" dev eth0
    ip -n "$netns" link set eth0-peer up
    ip -n "$netns" link set eth0 up
    # A default route, so the kubelet and kube-proxy find the node's interface; nothing answers
    # behind it and nothing leaves the namespace.
    ip -n "$netns" route add default via "$node_gateway" dev eth0
    [[ -d /proc/sys/net/bridge ]] ||
        die "br_netfilter is not loaded (/proc/sys/net/bridge missing): run 'modprobe br_netfilter' as root"
    in_node sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward && echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables'
}

# The kubelet's cgroup root, in every v1 hierarchy (cpuset needs its cpus and mems filled in).
make_cgroup_root() {
    local h
    for h in /sys/fs/cgroup/*/; do
        [[ -d $h ]] || continue
        mkdir -p "$h$cgroup_root"
        if [[ -f ${h}cpuset.cpus ]]; then
            cat "${h}cpuset.cpus" >"$h$cgroup_root/cpuset.cpus"
            cat "${h}cpuset.mems" >"$h$cgroup_root/cpuset.mems"
        fi
    done
}

# --- configuration ---------------------------------------------------------------------------
write_configs() {
    local conf=$node_dir/config
    mkdir -p "$conf" "$node_dir/cni/net.d" "$node_dir/cni/ipam" "$node_dir/containerd"
    write_kubeconfig "$kubeconfig" admin "$apiserver"
    for c in kubelet kube-controller-manager kube-scheduler kube-proxy; do
        write_kubeconfig "$conf/$c.kubeconfig" "$c" "$apiserver"
    done

    cat >"$conf/containerd.toml" <<TOML
version = 2
root = "$node_dir/containerd/root"
state = "$node_dir/containerd/state"
[grpc]
  address = "$containerd_sock"
[ttrpc]
  address = "$containerd_sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$node_dir/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  # This VM withholds CAP_SYS_RESOURCE even from root: without this every sandbox fails with
  # "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$node_dir/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$cni_bin"
    conf_dir = "$node_dir/cni/net.d"
    max_conf_num = 1
TOML

    cat >"$node_dir/cni/net.d/10-$cni_network.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "$cni_network",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$node_dir/cni/ipam",
        "ranges": [[{"subnet": "$pod_cidr"}]], "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON

    cat >"$conf/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$containerd_sock
# The VM is cgroup v1, has swap settings of its own and no systemd managing cgroups.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$cgroup_root
failSwapOn: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: "$pki/kubelet-serving.crt"
tlsPrivateKeyFile: "$pki/kubelet-serving.key"
clusterDNS: [$dns_service_ip]
clusterDomain: cluster.local
# Pods get only the cluster's DNS; nothing outside the namespace is reachable anyway.
resolvConf: ""
podLogsDir: "$node_dir/pod-logs"
volumePluginDir: "$node_dir/kubelet-plugins"
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
# The shared disk is often past the default eviction thresholds, and images loaded with
# load-image cannot be pulled again: no eviction, no image garbage collection.
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
YAML

    cat >"$conf/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$conf/kube-proxy.kubeconfig"}
hostnameOverride: $node_name
mode: iptables
clusterCIDR: $pod_cidr
# maxPerCore 0: leave the host-wide nf_conntrack_max alone.
conntrack: {maxPerCore: 0, min: 0}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
YAML
}

# --- cluster objects -------------------------------------------------------------------------
coredns_manifest() {
    cat <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects:
- {kind: ServiceAccount, name: coredns, namespace: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:53 {
        errors
        health
        ready
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
            ttl 5
        }
        cache 5
        reload
        loadbalance
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      dnsPolicy: Default
      priorityClassName: system-cluster-critical
      containers:
      - name: coredns
        image: $coredns_image
        imagePullPolicy: Never
        args: [-conf, /etc/coredns/Corefile]
        ports:
        - {name: dns, containerPort: 53, protocol: UDP}
        - {name: dns-tcp, containerPort: 53, protocol: TCP}
        readinessProbe:
          httpGet: {path: /ready, port: 8181}
          periodSeconds: 2
        livenessProbe:
          httpGet: {path: /health, port: 8080}
        volumeMounts:
        - {name: config, mountPath: /etc/coredns, readOnly: true}
      volumes:
      - name: config
        configMap: {name: coredns}
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  clusterIP: $dns_service_ip
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
YAML
}

node_ready() {
    [[ $(kubectl get node "$node_name" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}

all_running() {
    local d
    for d in "${daemons[@]}"; do pid_of "$d" >/dev/null || return 1; done
    [[ -e $netns_path ]]
}

up() {
    local started=$SECONDS
    [[ $(id -u) == 0 ]] || die "the node needs root (network namespace, containerd, cgroups)"
    load_toolchain
    if all_running && node_ready; then
        log "node $node_name already up"
        echo "$kubeconfig"
        return
    fi
    if [[ -e $netns_path || -d $run || -d $node_dir ]]; then
        log "node $node_name is not fully up; removing what is left first"
        down
    fi
    require_packages
    mkdir -p "$run" "$logs" "$node_dir"
    rm -f "$logs"/*.log
    for d in "${host_dirs[@]}"; do [[ -e $d ]] || echo "$d"; done >"$run/created-host-dirs"
    sysctl -e "${kubelet_sysctls[@]}" >"$run/host-sysctls"
    make_pki
    make_images
    make_netns
    make_cgroup_root
    write_configs
    local conf=$node_dir/config

    log "starting etcd, kube-apiserver ($("${tool[kube-apiserver]}" --version))"
    start etcd "${tool[etcd]}" --name "$node_name" --data-dir "$node_dir/etcd" --unsafe-no-fsync \
        --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
        --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
        --initial-cluster "$node_name=http://127.0.0.1:2380" --listen-metrics-urls http://127.0.0.1:2381
    start kube-apiserver "${tool[kube-apiserver]}" --etcd-servers http://127.0.0.1:2379 \
        --bind-address 0.0.0.0 --secure-port 6443 --advertise-address "$node_ip" \
        --service-cluster-ip-range "$service_cidr" --allow-privileged \
        --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
        --client-ca-file "$pki/ca.crt" --tls-cert-file "$pki/kube-apiserver.crt" --tls-private-key-file "$pki/kube-apiserver.key" \
        --kubelet-client-certificate "$pki/admin.crt" --kubelet-client-key "$pki/admin.key" \
        --kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP \
        --service-account-issuer https://kubernetes.default.svc.cluster.local \
        --service-account-key-file "$pki/service-account.pub" --service-account-signing-key-file "$pki/service-account.key"
    wait_for "kube-apiserver /readyz" 90 kubectl get --raw /readyz

    log "starting kube-controller-manager, kube-scheduler"
    start kube-controller-manager "${tool[kube-controller-manager]}" --kubeconfig "$conf/kube-controller-manager.kubeconfig" \
        --authentication-kubeconfig "$conf/kube-controller-manager.kubeconfig" --authorization-kubeconfig "$conf/kube-controller-manager.kubeconfig" \
        --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials \
        --service-account-private-key-file "$pki/service-account.key" --root-ca-file "$pki/ca.crt" \
        --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
        --service-cluster-ip-range "$service_cidr"
    start kube-scheduler "${tool[kube-scheduler]}" --kubeconfig "$conf/kube-scheduler.kubeconfig" \
        --authentication-kubeconfig "$conf/kube-scheduler.kubeconfig" --authorization-kubeconfig "$conf/kube-scheduler.kubeconfig" \
        --bind-address 127.0.0.1 --leader-elect=false

    log "starting containerd ($(containerd --version | cut -d' ' -f3)), importing $pause_image and $coredns_image"
    start containerd containerd --config "$conf/containerd.toml"
    wait_for "containerd on $containerd_sock" 30 ctr_k8s version
    ctr_k8s images import "$dir/images/pause.tar" >&2 || die "importing $pause_image failed"
    ctr_k8s images import "$dir/images/coredns.tar" >&2 || die "importing $coredns_image failed"

    log "starting kubelet, kube-proxy"
    start kubelet "${tool[kubelet]}" --config "$conf/kubelet.yaml" --kubeconfig "$conf/kubelet.kubeconfig" \
        --root-dir "$node_dir/kubelet" --cert-dir "$node_dir/kubelet/pki" \
        --hostname-override "$node_name" --node-ip "$node_ip"
    start kube-proxy "${tool[kube-proxy]}" --config "$conf/kube-proxy.yaml"
    wait_for "node $node_name Ready" 120 node_ready
    log "node $node_name Ready $((SECONDS - started))s after up started"
    restore_sysctls

    log "installing CoreDNS and the Gateway API CRDs ($GATEWAY_API_CHANNEL)"
    coredns_manifest | kubectl apply -f - >&2 || die "applying CoreDNS failed"
    kubectl apply --server-side --force-conflicts -k "${tool[gateway-api-crds]}/$GATEWAY_API_CHANNEL" >&2 ||
        die "applying Gateway API CRDs failed"
    kubectl wait --for condition=Established --timeout 60s crd/httproutes.gateway.networking.k8s.io \
        crd/gateways.gateway.networking.k8s.io >&2 || die "Gateway API CRDs not established"
    kubectl -n kube-system rollout status deployment/coredns --timeout 120s >&2 ||
        die "CoreDNS not ready (kubectl -n kube-system describe pod -l k8s-app=kube-dns)"
    wait_for "serviceaccount default" 30 kubectl get serviceaccount default
    log "node $node_name up in $((SECONDS - started))s (API server $apiserver, inside network namespace $netns)"
    echo "$kubeconfig"
}

# --- teardown --------------------------------------------------------------------------------
restore_sysctls() {
    [[ -s $run/host-sysctls ]] || return 0
    sed 's/ = /=/' "$run/host-sysctls" | xargs sysctl -q -w >/dev/null ||
        log "could not restore the host's sysctls ($(tr '\n' ' ' <"$run/host-sysctls"))"
}

# What the kubelet and libcni left under their hard-coded paths for this node.
clean_host_dirs() {
    local f id d
    for f in /var/lib/cni/results/"$cni_network"-*; do
        [[ -e $f ]] || continue
        id=${f#/var/lib/cni/results/"$cni_network"-}
        id=${id%%-*}
        rm -f "$f" /var/lib/cni/results/cni-loopback-"$id"-*
    done
    find /var/log/containers -maxdepth 1 -type l -lname "$node_dir/*" -delete 2>/dev/null || true
    [[ -f $run/created-host-dirs ]] || return 0
    while read -r d; do
        [[ $d == /var/lib/kubelet ]] && rm -f /var/lib/kubelet/device-plugins/kubelet.sock
        [[ $d == /run/netns ]] && [[ -z $(ls -A /run/netns 2>/dev/null) ]] && umount /run/netns 2>/dev/null
        [[ -d $d ]] && find "$d" -depth -type d -empty -delete 2>/dev/null
        [[ -e $d ]] && log "left $d: it holds what this node did not put there"
    done <"$run/created-host-dirs"
    return 0
}

# PIDs in the kubelet's cgroup tree (containers, pause processes), from every hierarchy.
cgroup_pids() {
    local h
    for h in /sys/fs/cgroup/*/"$cgroup_root"; do
        [[ -d $h ]] && find "$h" -name cgroup.procs -exec cat {} + 2>/dev/null
    done | sort -un
}

# PIDs whose command line names this node's containerd socket: its shims. (The pattern is written
# so that grep's own command line does not match it.)
shim_pids() {
    grep -la -- "${containerd_sock%.sock}[.]sock" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3
    return 0
}

down() {
    local pid d id f ns_inodes=() h m
    # Pod network namespaces (containerd mounts them at /var/run/netns/cni-*), known by the
    # inode of a process inside each.
    for pid in $(cgroup_pids); do
        ns_inodes+=("$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null)") || true
    done
    log "stopping node $node_name"
    for d in kube-proxy kubelet; do
        pid=$(pid_of "$d") && stop_pid "$pid" &
    done
    wait
    if pid_of containerd >/dev/null; then
        log "removing its containers"
        # Containers and sandboxes go while containerd still knows them.
        mapfile -t ids < <(ctr_k8s tasks ls -q 2>/dev/null)
        ((${#ids[@]} == 0)) || ctr_k8s tasks rm -f "${ids[@]}" >/dev/null 2>&1 || true
        mapfile -t ids < <(ctr_k8s containers ls -q 2>/dev/null)
        ((${#ids[@]} == 0)) || ctr_k8s containers rm "${ids[@]}" >/dev/null 2>&1 || true
    fi
    log "stopping containerd and the control plane"
    # 3 s each, together: their state is deleted next, and kube-apiserver v1.36 stays asleep
    # after SIGTERM ("Stopped listening") until it is killed.
    for d in "${daemons[@]}"; do
        pid=$(pid_of "$d") && stop_pid "$pid" 3 &
    done
    wait
    log "removing mounts, cgroups, network namespaces and files"
    for pid in $(cgroup_pids) $(shim_pids); do kill -9 "$pid" 2>/dev/null || true; done
    for ((i = 0; i < 20; i++)); do [[ -z $(cgroup_pids)$(shim_pids) ]] && break; sleep 0.25; done

    for f in /var/run/netns/cni-*; do
        [[ -e $f ]] || continue
        for id in "${ns_inodes[@]}"; do
            if [[ -n $id && $(stat -L -c %i "$f" 2>/dev/null) == "$id" ]]; then
                umount "$f" 2>/dev/null || umount -l "$f" 2>/dev/null || true
                rm -f "$f"
                break
            fi
        done
    done
    # Mounts under the node's directory (container root filesystems, shm, pod volumes), deepest first.
    while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
    done < <(awk -v d="$node_dir/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
    for h in /sys/fs/cgroup/*/"$cgroup_root"; do
        [[ -d $h ]] && find "$h" -depth -type d -exec rmdir {} + 2>/dev/null
        [[ -d $h ]] && log "could not remove cgroup $h"
    done
    if [[ -e $netns_path ]]; then
        ip netns delete "$netns" 2>/dev/null || { umount -l "$netns_path" 2>/dev/null; rm -f "$netns_path"; }
    fi
    clean_host_dirs
    restore_sysctls
    rm -rf "$node_dir" "$run"
    log "node $node_name down"
}

# --- helpers for tests -----------------------------------------------------------------------
node_exec() {
    [[ ${1:-} == -- ]] && shift
    (($#)) || die "usage: kube-node.sh exec -- CMD..."
    [[ -e $netns_path ]] || die "node $node_name is not up (no $netns_path); run: kube-node.sh up"
    export KUBECONFIG=${KUBECONFIG:-$kubeconfig}
    exec nsenter --net="$netns_path" -- "$@"
}

load_image() {
    (($#)) || die "usage: kube-node.sh load-image IMAGE..."
    pid_of containerd >/dev/null || die "node $node_name is not up (containerd not running); run: kube-node.sh up"
    command -v docker >/dev/null || die "docker CLI not found"
    docker info >/dev/null 2>&1 || die "no Docker engine answers (scripts/docker-engine.sh starts one)"
    local image
    for image in "$@"; do
        docker image inspect "$image" >/dev/null 2>&1 || die "image $image is not in the host's Docker engine (docker images)"
    done
    docker save "$@" | ctr_k8s images import - >&2 || die "importing $* into the node's containerd failed"
    log "loaded $* into node $node_name"
}

case ${1:-} in
up) up ;;
down) down ;;
env) echo "export KUBECONFIG=$kubeconfig" ;;
exec) shift; node_exec "$@" ;;
load-image) shift; load_image "$@" ;;
-h | --help | help) usage ;;
*)
    usage >&2
    exit 2
    ;;
esac
