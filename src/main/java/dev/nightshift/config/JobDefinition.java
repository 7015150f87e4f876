package dev.nightshift.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One validated job definition from {@code jobs/*.yaml}. Use {@link JobCatalog} to read them:
 * it reports every problem with file and line; this constructor only guards the invariants. Build
 * one in code with {@link #builder}, which names each setting and starts from the defaults.
 * The job's type is its params' type ({@link #kind()}). Immutable.
 *
 * @param schedule      null for jobs that run only when triggered or after another job
 * @param timeout       statement_timeout of each attempt; null for none
 * @param concurrency   runs at once across the cluster, or {@link #UNLIMITED}
 * @param after         the jobs whose every success runs this one ({@code after: [a, b]})
 * @param file          the YAML file it was read from (a name of its own for a definition made in code)
 * @param deadline      when each slot must have succeeded; null for none (only with a schedule)
 * @param afterAll      {@code after: {all: [...]}}: the jobs that must all have succeeded for a period
 *                      before this job runs once for it; empty for none
 * @param notifyTargets the job's own webhooks ({@code notify:}); empty for none
 */
public record JobDefinition(
        String name,
        String description,
        JobParams params,
        Schedule schedule,
        Duration timeout,
        int maxAttempts,
        Duration backoff,
        int concurrency,
        List<String> after,
        List<String> afterAll,
        Deadline deadline,
        List<NotifyTarget> notifyTargets,
        Path file) {

    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    public static final int DEFAULT_MAX_ATTEMPTS = 3;
    public static final Duration DEFAULT_BACKOFF = Duration.ofSeconds(30);
    /** {@code concurrency: unlimited}: no per-job limit, so claims take no slot row (stored as 0). */
    public static final int UNLIMITED = 0;

    public JobDefinition {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid job name: " + name);
        }
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(backoff, "backoff");
        if (maxAttempts < 1 || (concurrency < 1 && concurrency != UNLIMITED)) {
            throw new IllegalArgumentException("max_attempts and concurrency must be at least 1 (concurrency may be UNLIMITED)");
        }
        after = List.copyOf(after);
        afterAll = List.copyOf(afterAll);
        notifyTargets = List.copyOf(notifyTargets);
        if (deadline != null && schedule == null) {
            throw new IllegalArgumentException("a deadline needs a schedule");
        }
    }

    /** A definition of job {@code name} with these params and every other setting at its default (as a YAML file without it). */
    public static Builder builder(String name, JobParams params) {
        return new Builder(name, params);
    }

    /** The job type, which is the params' type. */
    public JobKind kind() {
        return params.kind();
    }

    public String type() {
        return kind().yamlName();
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
        return kind() == JobKind.REFRESH_MATERIALIZED_VIEW || kind() == JobKind.REBUILD_SUMMARY
                ? Schedule.Overlap.COALESCE : Schedule.Overlap.QUEUE;
    }

    /** Names each setting of a {@link JobDefinition}; starts from the defaults. Not thread-safe. */
    public static final class Builder {
        private final String name;
        private final JobParams params;
        private String description;
        private Schedule schedule;
        private Duration timeout;
        private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
        private Duration backoff = DEFAULT_BACKOFF;
        private int concurrency = 1;
        private List<String> after = List.of();
        private List<String> afterAll = List.of();
        private Deadline deadline;
        private List<NotifyTarget> notifyTargets = List.of();
        private Path file;

        private Builder(String name, JobParams params) {
            this.name = name;
            this.params = params;
        }

        public Builder description(String v) {
            description = v;
            return this;
        }

        public Builder schedule(Schedule v) {
            schedule = v;
            return this;
        }

        public Builder timeout(Duration v) {
            timeout = v;
            return this;
        }

        public Builder maxAttempts(int v) {
            maxAttempts = v;
            return this;
        }

        public Builder backoff(Duration v) {
            backoff = v;
            return this;
        }

        public Builder concurrency(int v) {
            concurrency = v;
            return this;
        }

        public Builder after(List<String> v) {
            after = v;
            return this;
        }

        public Builder afterAll(List<String> v) {
            afterAll = v;
            return this;
        }

        public Builder deadline(Deadline v) {
            deadline = v;
            return this;
        }

        public Builder notifyTargets(List<NotifyTarget> v) {
            notifyTargets = v;
            return this;
        }

        public Builder file(Path v) {
            file = v;
            return this;
        }

        public JobDefinition build() {
            return new JobDefinition(name, description, params, schedule, timeout, maxAttempts, backoff, concurrency, after,
                    afterAll, deadline, notifyTargets, file);
        }
    }
}
