package dev.nightshift.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * nightshift's logging set up in code, found by logback as a service: text lines on standard
 * error. It replaces a logback.xml so that no command pays for logback's XML configuration
 * machinery (some 600 classes, a third of a short command's start). A logback-test.xml on the
 * class path (tests) or {@code -Dlogback.configurationFile} still wins: this configurator then
 * steps aside. {@code log_format: json} is applied later by {@link Logging}.
 */
public final class LogDefaults extends ContextAwareBase implements Configurator {
    static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX,UTC} %-5level [%thread] %logger{20}"
            + "%replace(%replace( job=%X{job}){' job=$', ''}%replace( run=%X{run}){' run=$', ''}){'x^', ''} - %msg%n";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null
                || LogDefaults.class.getClassLoader().getResource("logback-test.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        apply(context);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** Text on standard error at INFO, the chatty libraries at WARN. */
    static void apply(LoggerContext context) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        // Libraries that are chatty at INFO: the pool, migrations, Quartz, the embedded server.
        for (String quiet : new String[] {"org.flywaydb", "com.zaxxer.hikari", "org.quartz", "io.zonky"}) {
            context.getLogger(quiet).setLevel(Level.WARN);
        }
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(stderr);
    }
}
