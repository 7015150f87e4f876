package dev.nightshift.jobs;

import dev.nightshift.config.JobKind;
import java.util.EnumMap;
import java.util.Map;

/** The job type behind each {@link JobKind}. Immutable after construction; thread-safe. */
public final class JobTypes {
    private final Map<JobKind, JobType> types = new EnumMap<>(JobKind.class);

    private JobTypes() {
    }

    /** Every job type this version ships. */
    public static JobTypes standard() {
        JobTypes t = new JobTypes();
        t.types.put(JobKind.SQL, new SqlJob());
        t.types.put(JobKind.BATCH_IMPORT, new BatchImport());
        t.types.put(JobKind.REBUILD_SUMMARY, new RebuildSummary());
        t.types.put(JobKind.REFRESH_MATERIALIZED_VIEW, new RefreshView());
        return t;
    }

    public JobType get(JobKind kind) {
        JobType t = types.get(kind);
        if (t == null) {
            throw new IllegalArgumentException("no job type for " + kind.yamlName());
        }
        return t;
    }
}
