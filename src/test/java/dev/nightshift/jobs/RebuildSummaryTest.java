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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@Tag("database")
class RebuildSummaryTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final String QUERY = "SELECT region, sum(amount)::bigint AS total, count(*)::integer AS sales FROM shop.sale GROUP BY region";

    @BeforeAll
    static void schema() throws SQLException {
        DirectRun.migrate(db);
        db.execute("CREATE SCHEMA shop");
    }

    private static JobDefinition job(String name, String strategy, String extra) throws SQLException {
        String table = "shop." + name.replace('-', '_');
        db.execute("CREATE TABLE " + table + " (region text PRIMARY KEY, total bigint NOT NULL, sales integer NOT NULL)");
        JobsDir jobs = new JobsDir(db.tempDir(), "jobs-" + name).file(name + ".yaml", "name: " + name
                + "\ntype: rebuild-summary\nparams:\n  target: " + table + "\n  key: [region]\n  strategy: " + strategy
                + "\n  query: " + QUERY.replace("shop.sale", "shop.sale_" + name.replace('-', '_')) + "\n" + extra);
        db.execute("CREATE TABLE shop.sale_" + name.replace('-', '_') + " (id serial PRIMARY KEY, region text NOT NULL, amount bigint NOT NULL)");
        db.execute("INSERT INTO shop.sale_" + name.replace('-', '_') + " (region, amount) SELECT 'r' || (g % 50), g FROM generate_series(1, 5000) g");
        return DirectRun.definition(jobs.path(), name);
    }

    /** Region r1 changes, r2 vanishes, r-new appears; 47 other regions stay as they were. */
    private static void change(String name) throws SQLException {
        String sale = "shop.sale_" + name.replace('-', '_');
        db.execute("UPDATE " + sale + " SET amount = amount + 1 WHERE id = 1");
        db.execute("DELETE FROM " + sale + " WHERE region = 'r2'");
        db.execute("INSERT INTO " + sale + " (region, amount) VALUES ('r-new', 7)");
    }

    @Test
    void merge_writes_only_the_differing_rows() throws Exception {
        JobDefinition job = job("by-merge", "merge", "");
        assertThat(DirectRun.run(db.dataSource(), job)).containsAllEntriesOf(Map.of("read", 50L, "inserted", 50L));
        String untouched = db.queryString("SELECT xmin::text FROM shop.by_merge WHERE region = 'r3'");
        change("by-merge");

        assertThat(DirectRun.run(db.dataSource(), job)).containsAllEntriesOf(
                Map.of("read", 50L, "inserted", 1L, "updated", 1L, "unchanged", 48L, "deleted", 1L));
        assertThat(db.queryString("SELECT xmin::text FROM shop.by_merge WHERE region = 'r3'")).isEqualTo(untouched);
        assertThat(db.rows("SELECT region, total, sales FROM shop.by_merge WHERE region IN ('r1', 'r2', 'r-new') ORDER BY 1"))
                .containsExactly("r-new|7|1", "r1|" + (expectedTotal(1) + 1) + "|100");
    }

    @Test
    void replace_and_swap_rewrite_the_whole_table() throws Exception {
        for (String strategy : List.of("replace", "swap")) {
            JobDefinition job = job("by-" + strategy, strategy, "");
            DirectRun.run(db.dataSource(), job);
            change("by-" + strategy);
            assertThat(DirectRun.run(db.dataSource(), job)).as(strategy)
                    .containsAllEntriesOf(Map.of("read", 50L, "inserted", 50L, "deleted", 50L));
            String table = "shop.by_" + strategy;
            assertThat(db.queryLong("SELECT count(*) FROM " + table)).isEqualTo(50);
            assertThat(db.rows("SELECT region, total FROM " + table + " WHERE region IN ('r2', 'r-new')")).containsExactly("r-new|7");
            assertThat(db.queryLong("SELECT count(*) FROM pg_class WHERE relname LIKE 'nightshift_%by_" + strategy + "'")).isZero();
        }
    }

    @Test
    void readers_never_see_the_summary_empty_during_rebuilds() throws Exception {
        for (String strategy : List.of("merge", "replace", "swap")) {
            JobDefinition job = job("read-" + strategy, strategy, "");
            DirectRun.run(db.dataSource(), job);
            try (ReaderThread reader = new ReaderThread(db.dataSource(), "SELECT count(*) FROM shop.read_" + strategy)) {
                await().atMost(Duration.ofSeconds(10)).until(() -> reader.reads.get() > 0);
                for (int i = 0; i < 15; i++) {
                    db.execute("UPDATE shop.sale_read_" + strategy + " SET amount = amount + 1 WHERE id % 7 = " + (i % 7));
                    DirectRun.run(db.dataSource(), job);
                }
                long readsSoFar = reader.reads.get();
                await().atMost(Duration.ofSeconds(10)).until(() -> reader.reads.get() > readsSoFar);
                reader.close();
                assertThat(reader.error.get()).as(strategy).isNull();
                assertThat(reader.smallest.get()).as(strategy).isEqualTo(50);
            }
        }
    }

    @Test
    void swap_gives_up_after_its_lock_timeout_and_leaves_the_table_as_it_was() throws Exception {
        JobDefinition job = job("swap-busy", "swap", "  lock_timeout: 200ms\n");
        DirectRun.run(db.dataSource(), job);
        change("swap-busy");
        List<String> before = db.rows("SELECT region, total, sales, xmin FROM shop.swap_busy ORDER BY region");
        try (Connection longReader = db.dataSource().getConnection(); Statement st = longReader.createStatement()) {
            longReader.setAutoCommit(false);
            st.executeQuery("SELECT count(*) FROM shop.swap_busy").close();
            assertThatThrownBy(() -> DirectRun.run(db.dataSource(), job))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55P03"));
            longReader.rollback();
        }
        assertThat(db.rows("SELECT region, total, sales, xmin FROM shop.swap_busy ORDER BY region")).isEqualTo(before);
    }

    @Test
    void a_query_returning_a_key_twice_fails_without_writing() throws Exception {
        db.execute("CREATE TABLE shop.dup (region text PRIMARY KEY, total bigint NOT NULL, sales integer NOT NULL)");
        db.execute("INSERT INTO shop.dup VALUES ('a', 1, 1)");
        JobsDir jobs = new JobsDir(db.tempDir(), "jobs-dup").file("dup.yaml", """
                name: dup
                type: rebuild-summary
                params:
                  target: shop.dup
                  key: [region]
                  query: SELECT 'x' AS region, 1::bigint AS total, 1 AS sales UNION ALL SELECT 'x', 2, 2
                """);
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), DirectRun.definition(jobs.path(), "dup")))
                .isInstanceOf(JobFailedException.class).hasMessageContaining("returns a key (region) more than once");
        assertThat(db.rows("SELECT region, total FROM shop.dup")).containsExactly("a|1");
    }

    private static long expectedTotal(int region) {
        long sum = 0;
        for (int g = 1; g <= 5000; g++) {
            if (g % 50 == region) {
                sum += g;
            }
        }
        return sum;
    }
}
