package dev.nightshift.runlog;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.LoggerFactory;

/**
 * Copies the daemon's own log lines about a run into that run's log: every event whose MDC carries
 * {@code run} (the worker sets it while it executes the run) goes to the attempt log this JVM has
 * open for that run. One appender per JVM on the root logger, since logback's appenders are
 * global; several nodes in one JVM (tests) share it, each run's lines going to the node running it.
 * Thread-safe without a lock of its own (logback's synchronized base would serialize every log
 * call of the process through it).
 */
final class RunLogAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {
    static final String NAME = "NIGHTSHIFT_RUN_LOG";
    /** The attempt logs open in this JVM, by run id. */
    static final Map<Long, AttemptLog> OPEN = new ConcurrentHashMap<>();

    /** Adds the appender to the root logger unless it is there (a reset of logback, as tests do, removes it). */
    static synchronized void attach() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        if (root.getAppender(NAME) != null) {
            return;
        }
        RunLogAppender a = new RunLogAppender();
        a.setContext(context);
        a.setName(NAME);
        a.start();
        root.addAppender(a);
    }

    @Override
    protected void append(ILoggingEvent e) {
        String run = e.getMDCPropertyMap().get("run");
        if (run == null || OPEN.isEmpty()) {
            return;
        }
        AttemptLog target;
        try {
            target = OPEN.get(Long.parseLong(run));
        } catch (NumberFormatException ex) {
            return;
        }
        if (target == null) {
            return;
        }
        String text = e.getFormattedMessage();
        IThrowableProxy t = e.getThrowableProxy();
        if (t != null) {
            text = text + ": " + t.getClassName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
        }
        target.line(level(e.getLevel()), text);
    }

    private static RunLog.Level level(Level l) {
        if (l.isGreaterOrEqual(Level.ERROR)) {
            return RunLog.Level.ERROR;
        }
        if (l.isGreaterOrEqual(Level.WARN)) {
            return RunLog.Level.WARNING;
        }
        return l.isGreaterOrEqual(Level.INFO) ? RunLog.Level.INFO : RunLog.Level.DEBUG;
    }
}
