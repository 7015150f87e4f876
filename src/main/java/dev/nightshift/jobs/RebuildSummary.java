package dev.nightshift.jobs;

import dev.nightshift.config.Identifiers;
import dev.nightshift.config.SummaryParams;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code type: rebuild-summary}: keeps a query's result in a table. The query runs into a
 * temporary staging table first, then {@code merge} writes only the differences (the same
 * {@link Merge} as batch-import), {@code replace} deletes and inserts, and {@code swap} fills a new
 * table and renames it into place under a short lock_timeout. All three commit with the run, so
 * readers see the old rows until then, never an empty or half-written table. Stateless; thread-safe.
 */
final class RebuildSummary {

    /** Does the work of one attempt (see {@link JobType#execute}). */
    Map<String, Long> execute(Attempt attempt, SummaryParams p) throws Exception {
        Connection c = attempt.connection();
        // First: installing change tracking commits a step of its own.
        SourceChanges sources = p.skipIfUnchanged() ? SourceChanges.ofQuery(attempt, query(p), p.sourceTables()) : null;
        Merge.exec(c, "SET LOCAL work_mem = '128MB'");
        TargetTable target = TargetTable.read(c, p.target());
        if (p.strategy() == SummaryParams.Strategy.MERGE) {
            target.requireUniqueKey(c, p.key());
        } else {
            target.requireColumns(p.key(), "key column(s)");
        }
        if (sources != null && sources.unchanged()) {
            attempt.metrics().skippedUnchanged(attempt.definition().name());
            attempt.log().info(p.target() + ": no source table changed since the last success: rebuild skipped");
            Map<String, Long> skipped = FileImport.counts(0, 0, 0, 0, 0, 0);
            skipped.put("skipped", 1L);
            return skipped;
        }
        long t0 = System.nanoTime();
        Merge.exec(c, "CREATE TEMP TABLE nightshift_stage ON COMMIT DROP AS " + query(p));
        List<String> columns = stagedColumns(c, target);
        long rows = countStaged(c);
        attempt.log().info("query: " + rows + " rows staged in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        long t1 = System.nanoTime();
        Merge.lockTarget(c, p.target());
        try {
            Merge.requireUniqueKeys(c, FileImport.STAGE, p.key());
        } catch (SQLException e) {
            if (CopyErrors.UNIQUE.equals(e.getSQLState())) {
                throw new JobFailedException("the query returns a key (" + String.join(", ", p.key()) + ") more than once: "
                        + e.getMessage());
            }
            throw e;
        }
        Merge.Result r = switch (p.strategy()) {
            case MERGE -> Merge.apply(c, FileImport.STAGE, new Merge.Spec(p.target(), p.key(), columns, true, true), rows);
            case REPLACE -> replace(c, p, columns, rows);
            case SWAP -> new Swap(c, p.target(), p.lockTimeout()).apply(columns, rows);
        };
        attempt.log().info(p.target() + ": " + p.strategy().name().toLowerCase(java.util.Locale.ROOT) + " in "
                + (System.nanoTime() - t1) / 1_000_000 + " ms: inserted " + r.inserted() + ", updated " + r.updated() + ", unchanged "
                + r.unchanged() + ", deleted " + r.deleted());
        Map<String, Long> counts = FileImport.counts(rows, r.inserted(), r.updated(), r.unchanged(), r.deleted(), 0);
        // merge deletes what the query no longer gives, so its counts tell the target's size; replace and swap have no such guard
        Long before = p.strategy() == SummaryParams.Strategy.MERGE ? rows - r.inserted() + r.deleted() : null;
        counts.putAll(GuardCheck.check(attempt, p.guards(), p.target(),
                new GuardCheck.Figures("the query", rows, r.inserted(), r.updated(), r.deleted(), before)));
        if (sources != null) {
            sources.record();
            counts.put("skipped", 0L);
        }
        return counts;
    }

    private static String query(SummaryParams p) throws java.io.IOException {
        String q = p.query() != null ? p.query() : Files.readString(p.queryFile(), StandardCharsets.UTF_8);
        return q.strip().replaceAll(";\\s*$", "");
    }

    /** The query's column names, which must be plain identifiers naming columns of the target. */
    private static List<String> stagedColumns(Connection c, TargetTable target) throws SQLException, JobFailedException {
        String sql = "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped ORDER BY attnum";
        List<String> cols = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, FileImport.STAGE);   // to_regclass
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String col = rs.getString(1);
                    if (Identifiers.checkName(col) != null) {
                        throw new JobFailedException("the query's column \"" + col + "\" is not a plain lower-case name; alias it");
                    }
                    cols.add(col);
                }
            }
        }
        target.requireColumns(cols, "the query's column(s)");
        return cols;
    }

    private static long countStaged(Connection c) throws SQLException {
        try (var st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + FileImport.STAGE)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Delete + insert in this transaction: readers keep seeing the old rows until the commit. */
    private static Merge.Result replace(Connection c, SummaryParams p, List<String> columns, long rows) throws SQLException {
        String t = Identifiers.quote(p.target());
        String cols = columns.stream().map(Identifiers::quote).collect(Collectors.joining(", "));
        long deleted = Merge.exec(c, "DELETE FROM " + t);
        long inserted = Merge.exec(c, "INSERT INTO " + t + " (" + cols + ") SELECT " + cols + " FROM " + FileImport.STAGE);
        return new Merge.Result(inserted, 0, rows - inserted, deleted);
    }
}
