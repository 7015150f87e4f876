package dev.nightshift.schedule;

import dev.nightshift.db.Tx;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Map;
import javax.sql.DataSource;
import org.quartz.Job;
import org.quartz.JobExecutionContext;
import org.quartz.JobExecutionException;
import org.quartz.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Quartz job: turns one fire of a job's trigger into one run, and does nothing else. The
 * run's dedupe key is the job and the scheduled fire time, so a second fire of the same slot
 * (Quartz re-firing after recovering a crashed node) finds the first run and adds nothing.
 * Paused and removed jobs get no run. One instance per fire.
 */
public final class ScheduledEnqueue implements Job {
    private static final Logger log = LoggerFactory.getLogger(ScheduledEnqueue.class);

    /** What one fire did; also the {@code result} label of the fires metric. */
    enum Result { ENQUEUED, DUPLICATE, PAUSED, REMOVED }

    private final DataSource pool;
    private final Metrics metrics;

    ScheduledEnqueue(DataSource pool, Metrics metrics) {
        this.pool = pool;
        this.metrics = metrics;
    }

    static String dedupeKey(String job, Instant slot) {
        return "schedule:" + job + ":" + slot.toEpochMilli();
    }

    @Override
    public void execute(JobExecutionContext context) throws JobExecutionException {
        String job = context.getJobDetail().getKey().getName();
        Instant slot = slot(context);
        try {
            Result r = enqueue(job, slot);
            metrics.schedulerFire(job, r.name().toLowerCase(java.util.Locale.ROOT));
            if (r == Result.DUPLICATE) {
                log.info("job {}: slot {} already has its run (a repeated fire{}); nothing added", job, slot,
                        context.isRecovering() ? " after recovery of a failed node" : "");
            } else if (r == Result.REMOVED) {
                log.warn("job {}: fired for slot {} but the job is no longer in the catalog; run `nightshift sync`", job, slot);
            }
        } catch (SQLException | RuntimeException e) {
            metrics.schedulerFire(job, "failed");
            log.error("job {}: could not enqueue the run of slot {}: {}", job, slot, e.getMessage());
            throw new JobExecutionException(e, false);
        }
    }

    /** The slot this fire stands for; a recovery fire carries the original one in its data map. */
    static Instant slot(JobExecutionContext context) {
        if (context.isRecovering()) {
            String original = context.getMergedJobDataMap()
                    .getString(Scheduler.FAILED_JOB_ORIGINAL_TRIGGER_SCHEDULED_FIRETIME_IN_MILLISECONDS);
            if (original != null) {
                return Instant.ofEpochMilli(Long.parseLong(original));
            }
        }
        return context.getScheduledFireTime().toInstant();
    }

    Result enqueue(String job, Instant slot) throws SQLException {
        return Tx.call(pool, c -> {
            Boolean paused = paused(c, job);
            if (paused == null) {
                return Result.REMOVED;
            }
            if (paused) {
                return Result.PAUSED;
            }
            NewRun run = new NewRun(job, NewRun.Trigger.SCHEDULE, Map.of(), dedupeKey(job, slot), null, slot, null);
            return new RunQueue(pool).enqueue(c, run).created() ? Result.ENQUEUED : Result.DUPLICATE;
        });
    }

    /** Null when the job is unknown or removed. */
    static Boolean paused(Connection c, String job) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT paused FROM nightshift.job WHERE name = ? AND removed_at IS NULL")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getBoolean(1) : null;
            }
        }
    }
}
