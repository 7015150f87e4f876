package dev.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.config.JobDefinition;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** skip_if_unchanged: a run whose sources did not change succeeds at once; any change, or any doubt, refreshes. */
@Tag("database")
class SkipIfUnchangedTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @BeforeAll
    static void schema() throws SQLException {
        DirectRun.migrate(db);
        db.execute("CREATE SCHEMA src");
    }

    /** Tables sale (partitioned by year) and region, a view joining them, and a materialized view over that view. */
    private static String sources(String n) throws SQLException {
        db.execute("CREATE TABLE src." + n + "_region (id integer PRIMARY KEY, name text NOT NULL)");
        db.execute("CREATE TABLE src." + n + "_sale (region_id integer NOT NULL, year integer NOT NULL, amount integer NOT NULL)"
                + " PARTITION BY RANGE (year)");
        db.execute("CREATE TABLE src." + n + "_sale_2024 PARTITION OF src." + n + "_sale FOR VALUES FROM (2024) TO (2025)");
        db.execute("CREATE TABLE src." + n + "_sale_2025 PARTITION OF src." + n + "_sale FOR VALUES FROM (2025) TO (2026)");
        db.execute("INSERT INTO src." + n + "_region VALUES (1, 'north'), (2, 'south')");
        db.execute("INSERT INTO src." + n + "_sale SELECT 1 + g % 2, 2024 + g % 2, g FROM generate_series(1, 1000) g");
        db.execute("CREATE VIEW src." + n + "_named AS SELECT r.name, s.amount FROM src." + n + "_sale s JOIN src." + n
                + "_region r ON r.id = s.region_id");
        db.execute("CREATE MATERIALIZED VIEW src." + n + "_totals AS SELECT name, sum(amount) AS total, count(*) AS sales FROM src."
                + n + "_named GROUP BY name");
        db.execute("CREATE UNIQUE INDEX ON src." + n + "_totals (name)");
        return "src." + n + "_totals";
    }

    private static JobDefinition refresh(String name, String view, String extra) {
        JobsDir jobs = new JobsDir(db.tempDir(), "jobs-" + name).file(name + ".yaml", "name: " + name
                + "\ntype: refresh-materialized-view\nparams:\n  view: " + view + "\n  skip_if_unchanged: true\n" + extra);
        return DirectRun.definition(jobs.path(), name);
    }

    private static long skipped(JobDefinition job) throws Exception {
        return DirectRun.run(db.dataSource(), job).get("skipped");
    }

    private static double skipMetric(String job) {
        var c = DirectRun.METRICS.registry().find("nightshift.job.skipped.unchanged").tag("job_name", job).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void an_unchanged_source_skips_and_every_kind_of_change_refreshes() throws Exception {
        String view = sources("kinds");
        JobDefinition job = refresh("kinds", view, "");
        assertThat(skipped(job)).as("first run").isZero();
        assertThat(skipped(job)).as("right after the first, which populated the view").isEqualTo(1);
        assertThat(skipMetric("kinds")).isEqualTo(1);

        Map<String, String> changes = Map.of(
                "insert through the parent", "INSERT INTO src.kinds_sale VALUES (1, 2024, 5)",
                "update of a partition, directly", "UPDATE src.kinds_sale_2025 SET amount = amount + 1 WHERE amount = 2",
                "delete in the table behind the nested view", "DELETE FROM src.kinds_sale WHERE amount = 3",
                "update of the joined table", "UPDATE src.kinds_region SET name = 'North' WHERE id = 1",
                "truncate of a partition", "TRUNCATE src.kinds_sale_2024",
                "copy", "COPY src.kinds_region FROM PROGRAM 'echo 3,east' WITH (FORMAT csv)",
                "a statistics reset after a change", "INSERT INTO src.kinds_region VALUES (4, 'west'); SELECT pg_stat_reset()");
        for (var e : changes.entrySet()) {
            db.execute(e.getValue());
            String before = db.queryString("SELECT string_agg(name || '=' || total || '/' || sales, ',' ORDER BY name) FROM " + view);
            assertThat(skipped(job)).as(e.getKey()).isZero();
            assertThat(db.queryString("SELECT string_agg(name || '=' || total || '/' || sales, ',' ORDER BY name) FROM " + view))
                    .as(e.getKey()).isEqualTo(db.queryString("SELECT string_agg(name || '=' || total || '/' || sales, ',' ORDER BY name)"
                            + " FROM (SELECT name, sum(amount) AS total, count(*) AS sales FROM src.kinds_named GROUP BY name) x"));
            assertThat(skipped(job)).as(e.getKey() + ", then nothing").isEqualTo(1);
            assertThat(before).isNotNull();
        }
    }

    @Test
    void a_change_not_yet_committed_when_the_marks_are_taken_is_never_missed() throws Exception {
        String view = sources("inflight");
        JobDefinition job = refresh("inflight", view, "");
        skipped(job);
        try (Connection writer = db.dataSource().getConnection(); Statement st = writer.createStatement()) {
            writer.setAutoCommit(false);
            st.execute("INSERT INTO src.inflight_region VALUES (3, 'east')");
            st.execute("INSERT INTO src.inflight_sale VALUES (3, 2024, 100)");
            // Its change is not in this refresh's snapshot, so this run's marks must not count it as seen.
            assertThat(skipped(job)).isZero();
            writer.commit();
        }
        assertThat(skipped(job)).as("after the writer's commit").isZero();
        assertThat(db.queryString("SELECT total FROM " + view + " WHERE name = 'east'")).isEqualTo("100");
        assertThat(skipped(job)).isEqualTo(1);
    }

    @Test
    void writers_of_a_tracked_table_do_not_wait_for_each_other() throws Exception {
        String view = sources("writers");
        JobDefinition job = refresh("writers", view, "");
        skipped(job);
        try (Connection a = db.dataSource().getConnection(); Statement sa = a.createStatement();
             Connection b = db.dataSource().getConnection(); Statement sb = b.createStatement()) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            sa.execute("INSERT INTO src.writers_sale VALUES (1, 2024, 1)");
            sb.execute("SET LOCAL lock_timeout = '1s'");
            sb.execute("INSERT INTO src.writers_sale VALUES (2, 2024, 2)");
            // Each of b's statements would end in 55P03 after 1 s had it waited for a's open transaction.
            sb.execute("TRUNCATE src.writers_region CASCADE");
            a.commit();
            b.rollback();
        }
        assertThat(db.queryLong("SELECT count(*) FROM src.writers_sale WHERE (region_id, year, amount) = (1, 2024, 1)"))
                .as("a's row, committed").isEqualTo(1);
        assertThat(db.queryLong("SELECT count(*) FROM src.writers_sale WHERE (region_id, year, amount) = (2, 2024, 2)"))
                .as("b's row, rolled back").isZero();
        assertThat(skipped(job)).as("the refresh after a's committed write").isZero();
        assertThat(skipped(job)).isEqualTo(1);
    }

    @Test
    void a_server_restart_since_the_last_success_refreshes() throws Exception {
        JobDefinition job = refresh("restart", sources("restart"), "");
        skipped(job);
        assertThat(skipped(job)).isEqualTo(1);
        // What a crash or restart leaves: marks taken under another postmaster start time.
        db.execute("UPDATE nightshift.source_mark SET marks = jsonb_set(marks, '{server_started}', '\"2000-01-01 00:00:00+00\"')"
                + " WHERE job_name = 'restart'");
        assertThat(skipped(job)).isZero();
        assertThat(skipped(job)).isEqualTo(1);
    }

    @Test
    void sources_that_cannot_be_tracked_always_refresh_unless_the_job_lists_its_tables() throws Exception {
        String view = sources("untracked");
        db.execute("CREATE MATERIALIZED VIEW src.untracked_upper AS SELECT * FROM " + view);
        db.execute("CREATE MATERIALIZED VIEW src.untracked_clock AS SELECT name, now() AS at FROM src.untracked_region");
        db.execute("CREATE FUNCTION src.region_count() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM src.untracked_region'");
        db.execute("CREATE MATERIALIZED VIEW src.untracked_fn AS SELECT src.region_count() AS n");
        for (String v : new String[] {"src.untracked_upper", "src.untracked_clock", "src.untracked_fn"}) {
            JobDefinition job = refresh("u-" + v.substring(14), v, "");
            skipped(job);
            assertThat(skipped(job)).as(v).isZero();
        }
        JobDefinition listed = refresh("u-listed", "src.untracked_fn", "  source_tables: [src.untracked_region]\n");
        skipped(listed);
        assertThat(skipped(listed)).isEqualTo(1);
        db.execute("INSERT INTO src.untracked_region VALUES (9, 'far')");
        assertThat(skipped(listed)).isZero();
        assertThat(db.queryLong("SELECT n FROM src.untracked_fn")).isEqualTo(3);
    }

    @Test
    void a_view_created_with_no_data_is_populated_once_then_skipped_and_an_emptied_one_refreshed() throws Exception {
        String view = sources("nodata");
        db.execute("REFRESH MATERIALIZED VIEW " + view + " WITH NO DATA");
        JobDefinition job = refresh("nodata", view, "");
        assertThat(skipped(job)).isZero();
        assertThat(skipped(job)).isEqualTo(1);
        db.execute("REFRESH MATERIALIZED VIEW " + view + " WITH NO DATA");
        assertThat(skipped(job)).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM " + view)).isEqualTo(2);
    }

    @Test
    void a_disabled_tracking_trigger_refreshes() throws Exception {
        String view = sources("disabled");
        JobDefinition job = refresh("disabled", view, "");
        skipped(job);
        db.execute("ALTER TABLE src.disabled_region DISABLE TRIGGER nightshift_changes");
        assertThat(skipped(job)).isZero();
        assertThat(skipped(job)).isZero();
    }

    @Test
    void a_summary_whose_query_reads_unchanged_tables_skips() throws Exception {
        sources("summary");
        db.execute("CREATE TABLE src.summary_by_name (name text PRIMARY KEY, total bigint NOT NULL)");
        JobsDir jobs = new JobsDir(db.tempDir(), "jobs-summary").file("summary.yaml", """
                name: summary
                type: rebuild-summary
                params:
                  target: src.summary_by_name
                  key: [name]
                  query: SELECT name, sum(amount)::bigint AS total FROM src.summary_named GROUP BY name
                  skip_if_unchanged: true
                """);
        JobDefinition job = DirectRun.definition(jobs.path(), "summary");
        assertThat(DirectRun.run(db.dataSource(), job)).containsEntry("skipped", 0L).containsEntry("inserted", 2L);
        assertThat(DirectRun.run(db.dataSource(), job)).containsEntry("skipped", 1L).containsEntry("inserted", 0L);
        db.execute("INSERT INTO src.summary_sale VALUES (2, 2025, 1000000)");
        assertThat(DirectRun.run(db.dataSource(), job)).containsEntry("skipped", 0L).containsEntry("updated", 1L);
        assertThat(DirectRun.run(db.dataSource(), job)).containsEntry("skipped", 1L);
        assertThat(skipMetric("summary")).isEqualTo(2);
    }
}
