package dev.nightshift.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;

/**
 * The meters of one nightshift node, registered once. Label values are bounded: job names,
 * outcomes, triggers, loop names; never a run id, file name or message. Thread-safe.
 */
public final class Metrics {
    /** Duration buckets from 100 ms to 8 h: batch jobs run far longer than the 30 s default tops out at. */
    static final Duration[] DURATION_BUCKETS = {
            Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5),
            Duration.ofSeconds(15), Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(5),
            Duration.ofMinutes(15), Duration.ofMinutes(30), Duration.ofHours(1), Duration.ofHours(2),
            Duration.ofHours(4), Duration.ofHours(8)};

    /** Gauges read these holders; the map keeps them strongly reachable (Micrometer holds gauges weakly). */
    private final java.util.Map<String, java.util.concurrent.atomic.AtomicLong> lastRefresh = new java.util.concurrent.ConcurrentHashMap<>();
    private final MeterRegistry registry;
    private final Counter rescued;

    public Metrics(MeterRegistry registry) {
        this.registry = registry;
        this.rescued = Counter.builder("nightshift.rescued.runs")
                .description("Runs whose owner's database session ended, put back to available or dead")
                .register(registry);
    }

    public static Metrics prometheus() {
        return new Metrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** One attempt ended: outcome is succeeded, failed (will retry), dead, cancelled or aborted (shutdown). */
    public void attemptFinished(String job, String outcome, String trigger, Duration duration) {
        Counter.builder("nightshift.job.runs")
                .description("Attempts of runs, by how they ended")
                .tags("job_name", job, "outcome", outcome, "trigger", trigger)
                .register(registry)
                .increment();
        Timer.builder("nightshift.job.run.duration")
                .description("Duration of attempts")
                .tags("job_name", job, "outcome", outcome)
                .serviceLevelObjectives(DURATION_BUCKETS)
                .register(registry)
                .record(duration);
    }

    /** A materialized view was refreshed: how long it took, and when (seconds since the epoch). */
    public void refreshed(String job, Duration duration, double epochSeconds) {
        Timer.builder("nightshift.refresh.duration")
                .description("Duration of materialized-view refreshes")
                .tags("job_name", job)
                .serviceLevelObjectives(DURATION_BUCKETS)
                .register(registry)
                .record(duration);
        lastRefresh.computeIfAbsent(job, j -> {
            java.util.concurrent.atomic.AtomicLong holder = new java.util.concurrent.atomic.AtomicLong();
            io.micrometer.core.instrument.Gauge.builder("nightshift.refresh.last.timestamp", holder, h -> h.get() / 1000.0)
                    .description("When the view was last refreshed by this node")
                    .baseUnit("seconds")
                    .tags("job_name", j)
                    .register(registry);
            return holder;
        }).set(Math.round(epochSeconds * 1000));
    }

    public void rescued(int n) {
        rescued.increment(n);
    }

    /** A survive-everything loop (claimer, rescuer, listener) caught an error. */
    public void loopError(String loop) {
        Counter.builder("nightshift.loop.errors")
                .description("Errors caught by the node's background loops")
                .tags("loop", loop)
                .register(registry)
                .increment();
    }
}
