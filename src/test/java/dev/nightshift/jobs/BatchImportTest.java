package dev.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.nightshift.config.ConfigException;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@Tag("database")
class BatchImportTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @org.junit.jupiter.api.BeforeAll
    static void migrate() {
        DirectRun.migrate(db);
    }

    static final String JANUARY = ImportFixture.HEADER + """
            1,Ada Brook,American,Female,1930,1992
            2,Tomas Ferrer,Spanish,Male,1936,
            3,Ines Moreau,French,Female,1941,
            4,Kenji Sato,Japanese,Male,1946,
            5,Lena Holm,Danish,Female,1941,
            """;
    /** January with 2 changed (2, 3), 1 vanished (4), 1 new (6), 2 unchanged (1, 5). */
    static final String FEBRUARY = ImportFixture.HEADER + """
            1,Ada Brook,American,Female,1930,1992
            2,Tomas Ferrer,Spanish,Male,1936,2020
            3,Ines Moreau,Belgian,Female,1941,
            5,Lena Holm,Danish,Female,1941,
            6,Olu Adeyemi,Nigerian,Male,1962,
            """;

    @Test
    void monthly_files_in_mirror_mode_give_exact_counts_and_rows() throws Exception {
        ImportFixture f = new ImportFixture(db, "mirror");
        f.file("artists-2024-01.csv", JANUARY);
        f.file("artists-2024-02.csv", FEBRUARY);
        JobDefinition job = f.job(f.dir, "  mode: mirror\n");

        Map<String, Long> counts = DirectRun.run(db.dataSource(), job);

        assertThat(counts).containsAllEntriesOf(Map.of("read", 10L, "inserted", 6L, "updated", 2L, "unchanged", 2L,
                "deleted", 1L, "rejected", 0L, "files", 2L, "skipped_files", 0L));
        assertThat(db.rows("SELECT file_name, counts->>'inserted', counts->>'updated', counts->>'deleted' FROM nightshift.import_file"
                + " WHERE job_name = 'mirror' ORDER BY id"))
                .containsExactly("artists-2024-01.csv|5|0|0", "artists-2024-02.csv|1|2|1");
        assertThat(db.rows("SELECT constituent_id, name, nationality, begin_year, end_year FROM imp.mirror ORDER BY 1")).containsExactly(
                "1|Ada Brook|American|1930|1992", "2|Tomas Ferrer|Spanish|1936|2020", "3|Ines Moreau|Belgian|1941|null",
                "5|Lena Holm|Danish|1941|null", "6|Olu Adeyemi|Nigerian|1962|null");
    }

    @Test
    void files_and_target_in_key_order_merge_to_the_same_result() throws Exception {
        ImportFixture f = new ImportFixture(db, "ordered");
        DirectRun.run(db.dataSource(), f.job(f.file("a.csv", JANUARY), "  mode: mirror\n"));
        db.execute("ANALYZE " + f.table);
        assertThat(db.queryLong("SELECT count(*) FROM pg_stats WHERE schemaname = 'imp' AND tablename = 'ordered'"
                + " AND attname = 'constituent_id' AND correlation = 1")).isEqualTo(1);

        assertThat(DirectRun.run(db.dataSource(), f.job(f.file("b.csv", FEBRUARY), "  mode: mirror\n"))).containsAllEntriesOf(
                Map.of("read", 5L, "inserted", 1L, "updated", 2L, "unchanged", 2L, "deleted", 1L));
        assertThat(db.rows("SELECT constituent_id, nationality, end_year FROM imp.ordered ORDER BY 1")).containsExactly(
                "1|American|1992", "2|Spanish|2020", "3|Belgian|null", "5|Danish|null", "6|Nigerian|null");
    }

    @Test
    void a_glob_of_headerless_files_with_their_own_format_imports_in_name_order() throws Exception {
        ImportFixture f = new ImportFixture(db, "format");
        f.file("part-2.txt", "1;'Ada; the second';NA;;1930;NA\n");
        f.file("part-1.txt", "1;Ada;NA;'';1930;NA\n2;'Tom ''T'' F';Spanish;Male;NA;NA\n");
        f.file("other.csv", "not;a;match\n");
        JobDefinition job = f.job(f.dir.resolve("part-*.txt"), """
                  format:
                    delimiter: ";"
                    quote: "'"
                    null: NA
                    header: false
                """);

        assertThat(DirectRun.run(db.dataSource(), job)).containsAllEntriesOf(Map.of("files", 2L, "read", 3L, "inserted", 2L, "updated", 1L));
        assertThat(db.rows("SELECT constituent_id, name, nationality, gender, begin_year, end_year FROM imp.format ORDER BY 1"))
                .containsExactly("1|Ada; the second|null||1930|null", "2|Tom 'T' F|Spanish|Male|null|null");
    }

    @Test
    void unchanged_rows_are_not_rewritten() throws Exception {
        ImportFixture f = new ImportFixture(db, "untouched");
        DirectRun.run(db.dataSource(), f.job(f.file("jan.csv", JANUARY), ""));
        List<String> before = f.dump();
        Files.delete(f.dir.resolve("jan.csv"));

        Map<String, Long> counts = DirectRun.run(db.dataSource(), f.job(f.file("jan-again.csv", JANUARY + "7,New Person,,,,\n"), ""));

        assertThat(counts).containsAllEntriesOf(Map.of("read", 6L, "inserted", 1L, "updated", 0L, "unchanged", 5L));
        assertThat(f.dump().subList(0, 5)).isEqualTo(before);
    }

    @Test
    void upsert_keeps_vanished_rows_and_insert_only_keeps_existing_values() throws Exception {
        ImportFixture up = new ImportFixture(db, "upsert");
        DirectRun.run(db.dataSource(), up.job(up.file("a.csv", JANUARY), ""));
        assertThat(DirectRun.run(db.dataSource(), up.job(up.file("b.csv", FEBRUARY), "")))
                .containsAllEntriesOf(Map.of("read", 5L, "inserted", 1L, "updated", 2L, "unchanged", 2L, "deleted", 0L,
                        "files", 1L, "skipped_files", 0L));
        assertThat(db.queryLong("SELECT count(*) FROM imp.upsert")).isEqualTo(6);

        ImportFixture ins = new ImportFixture(db, "insert-only");
        DirectRun.run(db.dataSource(), ins.job(ins.file("a.csv", JANUARY), "  mode: insert-only\n"));
        assertThat(DirectRun.run(db.dataSource(), ins.job(ins.file("b.csv", FEBRUARY), "  mode: insert-only\n")))
                .containsAllEntriesOf(Map.of("inserted", 1L, "updated", 0L, "unchanged", 4L, "deleted", 0L));
        assertThat(db.rows("SELECT nationality FROM imp.insert_only WHERE constituent_id = 3")).containsExactly("French");
    }

    @Test
    void same_content_is_never_applied_twice() throws Exception {
        ImportFixture f = new ImportFixture(db, "checksum");
        JobDefinition job = f.job(f.file("jan.csv", JANUARY), "  mode: mirror\n");
        DirectRun.run(db.dataSource(), job);
        List<String> before = f.dump();
        Files.writeString(f.dir.resolve("jan.csv"), JANUARY);

        assertThat(DirectRun.run(db.dataSource(), job)).containsAllEntriesOf(Map.of("files", 0L, "skipped_files", 1L, "read", 0L));
        assertThat(f.dump()).isEqualTo(before);
    }

    @Test
    void a_file_that_reverts_to_an_earlier_content_through_one_path_is_applied() throws Exception {
        ImportFixture f = new ImportFixture(db, "revert");
        Path members = f.file("members.csv", JANUARY);
        JobDefinition job = f.job(members, "  mode: mirror\n");
        DirectRun.run(db.dataSource(), job);
        List<String> january = values(f);
        f.file("members.csv", FEBRUARY);
        DirectRun.run(db.dataSource(), job);
        f.file("members.csv", JANUARY);

        // February -> January: 6 leaves, 4 comes back, 2 and 3 change back, 1 and 5 stay.
        assertThat(DirectRun.run(db.dataSource(), job)).containsAllEntriesOf(Map.of("files", 1L, "skipped_files", 0L,
                "read", 5L, "inserted", 1L, "updated", 2L, "unchanged", 2L, "deleted", 1L));
        assertThat(values(f)).isEqualTo(january);
        assertThat(db.rows("SELECT checksum FROM nightshift.import_file WHERE job_name = 'revert' ORDER BY id")).hasSize(3);
    }

    @Test
    void redelivery_of_the_current_content_is_skipped_and_dated_files_apply_once_each() throws Exception {
        ImportFixture f = new ImportFixture(db, "dated");
        f.file("2024-01.csv", JANUARY);
        f.file("2024-02.csv", FEBRUARY);
        JobDefinition job = f.job(f.dir, "  mode: mirror\n");
        assertThat(DirectRun.run(db.dataSource(), job)).containsAllEntriesOf(Map.of("files", 2L, "skipped_files", 0L));
        assertThat(DirectRun.run(db.dataSource(), job)).containsAllEntriesOf(Map.of("files", 0L, "skipped_files", 2L));
        List<String> february = values(f);

        // A new dated file with January's content is a new delivery, not a re-delivery.
        f.file("2024-03.csv", JANUARY);
        assertThat(DirectRun.run(db.dataSource(), job)).containsAllEntriesOf(Map.of("files", 1L, "skipped_files", 2L,
                "inserted", 1L, "updated", 2L, "deleted", 1L));
        assertThat(values(f)).isNotEqualTo(february);
    }

    /** The table's values without row versions. */
    private static List<String> values(ImportFixture f) throws Exception {
        return db.rows("SELECT constituent_id, name, nationality, gender, begin_year, end_year FROM " + f.table
                + " ORDER BY constituent_id");
    }

    @Test
    void a_crash_between_commit_and_move_skips_the_file_on_retry_and_moves_it() throws Exception {
        ImportFixture f = new ImportFixture(db, "crash");
        Path jan = f.file("jan.csv", JANUARY);
        JobDefinition job = f.job(f.dir, "  after_import: move\n");
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), job, () -> {
            throw new IllegalStateException("simulated crash after the commit, before the move");
        })).hasMessageContaining("simulated crash");
        assertThat(jan).exists();
        List<String> before = f.dump();
        assertThat(before).hasSize(5);

        Map<String, Long> counts = DirectRun.run(db.dataSource(), job);

        assertThat(counts).containsAllEntriesOf(Map.of("files", 0L, "skipped_files", 1L, "inserted", 0L));
        assertThat(jan).doesNotExist();
        assertThat(f.dir.resolve("processed").resolve("jan.csv")).exists();
        assertThat(f.dump()).isEqualTo(before);
    }

    @Test
    void with_move_applied_files_go_to_processed_and_a_bad_one_to_failed() throws Exception {
        ImportFixture f = new ImportFixture(db, "move");
        f.file("1-jan.csv", JANUARY);
        f.file("2-bad.csv", ImportFixture.HEADER + "1,Ada Brook,American,Female,nineteen,\n");
        f.file("3-feb.csv", FEBRUARY);
        JobDefinition job = f.job(f.dir, "  after_import: move\n");

        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), job)).isInstanceOf(JobFailedException.class)
                .hasMessageContaining("2-bad.csv: line 2, column BeginDate (begin_year)");
        assertThat(f.dir.resolve("processed/1-jan.csv")).exists();
        assertThat(f.dir.resolve("failed/2-bad.csv")).exists();
        assertThat(f.dir.resolve("3-feb.csv")).exists();
        assertThat(db.queryLong("SELECT count(*) FROM imp.move")).isEqualTo(5);

        assertThat(DirectRun.run(db.dataSource(), job)).containsAllEntriesOf(Map.of("files", 1L, "inserted", 1L, "updated", 2L));
        assertThat(f.dir.resolve("processed/3-feb.csv")).exists();
    }

    @Test
    void bad_files_fail_clearly_and_leave_the_target_untouched() throws Exception {
        ImportFixture f = new ImportFixture(db, "bad");
        DirectRun.run(db.dataSource(), f.job(f.file("jan.csv", JANUARY), ""));
        Files.delete(f.dir.resolve("jan.csv"));
        assertBadFilesRejected(f);
    }

    @Test
    void bad_files_fail_clearly_on_a_first_load_too() throws Exception {
        ImportFixture f = new ImportFixture(db, "bad-first");
        assertBadFilesRejected(f);
        assertThat(f.dump()).isEmpty();
    }

    private void assertBadFilesRejected(ImportFixture f) throws Exception {
        String h = ImportFixture.HEADER;
        List<Object[]> cases = List.of(
                new Object[] {"columns.csv", (h + "2,Tomas Ferrer,Spanish,Male,1936,\n3,Ines Moreau,French,Female,1941,,extra\n").getBytes(StandardCharsets.UTF_8),
                        List.of("columns.csv: line 3", "extra data after last expected column")},
                new Object[] {"type.csv", (h + "2,Tomas Ferrer,Spanish,Male,1936,\n8,X,Y,Z,1950,\n3,Ines Moreau,French,Female,abc,\n").getBytes(StandardCharsets.UTF_8),
                        List.of("type.csv: line 4, column BeginDate (begin_year), value \"abc\"", "invalid input syntax for type integer")},
                new Object[] {"encoding.csv", concat(h + "9,Ok,,,,\n10,Bad", new byte[] {(byte) 0xff, (byte) 0xfe}, " name,,,,,\n"),
                        List.of("encoding.csv: line 3", "invalid byte sequence for encoding \"UTF8\"")},
                new Object[] {"dups.csv", (h + "11,A,,,,\n12,B,,,,\n11,C,,,,\n13,D,,,,\n12,E,,,,\n11,F,,,,\n").getBytes(StandardCharsets.UTF_8),
                        List.of("dups.csv: duplicate key (constituent_id)", "2 key(s) repeated", "(11) on lines 2, 4, 7", "(12) on lines 3, 6")},
                new Object[] {"null.csv", (h + "14,A,,,,\n15,,,,,\n").getBytes(StandardCharsets.UTF_8),
                        List.of("null.csv: line 3, column DisplayName (name): a value is required")},
                new Object[] {"empty.csv", new byte[0], List.of("empty.csv: the file is empty")},
                new Object[] {"header-only.csv", h.getBytes(StandardCharsets.UTF_8), List.of("header-only.csv: the file has a header but no rows")},
                new Object[] {"stray-quotes.csv", (h + "11,Ele\"ven,,,2000,\n12,Twe\"lve,,,2001,\n").getBytes(StandardCharsets.UTF_8),
                        List.of("stray-quotes.csv: line 2, field 2: a quote inside an unquoted field")},
                new Object[] {"after-quote.csv", (h + "11,\"Eleven\"th,,,2000,\n").getBytes(StandardCharsets.UTF_8),
                        List.of("after-quote.csv: line 2, field 2: text after the closing quote")},
                new Object[] {"unterminated.csv", (h + "1,A,,,,\n2,B,,,,\n3,C,,,,\n4,D,,,,\n5,\"E,,,,\n6,F,,,,\n").getBytes(StandardCharsets.UTF_8),
                        List.of("unterminated.csv: line 6, field 2: a quoted field is not closed before the end of the file")},
                new Object[] {"header.csv", "ConstituentID,DisplayName,Nation,Gender,BeginDate,EndDate\n1,A,,,,\n".getBytes(StandardCharsets.UTF_8),
                        List.of("header.csv: line 1: the header does not match", "missing 'Nationality'", "unknown 'Nation'")});
        for (Object[] c : cases) {
            List<String> before = f.dump();
            Path file = f.bytes((String) c[0], (byte[]) c[1]);
            @SuppressWarnings("unchecked")
            List<String> expected = (List<String>) c[2];
            assertThatThrownBy(() -> DirectRun.run(db.dataSource(), f.job(file, "  mode: mirror\n")))
                    .as(file.getFileName().toString())
                    .isInstanceOf(JobFailedException.class)
                    .satisfies(e -> expected.forEach(x -> assertThat(e.getMessage()).contains(x)));
            assertThat(f.dump()).as(file.getFileName().toString()).isEqualTo(before);
            Files.delete(file);
        }
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), f.job(f.dir.resolve("absent.csv"), "")))
                .isInstanceOf(JobFailedException.class).hasMessageContaining("absent.csv").hasMessageContaining("not found");
    }

    private static byte[] concat(String a, byte[] b, String c) {
        byte[] x = a.getBytes(StandardCharsets.UTF_8);
        byte[] z = c.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[x.length + b.length + z.length];
        System.arraycopy(x, 0, out, 0, x.length);
        System.arraycopy(b, 0, out, x.length, b.length);
        System.arraycopy(z, 0, out, x.length + b.length, z.length);
        return out;
    }

    @Test
    void a_row_breaking_a_check_constraint_fails_the_file_and_leaves_the_target_untouched() throws Exception {
        ImportFixture f = new ImportFixture(db, "checked");
        db.execute("ALTER TABLE imp.checked ADD CHECK (begin_year > 1800)");
        DirectRun.run(db.dataSource(), f.job(f.file("jan.csv", JANUARY), ""));
        List<String> before = f.dump();
        Path bad = f.file("old.csv", ImportFixture.HEADER + "9,Very Old,,,1700,\n");
        for (String mode : List.of("", "  on_bad_row: skip\n")) {
            assertThatThrownBy(() -> DirectRun.run(db.dataSource(), f.job(bad, mode))).isInstanceOf(JobFailedException.class)
                    .hasMessageContaining("old.csv: a row breaks a CHECK constraint of imp.checked");
            assertThat(f.dump()).isEqualTo(before);
        }
    }

    @Test
    void skipped_rows_are_kept_with_line_and_reason_and_listed_by_the_cli() throws Exception {
        ImportFixture f = new ImportFixture(db, "skip");
        DirectRun.run(db.dataSource(), f.job(f.file("jan.csv", JANUARY), ""));
        Files.delete(f.dir.resolve("jan.csv"));
        Path feb = f.file("feb.csv", ImportFixture.HEADER + """
                1,Ada Brook,American,Female,1930,1993
                2,Tomas Ferrer,Spanish,Male,soon,
                3,Ines Moreau,French
                6,Olu Adeyemi,Nigerian,Male,1962,
                7,Twice,,,,
                7,Twice again,,,,
                8,,,,,
                """);
        JobDefinition job = f.job(feb, "  on_bad_row: skip\n  mode: mirror\n");
        Map<String, Long> counts = DirectRun.run(db.dataSource(), job);
        long runId = db.queryLong("SELECT max(run_id) FROM nightshift.import_reject");

        assertThat(counts).containsAllEntriesOf(Map.of("read", 7L, "inserted", 1L, "updated", 1L, "unchanged", 0L,
                "deleted", 0L, "rejected", 5L));
        assertThat(db.rows("SELECT line, reason FROM nightshift.import_reject WHERE run_id = " + runId + " ORDER BY line")).containsExactly(
                "3|column BeginDate (begin_year): value 'soon' does not fit type integer (invalid input syntax for type integer: \"soon\")",
                "4|has 3 fields, the header has 6",
                "6|key (7) appears on 2 lines of the file; none of them is applied",
                "7|key (7) appears on 2 lines of the file; none of them is applied",
                "8|column DisplayName (name): a value is required (the column is NOT NULL)");
        assertThat(db.rows("SELECT constituent_id, end_year FROM imp.skip ORDER BY 1"))
                .containsExactly("1|1993", "2|null", "3|null", "4|null", "5|null", "6|null");

        Cli.Result r = Cli.run(db.env(), "rejects", Long.toString(runId));
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("feb.csv", "3", "does not fit type integer", "3,Ines Moreau,French");
        Cli.Result json = Cli.run(db.env(), "rejects", Long.toString(runId), "--json");
        assertThat(json.out()).contains("\"line\":4", "\"reason\":\"has 3 fields, the header has 6\"");
    }

    @Test
    void with_skip_rows_with_stray_quotes_are_rejected_each_on_its_own_line() throws Exception {
        ImportFixture f = new ImportFixture(db, "stray-skip");
        Path file = f.file("stray.csv", ImportFixture.HEADER + """
                10,Ten,,,1999,
                11,Ele"ven,,,2000,
                12,Twe"lve,,,2001,
                13,Thirteen,,,2002,
                """);
        Map<String, Long> counts = DirectRun.run(db.dataSource(), f.job(file, "  on_bad_row: skip\n"));
        long runId = db.queryLong("SELECT max(run_id) FROM nightshift.import_reject WHERE job_name = 'stray-skip'");

        assertThat(counts).containsAllEntriesOf(Map.of("read", 4L, "inserted", 2L, "rejected", 2L));
        assertThat(db.rows("SELECT line, reason, raw FROM nightshift.import_reject WHERE run_id = " + runId + " ORDER BY line"))
                .containsExactly("3|field 2: a quote inside an unquoted field (quote the whole field and double its quotes)|11,Ele\"ven,,,2000,",
                        "4|field 2: a quote inside an unquoted field (quote the whole field and double its quotes)|12,Twe\"lve,,,2001,");
        assertThat(db.rows("SELECT constituent_id, name FROM imp.stray_skip ORDER BY 1")).containsExactly("10|Ten", "13|Thirteen");
    }

    @Test
    void a_file_name_with_quotes_and_backslashes_never_reaches_sql_as_text() throws Exception {
        ImportFixture f = new ImportFixture(db, "odd-name");
        Path file = f.file("it's \\' a file.csv", ImportFixture.HEADER + "1,A,,,,\n1,B,,,,\n2,C,,,,\n");
        JobDefinition job = f.job(file, "  on_bad_row: skip\n");
        Map<String, Long> counts;
        // With standard_conforming_strings off a backslash escapes a quote in a string literal, so a
        // file name spliced into SQL as a literal would end the string early.
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("SET standard_conforming_strings = off");
            counts = new DirectAttempt(DirectRun.nextRunId(), job, c, DirectRun.METRICS, null).run();
            st.execute("RESET standard_conforming_strings");
        }

        assertThat(counts).containsAllEntriesOf(Map.of("read", 3L, "inserted", 1L, "rejected", 2L));
        assertThat(db.rows("SELECT file_name, line FROM nightshift.import_reject WHERE job_name = 'odd-name' ORDER BY line"))
                .containsExactly("it's \\' a file.csv|2", "it's \\' a file.csv|3");
        assertThat(db.rows("SELECT constituent_id, name FROM imp.odd_name")).containsExactly("2|C");
    }

    @Test
    void two_imports_into_one_table_at_once_equal_one_after_the_other() throws Exception {
        for (int round = 1; round <= 3; round++) {
            ImportFixture f = new ImportFixture(db, "race" + round);
            Path a = f.file("a.csv", ImportFixture.HEADER + rows(1, 200, "A"));
            Path b = f.file("b.csv", ImportFixture.HEADER + rows(100, 300, "B"));
            if (round > 1) {
                DirectRun.run(db.dataSource(), f.job(f.file("seed.csv", ImportFixture.HEADER + rows(50, 250, "S")), ""));
            }
            JobDefinition ja = f.job(a, "");
            JobDefinition jb = f.job(b, "  mode: upsert\n");
            CyclicBarrier start = new CyclicBarrier(2);
            CompletableFuture<Map<String, Long>> fa = CompletableFuture.supplyAsync(() -> run(start, ja));
            CompletableFuture<Map<String, Long>> fb = CompletableFuture.supplyAsync(() -> run(start, jb));
            fa.get(60, TimeUnit.SECONDS);
            fb.get(60, TimeUnit.SECONDS);

            List<String> aThenB = expected(round, "A", "B");
            List<String> bThenA = expected(round, "B", "A");
            assertThat(db.rows("SELECT constituent_id, name FROM " + f.table + " ORDER BY 1")).isIn(aThenB, bThenA);
        }
    }

    private static Map<String, Long> run(CyclicBarrier start, JobDefinition job) {
        try {
            start.await(10, TimeUnit.SECONDS);
            return DirectRun.run(db.dataSource(), job);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String rows(int from, int to, String prefix) {
        return IntStream.rangeClosed(from, to).mapToObj(i -> i + "," + prefix + i + ",,,,\n").collect(Collectors.joining());
    }

    /** The table after applying the seed (rounds 2+), then the first file, then the second. */
    private static List<String> expected(int round, String first, String second) {
        java.util.TreeMap<Integer, String> t = new java.util.TreeMap<>();
        if (round > 1) {
            IntStream.rangeClosed(50, 250).forEach(i -> t.put(i, "S" + i));
        }
        for (String p : List.of(first, second)) {
            int from = p.equals("A") ? 1 : 100;
            int to = p.equals("A") ? 200 : 300;
            IntStream.rangeClosed(from, to).forEach(i -> t.put(i, p + i));
        }
        List<String> out = new ArrayList<>();
        t.forEach((k, v) -> out.add(k + "|" + v));
        return out;
    }

    @Test
    void a_key_inserted_by_a_concurrent_writer_is_updated_not_a_duplicate_key_failure() throws Exception {
        ImportFixture f = new ImportFixture(db, "writer");
        DirectRun.run(db.dataSource(), f.job(f.file("jan.csv", JANUARY), ""));
        JobDefinition feb = f.job(f.file("feb.csv", FEBRUARY), "");
        try (Connection app = db.dataSource().getConnection(); Statement st = app.createStatement()) {
            app.setAutoCommit(false);
            st.execute("INSERT INTO imp.writer (constituent_id, name) VALUES (6, 'Written by the application')");
            CompletableFuture<Map<String, Long>> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return DirectRun.run(db.dataSource(), feb);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Duration.ofSeconds(30)).until(() -> db.queryLong("SELECT count(*) FROM pg_stat_activity"
                    + " WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'WITH ins AS%'") == 1);
            app.commit();
            assertThat(run.get(30, TimeUnit.SECONDS)).containsAllEntriesOf(Map.of("inserted", 0L, "updated", 3L, "unchanged", 2L));
        }
        assertThat(db.rows("SELECT name, nationality FROM imp.writer WHERE constituent_id = 6")).containsExactly("Olu Adeyemi|Nigerian");
    }

    @Test
    void bench_import_compares_every_phase_with_raw_copy_and_cleans_up() throws Exception {
        Cli.Result r = Cli.run(db.env(), "bench", "import", "--rows", "2000", "--dir", db.tempDir().resolve("bench").toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("raw COPY (floor)", "nightshift first load", "inserted=2000",
                "nightshift no change", "unchanged=2000", "nightshift 1% changed", "updated=20", "peak heap used");
        assertThat(db.queryLong("SELECT count(*) FROM pg_namespace WHERE nspname = 'nightshift_bench'")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.import_file WHERE job_name = 'bench-import'")).isZero();
    }

    @Test
    void names_that_are_not_plain_identifiers_are_refused_before_any_sql() {
        JobsDir jobs = new JobsDir(db.tempDir(), "injection").file("evil.yaml", """
                name: evil
                type: batch-import
                params:
                  source: x.csv
                  target: imp.artist; DROP TABLE imp.artist
                  key: ["id\\" OR 1=1"]
                  columns:
                    Name: name); DELETE FROM imp.artist; --
                """);
        assertThatThrownBy(() -> JobCatalog.load(jobs.path()))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems()).hasSize(3)
                        .anySatisfy(p -> assertThat(p).contains("params.target", "must be schema-qualified"))
                        .anySatisfy(p -> assertThat(p).contains("params.key", "is not a valid identifier"))
                        .anySatisfy(p -> assertThat(p).contains("params.columns", "header 'Name'", "is not a valid identifier")));
    }
}
