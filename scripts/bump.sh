#!/usr/bin/env bash
# Sets the version a module (or every module: all) is released at next, in
# versions.txt and in every go.mod that requires it.
#   scripts/bump.sh core v0.2.1
#   scripts/bump.sh all v0.3.0
set -euo pipefail
exec "$(dirname "$0")/release.sh" bump "$@"
