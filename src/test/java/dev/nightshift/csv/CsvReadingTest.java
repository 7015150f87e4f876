package dev.nightshift.csv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nightshift.config.CsvFormat;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CSV reading rules on bytes, without a database: RFC 4180 quoting, lines, byte order marks. */
class CsvReadingTest {
    private static InputStream bytes(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    private static List<CsvReader.Record> records(String s) throws IOException {
        List<CsvReader.Record> out = new ArrayList<>();
        try (CsvReader r = new CsvReader(bytes(s), CsvFormat.DEFAULT)) {
            for (CsvReader.Record rec = r.next(); rec != null; rec = r.next()) {
                out.add(rec);
            }
        }
        return out;
    }

    @Test
    void a_quoted_field_keeps_its_delimiters_doubled_quotes_and_line_breaks() throws IOException {
        List<CsvReader.Record> recs = records("id,name\n1,\"Smith, \"\"Jo\"\"\nline two\"\n2,Ann\n");

        assertThat(recs).hasSize(3);
        assertThat(recs.get(1).fields()).containsExactly("1", "Smith, \"Jo\"\nline two");
        assertThat(recs.get(1).problem()).isNull();
        assertThat(recs.get(2).line()).isEqualTo(4);
        assertThat(recs.get(2).fields()).containsExactly("2", "Ann");
    }

    @Test
    void a_stray_quote_is_a_problem_of_its_own_record_and_does_not_swallow_the_next() throws IOException {
        List<CsvReader.Record> recs = records("11,Ele\"ven,2000\n12,Twelve,2001\n");

        assertThat(recs).hasSize(2);
        assertThat(recs.get(0).problem()).isEqualTo("field 2: " + CsvSyntax.STRAY_QUOTE);
        assertThat(recs.get(1).problem()).isNull();
        assertThat(recs.get(1).fields()).containsExactly("12", "Twelve", "2001");
    }

    @Test
    void an_unterminated_quote_names_the_line_where_it_opened() throws IOException {
        List<CsvReader.Record> recs = records("a,b\n1,x\n2,\"open\n3,y\n");

        assertThat(recs.get(recs.size() - 1).problem())
                .isEqualTo("field 2: " + CsvSyntax.UNTERMINATED + " (the quote opens on line 3)");
    }

    @Test
    void the_syntax_check_on_the_way_to_copy_stops_at_the_first_stray_quote_with_its_line() {
        InputStream in = new CsvSyntax(bytes("id,name\n1,ok\n2,\"a\"b\n"), CsvFormat.DEFAULT);

        assertThatThrownBy(() -> in.readAllBytes())
                .isInstanceOf(CsvSyntax.Error.class)
                .hasMessage("line 3, field 2: " + CsvSyntax.AFTER_CLOSE);
    }

    @Test
    void a_utf8_byte_order_mark_is_dropped_and_a_utf16_mark_is_described() throws IOException, Exception {
        byte[] withBom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, 'i', 'd', '\n'};
        try (CsvReader r = new CsvReader(new ByteArrayInputStream(withBom), CsvFormat.DEFAULT)) {
            assertThat(r.next().fields()).containsExactly("id");
        }

        Path dir = Files.createTempDirectory("csv-bom");
        Path le = Files.write(dir.resolve("le.csv"), new byte[] {(byte) 0xFF, (byte) 0xFE, 'i', 0});
        Path plain = Files.write(dir.resolve("plain.csv"), "id\n".getBytes(StandardCharsets.UTF_8));
        assertThat(ByteOrderMark.utf16Mark(le, CsvFormat.DEFAULT)).isEqualTo("FF FE, UTF-16 little-endian");
        assertThat(ByteOrderMark.utf16Mark(plain, CsvFormat.DEFAULT)).isNull();
    }
}
