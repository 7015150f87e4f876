package dev.nightshift.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.testing.TestDatabase;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Runs left by older versions keep their guarantees after the upgrade to the queue of V21 (runs
 * split into queue, running and run_history). The upgrade test runs first: it starts from the
 * schema of V19.
 */
@Tag("database")
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class QueueMigrationTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static Flyway flyway() {
        return Flyway.configure().dataSource(db.dataSource()).schemas("nightshift").createSchemas(true)
                .locations("classpath:db/migration").load();
    }

    /** The schema as version 19 left it: its versioned migrations alone. */
    private static void migrateToV19() throws Exception {
        Path dir = Files.createDirectories(db.tempDir().resolve("migrations-up-to-v19"));
        for (String name : List.of("V1__queue.sql", "V2__quartz.sql", "V3__imports.sql", "V4__claim_function.sql",
                "V5__slot_claims.sql", "V6__job_schedule_key.sql", "V7__claim_heads.sql", "V8__slot_rows.sql",
                "V10__logical_time.sql", "V14__import_ledger_per_path.sql", "V15__import_excerpts.sql",
                "V16__source_changes_and_arrivals.sql", "V17__unlimited_concurrency.sql", "V18__unattended.sql",
                "V19__scale.sql")) {
            try (InputStream in = QueueMigrationTest.class.getResourceAsStream("/db/migration/" + name)) {
                Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Flyway.configure().dataSource(db.dataSource()).schemas("nightshift").createSchemas(true)
                .locations("filesystem:" + dir).load().migrate();
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void runs_of_the_old_table_are_where_they_belong_after_the_upgrade_and_a_running_one_is_given_back() throws Exception {
        migrateToV19();
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('legacy', 'sql', 1)");
        db.execute("""
                INSERT INTO nightshift.run (job_name, trigger, state, node, slot, attempt, max_attempts, started_at, finished_at,
                                            dedupe_key, params)
                VALUES ('legacy', 'manual', 'succeeded', 'old-node', NULL, 1, 3, now(), now(), 'manual:legacy:a', '{"x": "1"}'),
                       ('legacy', 'manual', 'running', 'old-node', 0, 2, 3, now(), NULL, NULL, '{}'),
                       ('legacy', 'schedule', 'available', NULL, NULL, 0, 3, NULL, NULL, 'schedule:legacy:1000', '{}'),
                       ('legacy', 'manual', 'dead', 'old-node', NULL, 3, 3, now(), now(), NULL, '{}')""");
        List<String> before = db.rows("SELECT id, state FROM nightshift.run ORDER BY id");

        flyway().migrate();

        assertThat(db.rows("SELECT id, state, attempt, coalesce(dedupe_key, '-'), params::text FROM nightshift.run ORDER BY id"))
                .containsExactly(before.get(0) + "|1|manual:legacy:a|{\"x\": \"1\"}",
                        before.get(1).replace("running", "available") + "|1|-|{}",
                        before.get(2) + "|0|schedule:legacy:1000|{}",
                        before.get(3) + "|3|-|{}");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run_history")).isEqualTo(2);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.queue")).isEqualTo(2);
        // a key of an old run still dedupes, and run ids go on after the old ones
        RunQueue queue = new RunQueue(db.dataSource());
        RunQueue.Enqueued again = queue.enqueue(NewRun.manual("legacy", Map.of(), "a"));
        assertThat(again.created()).isFalse();
        assertThat(queue.enqueue(NewRun.manual("legacy", Map.of(), null)).id())
                .isGreaterThan(Long.parseLong(before.get(3).split("\\|")[0]));
        // concurrency 1 holds: one of the old runs is claimed, then nothing
        try (Connection c = DriverManager.getConnection(db.url(), db.user(), null)) {
            long owner = queue.register(c, "new-node");
            ClaimedRun run = queue.claimFirst(c, owner, "new-node");
            assertThat(run.id()).isEqualTo(Long.parseLong(before.get(1).split("\\|")[0]));
            assertThat(run.attempt()).isEqualTo(2);
            assertThat(queue.claimFirst(c, queue.register(c, "new-node"), "new-node")).isNull();
        }
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void a_lowered_concurrency_holds_until_the_runs_above_it_end() throws Exception {
        flyway().migrate();
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('lowered', 'sql', 2)");
        RunQueue queue = new RunQueue(db.dataSource());
        for (int i = 0; i < 4; i++) {
            queue.enqueue(NewRun.manual("lowered", Map.of(), null));
        }
        try (Connection a = DriverManager.getConnection(db.url(), db.user(), null);
             Connection b = DriverManager.getConnection(db.url(), db.user(), null);
             Connection n = DriverManager.getConnection(db.url(), db.user(), null)) {
            ClaimedRun ra = queue.claimFirst(a, queue.register(a, "n"), "n");
            ClaimedRun rb = queue.claimFirst(b, queue.register(b, "n"), "n");
            long other = queue.register(n, "n");
            db.execute("UPDATE nightshift.job SET concurrency = 1 WHERE name = 'lowered'");
            // the run in slot 0 ends; the one in slot 1 still runs: one running already, none more
            ClaimedRun low = ra.slot() == 0 ? ra : rb;
            ClaimedRun high = ra.slot() == 0 ? rb : ra;
            Connection lowC = ra.slot() == 0 ? a : b;
            Connection highC = ra.slot() == 0 ? b : a;
            lowC.setAutoCommit(false);
            queue.complete(lowC, low, Map.of());
            lowC.setAutoCommit(true);
            assertThat(queue.claimFirst(n, other, "n")).isNull();
            // the run in slot 1 ends: its slot goes, and one run at a time from now on
            highC.setAutoCommit(false);
            queue.complete(highC, high, Map.of());
            highC.setAutoCommit(true);
            assertThat(queue.claimFirst(n, other, "n")).isNotNull();
            assertThat(queue.claimFirst(n, queue.register(lowC, "n"), "n")).isNull();
            assertThat(db.rows("SELECT slot FROM nightshift.job_slot WHERE job_name = 'lowered' ORDER BY slot")).containsExactly("0");
        }
    }
}
