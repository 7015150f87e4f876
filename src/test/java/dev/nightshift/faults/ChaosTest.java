package dev.nightshift.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.nightshift.db.EmbeddedServer;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.FaultProxy;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.NodeProcess;
import dev.nightshift.testing.PrivateServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The chaos suite: three daemons on a PostgreSQL server of their own, a stream of runs of every
 * job type and a schedule firing every second, while a driver kills (-9), stops (SIGTERM), freezes
 * (SIGSTOP) and cuts off (a proxy that drops everything) nodes and restarts PostgreSQL. At the end
 * every guarantee is checked on the rows, and a summary table is printed.
 *
 * <p>Short form (in {@code mvn verify}): 2,000 runs, one round of the seven faults. Long form:
 * {@code mvn -B verify -Dit.test=ChaosTest -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dnightshift.chaos.runs=50000 -Dnightshift.chaos.rate=120}
 * (runs enqueued per second; the rounds of faults repeat until the last run is enqueued).
 */
@Tag("process")
class ChaosTest {
    private static final int RUNS = Integer.getInteger("nightshift.chaos.runs", 2_000);
    private static final int RATE = Integer.getInteger("nightshift.chaos.rate", 30);
    private static final Duration STALL = Duration.ofSeconds(4);
    private static final int ITEMS = 2_000;

    private static Path home;
    private static PrivateServer pg;
    private static EmbeddedServer server;
    private static HikariDataSource ds;
    private final List<NodeProcess> processes = new ArrayList<>();
    private final Map<String, NodeProcess> nodes = new LinkedHashMap<>();
    private final Map<String, Integer> faults = new LinkedHashMap<>();
    private FaultProxy proxy;
    private JobsDir jobs;
    private Path data;
    private final AtomicInteger itemsVersion = new AtomicInteger();

    @BeforeAll
    static void server() throws Exception {
        pg = PrivateServer.start("nightshift-chaos");
        home = pg.home();
        server = pg.server();
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(server.jdbcUrl("postgres"));
        c.setUsername("postgres");
        c.setMaximumPoolSize(3);
        c.setConnectionTimeout(2_000);
        c.setInitializationFailTimeout(-1);
        c.setPoolName("chaos-driver");
        ds = new HikariDataSource(c);
    }

    @AfterAll
    static void release() throws Exception {
        ds.close();
        pg.close();
    }

    @Test
    void under_kills_freezes_cuts_and_restarts_every_run_ends_once_and_every_slot_fires_once() throws Exception {
        schema();
        proxy = new FaultProxy("127.0.0.1", server.port());
        try {
            for (String name : List.of("a", "b", "c")) {
                start(name);
            }
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> count("SELECT count(*) FROM nightshift.job") == 6);
            Instant begin = Instant.now();
            Enqueuer enqueuer = new Enqueuer();
            Thread t = new Thread(enqueuer, "chaos-enqueuer");
            t.start();
            do {
                round(enqueuer);
            } while (t.isAlive());
            t.join();
            Instant lastEnqueued = Instant.now();
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).ignoreExceptions().until(() -> count(
                    "SELECT count(*) FROM nightshift.run WHERE job_name <> 'tick' AND state NOT IN ('succeeded', 'dead', 'cancelled')") == 0);
            Duration drain = Duration.between(lastEnqueued, Instant.now());
            check(enqueuer, begin, drain);
        } finally {
            for (NodeProcess p : processes) {
                p.close();
            }
            proxy.close();
        }
    }

    /** One round of the seven faults, each followed by a few seconds of normal work. */
    private void round(Enqueuer enqueuer) throws Exception {
        fault("kill -9", () -> {
            nodes.get("a").kill9();
            start("a");
        });
        fault("SIGTERM", () -> {
            NodeProcess b = nodes.get("b");
            b.term();
            Integer exit = b.waitFor(30);
            if (exit == null) {
                jstack(b);
            }
            assertThat(exit).as("a SIGTERM'd node exits 0; its log ends: %s", tail(b.output())).isEqualTo(0);
            start("b");
        });
        fault("SIGSTOP", () -> {
            NodeProcess a = nodes.get("a");
            a.freeze();
            pause(STALL.plusSeconds(3));
            a.thaw();
        });
        fault("PostgreSQL restart", ChaosTest::restartServer);
        fault("network cut", () -> {
            proxy.blackhole(true);
            pause(STALL.plusSeconds(4));
            proxy.blackhole(false);
        });
        fault("kill -9", () -> {
            nodes.get("b").kill9();
            start("b");
        });
        fault("PostgreSQL restart", ChaosTest::restartServer);
        if (!enqueuer.done.get()) {
            System.out.printf("chaos: a round of faults done, %d runs enqueued%n", enqueuer.enqueued.get());
        }
    }

    private interface Fault {
        void inject() throws Exception;
    }

    private void fault(String name, Fault f) throws Exception {
        pause(Duration.ofSeconds(4));
        System.out.printf("chaos: %s%n", name);
        f.inject();
        faults.merge(name, 1, Integer::sum);
    }

    /** The time between faults and the length of a freeze or a cut: the fault itself, not a wait for a result. */
    private static void pause(Duration d) throws InterruptedException {
        Thread.sleep(d.toMillis());
    }

    private static void restartServer() throws IOException {
        server.stop();
        server.start();
    }

    private void start(String name) throws IOException {
        // a directory per process, so that a restarted node's log does not replace its predecessor's
        Path logs = Files.createDirectories(home.resolve("logs-" + processes.size()));
        String url = server.jdbcUrl("postgres");
        Map<String, String> env = Map.of("NIGHTSHIFT_DB_URL", name.equals("c") ? proxy.url(url) : url, "NIGHTSHIFT_DB_USER", "postgres");
        NodeProcess p = NodeProcess.start(env, logs, name, "--jobs-dir", jobs.path().toString(), "--poll-interval", "200ms",
                "--rescue-interval", "500ms", "--http-port", "0", "--stall-timeout", STALL.toSeconds() + "s",
                "--shutdown-grace", "3s", "--workers", "4");
        processes.add(p);
        nodes.put(name, p);
    }

    /** Enqueues RUNS runs at RATE a second, mixed across the job types; retries each until the database takes it. */
    private final class Enqueuer implements Runnable {
        final AtomicBoolean done = new AtomicBoolean();
        final AtomicInteger enqueued = new AtomicInteger();
        final ConcurrentLinkedQueue<Long> ids = new ConcurrentLinkedQueue<>();

        @Override
        public void run() {
            RunQueue queue = new RunQueue(ds);
            long started = System.nanoTime();
            try {
                for (int i = 0; i < RUNS; i++) {
                    String job = switch (i % 40) {
                        case 0 -> "items";
                        case 1 -> "summary";
                        case 2 -> "view";
                        case 3, 4, 5, 6, 7, 8 -> "loose";
                        default -> "counted";
                    };
                    if (job.equals("items")) {
                        writeItems(itemsVersion.incrementAndGet());
                    }
                    NewRun run = NewRun.manual(job, Map.of(), null);
                    while (true) {
                        try {
                            ids.add(queue.enqueue(run).id());
                            break;
                        } catch (SQLException e) {
                            pause(Duration.ofMillis(200));   // the database is down: the same request again (its key dedupes)
                        }
                    }
                    enqueued.incrementAndGet();
                    long due = started + (long) (i + 1) * 1_000_000_000L / RATE;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000);   // the pace of the stream, not a wait for a result
                    }
                }
            } catch (InterruptedException | IOException e) {
                throw new IllegalStateException(e);
            } finally {
                done.set(true);
            }
        }
    }

    /** The import's file, replaced atomically: version v has amount v in every row. */
    private void writeItems(int version) throws IOException {
        StringBuilder b = new StringBuilder("id,name,amount\n");
        for (int i = 1; i <= ITEMS; i++) {
            b.append(i).append(",item ").append(i).append(',').append(version).append('\n');
        }
        Path tmp = data.resolve(".items.tmp");
        Files.writeString(tmp, b);
        Files.move(tmp, data.resolve("items.csv"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private void schema() throws Exception {
        execute("""
                CREATE TABLE ledger (run_id bigint NOT NULL, attempt int NOT NULL);
                CREATE TABLE loose_ledger (run_id bigint NOT NULL, attempt int NOT NULL);
                CREATE TABLE tick_ledger (run_id bigint NOT NULL, attempt int NOT NULL, slot timestamptz NOT NULL);
                CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, amount integer NOT NULL);
                CREATE TABLE summary (attempt integer PRIMARY KEY, runs bigint NOT NULL);
                CREATE MATERIALIZED VIEW ledger_size AS SELECT count(*) AS runs FROM ledger;
                """);
        data = Files.createDirectories(home.resolve("data"));
        writeItems(0);
        String record = "INSERT INTO %s (run_id, attempt) VALUES (current_setting('nightshift.run_id')::bigint,"
                + " current_setting('nightshift.attempt')::int);\nSELECT pg_sleep(random() * 0.05)";
        String retry = "max_attempts: 20\nbackoff: 1s\n";
        jobs = new JobsDir(home, "jobs")
                .sql("counted", record.formatted("ledger"), retry + "concurrency: 8\n")
                .file("loose.yaml", Nodes.looseJob("loose", record.formatted("loose_ledger"))
                        .replace("max_attempts: 5\n", retry + "concurrency: 4\n"))
                .sql("tick", "INSERT INTO tick_ledger (run_id, attempt, slot) VALUES (current_setting('nightshift.run_id')::bigint,"
                        + " current_setting('nightshift.attempt')::int, current_setting('nightshift.scheduled_at')::timestamptz)",
                        retry + "schedule:\n  cron: \"* * * * * ?\"\n")
                .file("items.yaml", "name: items\ntype: batch-import\n" + retry + "params:\n  source: " + data.resolve("items.csv")
                        + "\n  target: public.items\n  key: [id]\n")
                .file("summary.yaml", "name: summary\ntype: rebuild-summary\n" + retry + "params:\n  target: public.summary\n"
                        + "  key: [attempt]\n  query: SELECT attempt, count(*) AS runs FROM ledger GROUP BY attempt\n")
                .file("view.yaml", "name: view\ntype: refresh-materialized-view\n" + retry + "params:\n  view: public.ledger_size\n");
    }

    private void check(Enqueuer enqueuer, Instant begin, Duration drain) throws Exception {
        List<Long> ids = new ArrayList<>(enqueuer.ids);
        String idList = ids.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","));
        long lost = ids.size() - count("SELECT count(*) FROM nightshift.run WHERE state = 'succeeded' AND id IN (" + idList + ")");
        long txDuplicates = count("SELECT count(*) - count(DISTINCT run_id) FROM ledger");
        long txMismatch = count("SELECT count(*) FROM nightshift.run r WHERE r.job_name = 'counted' AND r.state = 'succeeded'"
                + " AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.run_id = r.id AND l.attempt = r.attempt)");
        long looseMissing = count("SELECT count(*) FROM nightshift.run r WHERE r.job_name = 'loose' AND r.state = 'succeeded'"
                + " AND NOT EXISTS (SELECT 1 FROM loose_ledger l WHERE l.run_id = r.id AND l.attempt = r.attempt)");
        long looseRepeats = count("SELECT count(*) - count(DISTINCT run_id) FROM loose_ledger");
        long tickDuplicates = count("SELECT count(*) - count(DISTINCT run_id) FROM tick_ledger")
                + count("SELECT count(*) - count(DISTINCT scheduled_at) FROM nightshift.run WHERE job_name = 'tick'");
        long tickSlots = count("SELECT count(*) FROM nightshift.run WHERE job_name = 'tick'");
        long tickGaps = count("SELECT extract(epoch FROM max(scheduled_at) - min(scheduled_at))::bigint + 1 - count(*)"
                + " FROM nightshift.run WHERE job_name = 'tick'");
        long orphanSlots = count("""
                SELECT count(*) FROM nightshift.job_slot s
                WHERE s.owner IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM pg_locks l
                                  WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
                                    AND l.classid = (s.owner >> 32)::oid AND l.objid = (s.owner & 4294967295)::oid)
                """);
        long rescues = rescues();
        long retried = count("SELECT count(*) FROM nightshift.run WHERE attempt > 1 AND id IN (" + idList + ")");

        // The last versions of the derived data, applied after the storm, match their sources.
        RunQueue queue = new RunQueue(ds);
        writeItems(itemsVersion.incrementAndGet());
        List<Long> last = List.of(queue.enqueue(NewRun.manual("items", Map.of(), null)).id(),
                queue.enqueue(NewRun.manual("summary", Map.of(), null)).id(),
                queue.enqueue(NewRun.manual("view", Map.of(), null)).id());
        await().atMost(Duration.ofSeconds(60)).until(() -> count("SELECT count(*) FROM nightshift.run WHERE state = 'succeeded' AND id IN ("
                + last.get(0) + "," + last.get(1) + "," + last.get(2) + ")") == 3);

        System.out.println();
        System.out.println("chaos summary");
        System.out.println("| runs | schedule slots | kills (-9) | SIGTERMs | freezes | cuts | restarts | rescues | runs re-run"
                + " | duplicates | lost | slot gaps | transaction: false repeats | drain |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        System.out.printf("| %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %.1f s |%n", ids.size(), tickSlots,
                faults.getOrDefault("kill -9", 0), faults.getOrDefault("SIGTERM", 0), faults.getOrDefault("SIGSTOP", 0),
                faults.getOrDefault("network cut", 0), faults.getOrDefault("PostgreSQL restart", 0), rescues, retried,
                txDuplicates + tickDuplicates, lost, tickGaps, looseRepeats, drain.toMillis() / 1000.0);
        System.out.printf("(chaos: %.0f s in all)%n", Duration.between(begin, Instant.now()).toMillis() / 1000.0);

        assertThat(ids).hasSize(RUNS);
        assertThat(lost).as("runs not succeeded").isZero();
        assertThat(txDuplicates).as("transactional effects applied twice").isZero();
        assertThat(txMismatch).as("succeeded transactional runs without the effect of their attempt").isZero();
        assertThat(looseMissing).as("transaction: false runs without the effect of their last attempt").isZero();
        assertThat(tickDuplicates).as("schedule slots enqueued or applied twice").isZero();
        assertThat(tickGaps).as("schedule slots never enqueued").isZero();
        assertThat(orphanSlots).as("job slots held by a run without a live owner").isZero();
        assertThat(count("SELECT count(*) FROM items WHERE amount = " + itemsVersion.get())).isEqualTo(ITEMS);
        assertThat(count("SELECT count(*) FROM ledger")).isEqualTo(count("SELECT sum(runs) FROM summary"));
        assertThat(count("SELECT runs FROM ledger_size")).isEqualTo(count("SELECT count(*) FROM ledger"));
    }

    private static String tail(String log) {
        return log.substring(Math.max(0, log.length() - 6_000));
    }

    /** The threads of a node that did not stop, into the test's output. */
    private static void jstack(NodeProcess p) throws IOException, InterruptedException {
        Process j = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jstack").toString(), Long.toString(p.pid()))
                .redirectErrorStream(true).start();
        System.out.println(new String(j.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        j.waitFor();
    }

    /** "rescued run" lines in the logs of every node's every incarnation. */
    private long rescues() throws IOException {
        long n = 0;
        try (var files = Files.walk(home)) {
            for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".log") && f.getParent().getFileName().toString()
                    .startsWith("logs-")).toList()) {
                try (var lines = Files.lines(p, java.nio.charset.StandardCharsets.ISO_8859_1)) {
                    n += lines.filter(l -> l.contains("rescued run")).count();
                }
            }
        }
        return n;
    }

    private static long count(String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void execute(String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
