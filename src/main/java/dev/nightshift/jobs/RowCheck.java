package dev.nightshift.jobs;

import dev.nightshift.config.Identifiers;
import dev.nightshift.config.ImportParams;
import dev.nightshift.csv.CsvReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * The row-by-row pass of {@code on_bad_row: skip}: the file is parsed here (field count and
 * encoding per record), every record is copied as text with its line into a temporary table, the
 * server checks each value against its column type, and the good rows land in the typed staging
 * table that {@link Merge} reads. Bad rows and rows whose key repeats go to
 * {@code nightshift.import_reject} with line and reason. Streams; not thread-safe.
 */
final class RowCheck {
    private static final String TEXT = "pg_temp.nightshift_text";
    private static final String CHECKED = "pg_temp.nightshift_checked";

    /** Records read (header excluded), how many were rejected, and the file's checksum. */
    record Checked(long read, long rejected, String checksum) {
    }

    private final Attempt attempt;
    private final Connection c;
    private final ImportParams p;
    private final TargetTable target;
    private final FileImport.Header header;
    private final Path file;
    private final int n;

    RowCheck(Attempt attempt, ImportParams p, TargetTable target, FileImport.Header header, Path file) {
        this.attempt = attempt;
        this.c = attempt.connection();
        this.p = p;
        this.target = target;
        this.header = header;
        this.file = file;
        this.n = header.columns().size();
    }

    Checked run() throws SQLException, IOException {
        Merge.exec(c, "CREATE TEMP TABLE nightshift_text (line bigint, raw text, problem text, "
                + fields().stream().map(f -> f + " text").collect(Collectors.joining(", ")) + ") ON COMMIT DROP");
        MessageDigest sha = FileImport.sha256();
        long read = copyRecords(sha);
        Merge.exec(c, "CREATE TEMP TABLE nightshift_checked ON COMMIT DROP AS SELECT line, raw, coalesce(problem, "
                + "nightshift.import_row_problem(ARRAY[" + String.join(", ", fields()) + "]::text[], " + array(header.columns().stream()
                .map(header::describe).toList()) + ", " + array(types()) + ", " + notNulls() + ")) AS problem, "
                + String.join(", ", fields()) + " FROM " + TEXT);
        String fileName = file.getFileName().toString();
        long rejected = ImportLedger.rejectFrom(c, attempt, fileName,
                "SELECT line, problem AS reason, raw FROM " + CHECKED + " WHERE problem IS NOT NULL");
        stage();
        rejected += rejectRepeatedKeys(fileName);
        return new Checked(read, rejected, HexFormat.of().formatHex(sha.digest()));
    }

    /** Parses the file and streams each record as CSV text (line, raw, problem, fields) into COPY. */
    private long copyRecords(MessageDigest sha) throws SQLException, IOException {
        CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + TEXT + " FROM STDIN WITH (FORMAT csv)");
        long read = 0;
        try (InputStream file = new DigestInputStream(Files.newInputStream(this.file), sha);
             CsvReader r = new CsvReader(file, p.format())) {
            if (p.format().header()) {
                r.next();
            }
            StringBuilder b = new StringBuilder();
            CsvReader.Record rec;
            while ((rec = r.next()) != null) {
                read++;
                row(b, rec);
                if (b.length() > 1 << 16) {
                    write(in, b);
                }
            }
            write(in, b);
            in.endCopy();
        } finally {
            if (in.isActive()) {
                in.cancelCopy();
            }
        }
        return read;
    }

    private void row(StringBuilder b, CsvReader.Record rec) {
        String problem = rec.problem();
        int expected = header.copyColumns().size();
        if (problem == null && rec.fields().size() != expected) {
            problem = "has " + rec.fields().size() + " fields, the header has " + expected;
        }
        String raw = Excerpt.capped(rec.raw().replace("\0", ""));
        if (problem == null && rec.fields().stream().anyMatch(f -> f != null && f.indexOf('\0') >= 0)) {
            problem = "contains a NUL character, which PostgreSQL text cannot hold";
        }
        b.append(rec.line()).append(',');
        quoted(b, raw).append(',');
        if (problem != null) {
            quoted(b, problem);
            b.append(",".repeat(n));
        } else {
            for (String f : header.loaded(rec.fields())) {
                b.append(',');
                if (f != null) {
                    quoted(b, f);
                }
            }
        }
        b.append('\n');
    }

    private static StringBuilder quoted(StringBuilder b, String s) {
        return b.append('"').append(s.replace("\"", "\"\"")).append('"');
    }

    private static void write(CopyIn in, StringBuilder b) throws SQLException {
        byte[] bytes = b.toString().getBytes(StandardCharsets.UTF_8);
        in.writeToCopy(bytes, 0, bytes.length);
        b.setLength(0);
    }

    /** The typed staging table, with each row's line, from the rows that passed. */
    private void stage() throws SQLException {
        String cols = header.columns().stream().map(Identifiers::quote).collect(Collectors.joining(", "));
        Merge.exec(c, "CREATE TEMP TABLE nightshift_stage ON COMMIT DROP AS SELECT " + cols + " FROM "
                + Identifiers.quote(p.target()) + " WITH NO DATA");
        Merge.exec(c, "ALTER TABLE " + FileImport.STAGE + " ADD COLUMN nightshift_line bigint");
        List<String> types = types();
        String casts = IntStream.range(0, n).mapToObj(i -> "f" + (i + 1) + "::" + types.get(i)).collect(Collectors.joining(", "));
        Merge.exec(c, "INSERT INTO " + FileImport.STAGE + " (" + cols + ", nightshift_line) SELECT " + casts + ", line FROM "
                + CHECKED + " WHERE problem IS NULL");
    }

    /** Rows whose key appears more than once: none can be the right one, so all are kept aside. */
    private long rejectRepeatedKeys(String fileName) throws SQLException {
        String key = p.key().stream().map(k -> "s." + Identifiers.quote(k)).collect(Collectors.joining(", "));
        String text = p.key().stream().map(k -> "s." + Identifiers.quote(k) + "::text").collect(Collectors.joining(", "));
        String counted = "SELECT s.nightshift_line AS line, concat_ws(', ', " + text + ") AS k, count(*) OVER (PARTITION BY "
                + key + ") AS n FROM " + FileImport.STAGE + " s";
        long rejected = ImportLedger.rejectFrom(c, attempt, fileName,
                "SELECT d.line, 'key (' || nightshift.excerpt(d.k) || ') appears on ' || d.n || ' lines of the file; none of them is applied' AS reason,"
                        + " k.raw FROM (" + counted + ") d JOIN " + CHECKED + " k ON k.line = d.line WHERE d.n > 1");
        if (rejected > 0) {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + FileImport.STAGE + " s USING nightshift.import_reject r"
                    + " WHERE r.run_id = ? AND r.file_name = ? AND r.line = s.nightshift_line")) {
                ps.setLong(1, attempt.runId());   // run_id
                ps.setString(2, fileName);        // file_name, as the file system spells it
                ps.executeUpdate();
            }
        }
        return rejected;
    }

    private List<String> fields() {
        return IntStream.rangeClosed(1, n).mapToObj(i -> "f" + i).toList();
    }

    private List<String> types() {
        return header.columns().stream().map(col -> target.columns().get(col).type()).toList();
    }

    private String notNulls() {
        return "ARRAY[" + header.columns().stream().map(col -> String.valueOf(target.columns().get(col).notNull()))
                .collect(Collectors.joining(", ")) + "]::boolean[]";
    }

    private static String array(List<String> values) {
        return "ARRAY[" + values.stream().map(FileImport::literal).collect(Collectors.joining(", ")) + "]::text[]";
    }
}
