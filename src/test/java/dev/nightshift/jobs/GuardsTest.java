package dev.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nightshift.config.JobDefinition;
import dev.nightshift.queue.RunParams;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code guards:}: a delivery a guard refuses leaves the target exactly as it was; the message names guard, limit and figure. */
@Tag("database")
class GuardsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @BeforeAll
    static void migrate() {
        DirectRun.migrate(db);
    }

    /** Artists 1..n, in the fixture's CSV layout. */
    static String artists(int from, int to) {
        return ImportFixture.HEADER + IntStream.rangeClosed(from, to).mapToObj(i -> i + ",Artist " + i + ",French,Female,1900,")
                .collect(Collectors.joining("\n", "", "\n"));
    }

    /** A fixture whose target holds artists 1..10,000, loaded by a first run of the job with {@code params}. */
    private static ImportFixture loaded(String name, String params) throws Exception {
        ImportFixture f = new ImportFixture(db, name);
        Path full = f.file("full.csv", artists(1, 10_000));
        DirectRun.run(db.dataSource(), f.job(full, params));
        return f;
    }

    private static Map<String, Long> run(JobDefinition job, Map<String, String> params) throws Exception {
        try (Connection c = db.dataSource().getConnection()) {
            return new DirectAttempt(DirectRun.nextRunId(), job, c, DirectRun.METRICS, null, params).run();
        }
    }

    @Test
    void a_one_row_delivery_in_mirror_mode_is_refused_by_default_and_the_table_is_unchanged() throws Exception {
        ImportFixture f = loaded("mirror-default", "  mode: mirror\n");
        List<String> before = f.dump();
        JobDefinition truncated = f.job(f.file("truncated.csv", artists(1, 1)), "  mode: mirror\n");

        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), truncated)).isInstanceOf(GuardRefusedException.class)
                .hasMessageStartingWith("guard max_delete (the default of mode: mirror): the file truncated.csv would delete"
                        + " 9,999 of 10,000 rows (99.99%), limit 50% of a table of 1,000 rows or more")
                .hasMessageContaining(f.table + " is unchanged")
                .satisfies(e -> assertThat(((GuardRefusedException) e).counts()).containsEntry("guard", "max_delete")
                        .containsEntry("deleted", 9_999L).containsEntry("target_rows", 10_000L).containsEntry("guard_limit", "50%"));
        assertThat(f.dump()).isEqualTo(before);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.import_file WHERE job_name = 'mirror-default'")).isEqualTo(1);
        assertThat(DirectRun.METRICS.registry().find("nightshift.guard.refusals")
                .tags("job_name", "mirror-default", "guard", "max_delete").counter().count()).isEqualTo(1.0);
    }

    @Test
    void the_mirror_default_lets_small_tables_and_half_deletions_through_and_a_job_can_opt_out() throws Exception {
        ImportFixture f = loaded("mirror-half", "  mode: mirror\n");
        // exactly half: not more than half
        assertThat(DirectRun.run(db.dataSource(), f.job(f.file("half.csv", artists(1, 5_000)), "  mode: mirror\n")))
                .containsEntry("deleted", 5_000L);
        // 4,999 of 5,000 is refused; with max_delete: 100% written, the job opts out
        Path one = f.file("one.csv", artists(1, 1));
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), f.job(one, "  mode: mirror\n"))).hasMessageContaining("4,999 of 5,000");
        assertThat(DirectRun.run(db.dataSource(), f.job(one, "  mode: mirror\n  guards: {max_delete: 100%}\n")))
                .containsEntry("deleted", 4_999L);

        ImportFixture small = new ImportFixture(db, "mirror-small");
        DirectRun.run(db.dataSource(), small.job(small.file("a.csv", artists(1, 999)), "  mode: mirror\n"));
        assertThat(DirectRun.run(db.dataSource(), small.job(small.file("b.csv", artists(1, 1)), "  mode: mirror\n")))
                .containsEntry("deleted", 998L);
    }

    @Test
    void max_delete_as_a_percentage_names_guard_limit_and_figure() throws Exception {
        String guards = "  mode: mirror\n  guards:\n    max_delete: 5%\n";
        ImportFixture f = loaded("max-delete", guards);
        List<String> before = f.dump();
        JobDefinition job = f.job(f.file("partner.csv", artists(1, 1)), guards);

        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), job))
                .hasMessageStartingWith("guard max_delete: the file partner.csv would delete 9,999 of 10,000 rows (99.99%), limit 5% (");
        assertThat(f.dump()).isEqualTo(before);
        // 5% exactly is allowed
        assertThat(DirectRun.run(db.dataSource(), f.job(f.file("partner.csv", artists(1, 9_500)), guards))).containsEntry("deleted", 500L);
    }

    @Test
    void min_rows_and_max_change_as_a_count_refuse_in_upsert_mode_too() throws Exception {
        ImportFixture f = loaded("upsert-guards", "");
        List<String> before = f.dump();
        String guards = "  guards:\n    min_rows: 100\n    max_change: 1000\n";
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), f.job(f.file("short.csv", artists(1, 99)), guards)))
                .isInstanceOf(GuardRefusedException.class)
                .hasMessageStartingWith("guard min_rows: the file short.csv gives 99 rows, limit 100");
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), f.job(f.file("more.csv", artists(9_000, 11_001)), guards)))
                .hasMessageStartingWith("guard max_change: the file more.csv would change 1,001 rows: 1,001 inserted, 0 updated,"
                        + " 0 deleted; limit 1,000");
        assertThat(f.dump()).isEqualTo(before);
        String pct = "  guards:\n    max_change: 10%\n";
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), f.job(f.file("more.csv", artists(9_000, 11_001)), pct)))
                .hasMessageStartingWith("guard max_change: the file more.csv would change 1,001 of 10,000 rows (10.01%)");
        assertThat(DirectRun.run(db.dataSource(), f.job(f.file("more.csv", artists(9_000, 11_000)), pct))).containsEntry("inserted", 1_000L);
    }

    @Test
    void assert_runs_after_the_merge_before_commit_and_a_false_or_broken_one_refuses() throws Exception {
        ImportFixture f = loaded("asserted", "");
        List<String> before = f.dump();
        String holds = "  guards:\n    assert: SELECT count(*) < 10500 FROM " + f.table + "\n";
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), f.job(f.file("big.csv", artists(10_001, 10_500)), holds)))
                .hasMessageStartingWith("guard assert: SELECT count(*) < 10500 FROM " + f.table + " did not return true after the merge");
        assertThat(f.dump()).isEqualTo(before);
        String broken = "  guards:\n    assert: SELECT no_such_column FROM " + f.table + "\n";
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), f.job(f.file("big.csv", artists(10_001, 10_500)), broken)))
                .isInstanceOf(JobFailedException.class).hasMessageContaining("guard assert: the query failed (SQLSTATE 42703)");
        assertThat(f.dump()).isEqualTo(before);
        assertThat(DirectRun.run(db.dataSource(), f.job(f.file("big.csv", artists(10_001, 10_499)), holds))).containsEntry("inserted", 499L);
    }

    @Test
    void a_run_that_overrides_guards_applies_the_delivery_and_says_so_in_its_counts() throws Exception {
        ImportFixture f = loaded("overridden", "  mode: mirror\n");
        JobDefinition job = f.job(f.file("truncated.csv", artists(1, 1)), "  mode: mirror\n");

        assertThat(run(job, Map.of(RunParams.OVERRIDE_GUARDS, "admin")))
                .containsEntry("deleted", 9_999L).containsEntry("guards_overridden", 1L);
        assertThat(db.queryLong("SELECT count(*) FROM " + f.table)).isEqualTo(1);
    }

    @Test
    void summary_guards_refuse_a_query_that_lost_its_rows() throws Exception {
        db.execute("CREATE SCHEMA IF NOT EXISTS sg");
        db.execute("CREATE TABLE sg.sales (region text, amount numeric)");
        db.execute("INSERT INTO sg.sales SELECT 'r' || (i % 2000), 1 FROM generate_series(1, 4000) i");
        db.execute("CREATE TABLE sg.by_region (region text PRIMARY KEY, total numeric)");
        JobsDir jobs = new JobsDir(db.tempDir(), "summary-guards").file("sg.yaml", """
                name: sg
                type: rebuild-summary
                params:
                  target: sg.by_region
                  key: [region]
                  query: SELECT region, sum(amount) AS total FROM sg.sales GROUP BY region
                  guards:
                    min_rows: 10
                    max_delete: 10%
                    assert: SELECT sum(total) = (SELECT sum(amount) FROM sg.sales) FROM sg.by_region
                """);
        JobDefinition job = DirectRun.definition(jobs.path(), "sg");
        assertThat(DirectRun.run(db.dataSource(), job)).containsEntry("inserted", 2_000L);

        db.execute("DELETE FROM sg.sales WHERE region <> 'r1'");
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), job))
                .hasMessageStartingWith("guard min_rows: the query gives 1 row, limit 10");
        db.execute("INSERT INTO sg.sales SELECT 'r' || (i % 1000), 1 FROM generate_series(1, 2000) i");
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), job))
                .hasMessageStartingWith("guard max_delete: the query would delete 1,000 of 2,000 rows (50.00%), limit 10%");
        assertThat(db.queryLong("SELECT count(*) FROM sg.by_region")).isEqualTo(2_000);
    }
}
