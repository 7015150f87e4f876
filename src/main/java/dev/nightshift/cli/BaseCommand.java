package dev.nightshift.cli;

import ch.qos.logback.classic.Level;
import dev.nightshift.config.Settings;
import dev.nightshift.db.Database;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** What every subcommand shares: the settings flags, the parent's environment, output streams. */
abstract class BaseCommand implements Callable<Integer> {
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

    /** Short commands print results, not the pool's and Flyway's INFO lines. */
    static void quietLogs() {
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.WARN);
    }

    /** Opens the database with a small pool and applies pending migrations. */
    static Database openMigrated(Settings s) {
        Database db = Database.open(s, 3);
        try {
            db.migrate();
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
