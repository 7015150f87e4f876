package dev.nightshift.schedule;

import dev.nightshift.db.SqlStates;
import dev.nightshift.db.Tx;
import dev.nightshift.loop.Loop;
import dev.nightshift.loop.Loops;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.notify.Outbox;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the late-slot gauges current and notifies late slots: it reads which slots are past their
 * deadline ({@link Lateness}) while their work is still pending, so an alert can fire before the run
 * ends, or when no run was ever made. It wakes at the next deadline instant (a slot turns late at a
 * known time) and at least every {@code every}, never more than once a second. Every node reads the
 * same database, so every node reports the same values; a late slot's notification is written once
 * for the cluster (its outbox key names job and slot). Thread-safe; start once, close once.
 */
public final class DeadlineWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DeadlineWatch.class);
    /** Deadlines closer together than this share a wake-up: an idle node stays at one transaction a second at most. */
    static final Duration MIN_WAKE = Duration.ofSeconds(1);
    /** A wake a little after the deadline instant, so the slot is late when read (clocks of node and database differ by ms). */
    private static final Duration AFTER_DEADLINE = Duration.ofMillis(200);

    private final Lateness lateness;
    private final Metrics metrics;
    private final DataSource ds;
    private final Clock clock;
    /** Late slots this node has written notifications for ("job@epoch ms"); others' writes are found by key. */
    private final Set<String> notified = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile Duration every = Duration.ofSeconds(30);
    private volatile Loop loop;

    /** @param ds where late slots' notifications are written, or null for gauges only */
    public DeadlineWatch(Lateness lateness, Metrics metrics, DataSource ds, Clock clock) {
        this.lateness = lateness;
        this.metrics = metrics;
        this.ds = ds;
        this.clock = clock;
    }

    public DeadlineWatch(Lateness lateness, Metrics metrics) {
        this(lateness, metrics, null, Clock.systemUTC());
    }

    /** Reads the late slots now, then as planned, as a loop of {@code loops} until {@link #close()}. */
    public synchronized void start(Duration every, Loops loops) {
        this.every = every;
        loop = loops.add(new Loop("deadline-watch", this::tick, () -> metrics.loopError("deadline-watch"))).start();
    }

    /**
     * Reads the late slots now and plans the next wake from them: once the catalog is synced (the
     * jobs and their deadlines may be new), instead of waiting for the planned wake.
     */
    public void wake() {
        Loop l = loop;
        if (l != null) {
            l.wake();
        }
    }

    private Duration tick() throws SQLException {
        Instant next;
        try {
            next = refresh();
        } catch (SQLException e) {
            if ("42P01".equals(SqlStates.of(e))) {
                // the schema is not migrated yet: the HTTP port, and this loop, start before migrations
                return every;
            }
            throw e;
        }
        return delay(clock.instant(), next, every);
    }

    /** Until the next deadline (just after it), at most {@code every}, at least {@link #MIN_WAKE}. */
    static Duration delay(Instant now, Instant nextDeadline, Duration every) {
        if (nextDeadline == null) {
            return every;
        }
        Duration until = Duration.between(now, nextDeadline).plus(AFTER_DEADLINE);
        return until.compareTo(MIN_WAKE) < 0 ? MIN_WAKE : until.compareTo(every) > 0 ? every : until;
    }

    /** Reads the late slots now, sets the gauges and notifies new late slots; returns the next deadline instant or null. */
    public Instant refresh() throws SQLException {
        Instant next = null;
        List<Lateness.Late> fresh = new ArrayList<>();
        for (Map.Entry<String, Lateness.Late> e : lateness.all().entrySet()) {
            Lateness.Late l = e.getValue();
            metrics.late(e.getKey(), l.slots().size(), l.overdue());
            if (l.nextDeadline() != null && (next == null || l.nextDeadline().isBefore(next))) {
                next = l.nextDeadline();
            }
            if (l.slots().stream().anyMatch(s -> !notified.contains(l.job() + "@" + s.toEpochMilli()))) {
                fresh.add(l);
            }
        }
        if (ds != null && !fresh.isEmpty()) {
            notifyLate(fresh);
        }
        return next;
    }

    private void notifyLate(List<Lateness.Late> lates) throws SQLException {
        Set<String> written = new HashSet<>();
        Tx.call(ds, c -> {
            for (Lateness.Late l : lates) {
                for (Instant s : l.slots()) {
                    String k = l.job() + "@" + s.toEpochMilli();
                    if (!notified.contains(k)) {
                        Outbox.late(c, l.job(), s, l.deadline());
                        written.add(k);
                    }
                }
            }
            return null;
        });
        notified.addAll(written);
    }

    @Override
    public void close() {
        Loop l = loop;
        if (l != null) {
            l.stop(Duration.ofSeconds(5));
        }
    }
}
