package dev.nightshift.schedule;

import dev.nightshift.db.SqlStates;
import dev.nightshift.db.Tx;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.queue.Period;
import dev.nightshift.queue.RunQueue;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.sql.DataSource;
import org.quartz.CronTrigger;
import org.quartz.InterruptableJob;
import org.quartz.JobExecutionContext;
import org.quartz.JobExecutionException;
import org.quartz.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Quartz job: turns one fire of a schedule's trigger into one run for each job of that
 * schedule (the jobs whose {@code schedule_key} is the trigger's name), inserted by one statement,
 * and one NOTIFY; it does nothing else. Each run's dedupe key is its job and the slot, so a second
 * fire of the same slot (Quartz re-firing after recovering a crashed node) finds the runs and adds
 * nothing. Each run carries the slot's period, from the schedule's previous slot (the jobs of a
 * schedule share its cron, zone and calendar, so they share the period). Paused and removed jobs
 * get no run. A fire that cannot reach the database keeps trying (Quartz has already moved the
 * trigger to its next slot, so giving up would lose this one): until it succeeds, or, for a
 * schedule with {@code misfire: skip}, until the slot is later than the misfire threshold, when
 * it counts a misfire and adds nothing, as Quartz would have. One instance per fire.
 */
public final class ScheduledEnqueue implements InterruptableJob {
    private static final Logger log = LoggerFactory.getLogger(ScheduledEnqueue.class);

    /**
     * What one fire did for one job; also the {@code result} label of the fires metric ({@link #label}).
     * SKIPPED_OVERLAP and COALESCED: see {@link Overlaps}.
     */
    enum Result {
        ENQUEUED, DUPLICATE, PAUSED, REMOVED, EXCLUDED, SKIPPED_OVERLAP, COALESCED;

        /** {@code enqueued}, {@code skipped-overlap}, ... */
        String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** One job's share of a fire. */
    record Outcome(String job, Result result) {
    }

    /** The longest pause between two tries of a fire during an outage. */
    private static final Duration MAX_PAUSE = Duration.ofSeconds(2);

    private final DataSource pool;
    private final Metrics metrics;
    private final Duration misfireThreshold;
    private final Clock clock;
    private volatile boolean interrupted;
    private volatile Thread firing;

    ScheduledEnqueue(DataSource pool, Metrics metrics, Duration misfireThreshold) {
        this(pool, metrics, misfireThreshold, Clock.systemUTC());
    }

    /** @param clock what tells whether a fire held up by an outage is past the misfire threshold */
    ScheduledEnqueue(DataSource pool, Metrics metrics, Duration misfireThreshold, Clock clock) {
        this.clock = clock;
        this.pool = pool;
        this.metrics = metrics;
        this.misfireThreshold = misfireThreshold;
    }

    @Override
    public void execute(JobExecutionContext context) throws JobExecutionException {
        firing = Thread.currentThread();
        String schedule = context.getJobDetail().getKey().getName();
        Instant slot = slot(context);
        boolean skipWhenLate = context.getTrigger().getMisfireInstruction() == CronTrigger.MISFIRE_INSTRUCTION_DO_NOTHING;
        Instant failingSince = null;
        for (int attempt = 1; ; attempt++) {
            // Only a fire held up here: one Quartz started late (a recovery fire) is not ours to drop.
            boolean late = failingSince != null && clock.instant().isAfter(slot.plus(misfireThreshold));
            try {
                if (late && skipWhenLate) {
                    misfired(schedule, slot, failingSince);
                    return;
                }
                List<Outcome> outcomes = enqueue(schedule, slot);
                if (failingSince != null) {
                    log.warn("schedule {}: slot {} enqueued after {} s of database errors", schedule, slot,
                            Duration.between(failingSince, clock.instant()).toSeconds());
                }
                meter(context, outcomes);
                report(schedule, slot, outcomes, context.isRecovering());
                return;
            } catch (SQLException | RuntimeException e) {
                boolean retry = SqlStates.isConnectionError(e) || SqlStates.isTransient(e);
                if (!retry || interrupted) {
                    throw failed(schedule, slot, e, interrupted ? "the node is stopping" : "not a transient error");
                }
                if (failingSince == null) {
                    failingSince = clock.instant();
                    log.warn("schedule {}: cannot enqueue slot {} ({}); trying again until the database answers", schedule, slot,
                            e.getMessage());
                }
                pause(attempt);
            }
        }
    }

    /**
     * Enqueues {@code slot} of {@code schedule} for a node that died holding the schedule's trigger
     * ({@link NodeWatch}): the fire's own statement and dedupe keys, so that Quartz's fire of the
     * same slot after recovering the trigger adds nothing, and the node's fire, had it got so far
     * before dying, made this one add nothing.
     */
    List<Outcome> enqueueForDeadNode(String schedule, Instant slot) throws SQLException {
        List<Outcome> outcomes = enqueue(schedule, slot);
        outcomes.forEach(o -> metrics.schedulerFire(o.job(), o.result().label()));
        report(schedule, slot, outcomes, true);
        return outcomes;
    }

    /** Quartz calls this at shutdown: a fire still trying through an outage stops. */
    @Override
    public void interrupt() {
        interrupted = true;
        Thread t = firing;
        if (t != null) {
            t.interrupt();
        }
    }

    private void pause(int attempt) {
        long ms = Math.min(MAX_PAUSE.toMillis(), 100L << Math.min(attempt - 1, 10));
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            // Quartz interrupts a fire only at shutdown (interrupt() above sets the flag first)
            interrupted = true;
        }
    }

    /** A slot of a {@code misfire: skip} schedule reached only after the threshold: counted, never silent. */
    private void misfired(String schedule, Instant slot, Instant failingSince) {
        List<String> jobs = jobsOf(pool, schedule);
        jobs.forEach(metrics::misfire);
        log.error("schedule {}: slot {} skipped (misfire: skip): the database was unreachable from {} until past the misfire "
                + "threshold of {} s; no run for {}", schedule, slot, failingSince, misfireThreshold.toSeconds(), jobs);
    }

    private JobExecutionException failed(String schedule, Instant slot, Exception e, String why) {
        List<String> jobs = jobsOf(pool, schedule);
        jobs.forEach(job -> metrics.schedulerFire(job, "failed"));
        log.error("schedule {}: could not enqueue the runs of slot {} for {} ({}): {}", schedule, slot,
                jobs.isEmpty() ? "its jobs (not readable either)" : jobs.size() + " jobs", why, e.getMessage());
        return new JobExecutionException(e, false);
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

    /** Inserts the slot's runs and, when there are new ones, wakes the workers with one NOTIFY. */
    private List<Outcome> enqueue(String schedule, Instant slot) throws SQLException {
        return Tx.call(pool, c -> {
            List<Outcome> outcomes = new ArrayList<>();
            Slots slots = slots(c, schedule);
            if (slots != null && !slots.keeps(slot)) {
                // a day the schedule's calendar excludes (or its pick leaves out): Quartz fires on it, nothing runs
                return jobsOf(c, schedule).stream().map(job -> new Outcome(job, Result.EXCLUDED)).toList();
            }
            Period period = slots == null ? Period.instant(slot) : slots.periodEndingAt(slot);
            List<Outcome> handled = Overlaps.apply(c, schedule, slot, period);
            outcomes.addAll(handled);
            List<String> left = new ArrayList<>(allJobsOf(c, schedule));
            handled.forEach(o -> left.remove(o.job()));
            // (the slot's runs, one NOTIFY for the batch)
            RunQueue.enqueueSlot(c, left, period).forEach((job, result) ->
                    outcomes.add(new Outcome(job, Result.valueOf(result.toUpperCase(Locale.ROOT)))));
            outcomes.sort(java.util.Comparator.comparing(Outcome::job));
            return outcomes;
        });
    }

    /** Every job of the schedule, paused and removed ones too (the fire reports what it did for each). */
    private static List<String> allJobsOf(Connection c, String schedule) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT name FROM nightshift.job WHERE schedule_key = ? ORDER BY name")) {
            ps.setString(1, schedule);
            List<String> jobs = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    jobs.add(rs.getString(1));
                }
            }
            return jobs;
        }
    }

    /**
     * The slots of the schedule named {@code schedule}, read from one of its jobs' stored
     * definitions; null when no job has it any more (the fire adds no run then).
     */
    private static Slots slots(Connection c, String schedule) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT definition::text FROM nightshift.job WHERE schedule_key = ? ORDER BY removed_at IS NULL DESC, name LIMIT 1")) {
            ps.setString(1, schedule);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? StoredSchedule.slots(rs.getString(1)) : null;
            }
        }
    }

    private static List<String> jobsOf(Connection c, String schedule) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT name FROM nightshift.job WHERE schedule_key = ? AND removed_at IS NULL ORDER BY name")) {
            ps.setString(1, schedule);
            List<String> jobs = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    jobs.add(rs.getString(1));
                }
            }
            return jobs;
        }
    }

    /** Each job's fire outcome and the fire's lag, per job as the meters have always been. */
    private void meter(JobExecutionContext context, List<Outcome> outcomes) {
        // A recovery fire's scheduled time is the recovery's own, not the slot's: no lag to tell.
        Duration lag = context.isRecovering() || context.getFireTime() == null ? null
                : Duration.between(context.getScheduledFireTime().toInstant(), context.getFireTime().toInstant());
        for (Outcome o : outcomes) {
            metrics.schedulerFire(o.job(), o.result().label());
            if (lag != null) {
                metrics.fireLag(o.job(), lag.isNegative() ? Duration.ZERO : lag);
            }
        }
    }

    private static void report(String schedule, Instant slot, List<Outcome> outcomes, boolean recovering) {
        if (outcomes.isEmpty()) {
            log.warn("schedule {}: fired for slot {} but no job has this schedule; run `nightshift sync`", schedule, slot);
            return;
        }
        if (outcomes.stream().anyMatch(o -> o.result() == Result.EXCLUDED)) {
            log.info("schedule {}: slot {} falls on a day its calendar excludes (or its pick leaves out); no run", schedule, slot);
            return;
        }
        long duplicates = outcomes.stream().filter(o -> o.result() == Result.DUPLICATE).count();
        if (duplicates > 0) {
            log.info("schedule {}: slot {} already had the runs of {} of its {} jobs (a repeated fire{}); nothing added for them",
                    schedule, slot, duplicates, outcomes.size(), recovering ? " after recovery of a failed node" : "");
        }
        List<String> removed = outcomes.stream().filter(o -> o.result() == Result.REMOVED).map(Outcome::job).toList();
        if (!removed.isEmpty()) {
            log.warn("schedule {}: fired for slot {}, but jobs {} are no longer in the catalog; run `nightshift sync`",
                    schedule, slot, removed);
        }
        for (Outcome o : outcomes) {
            if (o.result() == Result.SKIPPED_OVERLAP || o.result() == Result.COALESCED) {
                log.info("schedule {}: slot {} of job {} {} (schedule.overlap): an earlier run of the job is still pending", schedule,
                        slot, o.job(), o.result() == Result.COALESCED ? "joined the job's waiting run" : "skipped");
            }
        }
        log.debug("schedule {}: slot {}: {}", schedule, slot, outcomes);
    }

    /** The current jobs of a schedule, for counting a failed fire or a misfire; empty when they cannot be read. */
    static List<String> jobsOf(DataSource pool, String schedule) {
        try (Connection c = pool.getConnection()) {
            return jobsOf(c, schedule);
        } catch (SQLException | RuntimeException e) {
            log.warn("schedule {}: cannot read its jobs: {}", schedule, e.getMessage());
            return List.of();
        }
    }
}
