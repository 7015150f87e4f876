package dev.nightshift.runlog;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the run logs of one node: attempts hand their lines to an in-memory queue, and one thread
 * writes them in batches, each batch one INSERT on a connection of its own (never the job's: a
 * rolled-back attempt keeps its lines), at most every {@link #FLUSH_INTERVAL}, so a run costs its
 * worker no round trip. The writer numbers each attempt's lines, and caps each run's log at
 * {@link #maxLines()} lines and {@link #maxBytes()} bytes over all its attempts, ending a capped log
 * with a line that says so. Lines that wait while the database is unreachable are kept up to
 * {@link #MAX_PENDING}, then dropped and counted. Thread-safe; start once, stop once.
 */
public final class RunLogWriter {
    private static final Logger log = LoggerFactory.getLogger(RunLogWriter.class);
    public static final int DEFAULT_MAX_LINES = 10_000;
    public static final long DEFAULT_MAX_BYTES = 1L << 20;
    /** How long a line may wait for its batch: what a follower of a running run waits at most, besides its poll. */
    static final Duration FLUSH_INTERVAL = Duration.ofMillis(200);
    private static final int BATCH = 2_000;
    private static final int MAX_PENDING = 100_000;
    /** How the line that ends a capped log begins; a later attempt finds it and writes nothing more. */
    static final String CAP_NOTE = "log capped:";

    enum Kind {
        LINE, OVER, CLOSE
    }

    /** A line waiting for its batch; OVER and CLOSE carry no text. */
    record Pending(long runId, int attempt, Instant at, RunLog.Level level, String text, Kind kind) {
    }

    /** What the writer knows of a run's log in the table: its size, and the last line number of each attempt. */
    private static final class RunState {
        int lines;
        long bytes;
        boolean capped;
        final Map<Integer, Integer> lastLine = new HashMap<>();
    }

    private final DataSource ds;
    private final Scrubber scrubber;
    private final Clock clock;
    private final int maxLines;
    private final long maxBytes;
    private final Runnable onError;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final Map<Long, RunState> runs = new HashMap<>();
    private long dropped;
    private boolean stopping;
    private Thread thread;

    /**
     * @param onError called once per failed write (a metric); the writer logs and retries by itself
     */
    public RunLogWriter(DataSource ds, Scrubber scrubber, Clock clock, int maxLines, long maxBytes, Runnable onError) {
        if (maxLines < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("a run log's cap must be at least 1 line and 1 byte");
        }
        this.ds = ds;
        this.scrubber = scrubber;
        this.clock = clock;
        this.maxLines = maxLines;
        this.maxBytes = maxBytes;
        this.onError = onError;
    }

    public synchronized void start(String nodeName) {
        if (thread != null) {
            throw new IllegalStateException("run log writer already started");
        }
        RunLogAppender.attach();
        thread = new Thread(this::flushLoop, "nightshift-run-log-" + nodeName);
        thread.setDaemon(true);
        thread.start();
    }

    /** Writes what is still queued (for a few seconds at most, should the database be down) and stops. */
    public void stop() {
        Thread t;
        synchronized (this) {
            stopping = true;
            notifyAll();
            t = thread;
        }
        if (t != null) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                // the lines still queued are lost with the process; the caller sees the flag
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Opens the log of an attempt this node starts; lines logged with the run in the MDC go there too until it closes. */
    public AttemptLog open(long runId, int attempt) {
        AttemptLog a = new AttemptLog(this, runId, attempt, clock);
        RunLogAppender.OPEN.put(runId, a);
        return a;
    }

    int maxLines() {
        return maxLines;
    }

    long maxBytes() {
        return maxBytes;
    }

    /** What masks secrets in this node's run logs, for the node's own log lines that may carry them too. */
    public Scrubber scrubber() {
        return scrubber;
    }

    /** @param wrote whether the attempt logged a line: only then does the writer know the run, and need to forget it */
    void closed(AttemptLog a, boolean wrote) {
        RunLogAppender.OPEN.remove(a.runId(), a);
        if (wrote) {
            add(new Pending(a.runId(), a.attempt(), clock.instant(), null, null, Kind.CLOSE));
        }
    }

    synchronized void add(Pending p) {
        if (pending.size() >= MAX_PENDING && p.kind() == Kind.LINE) {
            dropped++;
            return;
        }
        pending.add(p);
        // the first line starts the flush interval's clock; a full batch goes at once
        if (pending.size() == 1 || pending.size() == BATCH) {
            notifyAll();
        }
    }

    private void flushLoop() {
        int failures = 0;
        while (true) {
            List<Pending> batch;
            synchronized (this) {
                long deadline = System.nanoTime() + FLUSH_INTERVAL.toNanos();
                while (!stopping && pending.size() < BATCH && (pending.isEmpty() || System.nanoTime() < deadline)) {
                    try {
                        long wait = pending.isEmpty() ? 0 : Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                        wait(wait);
                        if (pending.isEmpty()) {
                            deadline = System.nanoTime() + FLUSH_INTERVAL.toNanos();
                        }
                    } catch (InterruptedException e) {
                        // only stop() ends this loop; an interrupt from elsewhere must not lose the lines
                        Thread.interrupted();
                    }
                }
                if (pending.isEmpty()) {
                    return;   // stopping, all written
                }
                batch = new ArrayList<>(Math.min(pending.size(), BATCH));
                while (!pending.isEmpty() && batch.size() < BATCH) {
                    batch.add(pending.poll());
                }
                if (dropped > 0) {
                    log.warn("run logs: {} lines dropped while their batches could not be written", dropped);
                    dropped = 0;
                }
            }
            failures = write(batch, failures);
            if (failures > 0 && stopping && failures > 3) {
                log.warn("run logs: stopping with {} lines unwritten (database unreachable)", batch.size());
                return;
            }
        }
    }

    /** Writes one batch, retrying (with backoff) until it is written or the writer stops; returns the failures in a row. */
    private int write(List<Pending> batch, int failures) {
        List<Row> rows = null;
        while (true) {
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                try (var st = c.createStatement()) {
                    // A log line is not worth a WAL flush: a crash of the server may lose the last
                    // fraction of a second of lines, never a run's state (written elsewhere).
                    st.execute("SET LOCAL synchronous_commit = off");
                }
                if (rows == null) {
                    rows = rows(c, batch);
                }
                insert(c, rows);
                c.commit();
                forgetClosed(batch);
                if (failures > 0) {
                    log.info("run logs written again after {} failed attempts", failures);
                }
                return 0;
            } catch (SQLException | RuntimeException e) {
                // the pool rolls back what the failed batch left open when the connection goes back
                failures++;
                onError.run();
                if (failures == 1) {
                    log.warn("run logs: could not write {} lines, retrying: {}", batch.size(), e.toString());
                }
                if (stopping && failures > 3) {
                    return failures;
                }
                sleep(Math.min(5_000, 100L << Math.min(failures, 6)));
            }
        }
    }

    private record Row(long runId, int attempt, int line, Instant at, RunLog.Level level, String text) {
    }

    /** Numbers the batch's lines and applies the cap, reading first what the table holds of runs new to this writer. */
    private List<Row> rows(Connection c, List<Pending> batch) throws SQLException {
        load(c, batch);
        List<Row> rows = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            if (p.kind() == Kind.CLOSE) {
                continue;
            }
            RunState s = runs.get(p.runId());
            if (s.capped) {
                continue;
            }
            int size = p.kind() == Kind.LINE ? p.text().getBytes(java.nio.charset.StandardCharsets.UTF_8).length : 0;
            int line = s.lastLine.merge(p.attempt(), 1, Integer::sum);
            if (p.kind() == Kind.OVER || s.lines + 1 > maxLines || s.bytes + size > maxBytes) {
                s.capped = true;
                rows.add(new Row(p.runId(), p.attempt(), line, p.at(), RunLog.Level.WARNING, CAP_NOTE + " a run's log keeps at most "
                        + maxLines + " lines and " + maxBytes + " bytes over all its attempts; this run's later lines are not kept"));
                continue;
            }
            s.lines++;
            s.bytes += size;
            rows.add(new Row(p.runId(), p.attempt(), line, p.at(), p.level(), p.text()));
        }
        return rows;
    }

    /** Reads the size and last line numbers of the runs of the batch this writer has not seen yet, in one query. */
    private void load(Connection c, List<Pending> batch) throws SQLException {
        Set<Long> unknown = new HashSet<>();
        for (Pending p : batch) {
            if (p.kind() != Kind.CLOSE && !runs.containsKey(p.runId())) {
                unknown.add(p.runId());
            }
        }
        if (unknown.isEmpty()) {
            return;
        }
        Map<Long, RunState> loaded = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT run_id, attempt, count(*), coalesce(sum(octet_length(text)), 0), max(line),
                       bool_or(level = 'WARNING' AND text LIKE ?)
                FROM nightshift.run_log
                WHERE run_id = ANY (?)
                GROUP BY run_id, attempt
                """)) {
            ps.setString(1, CAP_NOTE + "%");                                  // the cap's line
            ps.setArray(2, c.createArrayOf("bigint", unknown.toArray()));   // run_id
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    RunState s = loaded.computeIfAbsent(rs.getLong(1), id -> new RunState());
                    s.lines += rs.getInt(3);
                    s.bytes += rs.getLong(4);
                    s.lastLine.put(rs.getInt(2), rs.getInt(5));
                    s.capped |= rs.getBoolean(6);
                }
            }
        }
        for (Long id : unknown) {
            runs.put(id, loaded.getOrDefault(id, new RunState()));
        }
    }

    private static void insert(Connection c, List<Row> rows) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        int n = rows.size();
        Object[] ids = new Object[n];
        Object[] attempts = new Object[n];
        Object[] lines = new Object[n];
        Object[] times = new Object[n];
        Object[] levels = new Object[n];
        Object[] texts = new Object[n];
        for (int i = 0; i < n; i++) {
            Row r = rows.get(i);
            ids[i] = r.runId();
            attempts[i] = r.attempt();
            lines[i] = r.line();
            times[i] = r.at().toString();
            levels[i] = r.level().name();
            texts[i] = r.text();
        }
        // A batch written whose reply was lost is written again: the key makes the second time a no-op.
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO nightshift.run_log (run_id, attempt, line, logged_at, level, text)
                SELECT u.run_id, u.attempt, u.line, u.logged_at::timestamptz, u.level, u.text
                FROM unnest(?::bigint[], ?::int[], ?::int[], ?::text[], ?::text[], ?::text[]) WITH ORDINALITY
                     AS u(run_id, attempt, line, logged_at, level, text, n)
                -- seq follows the order the lines were logged in
                ORDER BY u.n
                ON CONFLICT DO NOTHING
                """)) {
            Array[] arrays = {c.createArrayOf("bigint", ids), c.createArrayOf("integer", attempts), c.createArrayOf("integer", lines),
                    c.createArrayOf("text", times), c.createArrayOf("text", levels), c.createArrayOf("text", texts)};
            for (int i = 0; i < arrays.length; i++) {
                ps.setArray(i + 1, arrays[i]);   // run_id, attempt, line, logged_at, level, text
            }
            ps.executeUpdate();
        }
    }

    /** A closed attempt's run is read again from the table when it comes back (its next attempt, maybe on another node). */
    private void forgetClosed(List<Pending> batch) {
        for (Pending p : batch) {
            if (p.kind() == Kind.CLOSE) {
                runs.remove(p.runId());
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            // the loop retries at once; only stop() ends it
            Thread.interrupted();
        }
    }
}
