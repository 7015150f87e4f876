package dev.nightshift.bench;

import dev.nightshift.cli.BaseCommand;
import dev.nightshift.cli.Daemon;
import dev.nightshift.cli.Main;
import dev.nightshift.cli.UsageException;
import dev.nightshift.config.Setting;
import dev.nightshift.config.Settings;
import dev.nightshift.db.Database;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "idle", mixinStandardHelpOptions = true,
        description = "Start one whole daemon (workers, LISTEN, rescuer, gauges, Quartz, HTTP) on a scratch database, with no "
                + "jobs or the catalog --jobs-dir names, and count the transactions it makes there while idle (pg_stat_database).")
final class BenchIdleCommand extends BenchSubcommand {
    @Option(names = "--seconds", defaultValue = "60", description = "how long to count, after a 10 s warm-up (default 60)")
    int seconds;

    @Override
    public Integer call() throws Exception {
        BaseCommand.quietLogs();
        if (seconds < 5 || seconds > 3600) {
            throw new UsageException("--seconds must be between 5 and 3600");
        }
        // the catalog only when --jobs-dir names one (not NIGHTSHIFT_JOBS_DIR or ./jobs): by default, no jobs
        Path jobsDir = options.jobsDirFlag() == null ? null : Path.of(options.jobsDirFlag());
        if (jobsDir != null && !Files.isDirectory(jobsDir)) {
            throw new UsageException("--jobs-dir " + jobsDir + ": no such directory");
        }
        Settings base = settings();
        var out = out();
        Path empty = jobsDir == null ? Files.createTempDirectory("nightshift-bench-idle") : null;
        Path jobs = jobsDir == null ? empty : jobsDir;
        try (ScratchDatabase scratch = new ScratchDatabase(base, "idle");
             Database admin = Database.open(base, 1)) {
            Settings s = scratch.settings(base, Map.of(Setting.JOBS_DIR, jobs.toString(), Setting.HTTP_PORT, "0"));
            try (Daemon daemon = Daemon.start(s)) {
                Thread.sleep(10_000);
                long catalog = jobs(daemon.database());
                // read from the configured database: the reads do not count against the scratch one
                long before = transactions(admin, scratch.name());
                Thread.sleep(Duration.ofSeconds(seconds).toMillis());
                long after = transactions(admin, scratch.name());
                out.printf("nightshift bench idle: one idle node (%d workers, %s), %d s: %d transactions, %.2f/s%n",
                        s.workers(), catalog == 0 ? "no jobs" : catalog + " jobs from " + jobs, seconds, after - before,
                        (after - before) / (double) seconds);
            }
        } finally {
            if (empty != null) {
                Files.deleteIfExists(empty);
            }
        }
        return Main.OK;
    }

    /** The jobs the daemon synced from its catalog (read before the count starts, so it does not count). */
    private static long jobs(Database db) throws SQLException {
        try (Connection c = db.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM nightshift.job WHERE removed_at IS NULL");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static long transactions(Database admin, String database) throws SQLException {
        try (Connection c = admin.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT pg_stat_clear_snapshot(), (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = ?)
                """)) {
            ps.setString(1, database);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(2);
            }
        }
    }
}
