#!/usr/bin/env bash
# `make conformance`: build the reference server and the conformance runner,
# start the server on an ephemeral loopback port with a fresh SQLite file and
# two fresh tenants, run the full suite against it with both tokens and a
# restart hook (SIGKILL, then start again on the same database), write the reports to $OUT (default out/conformance), stop the
# server and print how long it all took. The exit status is the runner's: 0
# every MUST check passed, 1 one failed, 2 a configuration problem (here: the
# server did not start).
#
# The server runs with short thresholds (a 1 s stall, a 3 s default turn
# timeout, keep-alive comments every 250 ms) and one agent with a fixed
# script, so that the checks that wait for them can, and nothing of the
# contract is left unverified: the run reaches compliance level full.
#
# With ACP=1 (`make conformance-acp`) the suite's echo agent is the ACP test
# agent (cmd/agentsession-acp-testagent) behind the server's ACP bridge,
# configured under the name acp-test in an agents file: every check that
# uses the echo agent then runs a real agent process per session.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
ACP=${ACP:-}
OUT=${OUT:-out/conformance}
began=$(date +%s.%N)
tmp=$(mktemp -d)
# running says whether a process still runs (an exited one that its adopted
# parent has not reaped yet is a zombie, which kill -0 still finds).
running() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$st" ] && [ "${st#Z}" = "$st" ]
}
cleanup() {
	if [ -s "$tmp/server.pid" ]; then
		pid=$(cat "$tmp/server.pid")
		kill "$pid" 2>/dev/null || true
		while running "$pid"; do sleep 0.05; done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

"$GO" build -o "$tmp/" ./cmd/agentsession-server ./cmd/agentsession-conformance
agents_flag=""
suite_flags=()
if [ -n "$ACP" ]; then
	"$GO" build -o "$tmp/" ./cmd/agentsession-acp-testagent
	mkdir "$tmp/acp-work"
	cat >"$tmp/agents.yaml" <<EOF
agents:
  - name: acp-test
    description: The ACP test agent, behind the bridge.
    command: $tmp/agentsession-acp-testagent
    args: [-state, $tmp/acp-state]
    cwd: acp-work
    session_dirs: true
    state_dir: acp-bridge-state
    limits: {start_timeout: 10s, cancel_grace: 1s, stop_grace: 1s}
EOF
	agents_flag="-agents-file $tmp/agents.yaml"
	suite_flags=(-echo-agent acp-test)
fi

# Throw-away tokens: two tenants that exist only for this run.
token() { printf 'conformance-%s' "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"; }
tok1=$(token)
tok2=$(token)

mkdir "$tmp/scripts"
cat >"$tmp/scripts/fixed.json" <<'EOF'
{"steps": [{"event": {"type": "thinking", "content": "the fixed script"}},
           {"delay_ms": 20, "event": {"type": "text", "content": "always the same answer"}}],
 "stop_reason": "end_turn"}
EOF

# start.sh starts the server on $1 (an address) and waits until it listens;
# it leaves the pid in server.pid and the URL in server.url. The restart
# hook calls it again, on the same address and database.
cat >"$tmp/start.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
: >"$tmp/server.out"
AGENTSESSION_TOKENS="$tok1,$tok2" "$tmp/agentsession-server" -addr "\$1" -db "$tmp/conformance.db" -log-level warn \\
	-stall-after 1s -max-turn-timeout 3s -keep-alive 250ms -body-read-timeout 1s -scripts "$tmp/scripts" $agents_flag \\
	>"$tmp/server.out" 2>>"$tmp/server.err" </dev/null &
echo \$! >"$tmp/server.pid"
for _ in \$(seq 1 200); do
	url=\$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$tmp/server.out" | head -n 1)
	if [ -n "\$url" ]; then
		echo "\$url" >"$tmp/server.url"
		exit 0
	fi
	if ! kill -0 \$(cat "$tmp/server.pid") 2>/dev/null; then
		echo "the reference server exited before it listened:" >&2
		cat "$tmp/server.err" >&2
		exit 2
	fi
	sleep 0.05
done
echo "the reference server did not print its URL within 10 s" >&2
exit 2
EOF
# restart.sh kills the server (SIGKILL: the harshest stop, so the restart
# must recover what it left running from the database) and starts it again
# on the same port and database.
cat >"$tmp/restart.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
pid=\$(cat "$tmp/server.pid")
kill -KILL "\$pid"
while st=\$(ps -o stat= -p "\$pid" 2>/dev/null) && [ -n "\$st" ] && [ "\${st#Z}" = "\$st" ]; do sleep 0.02; done
url=\$(cat "$tmp/server.url")
"$tmp/start.sh" "\${url#http://}"
EOF
chmod +x "$tmp/start.sh" "$tmp/restart.sh"

"$tmp/start.sh" 127.0.0.1:0
url=$(cat "$tmp/server.url")
echo "reference server: $url (SQLite in a temp dir, two tenants, short thresholds, restartable${ACP:+; echo agent: acp-test, the ACP test agent behind the bridge})"

status=0
AGENTSESSION_CONFORMANCE_TOKEN="$tok1" AGENTSESSION_CONFORMANCE_TOKEN2="$tok2" \
	"$tmp/agentsession-conformance" -base-url "$url" -profile full -body-read-timeout 1s -out "$OUT" \
	-restart-command "$tmp/restart.sh" ${suite_flags[@]+"${suite_flags[@]}"} || status=$?
if [ "$status" -ne 0 ] && [ -s "$tmp/server.err" ]; then
	echo "--- reference server log (warnings and errors) ---" >&2
	tail -n 50 "$tmp/server.err" >&2
fi
ended=$(date +%s.%N)
awk -v b="$began" -v e="$ended" -v n="make conformance${ACP:+-acp}" 'BEGIN { printf n ": %.1f s in all (build, server, suite, reports)\n", e - b }'
exit "$status"
