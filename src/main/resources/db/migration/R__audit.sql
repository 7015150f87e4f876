-- The audit table is append-only: no UPDATE, DELETE or TRUNCATE, even by its owner (repeatable:
-- re-applied whenever this file changes).

CREATE OR REPLACE FUNCTION nightshift.audit_is_append_only() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'nightshift.audit is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

DROP TRIGGER IF EXISTS audit_append_only ON nightshift.audit;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON nightshift.audit
    FOR EACH ROW EXECUTE FUNCTION nightshift.audit_is_append_only();
DROP TRIGGER IF EXISTS audit_no_truncate ON nightshift.audit;
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON nightshift.audit
    FOR EACH STATEMENT EXECUTE FUNCTION nightshift.audit_is_append_only();
