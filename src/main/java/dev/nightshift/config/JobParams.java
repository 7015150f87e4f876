package dev.nightshift.config;

/**
 * The type-specific {@code params:} of a job definition, validated when the catalog is read; one
 * record per job type, so the type of the params is the type of the job. Immutable.
 */
public sealed interface JobParams permits SqlParams, ImportParams, SummaryParams, RefreshParams {

    /** The job type these params belong to, as named in {@code type:}. */
    JobKind kind();

    /**
     * Calls the case for this record's type. Java 17 has no switch over a sealed type; this is that
     * switch: a new job type adds a case, and every caller that does not handle it stops compiling.
     */
    <R, X extends Exception> R match(Cases<R, X> cases) throws X;

    /** One case per job type; {@code X} is what the cases may throw. */
    interface Cases<R, X extends Exception> {
        R sql(SqlParams p) throws X;

        R batchImport(ImportParams p) throws X;

        R rebuildSummary(SummaryParams p) throws X;

        R refreshView(RefreshParams p) throws X;
    }
}
