package dev.nightshift.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One validated job definition from {@code jobs/*.yaml}. Use {@link JobCatalog} to read them:
 * it reports every problem with file and line; this constructor only guards the invariants.
 *
 * @param schedule null for jobs that run only when triggered or after another job
 * @param timeout  statement_timeout of each attempt; null for none
 * @param deadline when each slot must have succeeded; null for none (only with a schedule)
 * @param afterAll {@code after: {all: [...]}}: the jobs that must all have succeeded for a period
 *                 before this job runs once for it; empty for none
 */
public record JobDefinition(
        String name,
        String description,
        JobKind kind,
        Schedule schedule,
        Duration timeout,
        int maxAttempts,
        Duration backoff,
        int concurrency,
        List<String> after,
        JobParams params,
        Path file,
        Deadline deadline,
        List<String> afterAll,
        List<NotifyTarget> notifyTargets) {

    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    public static final int DEFAULT_MAX_ATTEMPTS = 3;
    public static final Duration DEFAULT_BACKOFF = Duration.ofSeconds(30);
    /** {@code concurrency: unlimited}: no per-job limit, so claims take no slot row (stored as 0). */
    public static final int UNLIMITED = 0;

    public JobDefinition {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid job name: " + name);
        }
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(backoff, "backoff");
        Objects.requireNonNull(params, "params");
        if (maxAttempts < 1 || (concurrency < 1 && concurrency != UNLIMITED)) {
            throw new IllegalArgumentException("max_attempts and concurrency must be at least 1 (concurrency may be UNLIMITED)");
        }
        after = List.copyOf(after);
        afterAll = afterAll == null ? List.of() : List.copyOf(afterAll);
        notifyTargets = notifyTargets == null ? List.of() : List.copyOf(notifyTargets);
        if (deadline != null && schedule == null) {
            throw new IllegalArgumentException("a deadline needs a schedule");
        }
    }

    /** A definition without notify targets of its own. */
    public JobDefinition(String name, String description, JobKind kind, Schedule schedule, Duration timeout, int maxAttempts,
                         Duration backoff, int concurrency, List<String> after, JobParams params, Path file, Deadline deadline,
                         List<String> afterAll) {
        this(name, description, kind, schedule, timeout, maxAttempts, backoff, concurrency, after, params, file, deadline, afterAll,
                List.of());
    }

    /** A definition without a deadline. */
    public JobDefinition(String name, String description, JobKind kind, Schedule schedule, Duration timeout, int maxAttempts,
                         Duration backoff, int concurrency, List<String> after, JobParams params, Path file) {
        this(name, description, kind, schedule, timeout, maxAttempts, backoff, concurrency, after, params, file, null, List.of());
    }

    public String type() {
        return kind.yamlName();
    }

    /**
     * The schedule's overlap policy, or its default: {@code coalesce} for refresh-materialized-view and
     * rebuild-summary, whose run rebuilds the whole result (slots piled up behind a slow run would each
     * redo the same work, and only the last result is kept); {@code queue} for batch-import and sql,
     * whose slots may each carry work of their own (a file, a period's rows) that must not be dropped.
     * Null without a schedule.
     */
    public Schedule.Overlap overlap() {
        if (schedule == null) {
            return null;
        }
        if (schedule.overlap() != null) {
            return schedule.overlap();
        }
        return kind == JobKind.REFRESH_MATERIALIZED_VIEW || kind == JobKind.REBUILD_SUMMARY
                ? Schedule.Overlap.COALESCE : Schedule.Overlap.QUEUE;
    }
}
