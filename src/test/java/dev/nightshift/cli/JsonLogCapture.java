package dev.nightshift.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import dev.nightshift.config.Settings;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * The process's log written as JSON lines into memory, as {@code log_format: json} writes it, for a
 * test to read; after each test the tests' own logging is configured again. Register it as a field
 * ({@code @RegisterExtension final JsonLogCapture log = new JsonLogCapture();}). Not thread-safe.
 */
final class JsonLogCapture implements AfterEachCallback {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** From now on, the log goes here, each line naming {@code node}. */
    void start(String node) {
        Logging.use(Settings.LogFormat.JSON, node, out);
    }

    /** What was logged since {@link #start}. */
    String text() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        LoggerContext logging = (LoggerContext) LoggerFactory.getILoggerFactory();
        logging.reset();
        new ContextInitializer(logging).autoConfig();
    }
}
