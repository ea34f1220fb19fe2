#!/usr/bin/env bash
# Builds the image scanner the scan gate runs, trivy (github.com/aquasecurity/trivy/cmd/trivy),
# from the Go module proxy, for machines where its release downloads are out of reach: about
# 7 minutes on 2 cores the first time, cached afterwards (see go-install-tool.sh).
# Prints trivy=PATH on stdout.
#
# Without network access trivy has no vulnerability database; the scan gate then still runs its
# secret and misconfiguration scanners and reports the image as NOT SCANNED, never as clean.
# Its version is TRIVY_VERSION in versions.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/versions.sh"

# trivy uses encoding/json/v2, still an experiment in go 1.26.
GOEXPERIMENT=jsonv2 exec "$(dirname "$0")/go-install-tool.sh" trivy github.com/aquasecurity/trivy/cmd/trivy "$TRIVY_VERSION" "$TRIVY_MIN_GO" \
    "-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=${TRIVY_VERSION#v}"
