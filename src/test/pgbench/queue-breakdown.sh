#!/usr/bin/env bash
# Where the server's time per run goes: pgbench replays of the SQL a worker sends per run (no JVM),
# in variants that each take one thing away, alternated round by round. Each variant runs on a fresh
# copy of a template database (migrated by the jar, one job of concurrency 1,000, 100,000 runs, each with a
# dedupe key, as scheduled, `after:` and benchmark runs have).
# Usage, from the project's root with the jar built:
#   src/test/pgbench/queue-breakdown.sh [ROUNDS=2] [SECONDS=8] [CLIENTS=16] [VARIANT...]
# PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres) name the server; PREFIX (pgbench_queue) the databases.
# Variants v3 and v3-unlimited replay the data model planned for the queue core v3 (v3.sql, v3.pgb; see
# architecture.md, "Queue core v3"); for them the table's line counts the updates of slot rows.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rounds=${1:-2}; secs=${2:-8}; clients=${3:-16}; shift $(( $# < 3 ? $# : 3 ))
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(floor chain-period chain no-lock unlimited hot hot-unlimited hot-sql v3 v3-unlimited)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
prefix=${PREFIX:-pgbench_queue}
psql_() { psql -qAt -v ON_ERROR_STOP=1 "$@"; }
# CPU time (clock ticks) of the server: the postmaster with its reaped children, and its live children. Read
# before and after each replay, it gives the server's CPU per run, which other load on the machine disturbs
# less than runs/s do.
postmaster=$(head -1 "$(psql_ -d postgres -c "SHOW data_directory")/postmaster.pid")
server_ticks() {
  local t; t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$postmaster/stat")
  for c in $(pgrep -P "$postmaster"); do t=$(( t + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0) )); done
  echo "$t"
}
cleanup() { for d in "$prefix" "${prefix}_v"; do psql_ -d postgres -c "DROP DATABASE IF EXISTS $d" 2>/dev/null || true; done; }
trap cleanup EXIT
cleanup
psql_ -d postgres -c "CREATE DATABASE $prefix"
NIGHTSHIFT_DB_URL="jdbc:postgresql://$PGHOST:$PGPORT/$prefix" NIGHTSHIFT_DB_USER=$PGUSER java -jar target/nightshift.jar migrate >/dev/null
psql_ -d "$prefix" <<'SQL'
INSERT INTO nightshift.job (name, type, concurrency, max_attempts, definition) VALUES ('bench', 'sql', 1000, 1000, '{"timeout_ms": 1000}');
CREATE TABLE public.bench_floor (id bigint PRIMARY KEY, state text NOT NULL, started_at timestamptz, finished_at timestamptz);
CREATE INDEX bench_floor_available_idx ON public.bench_floor (id) WHERE state = 'available';
SQL
# the liveness lock taken away: the claim's try-lock is "true", the completion's unlock a no-op
no_lock=$(sed -e 's/pg_try_advisory_lock_shared(nightshift.run_lock_key(c.id))/true/' \
              -e 's/PERFORM pg_advisory_unlock_shared(nightshift.run_lock_key(p_unlock));/NULL;/' \
              "$here/../../main/resources/db/migration/R__queue.sql")
unlimited="UPDATE nightshift.job SET concurrency = 0"
for r in $(seq 1 "$rounds"); do
  for v in "${variants[@]}"; do
    db=${prefix}_v
    psql_ -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db TEMPLATE $prefix"
    script=chain
    case $v in
      floor) script=floor ;;
      chain-period) script=chain-period ;;
      chain) ;;
      no-lock) echo "$no_lock" | psql_ -d "$db" >/dev/null 2>&1 ;;
      unlimited) psql_ -d "$db" -c "$unlimited" ;;
      hot) psql_ -d "$db" -f "$here/hot.sql" ;;
      hot-unlimited) psql_ -d "$db" -f "$here/hot.sql" -c "$unlimited" ;;
      hot-sql) psql_ -d "$db" -f "$here/hot.sql"; script=hot-sql ;;
      v3) psql_ -d "$db" -f "$here/v3.sql"; script=v3 ;;
      v3-unlimited) psql_ -d "$db" -c "$unlimited" -f "$here/v3.sql"; script=v3 ;;
      *) echo "unknown variant $v" >&2; exit 2 ;;
    esac
    psql_ -d "$db" -c "INSERT INTO nightshift.run (job_name, trigger, max_attempts, dedupe_key) SELECT 'bench', 'manual', 1000, 'bench:' || g FROM generate_series(1, 100000) g" \
          -c "INSERT INTO public.bench_floor (id, state) SELECT g, 'available' FROM generate_series(1, 100000) g"
    # v3: the same runs in the third version's queue, their settings prepared at enqueue, their dedupe keys in run_key
    if [[ $v == v3* ]]; then psql_ -d "$db" -c "DELETE FROM nightshift.run" \
        -c "INSERT INTO v3.queue (id, job_name, run_at, max_attempts, trigger, setting_names, setting_values)
            SELECT g, 'bench', now(), 1000, 'manual',
                   '{statement_timeout,nightshift.run_id,nightshift.job_name,nightshift.scheduled_at,nightshift.period_start,nightshift.period_end}',
                   ARRAY['1000', g::text, 'bench', '', '', ''] FROM generate_series(1, 100000) g" \
        -c "INSERT INTO v3.run_key (dedupe_key, run_id) SELECT 'bench:' || g, g FROM generate_series(1, 100000) g"; fi
    if [[ $v == hot* ]]; then psql_ -d "$db" -c "INSERT INTO nightshift.run_queue SELECT id, job_name, run_at FROM nightshift.run"; fi
    psql_ -d "$db" -c "VACUUM ANALYZE" -c "CHECKPOINT"
    before=$(server_ticks)
    out=$(pgbench -n -M prepared -D id=0 -D att=0 -D fid=0 -D owner=0 -D job=none -D slot=-1 -c "$clients" -j 2 -T "$secs" -f "$here/$script.pgb" "$db" 2>&1 || true)
    sleep 0.5; after=$(server_ticks)
    tps=$(echo "$out" | grep -oE 'tps = [0-9]+' | head -1 | grep -oE '[0-9]+' || echo "?")
    done_=$(echo "$out" | grep -oE 'actually processed: [0-9]+' | grep -oE '[0-9]+' || echo 0)
    cpu=$(( done_ > 0 ? (after - before) * 1000000 / $(getconf CLK_TCK) / done_ : 0 ))
    table=nightshift.run; [[ $v == v3* ]] && table=v3.job_slot
    hot=$(psql_ -d "$db" -c "SELECT n_tup_hot_upd || ' of ' || n_tup_upd FROM pg_stat_user_tables WHERE relid = '$table'::regclass")
    failed=$(echo "$out" | grep -cE 'aborted|error' || true)
    echo "round $r $v: $tps tps, server CPU $cpu µs/run (HOT updates of $table: $hot)$([ "$failed" -gt 0 ] && echo ", $failed error lines, the first: $(echo "$out" | grep -m1 -E 'aborted|error' | cut -c1-300)")"
  done
done
