#!/usr/bin/env bash
# `make conformance`: build the reference server and the conformance runner,
# start the server on an ephemeral loopback port with the in-memory store and
# two fresh tenants, run the full suite against it with both tokens, write the
# reports to $OUT (default out/conformance) and stop the server. The exit
# status is the runner's: 0 every MUST check passed, 1 one failed, 2 a
# configuration problem (here: the server did not start).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
OUT=${OUT:-out/conformance}
tmp=$(mktemp -d)
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

"$GO" build -o "$tmp/" ./cmd/agentsession-server ./cmd/agentsession-conformance

# Throw-away tokens: two tenants that exist only for this run.
token() { printf 'conformance-%s' "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"; }
tok1=$(token)
tok2=$(token)

AGENTSESSION_TOKENS="$tok1,$tok2" "$tmp/agentsession-server" -addr 127.0.0.1:0 -db :memory: -log-level warn \
	>"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!

url=""
for _ in $(seq 1 200); do
	url=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$tmp/server.out" | head -n 1)
	[ -n "$url" ] && break
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "the reference server exited before it listened:" >&2
		cat "$tmp/server.err" >&2
		exit 2
	fi
	sleep 0.05
done
if [ -z "$url" ]; then
	echo "the reference server did not print its URL within 10 s" >&2
	cat "$tmp/server.err" >&2
	exit 2
fi
echo "reference server: $url (in-memory store, two tenants)"

status=0
AGENTSESSION_CONFORMANCE_TOKEN="$tok1" AGENTSESSION_CONFORMANCE_TOKEN2="$tok2" \
	"$tmp/agentsession-conformance" -base-url "$url" -profile full -out "$OUT" || status=$?
if [ "$status" -ne 0 ] && [ -s "$tmp/server.err" ]; then
	echo "--- reference server log (warnings and errors) ---" >&2
	tail -n 50 "$tmp/server.err" >&2
fi
exit "$status"
