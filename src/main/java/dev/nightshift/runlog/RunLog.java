package dev.nightshift.runlog;

/**
 * Where one attempt of a run writes the lines of its log: what the job's statements said and did.
 * Lines are kept apart from the job's transaction (a rolled-back attempt keeps them), capped per
 * run, with secrets masked. Implementations are thread-safe and never throw.
 */
public interface RunLog {
    /** A line's level: logback's levels plus PostgreSQL's NOTICE, as the log shows them. */
    enum Level {
        DEBUG, INFO, NOTICE, WARNING, ERROR
    }

    /** A log that keeps nothing: for attempts executed outside a node (tests, one-off tools). */
    RunLog NONE = (level, text) -> {
    };

    void line(Level level, String text);

    default void info(String text) {
        line(Level.INFO, text);
    }
}
