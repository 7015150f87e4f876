package dev.nightshift.bench;

import dev.nightshift.config.Setting;
import dev.nightshift.config.Settings;
import dev.nightshift.config.SettingsLoader;
import dev.nightshift.db.Database;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A database created for a benchmark next to the configured one (same server, same user) and
 * dropped afterwards, so that a benchmark never touches real jobs and runs; also when the
 * benchmark is stopped by SIGTERM or Ctrl-C (a shutdown hook drops it). Close once.
 */
final class ScratchDatabase implements AutoCloseable {
    private final Database admin;
    private final String name;
    private final String url;
    private final AtomicBoolean dropped = new AtomicBoolean();
    private final Thread dropOnExit = new Thread(this::dropQuietly, "nightshift-scratch-drop");

    ScratchDatabase(Settings settings, String purpose) throws SQLException {
        this(settings, purpose, Runtime.getRuntime()::addShutdownHook);
    }

    /**
     * @param registerHook registers the thread that drops the database at exit (the Runtime's
     *                     shutdown hooks; a test's stand-in); throws IllegalStateException once the
     *                     JVM is shutting down
     */
    ScratchDatabase(Settings settings, String purpose, Consumer<Thread> registerHook) throws SQLException {
        this.admin = Database.open(settings, 2);
        this.name = "nightshift_bench_" + purpose + "_" + ProcessHandle.current().pid();
        String base = admin.url();
        int q = base.indexOf('?');
        String path = q < 0 ? base : base.substring(0, q);
        url = path.substring(0, path.lastIndexOf('/') + 1) + name + (q < 0 ? "" : base.substring(q));
        // The hook first, the database second: a SIGTERM at any moment after the CREATE finds the
        // hook in place. (Registered after it, a signal in between left the database behind, and
        // the registration itself failed with "Shutdown in progress".)
        try {
            registerHook.accept(dropOnExit);
        } catch (IllegalStateException shuttingDown) {
            admin.close();
            throw new SQLException("no scratch database created: the JVM is shutting down", "57P01", shuttingDown);
        }
        try {
            create();
        } catch (SQLException e) {
            dropQuietly();
            admin.close();
            throw new SQLException("cannot create the scratch database " + name + " (the benchmark needs CREATEDB): "
                    + e.getMessage(), e.getSQLState(), e);
        }
    }

    /** Creates the database unless the drop hook already ran; the two never overlap. */
    private synchronized void create() throws SQLException {
        if (dropped.get()) {
            throw new SQLException("the JVM is shutting down", "57P01");
        }
        try (Connection c = admin.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name);
            s.execute("CREATE DATABASE " + name);
        }
    }

    String name() {
        return name;
    }

    /** The same settings, pointed at the scratch database. */
    Settings settings(Settings base, Map<Setting, String> overrides) {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.DB_URL, url);
        if (base.dbUser() != null) {
            flags.put(Setting.DB_USER, base.dbUser());
        } else if (base.embedded()) {
            flags.put(Setting.DB_USER, "postgres");
        }
        if (base.dbPassword() != null) {
            flags.put(Setting.DB_PASSWORD, base.dbPassword());
        }
        flags.put(Setting.JOBS_DIR, base.jobsDir().toString());
        flags.put(Setting.HOME, base.home().toString());
        flags.put(Setting.NODE_NAME, base.nodeName());
        // the scheduler's own flags, which bench schedule varies
        flags.put(Setting.SCHEDULER_THREADS, Integer.toString(base.schedulerThreads()));
        flags.put(Setting.MISFIRE_THRESHOLD, dev.nightshift.config.Durations.format(base.misfireThreshold()));
        flags.putAll(overrides);
        return SettingsLoader.load(Map.of(), null, flags);
    }

    @Override
    public void close() throws SQLException {
        try {
            Runtime.getRuntime().removeShutdownHook(dropOnExit);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or about to: it drops the database
            return;
        }
        try {
            drop();
        } finally {
            admin.close();
        }
    }

    private synchronized void drop() throws SQLException {
        if (!dropped.compareAndSet(false, true)) {
            return;
        }
        // FORCE: the benchmark's own connections may still be open when a signal stops it
        try (Connection c = admin.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }

    private void dropQuietly() {
        try {
            drop();
        } catch (SQLException | RuntimeException e) {
            System.err.println("nightshift: could not drop the scratch database " + name + ": " + e.getMessage());
        }
    }
}
