package dev.nightshift.jobs;

import dev.nightshift.config.PeriodTemplate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.Map;

/** The run's logical time as the attempt's session settings carry it, for job types that need it in Java. Stateless. */
final class LogicalTimes {
    private LogicalTimes() {
    }

    /** scheduled_at, period_start and period_end of the attempt's run; none when it has no period. */
    static Map<String, OffsetDateTime> of(Connection c) throws SQLException {
        Map<String, OffsetDateTime> times = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT n, current_setting('nightshift.' || n, true)
                FROM unnest(ARRAY['scheduled_at', 'period_start', 'period_end']) AS n
                """); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                String v = rs.getString(2);
                if (v != null && !v.isEmpty()) {
                    times.put(rs.getString(1), OffsetDateTime.parse(v));
                }
            }
        }
        return times;
    }

    /** {@code text} with the run's logical times put in (see {@link PeriodTemplate}); unchanged when it names none. */
    static String expand(Connection c, String text) throws SQLException, JobFailedException {
        if (!PeriodTemplate.uses(text)) {
            return text;
        }
        try {
            return PeriodTemplate.expand(text, of(c));
        } catch (IllegalArgumentException e) {
            throw new JobFailedException(e.getMessage());
        }
    }
}
