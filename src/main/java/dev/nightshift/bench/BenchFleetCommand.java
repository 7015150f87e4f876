package dev.nightshift.bench;

import dev.nightshift.cli.BaseCommand;
import dev.nightshift.cli.Daemon;
import dev.nightshift.cli.Main;
import dev.nightshift.cli.UsageException;
import dev.nightshift.config.Setting;
import dev.nightshift.config.Settings;
import dev.nightshift.db.Database;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "fleet", mixinStandardHelpOptions = true,
        description = "Start whole daemons in this JVM on one scratch database, first one node, then --nodes of them, and"
                + " measure each fleet: its connections (idle, and at most while draining), its transactions per second"
                + " while idle, enqueue-to-start of single runs on the idle fleet, and the drain of a backlog.")
final class BenchFleetCommand extends BenchSubcommand {
    @Option(names = "--nodes", defaultValue = "20", description = "nodes of the fleet (default 20)")
    int nodes;

    @Option(names = "--node-workers", defaultValue = "4", description = "workers of each node (default 4)")
    int nodeWorkers;

    @Option(names = "--idle-seconds", defaultValue = "30", description = "how long to count the idle fleet's transactions, after a 10 s warm-up (default 30)")
    int idleSeconds;

    @Option(names = "--samples", defaultValue = "200", description = "single runs enqueued one after another on the idle fleet (default 200)")
    int samples;

    @Option(names = "--backlog", defaultValue = "10000", description = "runs enqueued at once for the drain (default 10000)")
    int backlog;

    /** What one fleet measured. */
    private record Figures(int nodes, long idleConnections, long peakConnections, double idleTransactionsPerSecond,
                           double p50, double p99, double drainRate, double drainP99) {
    }

    @Override
    public Integer call() throws Exception {
        BaseCommand.quietLogs();
        if (nodes < 1 || nodes > 100 || nodeWorkers < 1 || nodeWorkers > 64) {
            throw new UsageException("--nodes must be between 1 and 100, --node-workers between 1 and 64");
        }
        if (idleSeconds < 5 || samples < 10 || backlog < 100) {
            throw new UsageException("--idle-seconds must be at least 5, --samples at least 10, --backlog at least 100");
        }
        Settings base = settings();
        PrintWriter out = out();
        List<Figures> all = new ArrayList<>();
        for (int n : nodes == 1 ? List.of(1) : List.of(1, nodes)) {
            all.add(fleet(base, n));
        }
        out.printf("nightshift bench fleet: %d worker(s) per node, one job (SELECT 1, concurrency 1000)%n", nodeWorkers);
        out.println("nodes | connections idle / draining at most | idle transactions/s (per node) | enqueue->start p50 / p99"
                + " | drain of " + backlog + " runs, runs/s | enqueue->start p99 in the drain");
        for (Figures f : all) {
            out.printf("%d | %d / %d | %.2f (%.2f) | %.1f / %.1f ms | %.0f | %.0f ms%n", f.nodes, f.idleConnections,
                    f.peakConnections, f.idleTransactionsPerSecond, f.idleTransactionsPerSecond / f.nodes, f.p50, f.p99,
                    f.drainRate, f.drainP99);
        }
        return Main.OK;
    }

    private Figures fleet(Settings base, int n) throws Exception {
        Path jobs = Files.createTempDirectory("nightshift-bench-fleet");
        Files.writeString(jobs.resolve("noop.yaml"), "name: noop\ntype: sql\nconcurrency: 1000\nparams:\n  sql: SELECT 1\n");
        List<Daemon> daemons = new ArrayList<>();
        try (ScratchDatabase scratch = new ScratchDatabase(base, "fleet" + n);
             Database admin = Database.open(base, 2)) {
            try {
                return measure(scratch, admin, daemons, base, jobs, n);
            } finally {
                // before the scratch database is dropped
                for (Daemon d : daemons) {
                    d.close();
                }
            }
        } finally {
            Files.deleteIfExists(jobs.resolve("noop.yaml"));
            Files.deleteIfExists(jobs);
        }
    }

    private Figures measure(ScratchDatabase scratch, Database admin, List<Daemon> daemons, Settings base, Path jobs, int n)
            throws Exception {
        for (int i = 1; i <= n; i++) {
            daemons.add(Daemon.start(scratch.settings(base, Map.of(Setting.JOBS_DIR, jobs.toString(),
                    Setting.HTTP_PORT, "0", Setting.WORKERS, Integer.toString(nodeWorkers), Setting.NODE_NAME, "fleet-" + i))));
        }
        Database db = daemons.get(0).database();
        Thread.sleep(10_000);
        long idleConnections = connections(admin, scratch.name());
        // read from the configured database: these reads do not count against the scratch one
        long before = transactions(admin, scratch.name());
        Thread.sleep(idleSeconds * 1_000L);
        double idleRate = (transactions(admin, scratch.name()) - before) / (double) idleSeconds;

        RunQueue queue = new RunQueue(db.dataSource());
        for (int i = 0; i < samples; i++) {
            long id = queue.enqueue(NewRun.manual("noop", Map.of(), null)).id();
            while (Stats.count(db, "SELECT count(*) FROM nightshift.run WHERE id = " + id + " AND state = 'succeeded'") == 0) {
                Thread.sleep(2);
            }
        }
        double[] single = Stats.startLatency(db, "true");
        execute(db, "DELETE FROM nightshift.run_history");
        execute(db, "DELETE FROM nightshift.run_key");

        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            for (int i = 0; i < backlog; i++) {
                queue.enqueue(c, NewRun.manual("noop", Map.of(), null));
            }
            c.commit();
        }
        long peak = 0;
        while (Stats.count(db, """
                SELECT (EXISTS (SELECT 1 FROM nightshift.run WHERE state = 'available')
                        OR EXISTS (SELECT 1 FROM nightshift.run WHERE state = 'running'))::int
                """) > 0) {
            peak = Math.max(peak, connections(admin, scratch.name()));
            Thread.sleep(50);
        }
        double seconds = Stats.number(db, "SELECT extract(epoch FROM max(finished_at) - max(created_at)) FROM nightshift.run");
        double[] drain = Stats.startLatency(db, "true");
        return new Figures(n, idleConnections, Math.max(peak, idleConnections), idleRate, single[0], single[1],
                backlog / seconds, drain[1]);
    }

    /** The scratch database's sessions, the nodes' own (listeners, pools) and none of this command's reads. */
    private static long connections(Database admin, String database) throws SQLException {
        return statistic(admin, "SELECT pg_stat_clear_snapshot(), (SELECT count(*) FROM pg_stat_activity WHERE datname = ?)", database);
    }

    private static long transactions(Database admin, String database) throws SQLException {
        return statistic(admin, """
                SELECT pg_stat_clear_snapshot(), (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = ?)
                """, database);
    }

    private static long statistic(Database admin, String sql, String database) throws SQLException {
        try (Connection c = admin.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, database);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(2);
            }
        }
    }

    private static void execute(Database db, String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
