package dev.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nightshift.config.JobDefinition;
import dev.nightshift.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Files as partners send them: byte order marks, invisible characters in headers, renamed columns, huge lines. */
@Tag("database")
class PartnerFilesTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    /** A second header name for the nationality column, appended to the fixture's columns mapping. */
    private static final String COUNTRY_TOO = "    Country: nationality\n";

    @BeforeAll
    static void migrate() {
        DirectRun.migrate(db);
    }

    private static byte[] bytes(byte[] prefix, String text, java.nio.charset.Charset cs) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(prefix);
        out.writeBytes(text.getBytes(cs));
        return out.toByteArray();
    }

    private static List<String> values(ImportFixture f) throws Exception {
        return db.rows("SELECT constituent_id, name, nationality, gender, begin_year, end_year FROM " + f.table + " ORDER BY 1");
    }

    @Test
    void a_utf8_byte_order_mark_is_dropped_from_the_header_and_from_the_rows_copied() throws Exception {
        ImportFixture f = new ImportFixture(db, "bom");
        Path file = f.bytes("artists.csv", bytes(BOM, BatchImportTest.JANUARY, StandardCharsets.UTF_8));
        JobDefinition job = f.job(file, "  mode: mirror\n");

        assertThat(DirectRun.run(db.dataSource(), job)).containsAllEntriesOf(Map.of("read", 5L, "inserted", 5L));
        f.bytes("artists.csv", bytes(BOM, BatchImportTest.FEBRUARY, StandardCharsets.UTF_8));
        assertThat(DirectRun.run(db.dataSource(), job)).containsAllEntriesOf(Map.of("read", 5L, "inserted", 1L, "updated", 2L,
                "deleted", 1L));
        assertThat(values(f)).first().isEqualTo("1|Ada Brook|American|Female|1930|1992");

        // Without a header line the mark would stick to the first value, an integer key.
        ImportFixture h = new ImportFixture(db, "bom-headerless");
        Path rows = h.bytes("rows.csv", bytes(BOM, "7,Ada,,,1930,\n8,Tom,,,,\n", StandardCharsets.UTF_8));
        assertThat(DirectRun.run(db.dataSource(), h.job(rows, "  format: {header: false}\n")))
                .containsAllEntriesOf(Map.of("read", 2L, "inserted", 2L));
        assertThat(values(h)).containsExactly("7|Ada|null|null|1930|null", "8|Tom|null|null|null|null");
    }

    @Test
    void a_utf8_byte_order_mark_is_dropped_on_the_row_by_row_path_too() throws Exception {
        ImportFixture f = new ImportFixture(db, "bom-skip");
        Path file = f.bytes("artists.csv", bytes(BOM, ImportFixture.HEADER + "1,Ada,,,1930,\n2,Tom,,,soon,\n",
                StandardCharsets.UTF_8));

        assertThat(DirectRun.run(db.dataSource(), f.job(file, "  on_bad_row: skip\n")))
                .containsAllEntriesOf(Map.of("read", 2L, "inserted", 1L, "rejected", 1L));
        assertThat(values(f)).containsExactly("1|Ada|null|null|1930|null");
    }

    @Test
    void a_utf16_file_declared_utf8_is_refused_saying_so_and_nothing_changes() throws Exception {
        ImportFixture f = new ImportFixture(db, "utf16");
        DirectRun.run(db.dataSource(), f.job(f.file("jan.csv", BatchImportTest.JANUARY), ""));
        List<String> before = f.dump();
        Path le = f.bytes("jan.csv", bytes(new byte[] {(byte) 0xFF, (byte) 0xFE}, BatchImportTest.FEBRUARY, StandardCharsets.UTF_16LE));

        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), f.job(le, "  mode: mirror\n")))
                .isInstanceOf(JobFailedException.class)
                .hasMessageContaining("jan.csv: the file starts with a UTF-16 byte order mark (FF FE, UTF-16 little-endian)")
                .hasMessageContaining("format.encoding UTF-8");
        Path be = f.bytes("jan.csv", bytes(new byte[] {(byte) 0xFE, (byte) 0xFF}, BatchImportTest.FEBRUARY, StandardCharsets.UTF_16BE));
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), f.job(be, "  mode: mirror\n")))
                .isInstanceOf(JobFailedException.class).hasMessageContaining("UTF-16 big-endian");
        assertThat(f.dump()).isEqualTo(before);
    }

    @Test
    void header_errors_show_invisible_characters_escaped() throws Exception {
        ImportFixture f = new ImportFixture(db, "invisible");
        Path file = f.file("jan.csv", "ConstituentID,DisplayName,Nationality\u00A0,\tGender,Begin\u200BDate,EndDate\n1,A,,,,\n");

        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), f.job(file, "")))
                .isInstanceOf(JobFailedException.class)
                .hasMessageContaining("missing 'Nationality', 'Gender', 'BeginDate'")
                .hasMessageContaining("unknown 'Nationality\\u00A0', '\\tGender', 'Begin\\u200BDate'")
                .hasMessageContaining("invisible characters are shown escaped");
        assertThat(f.dump()).isEmpty();
    }

    @Test
    void a_renamed_column_is_read_from_whichever_of_its_names_the_file_has() throws Exception {
        ImportFixture f = new ImportFixture(db, "renamed");
        JobDefinition job = f.job(f.dir.resolve("*.csv"), COUNTRY_TOO + "  mode: mirror\n");
        f.file("1.csv", "ConstituentID,DisplayName,Country,Gender,BeginDate,EndDate\n1,Ada,Danish,,,\n2,Tom,Spanish,,,\n");
        assertThat(DirectRun.run(db.dataSource(), job)).containsAllEntriesOf(Map.of("inserted", 2L));
        assertThat(values(f)).containsExactly("1|Ada|Danish|null|null|null", "2|Tom|Spanish|null|null|null");

        // Both names present: Nationality is listed first in columns, so it wins, also on the staged and row-by-row paths.
        f.file("2.csv", "ConstituentID,Country,DisplayName,Nationality,Gender,BeginDate,EndDate\n1,Old,Ada,French,,,\n2,Old,Tom,Spanish,,,\n");
        assertThat(DirectRun.run(db.dataSource(), job)).containsAllEntriesOf(Map.of("files", 1L, "updated", 1L, "unchanged", 1L));
        assertThat(values(f)).containsExactly("1|Ada|French|null|null|null", "2|Tom|Spanish|null|null|null");
        f.file("3.csv", "ConstituentID,Country,DisplayName,Nationality,Gender,BeginDate,EndDate\n1,Old,Ada,Irish,,x,\n2,Old,Tom,Irish,,,\n");
        assertThat(DirectRun.run(db.dataSource(), f.job(f.dir.resolve("3.csv"), COUNTRY_TOO + "  on_bad_row: skip\n")))
                .containsAllEntriesOf(Map.of("read", 2L, "updated", 1L, "rejected", 1L));
        assertThat(values(f)).containsExactly("1|Ada|French|null|null|null", "2|Tom|Irish|null|null|null");
    }

    @Test
    void a_renamed_column_loads_into_an_empty_table_too_and_a_file_with_neither_name_is_refused() throws Exception {
        ImportFixture f = new ImportFixture(db, "renamed-first");
        Path both = f.file("both.csv", "ConstituentID,DisplayName,Nationality,Country,Gender,BeginDate,EndDate\n1,Ada,Danish,Old,,,\n");
        assertThat(DirectRun.run(db.dataSource(), f.job(both, COUNTRY_TOO))).containsAllEntriesOf(Map.of("inserted", 1L));
        assertThat(values(f)).containsExactly("1|Ada|Danish|null|null|null");

        List<String> before = f.dump();
        Path neither = f.file("neither.csv", "ConstituentID,DisplayName,Land,Gender,BeginDate,EndDate\n1,Ada,Danish,,,\n");
        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), f.job(neither, COUNTRY_TOO)))
                .isInstanceOf(JobFailedException.class)
                .hasMessageContaining("missing 'Nationality' or 'Country'")
                .hasMessageContaining("unknown 'Land'");
        assertThat(f.dump()).isEqualTo(before);
    }

    @Test
    void a_huge_line_is_quoted_at_most_a_few_hundred_characters_in_errors_and_rejects() throws Exception {
        ImportFixture f = new ImportFixture(db, "huge");
        String huge = "9".repeat(5_000_000);
        Path file = f.file("huge.csv", ImportFixture.HEADER + "1,Ada,,,1930,\n2,Tom,,," + huge + ",\n");

        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), f.job(file, "")))
                .isInstanceOf(JobFailedException.class)
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(1000)
                        .contains("huge.csv: line 3, column BeginDate (begin_year)", "out of range for type integer"));
        assertThat(f.dump()).isEmpty();

        assertThat(DirectRun.run(db.dataSource(), f.job(file, "  on_bad_row: skip\n")))
                .containsAllEntriesOf(Map.of("inserted", 1L, "rejected", 1L));
        assertThat(db.rows("SELECT length(raw), length(reason) < 1000, right(raw, 20), reason LIKE '%…(5000000 bytes)%'"
                + " FROM nightshift.import_reject WHERE job_name = 'huge'"))
                .containsExactly("216|t|9999…(5000009 bytes)|t");
    }

    @Test
    void a_huge_header_is_quoted_at_most_a_few_hundred_characters() throws Exception {
        ImportFixture f = new ImportFixture(db, "huge-header");
        Path file = f.file("h.csv", ImportFixture.HEADER.replace("EndDate", "x".repeat(5_000_000)) + "1,Ada,,,,\n");

        assertThatThrownBy(() -> DirectRun.run(db.dataSource(), f.job(file, "")))
                .isInstanceOf(JobFailedException.class)
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(1000).contains("…(5000000 bytes)", "missing 'EndDate'"));
    }
}
