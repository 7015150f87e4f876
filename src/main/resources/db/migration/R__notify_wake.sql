-- Wakes every node's notification loop when notifications are written (dead run, late slot,
-- recovery), at the commit of the transaction that wrote them: the loops otherwise only look again
-- at the next retry's time or after a long backstop, so an idle node does not poll the outbox.
CREATE OR REPLACE FUNCTION nightshift.notification_wake() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nightshift_outbox', '');
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS notification_wake ON nightshift.notification;
CREATE TRIGGER notification_wake AFTER INSERT ON nightshift.notification
    FOR EACH STATEMENT EXECUTE FUNCTION nightshift.notification_wake();
