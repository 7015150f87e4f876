-- The functions of imports and data-aware jobs (repeatable: re-applied whenever this file changes).
--
-- excerpt(): what an import error quotes from its input is bounded: at most 200 characters of a
-- value, then "…(N bytes)" with the whole value's length, so that a 20 MB field cannot make a
-- 20 MB reject reason. import_row_problem(): why a row of a file does not fit the target table.
--
-- Change tracking for skip_if_unchanged: each source table that a refresh-materialized-view or
-- rebuild-summary job reads gets a statement-level trigger (note_change; BEFORE INSERT, UPDATE,
-- DELETE, TRUNCATE, enabled ALWAYS) that bumps a sequence of its own, nightshift.changes_<table
-- oid>, and takes a transaction-level advisory lock on the table in SHARED mode. A job's mark of
-- a table is that sequence's value (change_count), read while holding the lock in EXCLUSIVE mode
-- for an instant, taken only if free. The lock key space is the two-integer one: 1853055848 is
-- "nsch" in ASCII, change_lock_key() the table's half.

CREATE OR REPLACE FUNCTION nightshift.excerpt(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN length(t) <= 200 THEN t ELSE left(t, 200) || '…(' || octet_length(t) || ' bytes)' END
$$;

CREATE OR REPLACE FUNCTION nightshift.import_row_problem(vals text[], names text[], types text[], not_null boolean[])
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    i integer;
    err text;
BEGIN
    FOR i IN 1 .. coalesce(array_length(vals, 1), 0) LOOP
        IF vals[i] IS NULL THEN
            IF not_null[i] THEN
                RETURN format('column %s: a value is required (the column is NOT NULL)', names[i]);
            END IF;
            CONTINUE;
        END IF;
        IF current_setting('server_version_num')::int >= 160000 THEN
            EXECUTE 'SELECT message FROM pg_input_error_info($1, $2)' INTO err USING vals[i], types[i];
        ELSE
            BEGIN
                EXECUTE format('SELECT %L::%s', vals[i], types[i]);
                err := NULL;
            EXCEPTION WHEN data_exception THEN
                err := SQLERRM;
            END;
        END IF;
        IF err IS NOT NULL THEN
            IF length(vals[i]) > 200 THEN
                err := replace(err, vals[i], nightshift.excerpt(vals[i]));
            END IF;
            IF length(err) > 400 THEN
                err := left(err, 400) || '…';
            END IF;
            RETURN format('column %s: value %s does not fit type %s (%s)', names[i],
                          quote_literal(nightshift.excerpt(vals[i])), types[i], err);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION nightshift.change_lock_key(rel oid) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (rel::bigint - 2147483648)::integer
$$;

CREATE OR REPLACE FUNCTION nightshift.note_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1853055848, nightshift.change_lock_key(TG_RELID));
    PERFORM nextval(TG_ARGV[0]::regclass);
    RETURN NULL;
END
$$;

-- How many writing statements the table has seen since its tracking began, or NULL while one
-- of its writers' transactions is still open. The exclusive lock is held only for the read and
-- is released whatever happens: a session-level lock outlives a rollback.
CREATE OR REPLACE FUNCTION nightshift.change_count(rel oid) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
    called boolean;
BEGIN
    IF NOT pg_try_advisory_lock(1853055848, nightshift.change_lock_key(rel)) THEN
        RETURN NULL;
    END IF;
    BEGIN
        EXECUTE format('SELECT last_value, is_called FROM nightshift.%I', 'changes_' || rel) INTO v, called;
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        PERFORM pg_advisory_unlock(1853055848, nightshift.change_lock_key(rel));
        RAISE;
    END;
    PERFORM pg_advisory_unlock(1853055848, nightshift.change_lock_key(rel));
    RETURN CASE WHEN called THEN v ELSE 0 END;
END
$$;
