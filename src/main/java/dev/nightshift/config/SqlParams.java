package dev.nightshift.config;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Params of {@code type: sql}: the statements inline ({@code sql}) or in a file, and whether they
 * run in one transaction (exactly-once with the run's completion) or each on its own (at-least-once,
 * for statements such as VACUUM that refuse a transaction block).
 */
public record SqlParams(String sql, Path file, boolean transaction) implements JobParams {

    @Override
    public JobKind kind() {
        return JobKind.SQL;
    }

    @Override
    public <R, X extends Exception> R match(Cases<R, X> cases) throws X {
        return cases.sql(this);
    }

    public SqlParams {
        if ((sql == null) == (file == null)) {
            throw new IllegalArgumentException("exactly one of sql and file");
        }
    }

    static SqlParams read(ParamsReader r) {
        String sql = r.string("sql");
        Path file = r.path("file");
        boolean tx = r.bool("transaction", true);
        r.rejectUnknown();
        if (sql != null && file != null) {
            r.problem("sql", "give either sql or file, not both");
            return null;
        }
        if (sql == null && file == null) {
            r.problem(null, "a sql job needs sql (statements) or file (a .sql file)");
            return null;
        }
        if (sql != null && sql.isBlank()) {
            r.problem("sql", "must not be empty");
            return null;
        }
        if (file != null && !Files.isReadable(file)) {
            r.problem("file", "file not found or not readable: " + file);
            return null;
        }
        return new SqlParams(sql, file, tx);
    }
}
