package dev.nightshift.queue;

/**
 * The PostgreSQL advisory lock that proves a run's owner is alive. The owner holds it in shared
 * mode on the connection that does the run's work; the rescuer may treat a running run as
 * orphaned only if it can take the lock exclusively.
 *
 * <p>Keys are the run id with "ns" (0x6E73) in the top 16 bits, so that they do not collide with
 * the single-bigint advisory locks of other software in the same database (Flyway's among them).
 */
public final class RunLock {
    static final long NAMESPACE = 0x6E73L << 48;
    /** The same key in SQL (migration V5's function), for a run row aliased {@code r}. */
    static final String SQL_KEY = "nightshift.run_lock_key(r.id)";
    /** Matches a pg_locks row {@code l} against {@link #SQL_KEY}: a bigint key shows as classid/objid, objsubid 1. */
    static final String PG_LOCKS_MATCH = "l.locktype = 'advisory' AND l.objsubid = 1"
            + " AND l.classid = (" + SQL_KEY + " >> 32)::oid"
            + " AND l.objid = (" + SQL_KEY + " & 4294967295)::oid"
            + " AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())";

    private RunLock() {
    }

    public static long key(long runId) {
        return NAMESPACE | runId;
    }
}
