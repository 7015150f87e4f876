package dev.nightshift.cli;

import ch.qos.logback.classic.Level;
import dev.nightshift.config.Settings;
import dev.nightshift.db.Database;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** What every subcommand shares: the settings flags, the parent's environment, output streams. */
public abstract class BaseCommand implements Callable<Integer> {
    @CommandLine.Mixin
    CommonOptions options;

    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    Settings settings() {
        return options.settings(main.env);
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** The root level before {@link #quietLogs}, to restore in a JVM that goes on (tests); null when not quieted. */
    private static Level quietedFrom;
    private static boolean quieted;

    /** Short commands print results, not the pool's and Flyway's INFO lines. */
    public static synchronized void quietLogs() {
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        if (!quieted) {
            quietedFrom = root.getLevel();
            quieted = true;
        }
        root.setLevel(Level.WARN);
    }

    /**
     * Gives the root logger back the level {@link #quietLogs} found. A command that did not quiet
     * the logs leaves logging untouched, so that {@code --version} never starts it.
     */
    static synchronized void restoreLogs() {
        if (quieted) {
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(quietedFrom);
            quieted = false;
            quietedFrom = null;
        }
    }

    /** Opens the database with a small pool and applies pending migrations. */
    public static Database openMigrated(Settings s) {
        Database db = Database.open(s, 3);
        try {
            db.migrateIfBehind();
            return db;
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    static long runId(String text) {
        try {
            long id = Long.parseLong(text.trim());
            if (id <= 0) {
                throw new NumberFormatException();
            }
            return id;
        } catch (NumberFormatException e) {
            throw new UsageException("RUN must be a run id (a positive whole number), got '" + text + "'");
        }
    }
}
