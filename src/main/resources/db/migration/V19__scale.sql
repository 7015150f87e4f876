-- Batch at scale (issue 24): who did what, and remote import sources. Additive only (new nullable
-- columns, a new table), so that the queue's new baseline can fold it in.

-- The actor of the last operator action on a run: who triggered it, or who last cancelled or
-- retried it (an after: run inherits its parent's; a scheduled run has none). Readable by the
-- job's SQL as current_setting('nightshift.actor') (empty without one).
ALTER TABLE run ADD COLUMN actor text;

-- Who started a backfill; its runs carry it as their actor.
ALTER TABLE backfill ADD COLUMN actor text;

-- Every operator action, written in the transaction of the action itself, so an action without its
-- row (or a row without its action) cannot exist. Append-only: the trigger below refuses UPDATE,
-- DELETE and TRUNCATE for every role but a superuser that disables it on purpose.
CREATE TABLE audit (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor     text NOT NULL CHECK (actor <> ''),
    role      text NOT NULL CHECK (role IN ('admin', 'operator', 'read')),
    action    text NOT NULL CHECK (action IN ('trigger', 'cancel', 'retry', 'pause', 'resume', 'backfill',
                                              'backfill-cancel', 'guard-override', 'settings')),
    job_name  text,
    run_id    bigint,
    backfill_id bigint,
    detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_job_idx ON audit (job_name, id DESC);
CREATE INDEX audit_actor_idx ON audit (actor, id DESC);

CREATE FUNCTION audit_is_append_only() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'nightshift.audit is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();

-- A remote source's validators of the content applied (ETag, Last-Modified), sent back as
-- If-None-Match / If-Modified-Since: a 304 ends the next run without downloading anything.
ALTER TABLE import_file ADD COLUMN etag text, ADD COLUMN last_modified text;
