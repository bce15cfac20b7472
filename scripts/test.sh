#!/usr/bin/env bash
# Runs every test: go vet, then `go test -race` over the whole module. That
# includes test/interop, which drives real MCP clients (the TypeScript SDK and
# the MCP Inspector CLI, on Node 22 from npm) against `toolwire demo`, so the
# pinned npm packages are installed first. Then the official MCP conformance
# suites run against `toolwire demo --services conformance`
# (scripts/conformance.sh), and any failed check fails the run.
#
#   TOOLWIRE_SKIP_NPM_CI=1  reuse test/interop/node_modules as it is
#   GO_TEST_FLAGS="-run X"  extra flags for go test
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${TOOLWIRE_SKIP_NPM_CI:-}" == 1 && -d test/interop/node_modules ]]; then
	echo "==> reusing test/interop/node_modules"
else
	echo "==> npm ci --prefix test/interop"
	npm ci --prefix test/interop --no-audit --no-fund --loglevel=error
fi

echo "==> go vet ./..."
go vet ./...

# The interop test appends its measured figures (FIGURE name=value) here, so
# they show even though go test prints nothing of a passing package.
figures=$(mktemp)
trap 'rm -f "$figures"' EXIT

echo "==> go test -race ./..."
status=0
# shellcheck disable=SC2086
TOOLWIRE_FIGURES_FILE="$figures" go test -race -count=1 -p 2 -timeout 20m ${GO_TEST_FLAGS:-} ./... || status=$?

# The abandoned-streams proof checks RSS only without the race detector,
# whose shadow memory is most of the RSS under -race (test/governance).
if [[ -z "${GO_TEST_FLAGS:-}" ]]; then
	echo "==> go test -run TestAbandonedStreams ./test/governance/ (without -race)"
	go test -count=1 -timeout 5m -run TestAbandonedStreams -v ./test/governance/ | grep -E '^(=== RUN|--- |ok|FAIL|PASS)|abandoned_test' || status=1
fi

# The three official suites, 0 failures required (issue 4's proof).
if [[ -z "${GO_TEST_FLAGS:-}" ]]; then
	echo "==> MCP conformance suites (scripts/conformance.sh, strict)"
	CONFORMANCE_STRICT=1 ./scripts/conformance.sh || status=1
fi

if [[ -s "$figures" ]]; then
	echo "==> figures"
	cat "$figures"
fi
exit "$status"
