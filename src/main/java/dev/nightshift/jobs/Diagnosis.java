package dev.nightshift.jobs;

import dev.nightshift.config.Identifiers;
import dev.nightshift.config.ImportParams;
import dev.nightshift.csv.CsvReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.postgresql.util.PSQLException;

/**
 * Explains a staged file that failed its key or NOT NULL checks, on the error path only: which
 * keys repeat and on which lines, which line lacks a required value. The staging table was filled
 * by one COPY into a new table, so its physical order (ctid) is the file's record order; a pass
 * over the file turns record numbers into line numbers (a quoted field may span lines).
 * Not thread-safe.
 */
final class Diagnosis {
    private static final int SHOWN = 5;

    private final Connection c;
    private final Path file;
    private final ImportParams p;
    private final FileImport.Header header;

    Diagnosis(Connection c, Path file, ImportParams p, FileImport.Header header) {
        this.c = c;
        this.file = file;
        this.p = p;
        this.header = header;
    }

    String duplicates() throws SQLException, IOException {
        String key = p.key().stream().map(Identifiers::quote).collect(Collectors.joining(", "));
        String text = p.key().stream().map(k -> Identifiers.quote(k) + "::text").collect(Collectors.joining(", "));
        String sql = "SELECT concat_ws(', ', " + text + "), array_agg(n ORDER BY n), count(*) OVER ()"
                + " FROM (SELECT " + key + ", row_number() OVER (ORDER BY ctid) AS n FROM " + FileImport.STAGE + ") x"
                + " GROUP BY " + key + " HAVING count(*) > 1 ORDER BY min(n) LIMIT " + SHOWN;
        Map<String, List<Long>> dups = new LinkedHashMap<>();
        long total = 0;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                List<Long> records = new ArrayList<>();
                for (Object o : (Object[]) rs.getArray(2).getArray()) {
                    records.add(((Number) o).longValue());
                }
                dups.put(Excerpt.capped(rs.getString(1)), records);
                total = rs.getLong(3);
            }
        }
        Map<Long, Long> lines = lines(dups.values().stream().flatMap(List::stream).collect(Collectors.toSet()));
        String list = dups.entrySet().stream()
                .map(e -> "(" + e.getKey() + ") on lines " + e.getValue().stream().map(r -> String.valueOf(lines.get(r)))
                        .collect(Collectors.joining(", ")))
                .collect(Collectors.joining("; "));
        return file.getFileName() + ": duplicate key (" + String.join(", ", p.key()) + ") in the file, " + total
                + " key(s) repeated" + (total > SHOWN ? ", the first " + SHOWN : "") + ": " + list;
    }

    String nullIn(SQLException e) throws SQLException, IOException {
        String column = e instanceof PSQLException pe && pe.getServerErrorMessage() != null
                ? pe.getServerErrorMessage().getColumn() : null;
        if (column == null || !header.columns().contains(column)) {
            return file.getFileName() + ": " + e.getMessage();
        }
        String sql = "SELECT n FROM (SELECT " + Identifiers.quote(column) + " AS v, row_number() OVER (ORDER BY ctid) AS n FROM "
                + FileImport.STAGE + ") x WHERE v IS NULL ORDER BY n LIMIT 1";
        long record;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            if (!rs.next()) {
                return file.getFileName() + ": " + e.getMessage();
            }
            record = rs.getLong(1);
        }
        return file.getFileName() + ": line " + lines(java.util.Set.of(record)).get(record) + ", column "
                + header.describe(column) + ": a value is required (the column is NOT NULL in " + p.target() + ")";
    }

    /** The physical line each data record (1 = first after the header) starts on. */
    private Map<Long, Long> lines(java.util.Set<Long> records) throws IOException {
        TreeSet<Long> wanted = new TreeSet<>(records);
        Map<Long, Long> out = new HashMap<>();
        try (CsvReader r = new CsvReader(Files.newInputStream(file), p.format())) {
            if (p.format().header()) {
                r.next();
            }
            long n = 0;
            CsvReader.Record rec;
            while (!wanted.isEmpty() && (rec = r.next()) != null) {
                n++;
                if (wanted.remove(n)) {
                    out.put(n, rec.line());
                }
            }
        }
        return out;
    }
}
