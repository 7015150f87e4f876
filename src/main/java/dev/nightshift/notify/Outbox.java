package dev.nightshift.notify;

import dev.nightshift.config.NotifyTarget;
import dev.nightshift.db.Tx;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The {@code nightshift.notification} table (V1__baseline.sql): rows written in the transaction of the state
 * they report, taken by any node with a lease, and marked delivered or failed. Thread-safe.
 */
public final class Outbox {
    /** How long a node's take of a row lasts: longer than a try can ({@link Webhook#TIMEOUT}) plus the body. */
    static final Duration LEASE = Webhook.TIMEOUT.plusSeconds(5);
    /** Tries of one notification before it is given up (about a day with the backoff below). */
    static final int MAX_ATTEMPTS = 20;

    private final DataSource ds;

    public Outbox(DataSource ds) {
        this.ds = ds;
    }

    /**
     * A slot of {@code job} turned late: its notifications, once however many nodes see it (the
     * key names job and slot), in the caller's transaction.
     */
    public static void late(Connection c, String job, Instant slot, String deadline) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT nightshift.notify_enqueue(?, 'late', NULL, ?, NULL, ?, ?, ?)")) {
            ps.setString(1, job);                                                   // job
            ps.setTimestamp(2, Timestamp.from(slot));                               // slot
            ps.setTimestamp(3, Timestamp.from(slot));                               // period_end
            ps.setString(4, "no success by its deadline (" + deadline + ")");       // error
            ps.setString(5, "late:" + job + ":" + slot.toEpochMilli());             // idempotency key
            ps.execute();
        }
    }

    /**
     * Takes up to {@code max} due rows for this node: each one's next try moves past the lease, so
     * that a node killed while delivering leaves it to another. Its own transaction.
     */
    List<Notification> take(int max) throws SQLException {
        String sql = """
                UPDATE nightshift.notification n
                SET attempts = n.attempts + 1, next_at = clock_timestamp() + ? * interval '1 millisecond'
                WHERE n.id IN (SELECT d.id FROM nightshift.notification d
                               WHERE d.state = 'pending' AND d.next_at <= clock_timestamp()
                               ORDER BY d.next_at
                               LIMIT ?
                               FOR UPDATE SKIP LOCKED)
                RETURNING n.id, n.job_name, n.event, n.run_id, n.slot, n.period_start, n.period_end, n.error, n.url, n.format,
                          n.idempotency_key, n.attempts
                """;
        return Tx.call(ds, c -> {
            List<Notification> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, LEASE.toMillis());    // lease
                ps.setInt(2, max);                  // batch
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Notification(rs.getLong(1), rs.getString(2), rs.getString(3), (Long) rs.getObject(4),
                                instant(rs.getTimestamp(5)), instant(rs.getTimestamp(6)), instant(rs.getTimestamp(7)),
                                rs.getString(8), rs.getString(9), NotifyTarget.format(rs.getString(10)), rs.getString(11),
                                rs.getInt(12)));
                    }
                }
            }
            return out;
        });
    }

    /** How long until the next pending notification is due (zero if one is already), or empty if none is pending. */
    Optional<Duration> untilNextDue() throws SQLException {
        return Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT ceil(extract(epoch FROM min(next_at) - clock_timestamp()) * 1000)::bigint
                    FROM nightshift.notification WHERE state = 'pending'
                    """);
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                long ms = rs.getLong(1);
                // NULL: nothing pending (and not greatest(0, NULL), which would be 0)
                return rs.wasNull() ? Optional.<Duration>empty() : Optional.of(Duration.ofMillis(Math.max(0, ms)));
            }
        });
    }

    void delivered(long id) throws SQLException {
        update("UPDATE nightshift.notification SET state = 'delivered', delivered_at = now(), last_error = NULL WHERE id = ?",
                id, null, null);
    }

    /** A failed try: again after {@code delay}, or given up ({@code failed}) after the last try. */
    void failed(long id, String error, Duration delay, boolean last) throws SQLException {
        update("""
                UPDATE nightshift.notification
                SET last_error = ?, state = CASE WHEN ? THEN 'failed' ELSE state END,
                    next_at = clock_timestamp() + ? * interval '1 millisecond'
                WHERE id = ?
                """, id, error, new Object[] {last, delay.toMillis()});
    }

    private void update(String sql, long id, String error, Object[] more) throws SQLException {
        Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                if (more != null) {
                    ps.setString(i++, error);                   // last_error
                    ps.setBoolean(i++, (Boolean) more[0]);      // given up?
                    ps.setLong(i++, (Long) more[1]);            // backoff
                }
                ps.setLong(i, id);                              // id
                return ps.executeUpdate();
            }
        });
    }

    /** Deletes delivered and failed rows older than {@code retention}. */
    public void prune(Duration retention) throws SQLException {
        Tx.call(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM nightshift.notification WHERE state <> 'pending' AND created_at < now() - ? * interval '1 second'")) {
                ps.setLong(1, retention.toSeconds());   // retention
                return ps.executeUpdate();
            }
        });
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
