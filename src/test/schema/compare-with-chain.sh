#!/bin/bash
# Compares the schema that this checkout's migrations make with the one an older commit's make:
# both applied to scratch databases in Flyway's order (versions by number, then repeatables by
# name, each in one transaction with search_path nightshift), then pg_dump --schema-only of the
# nightshift schema, without pg_dump's random \restrict lines. Prints the difference; exit 0 when
# there is none. It checked the squash of V1..V21 into V1__baseline.sql (issue 21):
#   src/test/schema/compare-with-chain.sh 51059e4
# Needs psql and pg_dump; PGHOST, PGPORT, PGUSER as for psql (default 127.0.0.1, postgres).
set -euo pipefail
ref=${1:?usage: compare-with-chain.sh GIT-REF (the commit whose migrations to compare with)}
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
root=$(git rev-parse --show-toplevel)
dir=db/migration
work=$(mktemp -d)
trap 'rm -rf "$work"; for d in ns_cmp_old ns_cmp_new; do psql -qX -d postgres -c "DROP DATABASE IF EXISTS $d" 2>/dev/null || true; done' EXIT
mkdir "$work/old"
for f in $(git -C "$root" ls-tree --name-only "$ref:src/main/resources/$dir/"); do
    git -C "$root" show "$ref:src/main/resources/$dir/$f" > "$work/old/$f"
done
apply() {   # apply DB DIR
    psql -qX -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
    psql -qX -v ON_ERROR_STOP=1 -d "$1" -c "CREATE SCHEMA nightshift"
    for f in $(ls "$2" | grep '^V' | sort -t_ -k1.2n) $(ls "$2" | grep '^R__' | sort); do
        PGOPTIONS='-c search_path=nightshift -c client_min_messages=warning' \
            psql -qX -1 -v ON_ERROR_STOP=1 -d "$1" -f "$2/$f" > /dev/null
    done
    pg_dump --schema-only --schema=nightshift "$1" | grep -v '^\\restrict \|^\\unrestrict ' > "$work/$1.sql"
}
apply ns_cmp_old "$work/old"
apply ns_cmp_new "$root/src/main/resources/$dir"
if diff -u "$work/ns_cmp_old.sql" "$work/ns_cmp_new.sql"; then
    echo "same schema: $(grep -c '^CREATE' "$work/ns_cmp_new.sql") CREATE statements in each dump"
else
    exit 1
fi
