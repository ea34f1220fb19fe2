#!/usr/bin/env bash
# A real image registry on 127.0.0.1 (Debian's docker-registry), so that images get digests
# without reaching any outside registry. Prints the registry address, then "started <pid>" when
# it started one (stop it with `kill <pid>`). Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

port=${MODELSHIP_REGISTRY_PORT:-5000}
address="127.0.0.1:$port"

if curl -fsS "http://$address/v2/" >/dev/null 2>&1; then
    echo "$address"
    exit 0
fi
if ! command -v docker-registry >/dev/null 2>&1; then
    apt_install docker-registry
    # The package starts a service on :5000 of every interface where it can; ours binds loopback only.
    pkill -x docker-registry 2>/dev/null || true
fi
mkdir -p "$cache/registry"
cat >"$cache/registry/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $cache/registry/data
http:
  addr: $address
YAML
setsid docker-registry serve "$cache/registry/config.yml" >"$cache/registry/log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 1 40); do
    if curl -fsS "http://$address/v2/" >/dev/null 2>&1; then
        echo "$address"
        echo "started $pid"
        exit 0
    fi
    sleep 0.25
done
echo "docker-registry did not answer on $address; its log:" >&2
tail -n 20 "$cache/registry/log" >&2
exit 1
