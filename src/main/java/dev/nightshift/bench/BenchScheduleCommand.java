package dev.nightshift.bench;

import dev.nightshift.cli.BaseCommand;
import dev.nightshift.cli.Daemon;
import dev.nightshift.cli.Main;
import dev.nightshift.cli.UsageException;
import dev.nightshift.config.Setting;
import dev.nightshift.config.Settings;
import dev.nightshift.schedule.SchedulerOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code nightshift bench schedule}: many jobs firing every minute on several scheduler nodes (in
 * this process, each with its own pool and Quartz instance), in a scratch database. Reports the
 * lag from each slot to its run's insert, misfires and slots without exactly one run.
 */
@Command(name = "schedule", mixinStandardHelpOptions = true,
        description = "Fire JOBS jobs every minute on NODES scheduler nodes for MINUTES minutes; report fire lag, misfires, missing and duplicate slots.")
final class BenchScheduleCommand extends BenchSubcommand {
    @Option(names = "--jobs", defaultValue = "1000", description = "scheduled jobs, each firing at second 0 of every minute (default 1000)")
    int jobs;

    @Option(names = "--nodes", defaultValue = "3", description = "scheduler nodes (default 3)")
    int nodes;

    @Option(names = "--minutes", defaultValue = "5", description = "slots measured, one a minute (default 5)")
    int minutes;

    @Option(names = "--schedules", defaultValue = "1",
            description = "distinct schedules the jobs are spread over, all firing at second 0 of every minute (default 1, at most "
                    + MAX_SCHEDULES + ")")
    int schedules;

    @Option(names = "--batch", defaultValue = "0",
            description = "triggers one Quartz acquisition takes under the cluster lock (batchTriggerAcquisitionMaxCount); 0: as many"
                    + " as scheduler threads, the default")
    int batch;

    @Option(names = "--fire-ahead", defaultValue = "0", paramLabel = "MS",
            description = "how far ahead of its time a trigger may join a batch (batchTriggerAcquisitionFireAheadTimeWindow, ms; default 0)")
    long fireAheadMs;

    /**
     * Cron texts that all mean "second 0 of every minute": each field written in the ways Quartz
     * reads as "every" (360 texts); with the zones and policies below, distinct schedules.
     */
    static final List<String> CRONS = crons();
    /** Whole-hour offsets, so that second 0 of a minute is the same instant in each. */
    private static final List<String> ZONES = IntStream.rangeClosed(-12, 14)
            .mapToObj(h -> h == 0 ? "UTC" : "Etc/GMT" + (h < 0 ? "+" : "-") + Math.abs(h)).toList();
    private static final List<String> POLICIES = List.of("fire-once", "skip");
    /** 360 cron texts × 27 zones × 2 policies (a constant: the usage message is an annotation). */
    static final int MAX_SCHEDULES = 19_440;

    static {
        if (CRONS.size() * ZONES.size() * POLICIES.size() != MAX_SCHEDULES) {
            throw new IllegalStateException("MAX_SCHEDULES is out of date: " + CRONS.size() * ZONES.size() * POLICIES.size());
        }
    }

    private static List<String> crons() {
        List<String> out = new ArrayList<>();
        List<String> days = List.of("* ?", "1-31 ?", "1/1 ?", "? *", "? 1-7", "? SUN-SAT");
        for (String minute : List.of("*", "0-59", "0/1", "*/1", "0-59/1")) {
            for (String hour : List.of("*", "0-23", "0/1", "*/1")) {
                for (String month : List.of("*", "1-12", "JAN-DEC")) {
                    for (String day : days) {
                        String[] dd = day.split(" ");
                        out.add("0 " + minute + " " + hour + " " + dd[0] + " " + month + " " + dd[1]);
                    }
                }
            }
        }
        return List.copyOf(out);
    }

    @Override
    public Integer call() throws Exception {
        BaseCommand.quietLogs();
        if (jobs < 1 || jobs > 100_000 || nodes < 1 || nodes > 16 || minutes < 1 || minutes > 120
                || schedules < 1 || schedules > Math.min(jobs, MAX_SCHEDULES)) {
            throw new UsageException("--jobs 1..100000, --nodes 1..16, --minutes 1..120, --schedules 1..min(jobs, " + MAX_SCHEDULES + ")");
        }
        if (batch < 0 || batch > 1000 || fireAheadMs < 0 || fireAheadMs > 10_000) {
            throw new UsageException("--batch 0..1000, --fire-ahead 0..10000 (ms)");
        }
        PrintWriter out = out();
        Settings base = settings();
        try (ScratchDatabase scratch = new ScratchDatabase(base, "schedule")) {
            Path dir = writeJobs();
            Settings s = scratch.settings(base, Map.of(Setting.JOBS_DIR, dir.toString(), Setting.WORKERS, "2",
                    Setting.HTTP_PORT, "0"));
            BenchResult r = measure(s);
            r.print(out, jobs, nodes, minutes, s.schedulerThreads());
            return r.goalMet() ? Main.OK : Main.FAILED;
        }
    }

    private BenchResult measure(Settings s) throws Exception {
        SchedulerOptions scheduling = SchedulerOptions.of(s).withBatch(batch, Duration.ofMillis(fireAheadMs));
        out().printf("Quartz: %d threads, batches of up to %d triggers, fire-ahead window %d ms%n", scheduling.threads(),
                scheduling.effectiveBatchSize(), scheduling.fireAhead().toMillis());
        List<CompletableFuture<Daemon>> starting = new ArrayList<>();
        for (int i = 1; i <= nodes; i++) {
            Settings node = s.withNodeName("bench-" + i);
            starting.add(CompletableFuture.supplyAsync(() -> Daemon.start(node, scheduling)));
        }
        List<Daemon> daemons = starting.stream().map(CompletableFuture::join).toList();
        try {
            // The first measured slot is a full minute boundary at least 10 s away, past the start-up.
            Instant first = Instant.now().plusSeconds(10).truncatedTo(ChronoUnit.MINUTES).plus(1, ChronoUnit.MINUTES);
            Instant last = first.plus(minutes - 1L, ChronoUnit.MINUTES);
            out().printf("%d nodes started; measuring the slots %s to %s%n", nodes, first, last);
            out().flush();
            waitUntil(last.plusSeconds(30));
            return BenchResult.collect(daemons.get(0).database().dataSource(), daemons, first, last, jobs);
        } finally {
            daemons.forEach(Daemon::close);
        }
    }

    private static void waitUntil(Instant t) throws InterruptedException {
        long ms;
        while ((ms = Duration.between(Instant.now(), t).toMillis()) > 0) {
            Thread.sleep(Math.min(ms, 1_000));
        }
    }

    private Path writeJobs() throws IOException {
        Path dir = Files.createTempDirectory("nightshift-bench-schedule");
        dir.toFile().deleteOnExit();
        for (int i = 1; i <= jobs; i++) {
            String name = "bench-%05d".formatted(i);
            Path f = dir.resolve(name + ".yaml");
            int k = (i - 1) % schedules;
            Files.writeString(f, """
                    name: %s
                    type: sql
                    schedule:
                      cron: "%s"
                      timezone: %s
                      misfire: %s
                    params:
                      sql: SELECT 1
                    """.formatted(name, CRONS.get(k % CRONS.size()), ZONES.get(k / CRONS.size() % ZONES.size()),
                    POLICIES.get(k / (CRONS.size() * ZONES.size()))));
            f.toFile().deleteOnExit();
        }
        return dir;
    }
}
