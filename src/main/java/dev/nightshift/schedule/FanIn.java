package dev.nightshift.schedule;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.db.Tx;
import dev.nightshift.json.Json;
import dev.nightshift.queue.ClaimedRun;
import dev.nightshift.queue.DedupeKey;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.Period;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.worker.SuccessHook;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code after: {all: [a, b]}}: when a run of {@code a} succeeds, its fan-in dependents whose other
 * upstream jobs have all succeeded for the same period (same period start and end) get one run for
 * that period, with that period, in the completing transaction. Two upstreams completing at once on
 * two nodes serialize on a transaction lock per dependent and period, taken before the check; the
 * one that gets it second checks in a new snapshot and sees the first committed, so one of them
 * enqueues. The dedupe key {@code all:<job>:<period end>} makes a second enqueue of the period (a
 * retried upstream succeeding again) a no-op. Thread-safe.
 */
public final class FanIn implements SuccessHook {
    private static final Logger log = LoggerFactory.getLogger(FanIn.class);

    /** Upstream job → its fan-in dependents; dependent → all its upstream jobs. */
    private final Map<String, List<String>> dependents;
    private final Map<String, List<String>> upstreams;
    private final RunQueue queue;

    public FanIn(JobCatalog catalog, RunQueue queue) {
        this.queue = queue;
        this.upstreams = catalog.all().stream().filter(d -> !d.afterAll().isEmpty())
                .collect(Collectors.toMap(JobDefinition::name, JobDefinition::afterAll));
        this.dependents = catalog.all().stream()
                .flatMap(d -> d.afterAll().stream().map(up -> Map.entry(up, d.name())))
                .collect(Collectors.groupingBy(Map.Entry::getKey, Collectors.mapping(Map.Entry::getValue, Collectors.toList())));
    }

    static String dedupeKey(String job, Period p) {
        return DedupeKey.fanIn(job, p.end());
    }

    @Override
    public void onSuccess(Connection tx, ClaimedRun run, JobDefinition definition) throws SQLException {
        List<String> jobs = dependents.getOrDefault(run.jobName(), List.of());
        if (jobs.isEmpty()) {
            return;
        }
        Period period = periodOf(tx, run.id());
        if (period == null) {
            log.info("run {} of job {} has no period: its fan-in dependents {} wait for a run that has one", run.id(),
                    run.jobName(), jobs);
            return;
        }
        for (String job : jobs) {
            lock(tx, job, period);
            List<String> missing = missing(tx, upstreams.get(job), run.jobName(), period);
            if (!missing.isEmpty()) {
                log.info("run {} of job {}: fan-in job {} waits for {} for period ending {}", run.id(), run.jobName(), job,
                        missing, period.end());
                continue;
            }
            NewRun next = new NewRun(job, NewRun.Trigger.AFTER, Map.of(), dedupeKey(job, period), null, period, run.id());
            try {
                RunQueue.Enqueued e = queue.enqueue(tx, next);
                log.info("run {} of job {}: every upstream of fan-in job {} succeeded for period ending {}: run {} {}", run.id(),
                        run.jobName(), job, period.end(), e.id(), e.created() ? "enqueued" : "was already enqueued");
            } catch (RunQueue.UnknownJobException ex) {
                log.info("fan-in job {} was removed meanwhile: not enqueued", job);
            }
        }
    }

    /** Held until the completing transaction ends, so that the upstreams of one period check one at a time. */
    private static void lock(Connection tx, String job, Period p) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))")) {
            ps.setString(1, "nightshift.fan-in:" + dedupeKey(job, p));
            ps.execute();
        }
    }

    /** The upstream jobs other than {@code self} without a succeeded run for the period (a new snapshot: after the lock). */
    static List<String> missing(Connection c, List<String> upstream, String self, Period p) throws SQLException {
        List<String> others = new ArrayList<>(upstream);
        others.remove(self);
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT u.name FROM unnest(?::text[]) AS u(name)
                WHERE NOT EXISTS (SELECT 1 FROM nightshift.run r
                                  WHERE r.job_name = u.name AND r.state = 'succeeded'
                                    AND r.period_start = ? AND r.period_end = ?)
                ORDER BY u.name
                """)) {
            ps.setArray(1, c.createArrayOf("text", others.toArray()));      // the other upstream jobs
            ps.setTimestamp(2, Timestamp.from(p.start()));                  // period_start
            ps.setTimestamp(3, Timestamp.from(p.end()));                    // period_end
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    /**
     * For {@code show}: for each fan-in job downstream of {@code job}, what became of the run's
     * period: "JOB: run N" once enqueued, else "JOB waits for a, b". Empty when the job has none or
     * the run has no period.
     */
    public static List<String> downstreamOf(DataSource ds, String job, long runId) throws SQLException {
        return Tx.call(ds, c -> {
            Period p = periodOf(c, runId);
            List<String> out = new ArrayList<>();
            if (p == null) {
                return out;
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT j.name, j.definition -> 'after_all', f.id
                    FROM nightshift.job j
                    LEFT JOIN nightshift.run f ON f.dedupe_key = 'all:' || j.name || ':' || ?
                    WHERE j.removed_at IS NULL AND jsonb_exists(j.definition -> 'after_all', ?)
                    ORDER BY j.name
                    """)) {
                ps.setString(1, Long.toString(p.end().toEpochMilli()));    // the period's fan-in dedupe key
                ps.setString(2, job);                                      // the upstream job
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long fanInRun = rs.getLong(3);
                        if (!rs.wasNull()) {
                            out.add(rs.getString(1) + ": run " + fanInRun);
                            continue;
                        }
                        List<String> upstream = new ArrayList<>();
                        Json.MAPPER.readTree(rs.getString(2)).forEach(n -> upstream.add(n.asText()));
                        out.add(rs.getString(1) + " waits for " + String.join(", ", missing(c, upstream, null, p)));
                    }
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new SQLException("unreadable after_all in a job definition: " + e.getMessage(), e);
                }
            }
            return out;
        });
    }

    /** What a fan-in job waits for: the upstreams without a success for the latest period one of them has succeeded for. */
    public record Waiting(Instant periodStart, Instant periodEnd, List<String> missing) {
    }

    /** Null when no period has a succeeded upstream run and no run of the fan-in job. */
    static Waiting waiting(Connection c, String job, List<String> upstream) throws SQLException {
        Period p;
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT r.scheduled_at, r.period_start, r.period_end FROM nightshift.run r
                WHERE r.job_name = ANY (?) AND r.state = 'succeeded' AND r.period_end IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM nightshift.run f
                                  WHERE f.dedupe_key = 'all:' || ? || ':' || (extract(epoch FROM r.period_end) * 1000)::bigint)
                ORDER BY r.period_end DESC
                LIMIT 1
                """)) {
            ps.setArray(1, c.createArrayOf("text", upstream.toArray()));    // the upstream jobs
            ps.setString(2, job);                                           // the fan-in job, for its dedupe keys
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                p = new Period(rs.getTimestamp(1).toInstant(), rs.getTimestamp(2).toInstant(), rs.getTimestamp(3).toInstant(),
                        ZoneId.of("UTC"));
            }
        }
        return new Waiting(p.start(), p.end(), missing(c, upstream, null, p));
    }

    private static Period periodOf(Connection c, long runId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT scheduled_at, period_start, period_end, period_zone FROM nightshift.run WHERE id = ?")) {
            ps.setLong(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getTimestamp(2) == null) {
                    return null;
                }
                return new Period(rs.getTimestamp(1).toInstant(), rs.getTimestamp(2).toInstant(), rs.getTimestamp(3).toInstant(),
                        ZoneId.of(rs.getString(4) == null ? "UTC" : rs.getString(4)));
            }
        }
    }
}
