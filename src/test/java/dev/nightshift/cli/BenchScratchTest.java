package dev.nightshift.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.testing.NodeProcess;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Benchmarks work in a scratch database of their own and leave nothing behind, even when stopped. */
class BenchScratchTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

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
