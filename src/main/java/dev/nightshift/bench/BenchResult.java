package dev.nightshift.bench;

import dev.nightshift.cli.Daemon;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import javax.sql.DataSource;

/**
 * The figures of one schedule benchmark, read from the run table (lag: the run's insert time
 * minus its slot) and from the nodes' meters (misfires, duplicate fires absorbed by the dedupe key).
 */
record BenchResult(long runs, long expected, long slotsWithoutRun, long duplicateRuns, double p50Ms, double p99Ms,
                   double maxMs, double misfires, double duplicateFires, double quartzMeanMs, double quartzMaxMs, long triggers) {

    /** The goal: p99 within a second, no misfire, every slot exactly once. */
    boolean goalMet() {
        return p99Ms <= 1000 && misfires == 0 && slotsWithoutRun == 0 && duplicateRuns == 0;
    }

    static BenchResult collect(DataSource ds, List<Daemon> daemons, Instant first, Instant last, int jobs) throws SQLException {
        String sql = """
                WITH measured AS (
                    SELECT job_name, scheduled_at, extract(epoch FROM created_at - scheduled_at) * 1000 AS lag_ms
                    FROM nightshift.run
                    WHERE trigger = 'schedule' AND scheduled_at BETWEEN ? AND ?)
                SELECT count(*),
                       count(DISTINCT (job_name, scheduled_at)),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_ms),
                       percentile_cont(0.99) WITHIN GROUP (ORDER BY lag_ms),
                       max(lag_ms)
                FROM measured
                """;
        String triggers = "SELECT count(*) FROM nightshift.qrtz_triggers";
        long slots = (long) jobs * (1 + (last.getEpochSecond() - first.getEpochSecond()) / 60);
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql);
             PreparedStatement tr = c.prepareStatement(triggers); ResultSet trs = tr.executeQuery()) {
            trs.next();
            ps.setTimestamp(1, Timestamp.from(first));   // first slot
            ps.setTimestamp(2, Timestamp.from(last));    // last slot
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long runs = rs.getLong(1);
                long distinct = rs.getLong(2);
                return new BenchResult(runs, slots, slots - distinct, runs - distinct, rs.getDouble(3), rs.getDouble(4),
                        rs.getDouble(5), sum(daemons, "nightshift.scheduler.misfires", null),
                        sum(daemons, "nightshift.scheduler.fires", "duplicate"),
                        daemons.stream().flatMap(d -> d.metrics().registry().find("nightshift.scheduler.fire.lag").timers().stream())
                                .mapToDouble(t -> t.mean(java.util.concurrent.TimeUnit.MILLISECONDS)).average().orElse(0),
                        daemons.stream().flatMap(d -> d.metrics().registry().find("nightshift.scheduler.fire.lag").timers().stream())
                                .mapToDouble(t -> t.max(java.util.concurrent.TimeUnit.MILLISECONDS)).max().orElse(0),
                        trs.getLong(1));
            }
        }
    }

    private static double sum(List<Daemon> daemons, String meter, String result) {
        return daemons.stream().flatMap(d -> {
            var search = d.metrics().registry().find(meter);
            return (result == null ? search : search.tag("result", result)).counters().stream();
        }).mapToDouble(c -> c.count()).sum();
    }

    void print(PrintWriter out, int jobs, int nodes, int minutes, int threads) {
        out.printf("bench schedule: %d jobs every minute, %d nodes (%d Quartz threads each), %d slots per job; %d Quartz triggers%n",
                jobs, nodes, threads, minutes, triggers);
        out.printf("runs: %d of %d expected; slots without a run: %d; slots with more than one run: %d%n",
                runs, expected, slotsWithoutRun, duplicateRuns);
        out.printf("fire lag (run inserted - slot): p50 %.0f ms, p99 %.0f ms, max %.0f ms%n", p50Ms, p99Ms, maxMs);
        out.printf("Quartz fire lag (job started - slot, all jobs and slots of the run): mean %.0f ms, max %.0f ms%n", quartzMeanMs, quartzMaxMs);
        out.printf("misfires: %.0f; repeated fires absorbed by the dedupe key: %.0f%n", misfires, duplicateFires);
        out.println(goalMet() ? "goal met (p99 <= 1 s, no misfire, every slot exactly once)" : "goal NOT met");
    }
}
