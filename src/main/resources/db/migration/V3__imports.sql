-- batch imports: the files applied (so the same content is never applied twice) and the rows skipped.

CREATE TABLE import_file (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_name     text NOT NULL,
    target       text NOT NULL,
    file_name    text NOT NULL,
    -- SHA-256 of the file's bytes, hex
    checksum     text NOT NULL,
    run_id       bigint NOT NULL,
    counts       jsonb NOT NULL,
    imported_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (job_name, checksum)
);

CREATE TABLE import_reject (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      bigint NOT NULL,
    job_name    text NOT NULL,
    file_name   text NOT NULL,
    line        bigint NOT NULL,
    reason      text NOT NULL,
    raw         text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX import_reject_run_idx ON import_reject (run_id, file_name, line);

-- Why a row of text values does not fit the given column types (NULL when it fits): the first
-- column whose value cannot be read as its type, or is null where the target forbids it.
-- PostgreSQL 16 and later check without a subtransaction (pg_input_error_info); older servers
-- try the cast inside an exception block, which is slower but only runs for files with bad rows.
CREATE FUNCTION import_row_problem(vals text[], names text[], types text[], not_null boolean[])
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
            RETURN format('column %s: value %s does not fit type %s (%s)', names[i], quote_literal(vals[i]), types[i], err);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
