-- Data-aware jobs: change tracking for skip_if_unchanged, and the arrival trigger of batch-import.
--
-- skip_if_unchanged: what a refresh-materialized-view or rebuild-summary job read when it last
-- succeeded, so that a run whose sources have not changed since can succeed at once.
--
-- Each source table that such a job reads gets a statement-level trigger (BEFORE INSERT, UPDATE,
-- DELETE, TRUNCATE; enabled ALWAYS, so logical replication's writes count too) that bumps a
-- sequence of its own, nightshift.changes_<table oid>, and takes a transaction-level advisory lock
-- on the table in SHARED mode. Writers never wait for each other on either: nextval does not
-- block, and shared locks do not conflict. A job's mark of a table is the sequence's value,
-- read while holding that lock in EXCLUSIVE mode for an instant, taken only if free: when a
-- writer of the table is still in flight (its change may be committed after the refresh's
-- snapshot), there is no mark, and the next run refreshes.

CREATE TABLE source_mark (
    job_name   text PRIMARY KEY,
    -- {"server_started": ..., "tables": {"<oid>": {"name", "filenode", "changes"}}, "view": <oid>}
    marks      jsonb NOT NULL,
    run_id     bigint NOT NULL,
    taken_at   timestamptz NOT NULL DEFAULT now()
);

-- The advisory lock of one table's writers, in the two-integer key space (run locks use the
-- one-bigint space, so the two can never meet): 1853055848 is "nsch" in ASCII.
CREATE FUNCTION change_lock_key(rel oid) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (rel::bigint - 2147483648)::integer
$$;

CREATE FUNCTION note_change() RETURNS trigger
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
CREATE FUNCTION change_count(rel oid) RETURNS bigint
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

-- on_arrival: a batch-import run enqueued because a file arrived in the job's source.
ALTER TABLE run DROP CONSTRAINT run_trigger_check;
ALTER TABLE run ADD CONSTRAINT run_trigger_check CHECK (trigger IN ('schedule', 'manual', 'after', 'backfill', 'arrival'));
