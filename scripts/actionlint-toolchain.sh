#!/usr/bin/env bash
# Builds actionlint (github.com/rhysd/actionlint), the linter for .github/workflows, from the Go
# module proxy: seconds, cached afterwards (see go-install-tool.sh). Prints actionlint=PATH.
set -euo pipefail

ACTIONLINT_VERSION=${MODELSHIP_ACTIONLINT_VERSION:-v1.7.12}

exec "$(dirname "$0")/go-install-tool.sh" actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION" 1.24 \
    "-s -w -X github.com/rhysd/actionlint.version=${ACTIONLINT_VERSION}"
