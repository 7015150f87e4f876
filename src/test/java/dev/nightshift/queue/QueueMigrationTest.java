package dev.nightshift.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.testing.TestDatabase;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Runs left by older versions keep their guarantees after the upgrade to slot rows (V8). The
 * upgrade test runs first: it starts from the schema of V7.
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

    /** The schema as version 7 left it: its migrations alone (a target would also run the repeatable one). */
    private static void migrateToV7() throws Exception {
        Path dir = Files.createDirectories(db.tempDir().resolve("migrations-up-to-v7"));
        for (String name : List.of("V1__queue.sql", "V2__quartz.sql", "V3__imports.sql", "V4__claim_function.sql",
                "V5__slot_claims.sql", "V6__job_schedule_key.sql", "V7__claim_heads.sql")) {
            try (InputStream in = QueueMigrationTest.class.getResourceAsStream("/db/migration/" + name)) {
                Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Flyway.configure().dataSource(db.dataSource()).schemas("nightshift").createSchemas(true)
                .locations("filesystem:" + dir).load().migrate();
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void running_runs_from_before_slots_hold_a_slot_row_after_the_upgrade() throws Exception {
        migrateToV7();
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('legacy', 'sql', 2)");
        // one running run claimed before V5 (no slot), one in slot 0, and two waiting
        db.execute("""
                INSERT INTO nightshift.run (job_name, trigger, state, node, slot, attempt, max_attempts, started_at)
                VALUES ('legacy', 'manual', 'running', 'old-node', NULL, 1, 3, now()),
                       ('legacy', 'manual', 'running', 'old-node', 0, 1, 3, now())""");
        db.execute("INSERT INTO nightshift.run (job_name, trigger, max_attempts) VALUES ('legacy', 'manual', 3), ('legacy', 'manual', 3)");

        flyway().migrate();

        assertThat(db.rows("SELECT s.slot, r.node FROM nightshift.job_slot s LEFT JOIN nightshift.run r ON r.id = s.run_id "
                + "WHERE s.job_name = 'legacy' ORDER BY s.slot")).containsExactly("0|old-node", "1|old-node");
        RunQueue queue = new RunQueue(db.dataSource());
        try (Connection c = db.dataSource().getConnection()) {
            // both slots are held by the old runs: concurrency 2 holds across the upgrade
            assertThat(queue.claim(c, "new-node", 2, true)).isEmpty();
            db.execute("UPDATE nightshift.run SET state = 'succeeded', finished_at = now() WHERE node = 'old-node' AND slot IS NOT NULL"
                    + " AND slot = 1");
            assertThat(queue.claim(c, "new-node", 2, true)).hasSize(1);
            try (var st = c.createStatement()) {
                st.execute("SELECT pg_advisory_unlock_all()");
                st.execute("RESET ALL");
            }
        }
        assertThat(db.rows("SELECT state, count(*) FROM nightshift.run WHERE job_name = 'legacy' GROUP BY state ORDER BY state"))
                .containsExactly("available|1", "running|2", "succeeded|1");
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
        try (Connection c = db.dataSource().getConnection()) {
            assertThat(queue.claim(c, "n", 2, false)).hasSize(2);
            db.execute("UPDATE nightshift.job SET concurrency = 1 WHERE name = 'lowered'");
            // the run in slot 0 ends; the one in slot 1 still runs: one running already, none more
            db.execute("UPDATE nightshift.run SET state = 'succeeded', finished_at = now() WHERE job_name = 'lowered' AND slot = 0"
                    + " AND state = 'running'");
            assertThat(queue.claim(c, "n", 2, false)).isEmpty();
            // the run in slot 1 ends: its slot goes, and one run at a time from now on
            db.execute("UPDATE nightshift.run SET state = 'succeeded', finished_at = now() WHERE job_name = 'lowered' AND slot = 1"
                    + " AND state = 'running'");
            assertThat(queue.claim(c, "n", 2, false)).hasSize(1);
            assertThat(db.rows("SELECT slot FROM nightshift.job_slot WHERE job_name = 'lowered' ORDER BY slot")).containsExactly("0");
            try (var st = c.createStatement()) {
                st.execute("SELECT pg_advisory_unlock_all()");
            }
        }
    }
}
