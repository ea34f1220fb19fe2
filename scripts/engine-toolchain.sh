#!/usr/bin/env bash
# Builds the Pulumi engine toolchain from the Go module proxy, since get.pulumi.com and GitHub
# releases are out of reach here:
#   - the Pulumi CLI (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi), and
#   - the Kubernetes resource provider plugin (pulumi-resource-kubernetes), versioned as the
#     @pulumi/kubernetes npm SDK in package.json so the engine pairs them, and
#   - the Node.js language host (pulumi-language-nodejs) from this project's plugins/ folder: the
#     released one's module is not served by the proxy; this one runs programs and policy packs
#     with the @pulumi/pulumi in node_modules, as the released one does, and
#   - the command provider (pulumi-resource-command) from plugins/, for the gates' local commands:
#     the released one's module is not served either; this one serves command:local:Command and
#     reports the @pulumi/command version in package-lock.json so the engine pairs it with the SDK.
#   - the docker-build provider plugin
#     (pulumi-resource-docker-build) from its module on the proxy, reporting DOCKER_BUILD_VERSION
#     so the engine pairs it with the npm @pulumi/docker-build of that version. Its two
#     code-generation-only imports are replaced by plugins/codegen-stubs/ (see the README there).
#   - the Docker provider plugin (pulumi-resource-docker) from plugins/: the released one's module is
#     not served; this one bridges the Terraform Docker provider (DOCKER_TF_MODULE, served) with
#     pulumi-terraform-bridge under the tokens and names of the npm @pulumi/docker, and reports the
#     @pulumi/docker version in package-lock.json. Its schema is generated once per build (tfgen).
#
# Usage: engine-toolchain.sh [PART...], PART one of pulumi, kubernetes, langhost, command,
# docker-build, docker; without arguments: all of them.
# Everything is cached outside the clone, under ${MODELSHIP_CACHE:-/var/cache/modelship}/toolchain:
#   bin/      the binaries (put this directory on PATH)
#   gomod/    GOMODCACHE      gocache/  GOCACHE
#   src/      generated wrapper modules and build logs (src/<binary>.log)
# A second run with the same versions finds the stamps (bin/.stamp-<binary>) and exits at once.
# Prints the requested binaries' paths on stdout, one per line, as its last output.
#
# The versions (PULUMI_VERSION, K8S_*, DOCKER_BUILD_*, DOCKER_TF_*, ENGINE_MIN_GO) are in
# versions.sh. Needs go >= ENGINE_MIN_GO at /usr/local/go/bin/go or on PATH (Debian's golang-go
# is too old).
# Environment: MODELSHIP_CACHE (cache root), GOPROXY/GOSUMDB/GONOSUMDB are honoured as set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Bump when the build recipe below changes, so cached binaries are rebuilt.
RECIPE=1

PULUMI_PKG=github.com/pulumi/pulumi/pkg/v3
PULUMI_SDK=github.com/pulumi/pulumi/sdk/v3

use_go "$ENGINE_MIN_GO" "the Pulumi engine's modules"
goos_arch=$("$go_bin" env GOOS)/$("$go_bin" env GOARCH)

# --- fast path -------------------------------------------------------------------------------
pulumi_key="recipe=$RECIPE go=$go_version $goos_arch $PULUMI_PKG@$PULUMI_VERSION"
k8s_key="recipe=$RECIPE go=$go_version $goos_arch $K8S_MODULE@$K8S_MODULE_VERSION plugin=$K8S_PLUGIN_VERSION"
langhost_src=$project_dir/plugins/pulumi-language-nodejs
# The host reports the @pulumi/pulumi version it serves; its stamp follows its sources.
node_sdk_version=$(sed -n 's/^[[:space:]]*"@pulumi\/pulumi": "\([^"]*\)".*/\1/p' "$project_dir/package.json" | head -n 1)
[ -n "$node_sdk_version" ] || die "no @pulumi/pulumi version in $project_dir/package.json"
langhost_key="recipe=$RECIPE go=$go_version $goos_arch sdk=$node_sdk_version src=$(cat "$langhost_src"/go.mod "$langhost_src"/go.sum "$langhost_src"/*.go | sha256sum | cut -c1-16)"
# The command provider reports the @pulumi/command version npm installed; its stamp follows its
# sources too.
cmdprov_src=$project_dir/plugins/pulumi-resource-command
# Prints the version npm installed of a package, from package-lock.json.
lock_version() { # package
    local version
    version=$(awk -v key="\"node_modules/$1\": {" '
        index($0, key) { found = 1; next }
        found && /"version":/ { gsub(/.*"version": "|".*/, ""); print; exit }
    ' "$project_dir/package-lock.json")
    [ -n "$version" ] || die "no node_modules/$1 version in $project_dir/package-lock.json"
    echo "$version"
}
command_sdk_version=$(lock_version @pulumi/command)
cmdprov_key="recipe=$RECIPE go=$go_version $goos_arch sdk=$command_sdk_version src=$(cat "$cmdprov_src"/go.mod "$cmdprov_src"/go.sum "$cmdprov_src"/*.go "$cmdprov_src"/schema.json | sha256sum | cut -c1-16)"
# The docker-build provider's stamp follows the stubs that replace its code-generation imports.
stubs_src=$project_dir/plugins/codegen-stubs
docker_build_key="recipe=$RECIPE go=$go_version $goos_arch $DOCKER_BUILD_MODULE@v$DOCKER_BUILD_VERSION stubs=$(find "$stubs_src" -type f \( -name go.mod -o -name '*.go' \) -print0 | LC_ALL=C sort -z | xargs -0 cat | sha256sum | cut -c1-16)"

# The docker provider reports the @pulumi/docker version npm installed; its stamp follows its sources.
dockerprov_src=$project_dir/plugins/pulumi-resource-docker
docker_sdk_version=$(lock_version @pulumi/docker)
dockerprov_key="recipe=$RECIPE go=$go_version $goos_arch $DOCKER_TF_MODULE@$DOCKER_TF_VERSION sdk=$docker_sdk_version src=$(find "$dockerprov_src" -path "$dockerprov_src/upstream" -prune -o -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) -print0 | LC_ALL=C sort -z | xargs -0 cat | sha256sum | cut -c1-16)"

# Each part: its binary, its stamp key and its build function.
declare -A part_bin=([pulumi]=pulumi [kubernetes]=pulumi-resource-kubernetes [langhost]=pulumi-language-nodejs
    [command]=pulumi-resource-command [docker-build]=pulumi-resource-docker-build [docker]=pulumi-resource-docker)
declare -A part_key=([pulumi]=$pulumi_key [kubernetes]=$k8s_key [langhost]=$langhost_key
    [command]=$cmdprov_key [docker-build]=$docker_build_key [docker]=$dockerprov_key)
declare -A part_build=([pulumi]=build_pulumi [kubernetes]=build_kubernetes [langhost]=build_langhost
    [command]=build_command_provider [docker-build]=build_docker_build [docker]=build_docker_provider)
all_parts=(pulumi kubernetes langhost command docker-build docker)
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=("${all_parts[@]}")
for part in "${parts[@]}"; do
    [ -n "${part_bin[$part]:-}" ] || die "unknown part '$part' (known: ${all_parts[*]})"
done
part_current() { stamp_current "${part_bin[$1]}" "${part_key[$1]}"; }
report() {
    local part
    for part in "${parts[@]}"; do echo "$toolchain_bin/${part_bin[$part]}"; done
}
all_current=1
for part in "${parts[@]}"; do part_current "$part" || all_current=; done
if [ -n "$all_current" ]; then
    log "up to date (${parts[*]}) in $toolchain_bin"
    report
    exit 0
fi

# --- slow path: build what is missing --------------------------------------------------------
toolchain_dirs

# One build at a time; a second caller waits and then finds the stamps.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$toolchain/.lock-engine-toolchain"
    flock 9
fi

current_log=
run() { # command... ; output goes to the current build's log
    "$@" >>"$current_log" 2>&1
}
fail() { # what
    log "error: $1 failed; last lines of $current_log:"
    tail -n 40 "$current_log" >&2
    exit 1
}

# Prints the directory of module@version in the module cache, downloading it first.
module_dir() { # module version
    local json
    json=$("$go_bin" mod download -json "$1@$2" 2>>"$current_log") || true
    local dir
    dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
    if [ -z "$dir" ] || [ ! -f "$dir/go.mod" ]; then
        printf '%s\n' "$json" >>"$current_log"
        fail "go mod download $1@$2"
    fi
    echo "$dir"
}

# Prints the `go` directive of a go.mod.
go_directive() { sed -n 's/^go[[:space:]]\{1,\}\([0-9.]*\).*/\1/p' "$1" | head -n 1; }

# Prints the replace directives of a go.mod that point at other modules, as go mod edit -replace
# arguments (old[@v]=new[@v]). Local ones (=> ../sdk) only work inside the upstream repository.
nonlocal_replaces() { # go.mod
    awk '
        { sub(/\/\/.*/, "") }
        /^replace[ \t]*\(/ { block = 1; next }
        block && /^[ \t]*\)/ { block = 0; next }
        /^replace[ \t]/ { sub(/^replace[ \t]+/, ""); print; next }
        block && NF { print }
    ' "$1" | while read -r line; do
        local lhs=${line%%=>*} rhs=${line#*=>}
        # shellcheck disable=SC2086
        set -- $lhs
        local old=$1 old_v=${2:-}
        # shellcheck disable=SC2086
        set -- $rhs
        local new=$1 new_v=${2:-}
        case $new in .* | /*) continue ;; esac
        echo "${old}${old_v:+@$old_v}=${new}${new_v:+@$new_v}"
    done
}

# Writes a fresh wrapper module in dir that requires module@version and copies its non-local
# replaces, so `go build` of a package inside that module resolves as the upstream build does.
new_wrapper() { # dir name module version
    local dir=$1 name=$2 module=$3 version=$4 src
    src=$(module_dir "$module" "$version")
    rm -rf "$dir"
    mkdir -p "$dir"
    printf 'module modelship.local/toolchain/%s\n\ngo %s\n' "$name" "$(go_directive "$src/go.mod")" >"$dir/go.mod"
    local args=("-require=$module@$version") r
    while read -r r; do
        [ -n "$r" ] && args+=("-replace=$r")
    done < <(nonlocal_replaces "$src/go.mod")
    (cd "$dir" && run "$go_bin" mod edit "${args[@]}") || fail "go mod edit in $dir"
    echo "$src"
}

# Moves a built binary into bin/ and writes its stamp.
install_bin() { # tmp name key started
    local size
    install_stamped "$1" "$2" "$3"
    size=$(du -m "$toolchain_bin/$2" | cut -f1)
    log "built $2 in $((SECONDS - $4))s (${size} MB): $toolchain_bin/$2"
}

build_pulumi() {
    local started=$SECONDS dir=$toolchain/src/pulumi-$PULUMI_VERSION
    current_log=$toolchain/src/pulumi.log
    : >"$current_log"
    log "building pulumi $PULUMI_VERSION ... (log: $current_log)"
    new_wrapper "$dir" pulumi "$PULUMI_PKG" "$PULUMI_VERSION" >/dev/null
    (cd "$dir" && run "$go_bin" mod edit "-require=$PULUMI_SDK@$PULUMI_VERSION") || fail "go mod edit in $dir"
    # Resolves the CLI's imports and records their checksums in the wrapper's go.sum.
    (cd "$dir" && run "$go_bin" get "$PULUMI_PKG/cmd/pulumi@$PULUMI_VERSION") || fail "go get $PULUMI_PKG/cmd/pulumi@$PULUMI_VERSION"
    (cd "$dir" && run "$go_bin" build -trimpath -o "$toolchain_bin/.pulumi.tmp" \
        -ldflags "-s -w -X $PULUMI_SDK/go/common/version.Version=$PULUMI_VERSION" \
        "$PULUMI_PKG/cmd/pulumi") || fail "go build of pulumi $PULUMI_VERSION"
    install_bin "$toolchain_bin/.pulumi.tmp" pulumi "$pulumi_key" "$started"
}

build_kubernetes() {
    local started=$SECONDS dir=$toolchain/src/pulumi-resource-kubernetes-$K8S_PLUGIN_VERSION src
    local cmd=cmd/pulumi-resource-kubernetes
    current_log=$toolchain/src/pulumi-resource-kubernetes.log
    : >"$current_log"
    log "building pulumi-resource-kubernetes $K8S_PLUGIN_VERSION from $K8S_MODULE@$K8S_MODULE_VERSION ... (log: $current_log)"
    src=$(new_wrapper "$dir" pulumi-resource-kubernetes "$K8S_MODULE" "$K8S_MODULE_VERSION")
    # The main package embeds schema-embed.json and terraform-mapping-embed.json, which the
    # upstream Makefile makes with `VERSION=... go generate cmd/pulumi-resource-kubernetes/main.go`
    # (generate.go: schema.json with .version set, and terraform-mapping.json, both compacted).
    # They are not in the module zip, and the module cache is read-only, so the main package is
    # copied into the wrapper and generated there; everything it imports comes from the module.
    mkdir -p "$dir/$cmd"
    cp "$src/$cmd/main.go" "$src/$cmd/generate.go" "$src/$cmd/schema.json" "$src/$cmd/terraform-mapping.json" "$dir/$cmd/"
    chmod u+w "$dir/$cmd"/*
    echo '{}' >"$dir/$cmd/schema-embed.json"
    echo '{}' >"$dir/$cmd/terraform-mapping-embed.json"
    (cd "$dir" && run "$go_bin" mod tidy) || fail "go mod tidy in $dir"
    (cd "$dir/$cmd" && VERSION=$K8S_PLUGIN_VERSION run "$go_bin" run ./generate.go) || fail "generating the embedded schema (go run generate.go)"
    grep -q "\"version\":\"$K8S_PLUGIN_VERSION\"" "$dir/$cmd/schema-embed.json" || {
        echo "schema-embed.json has no \"version\":\"$K8S_PLUGIN_VERSION\"" >>"$current_log"
        fail "generating the embedded schema"
    }
    (cd "$dir" && run "$go_bin" build -trimpath -o "$toolchain_bin/.pulumi-resource-kubernetes.tmp" \
        -ldflags "-s -w -X $K8S_MODULE/pkg/version.Version=$K8S_PLUGIN_VERSION" \
        "./$cmd") || fail "go build of pulumi-resource-kubernetes"
    install_bin "$toolchain_bin/.pulumi-resource-kubernetes.tmp" pulumi-resource-kubernetes "$k8s_key" "$started"
}

# The Go programs of this project's plugins/ folder: vetted, tested, then built reporting the
# version of the npm SDK they serve.
build_plugin_dir() {
    local name=$1 src=$2 sdk=$3 version=$4 key=$5 started=$SECONDS
    current_log=$toolchain/src/$name.log
    : >"$current_log"
    log "building $name (for $sdk $version) from $src ... (log: $current_log)"
    (cd "$src" && run "$go_bin" vet ./...) || fail "go vet of $name"
    (cd "$src" && run "$go_bin" test ./...) || fail "go test of $name"
    (cd "$src" && run "$go_bin" build -mod=readonly -trimpath -o "$toolchain_bin/.$name.tmp" \
        -ldflags "-s -w -X main.version=$version" .) || fail "go build of $name"
    install_bin "$toolchain_bin/.$name.tmp" "$name" "$key" "$started"
}

build_langhost() { build_plugin_dir pulumi-language-nodejs "$langhost_src" @pulumi/pulumi "$node_sdk_version" "$langhost_key"; }
build_command_provider() { build_plugin_dir pulumi-resource-command "$cmdprov_src" @pulumi/command "$command_sdk_version" "$cmdprov_key"; }

build_docker_build() {
    local started=$SECONDS dir=$toolchain/src/pulumi-resource-docker-build-$DOCKER_BUILD_VERSION
    local cmd=$DOCKER_BUILD_MODULE/provider/cmd/pulumi-resource-docker-build
    current_log=$toolchain/src/pulumi-resource-docker-build.log
    : >"$current_log"
    log "building pulumi-resource-docker-build $DOCKER_BUILD_VERSION from $DOCKER_BUILD_MODULE@v$DOCKER_BUILD_VERSION ... (log: $current_log)"
    new_wrapper "$dir" pulumi-resource-docker-build "$DOCKER_BUILD_MODULE" "v$DOCKER_BUILD_VERSION" >/dev/null
    (cd "$dir" && run "$go_bin" mod edit \
        "-replace=github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3=$stubs_src/pulumi-language-dotnet" \
        "-replace=github.com/pulumi/pulumi-java=$stubs_src/pulumi-java") || fail "go mod edit in $dir"
    (cd "$dir" && run "$go_bin" get "$cmd@v$DOCKER_BUILD_VERSION") || fail "go get $cmd@v$DOCKER_BUILD_VERSION"
    # The plugin reports provider.Version (the upstream Makefile sets it the same way); its schema
    # carries the same version.
    (cd "$dir" && run "$go_bin" build -trimpath -o "$toolchain_bin/.pulumi-resource-docker-build.tmp" \
        -ldflags "-s -w -X $DOCKER_BUILD_MODULE/provider.Version=$DOCKER_BUILD_VERSION" \
        "$cmd") || fail "go build of pulumi-resource-docker-build"
    install_bin "$toolchain_bin/.pulumi-resource-docker-build.tmp" pulumi-resource-docker-build "$docker_build_key" "$started"
}

build_docker_provider() {
    local started=$SECONDS dir=$toolchain/src/pulumi-resource-docker-$docker_sdk_version upstream
    local ldflags="-s -w -X modelship.local/engine/pulumi-resource-docker/provider.Version=$docker_sdk_version"
    current_log=$toolchain/src/pulumi-resource-docker.log
    : >"$current_log"
    log "building pulumi-resource-docker $docker_sdk_version from $DOCKER_TF_MODULE@$DOCKER_TF_VERSION ... (log: $current_log)"
    upstream=$(module_dir "$DOCKER_TF_MODULE" "$DOCKER_TF_VERSION")
    # plugins/pulumi-resource-docker's go.mod replaces the upstream module with ./upstream: its
    # provider package is internal, so a shim package is added to a copy of it.
    rm -rf "$dir"
    mkdir -p "$dir"
    (cd "$dockerprov_src" && tar --exclude=./upstream -cf - .) | tar -xf - -C "$dir"
    cp -r "$upstream" "$dir/upstream"
    chmod -R u+w "$dir/upstream"
    mkdir -p "$dir/upstream/shim"
    cp "$dockerprov_src/upstream-shim/shim.go" "$dir/upstream/shim/"
    # no_compose: the docker_compose resource (and docker/compose's dependencies) is left out.
    local build=("$go_bin" build -mod=readonly -trimpath -tags no_compose -ldflags "$ldflags")
    (cd "$dir" && run "${build[@]}" -o "$dir/pulumi-tfgen-docker" ./cmd/pulumi-tfgen-docker) || fail "go build of pulumi-tfgen-docker"
    (cd "$dir" && run ./pulumi-tfgen-docker schema --skip-docs --out "$dir/cmd/pulumi-resource-docker") || fail "generating the docker schema (tfgen)"
    # The schema carries the version the plugin reports, as the upstream build's generate step does.
    sed -i "0,/{/s//{\"version\": \"$docker_sdk_version\",/" "$dir/cmd/pulumi-resource-docker/schema.json"
    (cd "$dir" && run "${build[@]}" -o "$toolchain_bin/.pulumi-resource-docker.tmp" ./cmd/pulumi-resource-docker) || fail "go build of pulumi-resource-docker"
    install_bin "$toolchain_bin/.pulumi-resource-docker.tmp" pulumi-resource-docker "$dockerprov_key" "$started"
}

if [ -f "$project_dir/package.json" ] && ! grep -q "\"@pulumi/kubernetes\": \"$K8S_PLUGIN_VERSION\"" "$project_dir/package.json"; then
    log "warning: package.json's @pulumi/kubernetes is not $K8S_PLUGIN_VERSION; update K8S_PLUGIN_VERSION in $scripts_dir/versions.sh"
fi

if [ -f "$project_dir/package.json" ] && grep -q '"@pulumi/docker-build"' "$project_dir/package.json" &&
    ! grep -q "\"@pulumi/docker-build\": \"$DOCKER_BUILD_VERSION\"" "$project_dir/package.json"; then
    log "warning: package.json's @pulumi/docker-build is not $DOCKER_BUILD_VERSION; update DOCKER_BUILD_VERSION in $scripts_dir/versions.sh"
fi

log "go $go_version ($go_bin), cache $toolchain"
for part in "${parts[@]}"; do
    part_current "$part" || "${part_build[$part]}"
done
report
