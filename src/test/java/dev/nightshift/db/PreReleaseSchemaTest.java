package dev.nightshift.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nightshift.cli.Daemon;
import dev.nightshift.cli.Main;
import dev.nightshift.testing.TestDatabase;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A schema made by a pre-release build (its history starts with the V1 "queue" of the chain that was
 * squashed into the baseline, then V2) is refused by {@code nightshift migrate} and by a node's
 * start, with what to do, and nothing in it changes.
 */
@Tag("database")
class PreReleaseSchemaTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static List<String> before;

    @BeforeAll
    static void aPreReleaseSchema() throws Exception {
        Flyway.configure().dataSource(db.dataSource()).schemas("nightshift").createSchemas(true)
                .locations("classpath:db/prerelease").load().migrate();
        db.execute("INSERT INTO nightshift.job (name, type) VALUES ('legacy', 'sql')");
        before = state();
        assertThat(before).contains("table run", "job legacy")
                .anyMatch(r -> r.startsWith("history 1 queue ")).anyMatch(r -> r.startsWith("history 2 quartz "));
    }

    /** The history, the tables and the job rows: what a refused migration must leave as they were. */
    private static List<String> state() throws Exception {
        return db.rows("""
                SELECT 'history ' || coalesce(version, '-') || ' ' || description || ' ' || coalesce(checksum::text, '-')
                FROM nightshift.flyway_schema_history
                UNION ALL SELECT 'table ' || tablename FROM pg_tables WHERE schemaname = 'nightshift'
                UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'nightshift'::regnamespace
                UNION ALL SELECT 'job ' || name FROM nightshift.job
                ORDER BY 1""").stream().map(r -> r.replace('|', ' ')).toList();
    }

    @Test
    void nightshift_migrate_refuses_it_with_exit_code_2_says_how_to_recreate_it_and_changes_nothing() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"migrate"}, db.env(), new PrintWriter(out, true), new PrintWriter(err, true));

        assertThat(code).as(err.toString()).isEqualTo(2);
        assertThat(err.toString()).contains("pre-release", "V1 \"queue\"", "V1 is \"baseline\"", "nothing was changed",
                "pg_dump --schema=nightshift", "DROP SCHEMA nightshift CASCADE",
                "nightshift migrate");
        assertThat(out.toString()).doesNotContain("up to date");
        assertThat(state()).isEqualTo(before);
    }

    @Test
    void a_node_refuses_to_start_on_it_and_changes_nothing() throws Exception {
        Path jobs = Files.createDirectories(db.tempDir().resolve("jobs"));
        assertThatThrownBy(() -> Daemon.start(db.settings(jobs)).close())
                .isInstanceOf(PreReleaseSchemaException.class)
                .hasMessageContaining("pre-release")
                .hasMessageContaining("DROP SCHEMA nightshift CASCADE");
        assertThat(state()).isEqualTo(before);
    }

    @Test
    void once_dropped_as_the_message_says_the_schema_is_created_anew_by_the_baseline() throws Exception {
        try (Database other = Database.open(db.settings(Files.createDirectories(db.tempDir().resolve("jobs2"))), 2)) {
            // Kept aside under another name, so that the other tests still see the pre-release schema.
            db.execute("ALTER SCHEMA nightshift RENAME TO nightshift_kept");
            try {
                other.migrate();
                assertThat(db.rows("SELECT version || ' ' || description FROM nightshift.flyway_schema_history"
                        + " WHERE version IS NOT NULL")).containsExactly("1 baseline");
                assertThat(db.queryLong("SELECT count(*) FROM nightshift.job")).isZero();
            } finally {
                db.execute("DROP SCHEMA nightshift CASCADE");
                db.execute("ALTER SCHEMA nightshift_kept RENAME TO nightshift");
            }
        }
    }
}
