package dev.nightshift.bench;

import dev.nightshift.cli.BaseCommand;
import dev.nightshift.cli.Main;
import dev.nightshift.cli.UsageException;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.config.Setting;
import dev.nightshift.config.Settings;
import dev.nightshift.config.SqlParams;
import dev.nightshift.db.Database;
import dev.nightshift.jobs.JobTypes;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.schedule.CatalogSync;
import dev.nightshift.worker.Node;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "queue", mixinStandardHelpOptions = true,
        description = "Enqueue N no-op runs, drain them with W workers, and compare with a bare loop of single-row "
                + "UPDATE + COMMIT on W connections (this machine's baseline) and with a minimal hand-written SKIP LOCKED "
                + "queue (the floor). Then measure enqueue-to-start latency on an idle queue.")
final class BenchQueueCommand extends BenchSubcommand {
    @Option(names = "--runs", defaultValue = "20000", description = "runs to drain (default 20000)")
    int runs;

    @Option(names = "--latency-samples", defaultValue = "300", description = "single enqueues on an idle queue (default 300)")
    int samples;

    @Option(names = "--jobs", defaultValue = "1", description = "spread the runs over this many no-op jobs (default 1)")
    int jobs;

    @Option(names = "--rounds", defaultValue = "3",
            description = "alternate baseline and drain this many times, RUNS/ROUNDS each, and report the median ratio (default 3)")
    int rounds;

    @Option(names = "--history", defaultValue = "0",
            description = "finished runs in the run table before the rounds, as months of history leave there (default 0)")
    long history;

    @Option(names = "--claim-samples", defaultValue = "0",
            description = "after the rounds, time this many single claims, one at a time, on a backlog of RUNS/ROUNDS (default 0: none)")
    int claimSamples;

    private int workers;
    /** Runs with a greater id are the benchmark's own; the others are the history. */
    private long historyEnd;

    @Override
    public Integer call() throws Exception {
        BaseCommand.quietLogs();
        Settings base = settings();
        workers = base.workers();
        if (runs < 100 || runs > 10_000_000) {
            throw new UsageException("--runs must be between 100 and 10000000");
        }
        if (samples < 10 || samples > 100_000) {
            throw new UsageException("--latency-samples must be between 10 and 100000");
        }
        if (jobs < 1 || jobs > 1000) {
            throw new UsageException("--jobs must be between 1 and 1000");
        }
        if (history < 0 || history > 100_000_000) {
            throw new UsageException("--history must be between 0 and 100000000");
        }
        if (claimSamples < 0 || claimSamples > 100_000) {
            throw new UsageException("--claim-samples must be between 0 and 100000");
        }
        if (rounds < 1 || rounds > 100 || runs / rounds < 100) {
            throw new UsageException("--rounds must be between 1 and 100, with at least 100 runs per round");
        }
        var out = out();
        try (ScratchDatabase scratch = new ScratchDatabase(base, "queue")) {
            Settings s = scratch.settings(base, Map.of(Setting.POLL_INTERVAL, "1s", Setting.WORKERS, Integer.toString(workers)));
            try (Database db = Database.open(s, workers + 6)) {
                db.migrate();
                createScratchTables(db);
                List<JobDefinition> noops = new ArrayList<>();
                for (int j = 1; j <= jobs; j++) {
                    noops.add(noop(LIMITED, j, 1000));
                    noops.add(noop(UNLIMITED, j, JobDefinition.UNLIMITED));
                }
                JobCatalog catalog = JobCatalog.of(noops);
                new CatalogSync(db.dataSource()).sync(catalog);
                historyEnd = addHistory(db);
                Node node = new Node(s, db, catalog, JobTypes.standard(), Metrics.prometheus());
                node.start();
                try {
                    awaitReady(node);
                    out.printf("nightshift bench queue: %d runs of %d job(s), %d workers, %d rounds, PostgreSQL %s%s%n", runs, jobs,
                            workers, rounds, serverVersion(db), history == 0 ? "" : String.format(", %,d finished runs of history", history));
                    out.printf("  baseline: single-row UPDATE + COMMIT on %d connections; floor: a minimal SKIP LOCKED queue, "
                            + "claim and completion (two single-row updates) + COMMIT per run on %d connections%n", workers, workers);
                    out.printf("  drain: no-op runs of jobs of concurrency 1000 (each run takes a slot row); "
                            + "without a limit: the same of jobs with concurrency: unlimited (no slot rows)%n");
                    // Baseline, floor and drain alternate, so that a change in the machine's load
                    // between them shows as a spread of the rounds, not as a skewed ratio.
                    List<Round> done = new ArrayList<>();
                    int perRound = runs / rounds;
                    for (int r = 1; r <= rounds; r++) {
                        double baseline = baseline(db, perRound);
                        double floor = floor(db, perRound);
                        Drain drain = drain(db, perRound, LIMITED);
                        Drain unlimited = drain(db, perRound, UNLIMITED);
                        Round round = new Round(baseline, floor, drain, unlimited);
                        done.add(round);
                        out.printf("  round %d: baseline %,.0f ops/s, floor %,.0f runs/s (%.2f), drain %,.0f runs/s, ratio %.2f; "
                                        + "without a limit %,.0f runs/s%n",
                                r, baseline, floor, floor / baseline, drain.rate, round.ratio(), unlimited.rate);
                    }
                    List<Round> byRatio = done.stream().sorted(java.util.Comparator.comparingDouble(Round::ratio)).toList();
                    Round median = byRatio.get(byRatio.size() / 2);
                    Latency idle = idleLatency(db);
                    out.printf("  enqueue (one transaction, median round):          %,.0f runs/s%n", median.drain.enqueueRate);
                    out.printf("  ratio nightshift/baseline (median of %d rounds):   %.2f (rounds from %.2f to %.2f)%n", rounds,
                            median.ratio(), byRatio.get(0).ratio(), byRatio.get(byRatio.size() - 1).ratio());
                    out.printf("  ratio floor/baseline (median of %d rounds):        %.2f%n", rounds,
                            medianOf(done.stream().mapToDouble(x -> x.floor / x.baseline)));
                    out.printf("  ratio nightshift/floor (median of %d rounds):      %.2f%n", rounds,
                            medianOf(done.stream().mapToDouble(x -> x.drain.rate / x.floor)));
                    out.printf("  the same without a concurrency limit:              %.2f%n",
                            medianOf(done.stream().mapToDouble(x -> x.unlimited.rate / x.floor)));
                    out.printf("  enqueue->start, idle queue (%d samples):          p50 %.2f ms, p99 %.2f ms%n", samples, idle.p50, idle.p99);
                    out.printf("  enqueue->start, backlog of %d (median round):     p50 %.0f ms, p99 %.0f ms%n", perRound,
                            median.drain.p50, median.drain.p99);
                    if (claimSamples > 0) {
                        node.stop();
                        double[] c = claimTimes(db, perRound);
                        out.printf("  claim, one at a time, backlog of %d (%d claims): p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                                perRound, claimSamples, c[0], c[1], c[2]);
                    }
                } finally {
                    node.stop();
                }
            }
        }
        return Main.OK;
    }

    /** The names of the bench's jobs of concurrency 1000, and of those without a limit. */
    private static final String LIMITED = "bench-noop-";
    private static final String UNLIMITED = "bench-free-";

    private static JobDefinition noop(String prefix, int n, int concurrency) {
        return JobDefinition.builder(prefix + n, new SqlParams("SELECT 1", null, true)).description("no-op run for bench queue")
                .maxAttempts(1).backoff(Duration.ofSeconds(1)).concurrency(concurrency).file(Path.of("(bench)")).build();
    }

    private static void awaitReady(Node node) throws InterruptedException {
        for (int i = 0; i < 100 && !node.ready(); i++) {
            Thread.sleep(50);
        }
    }

    private record Round(double baseline, double floor, Drain drain, Drain unlimited) {
        double ratio() {
            return drain.rate / baseline;
        }
    }

    private static double medianOf(java.util.stream.DoubleStream values) {
        double[] sorted = values.sorted().toArray();
        return sorted[sorted.length / 2];
    }

    /** The baseline's rows (one per worker) and the floor's queue table, in the scratch database. */
    private void createScratchTables(Database db) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE public.bench_baseline (id int PRIMARY KEY, n bigint NOT NULL)");
            st.execute("INSERT INTO public.bench_baseline SELECT g, 0 FROM generate_series(1, " + workers + ") g");
            st.execute("""
                    CREATE TABLE public.bench_floor (id bigint PRIMARY KEY, state text NOT NULL,
                                                     started_at timestamptz, finished_at timestamptz)""");
            st.execute("CREATE INDEX bench_floor_available_idx ON public.bench_floor (id) WHERE state = 'available'");
        }
    }

    /**
     * The least a queue of runs can cost here: {@code n} rows, drained by W threads, each run one
     * transaction that claims the next available row (SKIP LOCKED, starting past the thread's last
     * claim so as not to walk the entries of claimed rows) and marks it done: two single-row updates
     * and a commit, no job, no history, no slots, no locks held for liveness.
     */
    private double floor(Database db, int n) throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("TRUNCATE public.bench_floor");
            st.execute("INSERT INTO public.bench_floor (id, state) SELECT g, 'available' FROM generate_series(1, " + n + ") g");
            st.execute("ANALYZE public.bench_floor");
        }
        double seconds = onWorkers(worker -> {
            try (Connection c = db.dataSource().getConnection();
                 PreparedStatement claim = c.prepareStatement("""
                         UPDATE public.bench_floor SET state = 'running', started_at = clock_timestamp()
                         WHERE id = (SELECT id FROM public.bench_floor WHERE state = 'available' AND id > ?
                                     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                         RETURNING id""");
                 PreparedStatement complete = c.prepareStatement(
                         "UPDATE public.bench_floor SET state = 'succeeded', finished_at = clock_timestamp() WHERE id = ?")) {
                c.setAutoCommit(false);
                long head = 0;
                while (true) {
                    claim.setLong(1, head);
                    try (ResultSet rs = claim.executeQuery()) {
                        if (!rs.next()) {
                            c.commit();
                            return;
                        }
                        head = rs.getLong(1);
                    }
                    complete.setLong(1, head);
                    complete.executeUpdate();
                    c.commit();
                }
            }
        });
        long done = Stats.count(db, "SELECT count(*) FROM public.bench_floor WHERE state = 'succeeded'");
        if (done != n) {
            throw new IllegalStateException("the floor queue drained " + done + " of " + n + " rows");
        }
        return n / seconds;
    }

    /** One worker's loop of a load, given the worker's number, 1 to W. */
    private interface WorkerLoop {
        void run(int worker) throws Exception;
    }

    /** Runs {@code loop} on W threads at once and returns the seconds until the last one ends. */
    private double onWorkers(WorkerLoop loop) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            long t0 = System.nanoTime();
            List<Future<?>> fs = new ArrayList<>();
            for (int w = 1; w <= workers; w++) {
                int worker = w;
                fs.add(pool.submit(() -> {
                    loop.run(worker);
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
            return (System.nanoTime() - t0) / 1e9;
        } finally {
            pool.shutdownNow();
        }
    }

    /** W threads, each a loop of single-row UPDATE + COMMIT on its own row, {@code ops} in all. */
    private double baseline(Database db, int ops) throws Exception {
        int perThread = Math.max(1, ops / workers);
        double seconds = onWorkers(row -> {
            try (Connection c = db.dataSource().getConnection();
                 PreparedStatement ps = c.prepareStatement("UPDATE public.bench_baseline SET n = n + 1 WHERE id = ?")) {
                c.setAutoCommit(false);
                for (int i = 0; i < perThread; i++) {
                    ps.setInt(1, row);
                    ps.executeUpdate();
                    c.commit();
                }
            }
        });
        return (double) perThread * workers / seconds;
    }

    private record Drain(double enqueueRate, double rate, double p50, double p99) {
    }

    /**
     * Enqueues {@code n} runs of the jobs named {@code prefix}N in one transaction and waits until
     * the node has run them all.
     */
    private Drain drain(Database db, int n, String prefix) throws Exception {
        clear(db);
        RunQueue queue = new RunQueue(db.dataSource());
        long t0 = System.nanoTime();
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            for (int i = 0; i < n; i++) {
                queue.enqueue(c, NewRun.manual(prefix + (1 + i % jobs), Map.of(), null));
            }
            c.commit();
        }
        long enqueued = System.nanoTime();
        // Two probes of the partial indexes, not a count: the poll must not compete with the drain.
        while (Stats.count(db, """
                SELECT (EXISTS (SELECT 1 FROM nightshift.run WHERE state = 'available')
                        OR EXISTS (SELECT 1 FROM nightshift.run WHERE state = 'running'))::int
                """) > 0) {
            Thread.sleep(50);
        }
        // Measured in the database, from the commit of the enqueue to the last completion.
        double seconds = Stats.number(db, "SELECT extract(epoch FROM max(finished_at) - max(created_at)) FROM nightshift.run WHERE id > "
                + historyEnd);
        double[] q = Stats.startLatency(db, "id > " + historyEnd);
        return new Drain(n / ((enqueued - t0) / 1e9), n / seconds, q[0], q[1]);
    }

    private record Latency(double p50, double p99) {
    }

    /**
     * Inserts {@link #history} finished runs (succeeded a day ago, as a retention keeps them) and
     * vacuums, as the table is after months of work; returns the last history id.
     */
    private long addHistory(Database db) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            if (history > 0) {
                st.execute("""
                        INSERT INTO nightshift.run_history (id, job_name, trigger, state, params, max_attempts, attempt,
                                                            run_at, created_at, started_at, finished_at, node, counts)
                        SELECT nextval('nightshift.run_seq'), 'bench-noop-' || (1 + g %% %d), 'manual', 'succeeded', '{}',
                               1000, 1, t, t, t, t, 'history', '{"rows": 0, "statements": 1}'
                        FROM generate_series(1, %d) g, LATERAL (SELECT now() - interval '1 day' + g * interval '1 ms' AS t) x
                        """.formatted(jobs, history));
                st.execute("VACUUM ANALYZE nightshift.run_history");
            }
            try (ResultSet rs = st.executeQuery("SELECT coalesce(max(id), 0) FROM nightshift.run")) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * With the node stopped: {@code backlog} runs enqueued, then {@link #claimSamples} claims of one
     * run, each completed at once, timed from here (one round trip each); p50, p99 and max in ms.
     */
    private double[] claimTimes(Database db, int backlog) throws Exception {
        RunQueue queue = new RunQueue(db.dataSource());
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            clear(st);
            c.setAutoCommit(false);
            for (int i = 0; i < backlog; i++) {
                queue.enqueue(c, NewRun.manual(LIMITED + (1 + i % jobs), Map.of(), null));
            }
            c.commit();
            c.setAutoCommit(true);
        }
        double[] ms = new double[claimSamples];
        try (Connection c = db.openWorker()) {
            long owner = queue.register(c, "bench-claims");
            for (int i = 0; i < claimSamples; i++) {
                long t0 = System.nanoTime();
                dev.nightshift.queue.ClaimedRun got = queue.claimFirst(c, owner, "bench-claims");
                ms[i] = (System.nanoTime() - t0) / 1e6;
                if (got == null) {
                    throw new IllegalStateException("claim " + (i + 1) + " found nothing in a backlog of " + backlog);
                }
                c.setAutoCommit(false);
                queue.complete(c, got, Map.of());
                c.setAutoCommit(true);
            }
            queue.unregister(c, owner);
        }
        java.util.Arrays.sort(ms);
        return new double[] {ms[ms.length / 2], ms[(int) Math.min(ms.length - 1, Math.ceil(ms.length * 0.99) - 1)], ms[ms.length - 1]};
    }

    /** One run at a time on an idle queue: how soon NOTIFY gets it started. */
    private Latency idleLatency(Database db) throws Exception {
        clear(db);
        RunQueue queue = new RunQueue(db.dataSource());
        for (int i = 0; i < samples; i++) {
            long id = queue.enqueue(NewRun.manual(LIMITED + 1, Map.of(), null)).id();
            while (Stats.count(db, "SELECT count(*) FROM nightshift.run WHERE id = " + id + " AND state = 'succeeded'") == 0) {
                Thread.sleep(2);
            }
        }
        double[] q = Stats.startLatency(db, "id > " + historyEnd);
        return new Latency(q[0], q[1]);
    }

    /** The runs of earlier rounds go; the history before {@link #historyEnd} stays. */
    private void clear(Database db) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            clear(st);
        }
    }

    private void clear(Statement st) throws SQLException {
        for (String t : List.of("queue", "running", "run_history")) {
            st.execute("DELETE FROM nightshift." + t + " WHERE id > " + historyEnd);
        }
        st.execute("DELETE FROM nightshift.run_key WHERE run_id > " + historyEnd);
    }

    private static String serverVersion(Database db) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SHOW server_version")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
