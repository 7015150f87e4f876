package dev.nightshift.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.testing.TestDatabase;
import java.sql.Connection;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The claim statement on its own, with no node running. */
class ClaimTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @org.junit.jupiter.api.BeforeAll
    static void schema() {
        org.flywaydb.core.Flyway.configure().dataSource(db.dataSource()).schemas("nightshift").createSchemas(true)
                .locations("classpath:db/migration").load().migrate();
    }

    @Test
    void a_claim_for_one_run_claims_exactly_one_even_with_several_jobs_due() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('one-a', 'sql', 5), ('one-b', 'sql', 5)");
        RunQueue queue = new RunQueue(db.dataSource());
        for (int i = 0; i < 3; i++) {
            queue.enqueue(NewRun.manual("one-a", Map.of(), null));
            queue.enqueue(NewRun.manual("one-b", Map.of(), null));
        }
        for (int round = 1; round <= 6; round++) {
            try (Connection c = db.dataSource().getConnection()) {
                assertThat(queue.claim(c, "claim-test", 1, true)).hasSize(1);
                assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE node = 'claim-test'")).isEqualTo(round);
                try (var st = c.createStatement()) {
                    st.execute("SELECT pg_advisory_unlock_all()");
                }
            }
        }
    }

}
