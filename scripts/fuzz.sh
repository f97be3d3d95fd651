#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the workspace for a short time, one target
# per `go test -fuzz` invocation, and fails if any of them finds a failure.
#
# Usage: scripts/fuzz.sh [FUZZTIME]   (default 5s)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
fuzztime=${1:-5s}

# Only packages with a test file that declares a fuzz target are built for -list.
listing=$(go list -f '{{.ImportPath}} {{.Dir}}{{range .TestGoFiles}} {{.}}{{end}}{{range .XTestGoFiles}} {{.}}{{end}}' work)
pkgs=()
while read -r pkg dir files; do
	[[ -n ${files:-} ]] || continue
	for f in $files; do
		if grep -q '^func Fuzz' "$dir/$f"; then
			pkgs+=("$pkg")
			break
		fi
	done
done <<<"$listing"


log=$(mktemp)
trap 'rm -f "$log"' EXIT

# fuzz_once runs one target. Go's fuzzing coordinator (before Go 1.27,
# go.dev/issue/75804) can end a run with "context deadline exceeded" and no
# failing input when the -fuzztime deadline races its own cancellation; such
# a run is repeated, up to three times in all. A real finding always names
# the failing input it wrote under testdata/fuzz.
fuzz_once() {
	local pkg=$1 name=$2 try
	for try in 1 2 3; do
		if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$log"; [[ ${PIPESTATUS[0]} == 0 ]]; then
			return 0
		fi
		if grep -q 'Failing input written to' "$log" || ! grep -q 'context deadline exceeded' "$log"; then
			return 1
		fi
		echo "fuzz: $name: the coordinator timed out without a failing input; running it again"
	done
	return 1
}

ran=0
failed=()
for pkg in "${pkgs[@]}"; do
	list=$(go test -list '^Fuzz' "$pkg")
	mapfile -t targets < <(grep '^Fuzz' <<<"$list" || true)
	for name in "${targets[@]}"; do
		echo "fuzz: $pkg $name for $fuzztime"
		if ! fuzz_once "$pkg" "$name"; then
			failed+=("$pkg $name")
		fi
		ran=$((ran + 1))
	done
done

if [[ ${#failed[@]} -gt 0 ]]; then
	printf 'fuzz: FAILED %s\n' "${failed[@]}"
	exit 1
fi
echo "fuzz: $ran target(s) ran for $fuzztime each, no failure"
