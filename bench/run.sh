#!/usr/bin/env bash
# `make bench`: measure seatsync's ingest and apply throughput on Postgres
# against the per-event limit of the database itself.
#
#  1. create a fresh database seatsync_bench_<random> (dropped at exit) and migrate it;
#  2. baseline: pgbench runs bench/per_event.sql (store one ~2 KB event, upsert its
#     directory user and member, one transaction) with SENDERS clients;
#  3. empty the tables, start `seatsync serve` on the database, run
#     `seatsync bench` (USERS users, SENDERS senders), stop the server;
#  4. check the database: every event stored once and finished, every user
#     once, paid seats = the users the stream left active, no audit entry twice;
#  5. the baseline again on emptied tables: the per-event limit is the mean of
#     the tps before and after.
#
# Environment: TEST_DATABASE_URL (server to create the database on), USERS
# (100000), SENDERS (32), BASELINE_SECONDS (20), GO (go), PROFILE (a file: the
# server's CPU profile over the first PROFILE_SECONDS (20) of the run, read
# with `go tool pprof -top bin/seatsync FILE`), SERVE_BIN (the seatsync binary that
# migrates and serves, default the one built here: to measure another build, such
# as an older commit, against the same baseline and load generator). Exits
# non-zero when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C # awk and printf read "584.12" as a number

ADMIN_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
USERS=${USERS:-100000}
SENDERS=${SENDERS:-32}
BASELINE_SECONDS=${BASELINE_SECONDS:-20}
GO=${GO:-go}

rand_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
DB=seatsync_bench_$(rand_hex 4)
DB_URL=$(printf '%s' "$ADMIN_URL" | sed -E "s#^([a-z]+://[^/?]*)(/[^?]*)?#\1/$DB#")
WORK=$(mktemp -d)
SERVER_PID=

cleanup() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	psql "$ADMIN_URL" -Xq -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 ||
		echo "bench: could not drop database $DB" >&2
	rm -rf "$WORK"
}
trap cleanup EXIT

sql() { psql "$DB_URL" -XtAq -v ON_ERROR_STOP=1 -c "$1"; }
say() { echo "bench: $*" >&2; }

say "database $DB, $USERS users, $SENDERS senders"
psql "$ADMIN_URL" -Xq -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB"
CGO_ENABLED=0 "$GO" build -trimpath -o bin/seatsync ./cmd/seatsync
export SEATSYNC_DATABASE_DRIVER=postgres SEATSYNC_DATABASE_URL="$DB_URL"
SERVE_BIN=${SERVE_BIN:-bin/seatsync}
"$SERVE_BIN" migrate >/dev/null

# --- baseline: the per-event transaction at the same concurrency -------------
# baseline NAME: run pgbench on emptied tables; prints its tps and failed
# transactions. It runs before
# and again after seatsync (the limit is the mean of the two), because this
# machine's speed drifts by a fifth within minutes and both sides of the ratio
# should see the same drift.
baseline() {
	say "baseline ($1): pgbench bench/per_event.sql, $SENDERS clients, ${BASELINE_SECONDS}s"
	sql "TRUNCATE inbox_events, audit_entries, members, directory_users, directories, plan_admins, plans, organizations RESTART IDENTITY CASCADE;
	     INSERT INTO organizations (id, name, created_at, updated_at) VALUES ('bench', 'Bench', now(), now());
	     INSERT INTO plans (id, organization_id, name, workos_organization_id, mode, created_at, updated_at)
	       VALUES ('plan_bench', 'bench', 'Bench', 'org_BENCH', 'directory', now(), now());
	     INSERT INTO directories (id, plan_id, organization_id, state, created_at, updated_at)
	       VALUES ('directory_BENCH', 'plan_bench', 'org_BENCH', 'active', now(), now());"
	local out=$WORK/pgbench_$1.txt tps
	pgbench -n -c "$SENDERS" -j $((SENDERS < 2 ? SENDERS : 2)) -T "$BASELINE_SECONDS" -f bench/per_event.sql "$DB_URL" >"$out" 2>&1 ||
		{ cat "$out" >&2; return 1; }
	# pgbench 14+ prints one tps line ("without initial connection time"), older ones two.
	tps=$(sed -n -E 's/^tps = ([0-9.]+) \((without|excluding).*/\1/p' "$out" | head -n1)
	[ -n "$tps" ] || { cat "$out" >&2; say "no tps in the pgbench output"; return 1; }
	sql "TRUNCATE inbox_events, audit_entries, members, directory_users, directories, plan_admins, plans, organizations RESTART IDENTITY CASCADE"
	sql "CHECKPOINT" 2>/dev/null || true
	echo "$tps $(sed -n -E 's/^number of failed transactions: ([0-9]+).*/\1/p' "$out")"
}
B=$(baseline before)
read -r BEFORE FAILED_BEFORE <<<"$B"

# --- seatsync serve + seatsync bench ------------------------------------------
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}
ADDR=127.0.0.1:$(free_port)
DEBUG_ADDR=
[ -z "${PROFILE:-}" ] || DEBUG_ADDR=127.0.0.1:$(free_port)
WEBHOOK_SECRET=whsec_bench_$(rand_hex 16)
JWT_SECRET=$(rand_hex 32)
SEATSYNC_WEBHOOKS_SECRETS=$WEBHOOK_SECRET SEATSYNC_AUTH_JWT_SECRET=$JWT_SECRET SEATSYNC_LISTEN=$ADDR \
	SEATSYNC_HTTP_DEBUG_LISTEN=$DEBUG_ADDR SEATSYNC_LOG_LEVEL=warn SEATSYNC_SEATS_CUTOVER_GRACE=0s "$SERVE_BIN" serve >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for i in $(seq 200); do
	bin/seatsync healthcheck --url "http://$ADDR/readyz" >/dev/null 2>&1 && break
	kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; say "seatsync serve exited"; exit 1; }
	[ "$i" -lt 200 ] || { cat "$WORK/serve.log" >&2; say "seatsync serve not ready at $ADDR"; exit 1; }
	sleep 0.1
done
say "seatsync serve (pid $SERVER_PID) on $ADDR; sending"
JSON=$WORK/bench.json
PROFILE_PID=
if [ -n "$DEBUG_ADDR" ]; then
	curl -sS -o "$PROFILE" "http://$DEBUG_ADDR/debug/pprof/profile?seconds=${PROFILE_SECONDS:-20}" &
	PROFILE_PID=$!
fi
BENCH_RC=0
bin/seatsync bench --url "http://$ADDR" --secret "$WEBHOOK_SECRET" --jwt-secret "$JWT_SECRET" \
	--users "$USERS" --senders "$SENDERS" --database-url "$DB_URL" --server-pid "$SERVER_PID" --json "$JSON" || BENCH_RC=$?
[ -z "$PROFILE_PID" ] || wait "$PROFILE_PID" || say "no profile written"
kill -TERM "$SERVER_PID"
SERVE_RC=0
wait "$SERVER_PID" || SERVE_RC=$?
SERVER_PID=
if [ "$SERVE_RC" -ne 0 ] || grep -q 'level=ERROR' "$WORK/serve.log"; then
	say "seatsync serve exited $SERVE_RC; its log:"
	tail -n 20 "$WORK/serve.log" >&2
fi
[ -s "$JSON" ] || { say "seatsync bench wrote no report (exit $BENCH_RC)"; exit 1; }

# --- checks ---------------------------------------------------------------------
# j KEY: a scalar of the bench report (flat keys, one per line).
j() { sed -n -E "s/^  \"$1\": \"?([^\",]*)\"?,?$/\1/p" "$JSON" | head -n1; }
PREFIX=$(j event_id_prefix)
DISTINCT=$(j distinct_events)
EXPECTED_PAID=$(j expected_active_users)
FAILED=0
check() { # check NAME GOT WANT
	if [ "$2" = "$3" ]; then
		printf '  %-38s %-10s ok\n' "$1" "$2"
	else
		printf '  %-38s %-10s FAIL (want %s)\n' "$1" "$2" "$3"
		FAILED=1
	fi
}
echo
echo "checks"
check "bench exit status" "$BENCH_RC" 0
check "events stored (run prefix)" "$(sql "SELECT count(*) FROM inbox_events WHERE event_id LIKE '${PREFIX}%'")" "$DISTINCT"
check "events stored (all)" "$(sql "SELECT count(*) FROM inbox_events")" "$DISTINCT"
check "events pending or failed" "$(sql "SELECT count(*) FROM inbox_events WHERE status IN ('pending', 'failed')")" 0
check "events neither applied nor stale" "$(sql "SELECT count(*) FROM inbox_events WHERE status NOT IN ('applied', 'stale')")" 0
check "undelivered events" "$(j undelivered)" 0
check "directory users" "$(sql "SELECT count(*) FROM directory_users WHERE directory_id = 'directory_BENCH'")" "$USERS"
check "users added (E)" "$(sql "SELECT users_added FROM directories WHERE id = 'directory_BENCH'")" "$USERS"
check "plan mode" "$(sql "SELECT mode FROM plans WHERE id = 'plan_bench'")" directory
check "expected active = users - deactivated" "$EXPECTED_PAID" "$((USERS - $(j events_deactivated)))"
check "paid members" "$(sql "SELECT count(*) FROM members WHERE plan_id = 'plan_bench'")" "$EXPECTED_PAID"
check "paid members in A" "$(sql "SELECT count(*) FROM members m JOIN directory_users du ON du.email = m.email AND du.in_a
	WHERE m.plan_id = 'plan_bench'")" "$EXPECTED_PAID"
check "audit entries written twice" "$(sql "SELECT count(*) FROM (SELECT 1 FROM audit_entries
	GROUP BY event_id, member_email, action HAVING count(*) > 1) d")" 0
echo "  inbox outcomes: $(sql "SELECT string_agg(status || ' ' || n, ', ' ORDER BY status) FROM
	(SELECT status, count(*) AS n FROM inbox_events GROUP BY status) s")"
B=$(baseline after)
read -r AFTER FAILED_AFTER <<<"$B"
LIMIT=$(awk -v a="$BEFORE" -v b="$AFTER" 'BEGIN { printf "%.1f", (a + b) / 2 }')

# --- summary --------------------------------------------------------------------
INGEST=$(j ingest_events_per_second)
APPLIED=$(j applied_events_per_second)
ACK_P99=$(j ack_p99_ms)
LAG_P99=$(j apply_lag_p99_seconds)
RSS=$(j peak_rss_mib)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
printf '%-28s %12s %s\n' "measure" "value" "vs per-event limit"
printf '%-28s %12.0f %s\n' "per-event limit (pgbench)" "$LIMIT" "tps: mean of $(printf %.0f "$BEFORE") before and $(printf %.0f "$AFTER") after, $((${FAILED_BEFORE:-0} + ${FAILED_AFTER:-0})) failed"
printf '%-28s %12.0f %sx\n' "ingest (ev/s)" "$INGEST" "$(ratio "$INGEST" "$LIMIT")"
printf '%-28s %12.0f %sx\n' "applied (ev/s)" "$APPLIED" "$(ratio "$APPLIED" "$LIMIT")"
printf '%-28s %12s\n' "ack p50/p95/p99/max (ms)" "$(awk -v a="$(j ack_p50_ms)" -v b="$(j ack_p95_ms)" -v c="$ACK_P99" -v d="$(j ack_max_ms)" \
	'BEGIN { printf "%.1f / %.1f / %.1f / %.1f", a, b, c, d }')"
printf '%-28s %12s\n' "apply lag p50/p99 (s)" "$(j apply_lag_p50_seconds) / $LAG_P99"
printf '%-28s %12s\n' "errors (non-2xx, timeouts)" "$(j error_count)"
printf '%-28s %12s\n' "server peak rss (MiB)" "$RSS"
echo
awk -v i="$INGEST" -v a="$APPLIED" -v l="$LIMIT" -v p="$ACK_P99" -v q="$LAG_P99" -v m="$RSS" 'BEGIN {
	printf "bench: ingest %.0f ev/s = %.2f x per-event limit; applied %.0f ev/s = %.2f x; ack p99 %.1f ms; lag p99 %.1f s; rss %.0f MiB\n",
		i, i / l, a, a / l, p, q, m }'
if [ "$FAILED" -ne 0 ] || [ "$BENCH_RC" -ne 0 ]; then
	say "FAILED: see the checks above"
	exit 1
fi
