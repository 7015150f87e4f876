package dev.nightshift.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import dev.nightshift.config.Settings;
import dev.nightshift.json.Json;
import java.io.OutputStream;
import java.util.Map;
import net.logstash.logback.encoder.LogstashEncoder;
import net.logstash.logback.fieldnames.LogstashFieldNames;
import org.slf4j.LoggerFactory;

/**
 * Switches the daemon's log to one JSON object per line when {@code log_format} is json. It is
 * done here, once the settings are known, because the format may come from a flag or the
 * --config file, which the logging configuration cannot see. Text stays as {@link LogDefaults} sets it.
 */
final class Logging {
    private static final String IGNORE = "[ignore]";

    private Logging() {
    }

    /** Applies {@code format} to the root logger, writing to standard error. */
    static void use(Settings.LogFormat format, String node) {
        use(format, node, null);
    }

    /** As {@link #use(Settings.LogFormat, String)}, writing to {@code out} instead when it is not null (tests). */
    static void use(Settings.LogFormat format, String node, OutputStream out) {
        if (format != Settings.LogFormat.JSON) {
            return;
        }
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        LogstashEncoder encoder = new LogstashEncoder();
        encoder.setContext(context);
        // MDC keys (job, run) come as top-level fields by default; the node names the line's origin.
        encoder.setCustomFields(Json.write(Map.of("node", node)));
        LogstashFieldNames names = encoder.getFieldNames();
        names.setVersion(IGNORE);
        names.setLevelValue(IGNORE);
        encoder.start();
        // The console appender never closes System.err; a plain stream appender is for tests.
        OutputStreamAppender<ILoggingEvent> appender;
        if (out == null) {
            ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
            console.setTarget("System.err");
            appender = console;
        } else {
            appender = new OutputStreamAppender<>();
            appender.setOutputStream(out);
        }
        appender.setContext(context);
        appender.setName("JSON");
        appender.setEncoder(encoder);
        appender.start();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.detachAndStopAllAppenders();
        root.addAppender(appender);
    }
}
