package dev.nightshift.metrics;

import dev.nightshift.config.JobDefinition;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The meters of one nightshift node, registered once. Label values are bounded: job names,
 * outcomes, triggers, loop names; never a run id, file name or message. Thread-safe.
 */
public final class Metrics implements AutoCloseable {
    /** How an attempt can end; every one is pre-registered per job so that increase() sees the first. */
    static final List<String> OUTCOMES = List.of("succeeded", "failed", "dead", "cancelled", "aborted");
    static final List<String> TRIGGERS = List.of("schedule", "manual", "after", "backfill");
    /** The counts of a run that are row operations; other count names are not exported (bounded labels). */
    static final Set<String> ROW_OPERATIONS = Set.of("read", "inserted", "updated", "unchanged", "deleted", "rejected");

    /** Duration buckets from 100 ms to 8 h: batch jobs run far longer than the 30 s default tops out at. */
    static final Duration[] DURATION_BUCKETS = {
            Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5),
            Duration.ofSeconds(15), Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(5),
            Duration.ofMinutes(15), Duration.ofMinutes(30), Duration.ofHours(1), Duration.ofHours(2),
            Duration.ofHours(4), Duration.ofHours(8)};

    /** Gauges read these holders; the map keeps them strongly reachable (Micrometer holds gauges weakly). */
    private final java.util.Map<String, java.util.concurrent.atomic.AtomicLong> lastRefresh = new java.util.concurrent.ConcurrentHashMap<>();
    /** Per job with a deadline: {slots past their deadline without a success, seconds the oldest is past it}. */
    private final java.util.Map<String, double[]> late = new java.util.concurrent.ConcurrentHashMap<>();
    private final MeterRegistry registry;
    private final Clock clock;
    private final Counter rescued;
    private JvmGcMetrics gc;

    public Metrics(MeterRegistry registry) {
        this(registry, Clock.systemUTC());
    }

    /** {@code clock}: from when the expected intervals of schedules are looked at. */
    public Metrics(MeterRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
        this.rescued = Counter.builder("nightshift.rescued.runs")
                .description("Runs whose owner's database session ended, put back to available or dead")
                .register(registry);
    }

    /** A Prometheus registry with the JVM and process meters and {@code nightshift_build_info}. */
    public static Metrics prometheus(String version) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // The two binder meters whose names `promtool check metrics` rejects (an abbreviated unit, a
        // _count suffix on a gauge); process_cpu_usage and system_cpu_usage tell the same story.
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")
                || id.getName().equals("system.cpu.count")));
        Gauge.builder("nightshift.build.info", () -> 1)
                .description("Always 1, labelled with the running nightshift version")
                .tags("version", version)
                .register(registry);
        Metrics m = new Metrics(registry);
        m.bindJvm();
        return m;
    }

    public static Metrics prometheus() {
        return prometheus("dev");
    }

    private void bindJvm() {
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        gc = new JvmGcMetrics();
        gc.bindTo(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition (format 0.0.4); empty for a registry of another kind (tests). */
    public String scrape() {
        return registry instanceof PrometheusMeterRegistry p ? p.scrape() : "";
    }

    /**
     * Registers at zero every job's run counters and misfire counter, and the expected interval of
     * scheduled jobs, so that rate() and increase() see the first event and alerts have a baseline.
     */
    public void registerJobs(List<JobDefinition> jobs) {
        for (JobDefinition d : jobs) {
            for (String outcome : OUTCOMES) {
                for (String trigger : TRIGGERS) {
                    runs(d.name(), outcome, trigger);
                }
            }
            misfires(d.name());
            if (d.deadline() != null) {
                lateGauges(d.name());
            }
            Duration interval = d.schedule() == null ? null : ExpectedInterval.of(d.schedule(), clock.instant());
            if (interval != null) {
                double seconds = interval.toSeconds();
                Gauge.builder("nightshift.job.expected.interval", () -> seconds)
                        .description("Longest gap between two slots of the job's schedule: alerts wait twice this for a success")
                        .baseUnit("seconds")
                        .tags("job_name", d.name())
                        .register(registry);
            }
        }
    }

    private Counter runs(String job, String outcome, String trigger) {
        return Counter.builder("nightshift.job.runs")
                .description("Attempts of runs, by how they ended")
                .tags("job_name", job, "outcome", outcome, "trigger", trigger)
                .register(registry);
    }

    private Counter misfires(String job) {
        return Counter.builder("nightshift.scheduler.misfires")
                .description("Schedule slots the scheduler missed (node down, all workers busy)")
                .tags("job_name", job)
                .register(registry);
    }

    private double[] lateGauges(String job) {
        return late.computeIfAbsent(job, j -> {
            double[] v = new double[2];
            Gauge.builder("nightshift.job.late.slots", v, x -> x[0])
                    .description("Slots of the job past their deadline without a succeeded run (waiting, running, retrying, dead or never fired)")
                    .tags("job_name", j)
                    .register(registry);
            Gauge.builder("nightshift.job.late", v, x -> x[1])
                    .description("How far past its deadline the job's oldest late slot is")
                    .baseUnit("seconds")
                    .tags("job_name", j)
                    .register(registry);
            return v;
        });
    }

    /** The job's late slots now, read from the database (see the schedule package's Lateness). */
    public void late(String job, int slots, Duration overdue) {
        double[] v = lateGauges(job);
        v[0] = slots;
        v[1] = overdue.toMillis() / 1000.0;
    }

    /** The scheduler missed a slot of {@code job}. */
    public void misfire(String job) {
        misfires(job).increment();
    }

    /**
     * One try of a notification: {@code delivered}, {@code retry} (failed, tried again later),
     * {@code failed} (given up), {@code no-target} (no target to send to).
     */
    public void notification(String result) {
        Counter.builder("nightshift.notifications")
                .description("Tries of notification deliveries (webhooks), by result")
                .tags("result", result)
                .register(registry)
                .increment();
    }

    /** A guard of {@code job} refused a run's change ({@code guard}: min_rows, max_delete, max_change, assert). */
    public void guardRefused(String job, String guard) {
        Counter.builder("nightshift.guard.refusals")
                .description("Runs refused by a data guard (the target left unchanged), by job and guard")
                .tags("job_name", job, "guard", guard)
                .register(registry)
                .increment();
    }

    /** Adds a succeeded run's row counts (read, inserted, updated, ...) to the row counters. */
    public void rows(String job, Map<String, Long> counts) {
        if (counts == null) {
            return;
        }
        counts.forEach((operation, n) -> {
            if (ROW_OPERATIONS.contains(operation) && n != null && n > 0) {
                Counter.builder("nightshift.import.rows")
                        .description("Rows handled by imports and summary rebuilds, by operation")
                        .tags("job_name", job, "operation", operation)
                        .register(registry)
                        .increment(n);
            }
        });
    }

    /** One attempt ended: outcome is succeeded, failed (will retry), dead, cancelled or aborted (shutdown). */
    public void attemptFinished(String job, String outcome, String trigger, Duration duration) {
        runs(job, outcome, trigger).increment();
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

    /** A file arrived in the source of an on_arrival import, and this node enqueued its run. */
    public void arrival(String job) {
        Counter.builder("nightshift.import.arrivals")
                .description("Files that arrived complete in the source of an on_arrival import, each enqueued once across the nodes")
                .tags("job_name", job)
                .register(registry)
                .increment();
    }

    /** A refresh or summary rebuild with skip_if_unchanged found its sources unchanged and skipped its work. */
    public void skippedUnchanged(String job) {
        Counter.builder("nightshift.job.skipped.unchanged")
                .description("Runs that succeeded at once because no source table changed since the last success (skip_if_unchanged)")
                .tags("job_name", job)
                .register(registry)
                .increment();
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

    @Override
    public void close() {
        if (gc != null) {
            gc.close();
        }
        registry.close();
    }
}
