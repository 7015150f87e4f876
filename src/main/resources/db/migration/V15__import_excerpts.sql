-- What an import error quotes from its input is bounded: at most 200 characters of a value, then
-- "…(N bytes)" with the whole value's length, so that a 20 MB field cannot make a 20 MB reject reason.
-- (The raw line kept in import_reject is bounded the same way by nightshift before it is stored.)

CREATE FUNCTION excerpt(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN length(t) <= 200 THEN t ELSE left(t, 200) || '…(' || octet_length(t) || ' bytes)' END
$$;

-- As in V3, with the value shown through excerpt(), also inside the server's own message, which quotes it whole.
CREATE OR REPLACE FUNCTION import_row_problem(vals text[], names text[], types text[], not_null boolean[])
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
