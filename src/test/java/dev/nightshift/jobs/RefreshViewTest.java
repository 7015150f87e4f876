package dev.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.nightshift.config.JobDefinition;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@Tag("database")
class RefreshViewTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @BeforeAll
    static void schema() throws SQLException {
        DirectRun.migrate(db);
        db.execute("CREATE SCHEMA tw");
        db.execute("CREATE TABLE tw.activity (message_id integer NOT NULL, action text NOT NULL)");
        db.execute("INSERT INTO tw.activity SELECT g % 100, CASE WHEN g % 3 = 0 THEN 'retweet' ELSE 'like' END FROM generate_series(1, 20000) g");
    }

    private static String view(String name, boolean uniqueIndex) throws SQLException {
        String v = "tw." + name;
        db.execute("CREATE MATERIALIZED VIEW " + v + " AS SELECT message_id, count(*) FILTER (WHERE action = 'like') AS likes,"
                + " count(*) FILTER (WHERE action = 'retweet') AS retweets FROM tw.activity GROUP BY message_id WITH NO DATA");
        if (uniqueIndex) {
            db.execute("CREATE UNIQUE INDEX ON " + v + " (message_id)");
        }
        return v;
    }

    private static JobDefinition job(String name, String view, String params) {
        JobsDir jobs = new JobsDir(db.tempDir(), "jobs-" + name).file(name + ".yaml",
                "name: " + name + "\ntype: refresh-materialized-view\nparams:\n  view: " + view + "\n" + params);
        return DirectRun.definition(jobs.path(), name);
    }

    @Test
    void auto_refreshes_plainly_first_then_concurrently_and_records_metrics() throws Exception {
        JobDefinition job = job("auto", view("auto_counters", true), "  concurrently: auto\n");
        assertThat(DirectRun.run(db.dataSource(), job)).containsEntry("concurrently", 0L);
        assertThat(db.queryLong("SELECT sum(likes + retweets) FROM tw.auto_counters")).isEqualTo(20000);
        db.execute("INSERT INTO tw.activity VALUES (1, 'like')");
        assertThat(DirectRun.run(db.dataSource(), job)).containsEntry("concurrently", 1L);
        assertThat(db.queryLong("SELECT sum(likes + retweets) FROM tw.auto_counters")).isEqualTo(20001);
        db.execute("DELETE FROM tw.activity WHERE message_id = 1 AND ctid = (SELECT max(ctid) FROM tw.activity WHERE message_id = 1)");

        var registry = DirectRun.METRICS.registry();
        assertThat(registry.get("nightshift.refresh.last.timestamp").tag("job_name", "auto").gauge().value())
                .isGreaterThan(System.currentTimeMillis() / 1000.0 - 60);
        assertThat(registry.get("nightshift.refresh.duration").tag("job_name", "auto").timer().count()).isEqualTo(2);
    }

    @Test
    void auto_without_a_unique_index_and_never_refresh_plainly() throws Exception {
        String v = view("plain_counters", false);
        assertThat(DirectRun.run(db.dataSource(), job("plain-auto", v, ""))).containsEntry("concurrently", 0L);
        assertThat(DirectRun.run(db.dataSource(), job("plain-auto", v, ""))).containsEntry("concurrently", 0L);
        String indexed = view("never_counters", true);
        DirectRun.run(db.dataSource(), job("never", indexed, "  concurrently: never\n"));
        assertThat(DirectRun.run(db.dataSource(), job("never", indexed, "  concurrently: never\n"))).containsEntry("concurrently", 0L);
    }

    @Test
    void always_without_a_unique_index_fails_and_says_why() throws Exception {
        JobDefinition job = job("always", view("always_counters", false), "  concurrently: always\n");
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), job))
                .isInstanceOf(JobFailedException.class)
                .hasMessageContaining("tw.always_counters has no unique index")
                .hasMessageContaining("CONCURRENTLY requires");
        JobDefinition unpopulated = job("always-new", view("always_new", true), "  concurrently: always\n");
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), unpopulated))
                .isInstanceOf(JobFailedException.class).hasMessageContaining("never been populated");
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), job("missing", "tw.nothing_here", "")))
                .isInstanceOf(java.sql.SQLException.class).hasMessageContaining("tw.nothing_here does not exist or is not a materialized view");
    }

    @Test
    void readers_never_see_the_view_empty_during_refreshes() throws Exception {
        for (String mode : new String[] {"auto", "never"}) {
            String v = view("read_" + mode, true);
            JobDefinition job = job("read-" + mode, v, "  concurrently: " + mode + "\n");
            DirectRun.run(db.dataSource(), job);
            try (ReaderThread reader = new ReaderThread(db.dataSource(), "SELECT count(*) FROM " + v)) {
                await().atMost(Duration.ofSeconds(10)).until(() -> reader.reads.get() > 0);
                for (int i = 0; i < 10; i++) {
                    DirectRun.run(db.dataSource(), job);
                }
                long readsSoFar = reader.reads.get();
                await().atMost(Duration.ofSeconds(10)).until(() -> reader.reads.get() > readsSoFar);
                reader.close();
                assertThat(reader.error.get()).as(mode).isNull();
                assertThat(reader.smallest.get()).as(mode).isEqualTo(100);
            }
        }
    }

    @Test
    void lock_timeout_stops_a_refresh_from_queueing_behind_a_long_reader() throws Exception {
        String v = view("busy_counters", true);
        JobDefinition job = job("busy", v, "  concurrently: never\n  lock_timeout: 200ms\n");
        DirectRun.run(db.dataSource(), job);
        try (Connection longReader = db.dataSource().getConnection(); Statement st = longReader.createStatement()) {
            longReader.setAutoCommit(false);
            st.executeQuery("SELECT count(*) FROM " + v).close();
            assertThatThrownBy(() -> DirectRun.run(db.dataSource(), job))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55P03"));
            longReader.rollback();
        }
        assertThat(DirectRun.run(db.dataSource(), job)).containsKey("duration_ms");
    }
}
