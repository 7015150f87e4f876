package dev.nightshift.jobs;

import dev.nightshift.config.ImportParams;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.config.JobParams;
import dev.nightshift.config.RefreshParams;
import dev.nightshift.config.SqlParams;
import dev.nightshift.config.SummaryParams;
import java.util.Map;

/**
 * Every job type this version ships, behind one {@link JobType}: a run's definition's params say
 * which type does its work, and each type gets its own params, typed. Stateless; thread-safe.
 */
public final class JobTypes implements JobType {
    private static final JobTypes STANDARD = new JobTypes();

    private final SqlJob sql = new SqlJob();
    private final BatchImport batchImport = new BatchImport();
    private final RebuildSummary rebuildSummary = new RebuildSummary();
    private final RefreshView refreshView = new RefreshView();

    private JobTypes() {
    }

    /** Every job type this version ships. */
    public static JobTypes standard() {
        return STANDARD;
    }

    /** Only {@code sql} with {@code transaction: false} runs outside the run's transaction. */
    @Override
    public boolean transactional(JobDefinition definition) {
        return definition.params().match(new JobParams.Cases<Boolean, RuntimeException>() {
            @Override
            public Boolean sql(SqlParams p) {
                return p.transaction();
            }

            @Override
            public Boolean batchImport(ImportParams p) {
                return true;
            }

            @Override
            public Boolean rebuildSummary(SummaryParams p) {
                return true;
            }

            @Override
            public Boolean refreshView(RefreshParams p) {
                return true;
            }
        });
    }

    @Override
    public Map<String, Long> execute(Attempt attempt) throws Exception {
        return attempt.definition().params().match(new JobParams.Cases<Map<String, Long>, Exception>() {
            @Override
            public Map<String, Long> sql(SqlParams p) throws Exception {
                return sql.execute(attempt, p);
            }

            @Override
            public Map<String, Long> batchImport(ImportParams p) throws Exception {
                return batchImport.execute(attempt, p);
            }

            @Override
            public Map<String, Long> rebuildSummary(SummaryParams p) throws Exception {
                return rebuildSummary.execute(attempt, p);
            }

            @Override
            public Map<String, Long> refreshView(RefreshParams p) throws Exception {
                return refreshView.execute(attempt, p);
            }
        });
    }
}
