package dev.nightshift.jobs;

import dev.nightshift.config.CsvFormat;
import dev.nightshift.config.Identifiers;
import dev.nightshift.config.ImportParams;
import dev.nightshift.csv.ByteOrderMark;
import dev.nightshift.csv.CsvReader;
import dev.nightshift.csv.CsvSyntax;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.postgresql.PGConnection;

/**
 * Imports one CSV file into the target, inside the caller's transaction: the rows travel with
 * COPY (streamed from the file, never held in memory), are checked, and merged. The first load
 * into an empty target is a plain COPY into the target itself; later loads COPY into a temporary
 * staging table and apply only the differences ({@link Merge}). A failure of the fast path is
 * explained precisely (file, line, column, value) or, with {@code on_bad_row: skip}, the file is
 * read again row by row ({@link RowCheck}) so that the good rows apply and the bad ones are kept.
 * One instance per file; not thread-safe.
 */
final class FileImport {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FileImport.class);
    static final String STAGE = "pg_temp.nightshift_stage";
    private static final int COPY_BUFFER = 1 << 16;

    /** The file's checksum, and its counts; {@code skipped} when the same content was already applied. */
    record Outcome(String checksum, Map<String, Long> counts, boolean skipped) {
    }

    private final Attempt attempt;
    private final Connection c;
    private final ImportParams p;
    private final TargetTable target;
    private final Path file;
    private final String name;
    private final boolean force;
    private final String ledgerPath;
    private Header header;
    private String checksum;

    /** @param force apply the file even when its content is the last one applied from its path (an aimed re-import) */
    FileImport(Attempt attempt, ImportParams p, TargetTable target, Path file, boolean force) {
        this(attempt, p, target, file, force, ImportLedger.path(file));
    }

    /** @param ledgerPath the content's name in the import ledger: a file's path, or the URL a spooled body came from */
    FileImport(Attempt attempt, ImportParams p, TargetTable target, Path file, boolean force, String ledgerPath) {
        this.force = force;
        this.ledgerPath = ledgerPath;
        this.attempt = attempt;
        this.c = attempt.connection();
        this.p = p;
        this.target = target;
        this.file = file;
        this.name = file.getFileName().toString();
    }

    Outcome apply() throws SQLException, IOException, JobFailedException {
        if (!Files.isRegularFile(file)) {
            throw new JobFailedException(file + ": file not found");
        }
        if (Files.size(file) == 0) {
            throw new JobFailedException(name + ": the file is empty (no header, no rows)");
        }
        String utf16 = ByteOrderMark.utf16Mark(file, p.format());
        if (utf16 != null) {
            throw new JobFailedException(file.getFileName() + ": the file starts with a UTF-16 byte order mark (" + utf16
                    + ") but the job declares format.encoding " + p.format().charset().name()
                    + "; PostgreSQL cannot read UTF-16: save the file as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)");
        }
        header = Header.read(file, p, target);
        attempt.log().info(name + ": reading " + String.format(java.util.Locale.ROOT, "%,d", Files.size(file)) + " bytes into "
                + p.target() + " (mode " + p.mode().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') + ")");
        if (header.ignoresFields()) {
            log.info("{}: header(s) {} not loaded: an earlier name in columns: fills the same column", name,
                    header.ignored().stream().map(h -> "'" + Excerpt.visible(h) + "'").collect(Collectors.joining(", ")));
        }
        Merge.lockTarget(c, p.target());
        Merge.exec(c, "SAVEPOINT nightshift_file");
        // A first load copies straight into the target, which has no place for a field not loaded.
        if (Merge.targetEmpty(c, p.target()) && !header.ignoresFields()) {
            Outcome o = firstLoad();
            if (o != null) {
                return o;
            }
        }
        return staged();
    }

    /** COPY straight into the empty target: the raw COPY's cost. Null when the file needs the staged path to explain it. */
    private Outcome firstLoad() throws SQLException, IOException, JobFailedException {
        long rows;
        long t0 = System.nanoTime();
        try {
            rows = copy(p.target());
            attempt.log().info(name + ": read " + rows + " rows, copied straight into the empty target in " + ms(t0) + " ms");
        } catch (CsvSyntax.Error e) {
            Merge.exec(c, "ROLLBACK TO SAVEPOINT nightshift_file");
            return badFile(name + ": " + e.getMessage());
        } catch (SQLException e) {
            if (!CopyErrors.badInput(e)) {
                throw e;
            }
            Merge.exec(c, "ROLLBACK TO SAVEPOINT nightshift_file");
            return null;
        }
        requireRows(rows);
        if (alreadyApplied()) {
            return skip();
        }
        return new Outcome(checksum, guarded(counts(rows, rows, 0, 0, 0, 0), rows, new Merge.Result(rows, 0, 0, 0), 0L), false);
    }

    private Outcome staged() throws SQLException, IOException, JobFailedException {
        Merge.exec(c, "CREATE TEMP TABLE nightshift_stage ON COMMIT DROP AS SELECT "
                + header.copyColumns().stream().map(col -> col.startsWith(Header.IGNORED) ? "NULL::text AS " + col : Identifiers.quote(col))
                .collect(Collectors.joining(", "))
                + " FROM " + Identifiers.quote(p.target()) + " WITH NO DATA");
        long rows;
        long t0 = System.nanoTime();
        try {
            rows = copy(STAGE);
            attempt.log().info(name + ": read " + rows + " rows, staged in " + ms(t0) + " ms");
        } catch (CsvSyntax.Error e) {
            return badFile(name + ": " + e.getMessage());
        } catch (SQLException e) {
            if (!CopyErrors.badInput(e)) {
                throw e;
            }
            return badFile(CopyErrors.describe(name, e, header));
        }
        requireRows(rows);
        if (alreadyApplied()) {
            return skip();
        }
        Merge.exec(c, "SAVEPOINT nightshift_staged");
        try {
            Merge.requireUniqueKeys(c, STAGE, p.key());
            Merge.Spec spec = spec(true);
            long m0 = System.nanoTime();
            Merge.Result r = Merge.apply(c, STAGE, spec, rows);
            merged(r, m0);
            return new Outcome(checksum, guarded(counts(rows, r.inserted(), r.updated(), r.unchanged(), r.deleted(), 0), rows, r,
                    targetBefore(spec, rows, r)), false);
        } catch (SQLException e) {
            if (CopyErrors.CHECK.equals(e.getSQLState())) {
                // The constraint names the rule but not the row; another attempt would break it again.
                return badFile(name + ": a row breaks a CHECK constraint of " + p.target() + ": " + e.getMessage());
            }
            if (!CopyErrors.UNIQUE.equals(e.getSQLState()) && !CopyErrors.NOT_NULL.equals(e.getSQLState())) {
                throw e;
            }
            Merge.exec(c, "ROLLBACK TO SAVEPOINT nightshift_staged");
            Diagnosis d = new Diagnosis(c, file, p, header);
            return badFile(CopyErrors.UNIQUE.equals(e.getSQLState()) ? d.duplicates() : d.nullIn(e));
        }
    }

    /** Fails the run, or with on_bad_row: skip, starts over row by row. */
    private Outcome badFile(String problem) throws SQLException, IOException, JobFailedException {
        if (!p.skipBadRows()) {
            throw new JobFailedException(problem);
        }
        Merge.exec(c, "ROLLBACK TO SAVEPOINT nightshift_file");
        RowCheck check = new RowCheck(attempt, p, target, header, file);
        RowCheck.Checked k = check.run();
        checksum = k.checksum();
        if (alreadyApplied()) {
            return skip();
        }
        long staged = k.read() - k.rejected();
        Merge.requireUniqueKeys(c, STAGE, p.key());
        // A rejected row's key is unknown, so mirror must not delete what the file may still hold.
        Merge.Result r;
        Merge.Spec spec = spec(k.rejected() == 0);
        attempt.log().line(dev.nightshift.runlog.RunLog.Level.WARNING, name + ": " + k.rejected() + " of " + k.read()
                + " rows rejected (on_bad_row: skip; `nightshift rejects` lists them), " + staged + " staged");
        try {
            long t0 = System.nanoTime();
            r = Merge.apply(c, STAGE, spec, staged);
            merged(r, t0);
        } catch (SQLException e) {
            if (CopyErrors.CHECK.equals(e.getSQLState())) {
                throw new JobFailedException(name + ": a row breaks a CHECK constraint of " + p.target() + ": " + e.getMessage());
            }
            throw e;
        }
        return new Outcome(checksum, guarded(counts(k.read(), r.inserted(), r.updated(), r.unchanged(), r.deleted(), k.rejected()),
                k.read(), r, targetBefore(spec, staged, r)), false);
    }

    /**
     * The target's rows before this file, when the merge's counts tell it: a mirror merge saw every
     * target key (those in the file, updated or not, and those deleted). Null otherwise.
     */
    static Long targetBefore(Merge.Spec spec, long staged, Merge.Result r) {
        return spec.deleteMissing() ? staged - r.inserted() + r.deleted() : null;
    }

    /** The job's guards, checked before the file's commit; the counts, with the guards' own. */
    private Map<String, Long> guarded(Map<String, Long> counts, long read, Merge.Result r, Long targetBefore)
            throws SQLException, JobFailedException {
        counts.putAll(GuardCheck.check(attempt, p.guards(), p.target(),
                new GuardCheck.Figures("the file " + name, read, r.inserted(), r.updated(), r.deleted(), targetBefore)));
        return counts;
    }

    private boolean alreadyApplied() throws SQLException {
        return !force && ImportLedger.current(c, attempt.definition().name(), ledgerPath, checksum);
    }

    private Merge.Spec spec(boolean mayDelete) {
        return new Merge.Spec(p.target(), p.key(), header.columns(),
                mayDelete && p.mode() == ImportParams.Mode.MIRROR, p.mode() != ImportParams.Mode.INSERT_ONLY);
    }

    private void merged(Merge.Result r, long t0) {
        attempt.log().info(name + ": merged into " + p.target() + " in " + ms(t0) + " ms: inserted " + r.inserted() + ", updated "
                + r.updated() + ", unchanged " + r.unchanged() + ", deleted " + r.deleted());
    }

    private static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private Outcome skip() throws SQLException {
        attempt.log().info(name + ": same content as the last one applied from this path: skipped, nothing written");
        Merge.exec(c, "ROLLBACK TO SAVEPOINT nightshift_file");
        return new Outcome(checksum, Map.of(), true);
    }

    private void requireRows(long rows) throws JobFailedException {
        if (rows == 0) {
            throw new JobFailedException(name + ": the file has a header but no rows");
        }
    }

    /**
     * Streams the file into {@code table} with COPY, hashing the bytes and checking their quoting on
     * the way. A {@link CsvSyntax.Error} cancels the COPY, which leaves the transaction aborted.
     */
    private long copy(String table) throws SQLException, IOException {
        MessageDigest sha = sha256();
        try (InputStream in = new CsvSyntax(ByteOrderMark.skipUtf8(new DigestInputStream(Files.newInputStream(file), sha), p.format()),
                p.format())) {
            long rows = c.unwrap(PGConnection.class).getCopyAPI().copyIn(copySql(table), in, COPY_BUFFER);
            checksum = HexFormat.of().formatHex(sha.digest());
            return rows;
        }
    }

    private String copySql(String table) {
        CsvFormat f = p.format();
        return "COPY " + Identifiers.quote(table) + " ("
                + header.copyColumns().stream().map(Identifiers::quote).collect(Collectors.joining(", "))
                + ") FROM STDIN WITH (FORMAT csv, HEADER " + f.header() + ", DELIMITER " + literal(String.valueOf(f.delimiter()))
                + ", QUOTE " + literal(String.valueOf(f.quote())) + ", NULL " + literal(f.nullString())
                + ", ENCODING " + literal(f.postgresEncoding()) + ")";
    }

    /**
     * A string literal for statements that take no parameters (COPY options, CREATE TABLE AS). An
     * escape string when it holds a backslash, so that it reads the same whatever the session's
     * standard_conforming_strings.
     */
    static String literal(String s) {
        if (s.indexOf('\\') < 0) {
            return "'" + s.replace("'", "''") + "'";
        }
        return "E'" + s.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Long> counts(long read, long inserted, long updated, long unchanged, long deleted, long rejected) {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("read", read);
        m.put("inserted", inserted);
        m.put("updated", updated);
        m.put("unchanged", unchanged);
        m.put("deleted", deleted);
        m.put("rejected", rejected);
        return m;
    }

    /**
     * The file's fields → target columns, from its header line (or from {@code columns:} without one).
     *
     * @param columns     the target columns loaded, in file order
     * @param copyColumns one name per field of the file, in file order: the column, or a placeholder
     *                    {@code nightshift_ignored_N} for a field not loaded (an alternative header name
     *                    that lost to an earlier one)
     * @param headerOf    column → the header name it was loaded from
     * @param ignored     the header names of the fields not loaded
     */
    record Header(List<String> columns, List<String> copyColumns, Map<String, String> headerOf, List<String> ignored) {
        static final String IGNORED = "nightshift_ignored_";

        static Header read(Path file, ImportParams p, TargetTable target) throws IOException, JobFailedException {
            String name = file.getFileName().toString();
            if (!p.format().header()) {
                List<String> cols = List.copyOf(p.columns().values());
                target.requireColumns(cols, "columns");
                Map<String, String> of = new LinkedHashMap<>();
                p.columns().forEach((h, col) -> of.put(col, h));
                return new Header(cols, cols, of, List.of());
            }
            CsvReader.Record first;
            try (CsvReader r = new CsvReader(Files.newInputStream(file), p.format())) {
                first = r.next();
            }
            if (first == null || first.fields() == null) {
                throw new JobFailedException(name + ": line 1: the header cannot be read"
                        + (first == null ? "" : " (" + first.problem() + ")"));
            }
            return map(name, first.fields(), p, target);
        }

        /**
         * Each header names its column through {@code columns:} (or is the column's name without it).
         * Several headers may name one column (a column renamed between two releases of a file): the
         * first of them in {@code columns:} that the file has is loaded, the others are not.
         */
        private static Header map(String name, List<String> headers, ImportParams p, TargetTable target) throws JobFailedException {
            Map<String, String> winner = new HashMap<>();
            p.columns().forEach((h, col) -> {
                if (headers.contains(h)) {
                    winner.putIfAbsent(col, h);
                }
            });
            List<String> cols = new ArrayList<>();
            List<String> copy = new ArrayList<>();
            Map<String, String> of = new LinkedHashMap<>();
            List<String> unknown = new ArrayList<>();
            List<String> ignored = new ArrayList<>();
            for (int i = 0; i < headers.size(); i++) {
                String h = headers.get(i);
                String col = p.columns().isEmpty() ? (Identifiers.checkName(h) == null ? h : null) : p.columns().get(h);
                if (col != null && !p.columns().isEmpty() && !h.equals(winner.get(col))) {
                    copy.add(IGNORED + (i + 1));
                    ignored.add(h);
                } else if (col == null || cols.contains(col)) {
                    unknown.add(h == null ? "(empty)" : "'" + Excerpt.visible(h) + "'");
                } else {
                    cols.add(col);
                    copy.add(col);
                    of.put(col, h);
                }
            }
            List<String> missing = new ArrayList<>();
            (p.columns().isEmpty() ? p.key() : new LinkedHashSet<>(p.columns().values())).forEach(col -> {
                if (!cols.contains(col)) {
                    missing.add(p.columns().isEmpty() ? "'" + col + "'" : headersFor(p, col));
                }
            });
            if (!unknown.isEmpty() || !missing.isEmpty()) {
                throw new JobFailedException(Excerpt.message(name + ": line 1: the header does not match the job's columns:"
                        + (missing.isEmpty() ? "" : " missing " + String.join(", ", missing) + ";")
                        + (unknown.isEmpty() ? "" : " unknown " + String.join(", ", unknown) + ";")
                        + " expected " + (p.columns().isEmpty() ? "column names of " + p.target()
                        : p.columns().keySet().stream().map(Excerpt::visible).collect(Collectors.joining(", ")))
                        + " (invisible characters are shown escaped, e.g. \\uFEFF, \\u00A0, \\t)"));
            }
            target.requireColumns(cols, "columns");
            return new Header(List.copyOf(cols), List.copyOf(copy), of, List.copyOf(ignored));
        }

        /** "'ArtistBio' or 'DisplayDate'": the header names that can fill this column. */
        private static String headersFor(ImportParams p, String col) {
            return p.columns().entrySet().stream().filter(e -> e.getValue().equals(col))
                    .map(e -> "'" + Excerpt.visible(e.getKey()) + "'").collect(Collectors.joining(" or "));
        }

        /** Whether some field of the file is not loaded. */
        boolean ignoresFields() {
            return copyColumns.size() != columns.size();
        }

        /** A record's fields without those not loaded (a record with another field count is returned as it is). */
        List<String> loaded(List<String> fields) {
            if (!ignoresFields() || fields.size() != copyColumns.size()) {
                return fields;
            }
            List<String> out = new ArrayList<>(columns.size());
            for (int i = 0; i < fields.size(); i++) {
                if (!copyColumns.get(i).startsWith(IGNORED)) {
                    out.add(fields.get(i));
                }
            }
            return out;
        }

        /** "BeginDate (begin_year)" when the header differs from the column, else the column. */
        String describe(String column) {
            String h = headerOf.get(column);
            return h == null || h.equals(column) ? column : Excerpt.visible(h) + " (" + column + ")";
        }
    }
}
