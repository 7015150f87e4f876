package dev.nightshift.jobs;

import dev.nightshift.config.Identifiers;
import dev.nightshift.config.RefreshParams;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * {@code type: refresh-materialized-view}: REFRESH, concurrently when the view allows it (populated,
 * with a unique index on plain columns and no WHERE), so that readers are not blocked. Runs in the
 * run's transaction: the refresh and the run's success commit together. Stateless; thread-safe.
 */
final class RefreshView {

    /** Does the work of one attempt (see {@link JobType#execute}). */
    Map<String, Long> execute(Attempt attempt, RefreshParams p) throws Exception {
        Connection c = attempt.connection();
        boolean concurrently = concurrently(p, state(c, p.view()));
        SourceChanges sources = p.skipIfUnchanged() ? SourceChanges.ofView(attempt, p.view(), p.sourceTables()) : null;
        if (p.lockTimeout() != null) {
            Merge.exec(c, "SET LOCAL lock_timeout = " + p.lockTimeout().toMillis());
        }
        Instant start = Instant.now();
        if (sources != null && sources.unchanged()) {
            attempt.metrics().skippedUnchanged(attempt.definition().name());
            attempt.log().info(p.view() + ": no source table changed since the last success: refresh skipped");
            return Map.of("skipped", 1L);
        }
        Merge.exec(c, "REFRESH MATERIALIZED VIEW " + (concurrently ? "CONCURRENTLY " : "") + Identifiers.quote(p.view()));
        Instant end = Instant.now();
        attempt.log().info("REFRESH MATERIALIZED VIEW " + (concurrently ? "CONCURRENTLY " : "") + p.view() + ": "
                + Duration.between(start, end).toMillis() + " ms");
        if (sources != null) {
            sources.record();
        }
        attempt.metrics().refreshed(attempt.definition().name(), Duration.between(start, end), end.toEpochMilli() / 1000.0);
        Map<String, Long> counts = new java.util.LinkedHashMap<>();
        counts.put("concurrently", concurrently ? 1L : 0L);
        counts.put("duration_ms", Duration.between(start, end).toMillis());
        if (sources != null) {
            counts.put("skipped", 0L);
        }
        return counts;
    }

    /** Whether the view is populated and has a unique index that REFRESH ... CONCURRENTLY accepts. */
    private record ViewState(boolean populated, boolean uniqueIndex) {
    }

    private static ViewState state(Connection c, String view) throws SQLException, JobFailedException {
        String sql = """
                SELECT m.relispopulated,
                       EXISTS (SELECT 1 FROM pg_index i
                               WHERE i.indrelid = m.oid AND i.indisunique AND i.indisvalid
                                 AND i.indpred IS NULL AND i.indexprs IS NULL)
                FROM pg_class m
                WHERE m.oid = to_regclass(?) AND m.relkind = 'm'
                """;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, Identifiers.quote(view));   // to_regclass
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    // Retried with backoff, not dead at once: another job (a schema job) may create it.
                    throw new SQLException(view + " does not exist or is not a materialized view", "42P01");
                }
                return new ViewState(rs.getBoolean(1), rs.getBoolean(2));
            }
        }
    }

    private static boolean concurrently(RefreshParams p, ViewState s) throws JobFailedException {
        return switch (p.concurrently()) {
            case NEVER -> false;
            case AUTO -> s.populated() && s.uniqueIndex();
            case ALWAYS -> {
                if (!s.uniqueIndex()) {
                    throw new JobFailedException("concurrently: always, but materialized view " + p.view()
                            + " has no unique index on plain columns without a WHERE clause, which REFRESH MATERIALIZED VIEW"
                            + " CONCURRENTLY requires; create one, or use concurrently: auto or never");
                }
                if (!s.populated()) {
                    throw new JobFailedException("concurrently: always, but materialized view " + p.view()
                            + " has never been populated, and a first refresh cannot be concurrent; use concurrently: auto");
                }
                yield true;
            }
        };
    }
}
