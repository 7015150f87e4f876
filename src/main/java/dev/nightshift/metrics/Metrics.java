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

    /** Fire lag buckets from 10 ms to 2 min: on time is well under a second; a minute is Quartz's default misfire threshold. */
    static final Duration[] LAG_BUCKETS = {
            Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2),
            Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(30), Duration.ofMinutes(1),
            Duration.ofMinutes(2)};

    /** A Quartz trigger fired this late after its scheduled time (fires of this node only). */
    public void fireLag(String job, Duration lag) {
        Timer.builder("nightshift.scheduler.fire.lag")
                .description("Time from a schedule's slot to its fire on this node")
                .tags("job_name", job)
                .serviceLevelObjectives(LAG_BUCKETS)
                .register(registry)
                .record(lag);
    }

    /** Quartz found a slot missed by more than the misfire threshold and applied the job's policy. */
    public void misfire(String job) {
        Counter.builder("nightshift.scheduler.misfires")
                .description("Schedule slots missed by more than the misfire threshold")
                .tags("job_name", job)
                .register(registry)
                .increment();
    }

    /** One fire handled by this node: enqueued, duplicate (slot already had its run), paused, removed or failed. */
    public void schedulerFire(String job, String result) {
        Counter.builder("nightshift.scheduler.fires")
                .description("Quartz fires handled by this node, by what they did")
                .tags("job_name", job, "result", result)
                .register(registry)
                .increment();
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
