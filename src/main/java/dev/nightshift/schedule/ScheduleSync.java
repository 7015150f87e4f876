package dev.nightshift.schedule;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.db.Tx;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.quartz.SchedulerException;

/**
 * The whole sync of a catalog: the job rows ({@link CatalogSync}) and then the Quartz triggers,
 * as one critical section across the cluster. Two nodes starting together thus end with one
 * trigger per schedule, the second finding the first's work done. Thread-safe.
 */
public final class ScheduleSync {
    /** Held for the whole sync; a key of its own, since CatalogSync takes {@link CatalogSync#SYNC_LOCK} inside. */
    static final long SCHEDULE_SYNC_LOCK = 0x6E7373636864L;

    private final DataSource ds;
    private final QuartzCluster quartz;

    public ScheduleSync(DataSource ds, QuartzCluster quartz) {
        this.ds = ds;
        this.quartz = quartz;
    }

    /** What a sync changed: job rows, then triggers. */
    public record Result(int added, int updated, int removed, int scheduled, int rewritten, int unscheduled) {
        public String describe() {
            return "%d added, %d updated, %d removed; triggers: %d new, %d rewritten, %d deleted"
                    .formatted(added, updated, removed, scheduled, rewritten, unscheduled);
        }
    }

    public Result sync(JobCatalog catalog) throws SQLException {
        // The lock lives in a transaction of its own, left open while the rows and the triggers
        // (Quartz writes with its own connections) are written; ending it, even by a lost
        // connection, releases the lock.
        return Tx.call(ds, lock -> {
            try (PreparedStatement ps = lock.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
                ps.setLong(1, SCHEDULE_SYNC_LOCK);
                ps.execute();
            }
            CatalogSync.Result rows = new CatalogSync(ds).sync(catalog);
            try {
                TriggerSync.Result t = TriggerSync.sync(quartz.quartz(), catalog);
                forgetRemovedSchedules(lock);
                return new Result(rows.added(), rows.updated(), rows.removed(), t.scheduled(), t.rewritten(), t.unscheduled());
            } catch (SchedulerException e) {
                throw new SQLException("cannot write the Quartz triggers: " + e.getMessage(), e);
            }
        });
    }

    /** Once the triggers match the catalog, removed jobs leave their schedule: its fires stop counting them. */
    private static void forgetRemovedSchedules(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE nightshift.job SET schedule_key = NULL
                WHERE removed_at IS NOT NULL AND schedule_key IS NOT NULL
                """)) {
            ps.executeUpdate();
        }
    }
}
