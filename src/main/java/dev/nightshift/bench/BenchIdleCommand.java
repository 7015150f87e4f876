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
        description = "Start one whole daemon (workers, LISTEN, rescuer, gauges, Quartz, HTTP) with no jobs on a scratch "
                + "database and count the transactions it makes there while idle (pg_stat_database).")
final class BenchIdleCommand extends BenchSubcommand {
    @Option(names = "--seconds", defaultValue = "60", description = "how long to count, after a 10 s warm-up (default 60)")
    int seconds;

    @Override
    public Integer call() throws Exception {
        BaseCommand.quietLogs();
        if (seconds < 5 || seconds > 3600) {
            throw new UsageException("--seconds must be between 5 and 3600");
        }
        Settings base = settings();
        var out = out();
        Path jobs = Files.createTempDirectory("nightshift-bench-idle");
        try (ScratchDatabase scratch = new ScratchDatabase(base, "idle");
             Database admin = Database.open(base, 1)) {
            Settings s = scratch.settings(base, Map.of(Setting.JOBS_DIR, jobs.toString(), Setting.HTTP_PORT, "0"));
            try (Daemon daemon = Daemon.start(s)) {
                Thread.sleep(10_000);
                // read from the configured database: the reads do not count against the scratch one
                long before = transactions(admin, scratch.name());
                Thread.sleep(Duration.ofSeconds(seconds).toMillis());
                long after = transactions(admin, scratch.name());
                out.printf("nightshift bench idle: one idle node (%d workers, no jobs), %d s: %d transactions, %.2f/s%n",
                        s.workers(), seconds, after - before, (after - before) / (double) seconds);
            }
        } finally {
            Files.deleteIfExists(jobs);
        }
        return Main.OK;
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
