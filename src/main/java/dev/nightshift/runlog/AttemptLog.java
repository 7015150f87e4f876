package dev.nightshift.runlog;

import java.nio.charset.StandardCharsets;
import java.time.Clock;

/**
 * The log of one attempt of one run on this node: each line is masked, cut to {@link #MAX_LINE_CHARS}
 * and handed to the node's {@link RunLogWriter}, which writes it in a batch. Holds at most a run's cap
 * of lines in memory (the writer decides the cap against the lines earlier attempts wrote); past it,
 * one marker tells the writer to close the log with the cap's note. Thread-safe: the worker and any
 * thread logging with the run in its MDC write here.
 */
public final class AttemptLog implements RunLog {
    /** A single line longer than this (a notice dumping a document) is cut, saying so. */
    static final int MAX_LINE_CHARS = 8_192;

    private final RunLogWriter writer;
    private final long runId;
    private final int attempt;
    private final Clock clock;
    private int lines;
    private long bytes;
    private boolean over;
    private boolean closed;

    AttemptLog(RunLogWriter writer, long runId, int attempt, Clock clock) {
        this.writer = writer;
        this.runId = runId;
        this.attempt = attempt;
        this.clock = clock;
    }

    public long runId() {
        return runId;
    }

    public int attempt() {
        return attempt;
    }

    @Override
    public void line(Level level, String text) {
        // PostgreSQL's text cannot hold NUL
        String t = text == null ? "" : writer.scrubber().scrub(text).replace("\u0000", "\\0");
        if (t.length() > MAX_LINE_CHARS) {
            t = t.substring(0, MAX_LINE_CHARS) + "… (" + (t.length() - MAX_LINE_CHARS) + " more characters cut)";
        }
        int size = t.getBytes(StandardCharsets.UTF_8).length;
        synchronized (this) {
            if (closed || over) {
                return;
            }
            if (lines + 1 > writer.maxLines() || bytes + size > writer.maxBytes()) {
                over = true;
                writer.add(new RunLogWriter.Pending(runId, attempt, clock.instant(), null, null, RunLogWriter.Kind.OVER));
                return;
            }
            lines++;
            bytes += size;
            writer.add(new RunLogWriter.Pending(runId, attempt, clock.instant(), level, t, RunLogWriter.Kind.LINE));
        }
    }

    /** Ends the attempt's log: later lines are dropped, and the writer forgets the run once this is written. */
    public void close() {
        boolean wrote;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            wrote = lines > 0 || over;
        }
        writer.closed(this, wrote);
    }
}
