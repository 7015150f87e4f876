package dev.nightshift.config;

import java.time.Duration;
import java.util.List;

/**
 * Params of {@code type: refresh-materialized-view}. Whether {@code always} is possible (the view
 * needs a unique index) can only be known from the database, so it is checked when the job runs.
 *
 * @param lockTimeout     null: wait for locks as long as the job's timeout allows
 * @param skipIfUnchanged succeed at once when no source table changed since the last success
 * @param sourceTables    the view's source tables as the job lists them; empty: found in the catalog
 */
public record RefreshParams(String view, Concurrently concurrently, Duration lockTimeout, boolean skipIfUnchanged,
                            List<String> sourceTables) implements JobParams {

    @Override
    public JobKind kind() {
        return JobKind.REFRESH_MATERIALIZED_VIEW;
    }

    @Override
    public <R, X extends Exception> R match(Cases<R, X> cases) throws X {
        return cases.refreshView(this);
    }

    /** auto: concurrently when the view is populated and has a usable unique index. */
    public enum Concurrently { AUTO, ALWAYS, NEVER }

    public RefreshParams {
        if (view == null || concurrently == null) {
            throw new IllegalArgumentException("view and concurrently are required");
        }
        sourceTables = sourceTables == null ? List.of() : List.copyOf(sourceTables);
    }

    static RefreshParams read(ParamsReader r) {
        String view = r.qualifiedName("view", true);
        String c = r.choice("concurrently", List.of("auto", "always", "never"), "auto");
        Duration lockTimeout = r.duration("lock_timeout", null);
        boolean skip = r.bool("skip_if_unchanged", false);
        List<String> sources = SummaryParams.sourceTables(r, skip);
        r.rejectUnknown();
        if (view == null) {
            return null;
        }
        return new RefreshParams(view, Concurrently.valueOf(c.toUpperCase(java.util.Locale.ROOT)), lockTimeout, skip, sources);
    }
}
