#!/usr/bin/env bash
# Builds actionlint (github.com/rhysd/actionlint), the linter for .github/workflows, from the Go
# module proxy: seconds, cached afterwards (see go-install-tool.sh). Prints actionlint=PATH.
# Its version is ACTIONLINT_VERSION in versions.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/versions.sh"

exec "$(dirname "$0")/go-install-tool.sh" actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION" "$ACTIONLINT_MIN_GO" \
    "-s -w -X github.com/rhysd/actionlint.version=${ACTIONLINT_VERSION}"
