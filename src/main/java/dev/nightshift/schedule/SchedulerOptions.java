package dev.nightshift.schedule;

import dev.nightshift.config.Settings;
import java.time.Duration;
import java.util.Objects;

/**
 * How one node's Quartz scheduler runs. The defaults suit production; threads and the misfire
 * threshold are settings ({@code scheduler_threads}, {@code misfire_threshold}); tests and the
 * benchmark shorten the intervals.
 *
 * @param threads          Quartz worker threads; each fire only inserts the runs of one schedule, so few are needed
 * @param misfireThreshold how late a fire may be and still count as on time; later is a misfire,
 *                         handled by the job's policy (fire-once or skip)
 * @param checkinInterval  how often the node tells the cluster it is alive; a node silent for
 *                         about this plus 7.5 s is declared dead and its fires recovered
 * @param idleWait         how long an idle scheduler waits before looking for triggers again,
 *                         which bounds how late a trigger added by another process is noticed
 * @param batchSize        most triggers one acquisition takes under the cluster lock
 *                         (batchTriggerAcquisitionMaxCount); 0: as many as threads. Quartz takes
 *                         no more than its free threads whatever this says
 * @param fireAhead        how far ahead of its time a trigger may join a batch and fire with it
 *                         (batchTriggerAcquisitionFireAheadTimeWindow)
 */
public record SchedulerOptions(int threads, Duration misfireThreshold, Duration checkinInterval, Duration idleWait, int batchSize,
                               Duration fireAhead) {

    /** Batches of as many triggers as threads, none fired ahead of its time. */
    public SchedulerOptions(int threads, Duration misfireThreshold, Duration checkinInterval, Duration idleWait) {
        this(threads, misfireThreshold, checkinInterval, idleWait, 0, Duration.ZERO);
    }

    public SchedulerOptions {
        Objects.requireNonNull(fireAhead, "fireAhead");
        if (batchSize < 0 || batchSize > 1000 || fireAhead.isNegative() || fireAhead.compareTo(Duration.ofSeconds(10)) > 0) {
            throw new IllegalArgumentException("scheduler batch 0..1000 and fire-ahead window 0..10s, got " + batchSize + " and " + fireAhead);
        }
        Objects.requireNonNull(misfireThreshold, "misfireThreshold");
        Objects.requireNonNull(checkinInterval, "checkinInterval");
        Objects.requireNonNull(idleWait, "idleWait");
        if (threads < 1 || threads > 100) {
            throw new IllegalArgumentException("scheduler threads must be between 1 and 100, got " + threads);
        }
        if (misfireThreshold.toMillis() < 100 || checkinInterval.toMillis() < 100 || idleWait.toMillis() < 100) {
            throw new IllegalArgumentException("scheduler intervals must be at least 100 ms");
        }
    }

    /**
     * Quartz's own 60 s misfire threshold: a slot fired within a minute of its time is not a
     * misfire. A check-in every 10 s and a look for triggers every 15 s when idle (the scheduler
     * sleeps until the next known fire time anyway; this bounds how late it sees a trigger another
     * node added): each is a transaction, and they were most of an idle node's cost to the
     * database (bench idle: 3.1 transactions/s with 5 s and 5 s and the other loops polling).
     */
    public static SchedulerOptions defaults() {
        return new SchedulerOptions(8, Duration.ofSeconds(60), Duration.ofSeconds(10), Duration.ofSeconds(15));
    }

    /** The defaults with the node's configured threads and misfire threshold. */
    public static SchedulerOptions of(Settings settings) {
        return defaults().withThreads(settings.schedulerThreads()).withMisfireThreshold(settings.misfireThreshold());
    }

    public SchedulerOptions withThreads(int n) {
        return new SchedulerOptions(n, misfireThreshold, checkinInterval, idleWait, batchSize, fireAhead);
    }

    public SchedulerOptions withMisfireThreshold(Duration d) {
        return new SchedulerOptions(threads, d, checkinInterval, idleWait, batchSize, fireAhead);
    }

    /** Acquisitions of up to {@code n} triggers (0: as many as threads) that may fire up to {@code ahead} early. */
    public SchedulerOptions withBatch(int n, Duration ahead) {
        return new SchedulerOptions(threads, misfireThreshold, checkinInterval, idleWait, n, ahead);
    }

    /** The most triggers one acquisition takes. */
    public int effectiveBatchSize() {
        return batchSize == 0 ? threads : batchSize;
    }
}
