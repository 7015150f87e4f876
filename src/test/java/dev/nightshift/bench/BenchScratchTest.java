package dev.nightshift.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.testing.NodeProcess;
import dev.nightshift.testing.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Benchmarks work in a scratch database of their own and leave nothing behind, even when stopped. */
@Tag("process")
class BenchScratchTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void the_queue_benchmark_drains_all_three_loads_and_reports_their_ratios() throws Exception {
        try (NodeProcess bench = NodeProcess.command(db.env(), db.tempDir(), "bench-queue-small",
                "bench", "queue", "--runs", "400", "--rounds", "2", "--latency-samples", "10", "--workers", "2",
                "--history", "1000", "--claim-samples", "20")) {
            assertThat(bench.waitFor(120)).as(bench.output()).isEqualTo(0);
            String out = bench.output();
            // each round: baseline, floor (whose drain is checked row by row inside), nightshift's drain
            assertThat(out).containsPattern("round 1: baseline [0-9,]+ ops/s, floor [0-9,]+ runs/s \\([0-9.]+\\), "
                    + "drain [0-9,]+ runs/s, ratio [0-9.]+")
                    .containsPattern("round 2: baseline")
                    .containsPattern("ratio nightshift/baseline \\(median of 2 rounds\\): +[0-9.]+")
                    .containsPattern("ratio floor/baseline \\(median of 2 rounds\\): +[0-9.]+")
                    .containsPattern("ratio nightshift/floor \\(median of 2 rounds\\): +[0-9.]+")
                    .containsPattern("idle queue \\(10 samples\\): +p50 [0-9.]+ ms, p99 [0-9.]+ ms")
                    .containsPattern("1,000 finished runs of history")
                    .containsPattern("claim, one at a time, backlog of 200 \\(20 claims\\): p50 [0-9.]+ ms, p99 [0-9.]+ ms, max [0-9.]+ ms");
            assertThat(db.queryLong("SELECT count(*) FROM pg_database WHERE datname = 'nightshift_bench_queue_" + bench.pid() + "'"))
                    .isZero();
        }
    }

    @Test
    void the_idle_benchmark_counts_the_transactions_of_one_idle_daemon() throws Exception {
        try (NodeProcess bench = NodeProcess.command(db.env(), db.tempDir(), "bench-idle", "bench", "idle", "--seconds", "5")) {
            assertThat(bench.waitFor(120)).as(bench.output()).isEqualTo(0);
            assertThat(bench.output()).containsPattern("one idle node \\([0-9]+ workers, no jobs\\), 5 s: [0-9]+ transactions, [0-9.]+/s");
            assertThat(db.queryLong("SELECT count(*) FROM pg_database WHERE datname = 'nightshift_bench_idle_" + bench.pid() + "'"))
                    .isZero();
        }
    }

    @Test
    void the_idle_benchmark_loads_the_catalog_it_is_given() throws Exception {
        Path catalog = Path.of("src/test/resources/bench/idle-catalog").toAbsolutePath();
        try (NodeProcess bench = NodeProcess.command(db.env(), db.tempDir(), "bench-idle-catalog", "bench", "idle", "--seconds", "5",
                "--jobs-dir", catalog.toString())) {
            assertThat(bench.waitFor(120)).as(bench.output()).isEqualTo(0);
            assertThat(bench.output()).containsPattern("one idle node \\([0-9]+ workers, 3 jobs from " + Pattern.quote(catalog.toString())
                    + "\\), 5 s: [0-9]+ transactions, [0-9.]+/s");
        }
    }

    @Test
    void the_fleet_benchmark_measures_one_node_and_the_fleet_and_drops_its_scratch_databases() throws Exception {
        try (NodeProcess bench = NodeProcess.command(db.env(), db.tempDir(), "bench-fleet", "bench", "fleet", "--nodes", "2",
                "--idle-seconds", "5", "--samples", "10", "--backlog", "200")) {
            assertThat(bench.waitFor(180)).as(bench.output()).isEqualTo(0);
            assertThat(bench.output())
                    .containsPattern("\\n1 \\| [0-9]+ / [0-9]+ \\| [0-9.]+ \\([0-9.]+\\) \\| [0-9.]+ / [0-9.]+ ms \\| [0-9]+ \\| [0-9]+ ms")
                    .containsPattern("\\n2 \\| [0-9]+ / [0-9]+ \\|");
            assertThat(db.queryLong("SELECT count(*) FROM pg_database WHERE datname LIKE 'nightshift_bench_fleet%_" + bench.pid() + "'"))
                    .isZero();
        }
    }

    @Test
    void a_benchmark_stopped_by_sigterm_drops_its_scratch_database() throws Exception {
        try (NodeProcess bench = NodeProcess.command(db.env(), db.tempDir(), "bench-queue",
                "bench", "queue", "--runs", "2000000", "--rounds", "1")) {
            String scratch = "nightshift_bench_queue_" + bench.pid();
            String exists = "SELECT count(*) FROM pg_database WHERE datname = '" + scratch + "'";
            await().atMost(Duration.ofSeconds(60)).until(() -> db.queryLong(exists) == 1 || !bench.alive());
            assertThat(bench.alive()).as(bench.output()).isTrue();

            bench.term();
            assertThat(bench.waitFor(30)).as(bench.output()).isNotNull();
            assertThat(db.queryLong(exists)).as(bench.output()).isZero();
        }
    }
}
