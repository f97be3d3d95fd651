#!/usr/bin/env bash
# Runs tools/release (outside the workspace): plan | bump DIR|all VERSION | check [-keep].
set -euo pipefail
cd "$(dirname "$0")/../tools/release"
GOWORK=off exec go run . "$@"
