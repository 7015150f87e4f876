package dev.nightshift.schedule;

import dev.nightshift.db.Tx;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Pause and resume: {@code nightshift.job.paused} is the one source of truth, which the
 * scheduler reads before it enqueues a fire. Manual triggers still run a paused job.
 * Shared by the CLI and the HTTP API. Thread-safe.
 */
public final class JobControl {
    private final DataSource ds;

    public JobControl(DataSource ds) {
        this.ds = ds;
    }

    /** Sets the flag of a job in the catalog; false when there is no such job. */
    public boolean setPaused(String job, boolean paused) throws SQLException {
        return Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE nightshift.job SET paused = ?, updated_at = now()
                    WHERE name = ? AND removed_at IS NULL
                    """)) {
                ps.setBoolean(1, paused);   // paused
                ps.setString(2, job);       // name
                return ps.executeUpdate() == 1;
            }
        });
    }
}
