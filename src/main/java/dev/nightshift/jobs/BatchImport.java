package dev.nightshift.jobs;

import dev.nightshift.config.ImportParams;
import dev.nightshift.config.JobDefinition;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code type: batch-import}: each file of the source, in name order, in its own transaction
 * recorded with the file's checksum, so that no content is applied twice, even when the run is
 * retried after a crash between a commit and the file's move. Stateless; thread-safe.
 */
final class BatchImport implements JobType {
    private static final Logger log = LoggerFactory.getLogger(BatchImport.class);

    @Override
    public boolean transactional(JobDefinition definition) {
        return true;
    }

    @Override
    public Map<String, Long> execute(Attempt attempt) throws Exception {
        ImportParams p = (ImportParams) attempt.definition().params();
        Path source = Path.of(LogicalTimes.expand(attempt.connection(), p.source().toString()));
        List<Path> files = Sources.files(source);
        Map<String, Long> totals = FileImport.counts(0, 0, 0, 0, 0, 0);
        totals.put("files", 0L);
        totals.put("skipped_files", 0L);
        for (int i = 0; i < files.size(); i++) {
            if (attempt.stopRequested()) {
                throw new SQLException("import stopped before " + files.get(i).getFileName() + " (cancel or shutdown)");
            }
            importFile(attempt, p, files.get(i), i == files.size() - 1, totals);
        }
        if (files.isEmpty()) {
            log.info("import {}: no file in {}", attempt.definition().name(), source);
        }
        return totals;
    }

    private void importFile(Attempt attempt, ImportParams p, Path file, boolean last, Map<String, Long> totals) throws Exception {
        Connection c = attempt.connection();
        FileImport.Outcome o;
        try {
            prepareSession(c);
            TargetTable target = TargetTable.read(c, p.target());
            target.requireUniqueKey(c, p.key());
            o = new FileImport(attempt, target, file).apply();
        } catch (JobFailedException e) {
            if (p.moveAfterImport() && java.nio.file.Files.exists(file)) {
                Sources.move(file, "failed");
            }
            throw e;
        }
        if (o.skipped()) {
            log.info("import {}: {} skipped, its content (sha256 {}) was already imported", attempt.definition().name(),
                    file.getFileName(), o.checksum().substring(0, 12));
            totals.merge("skipped_files", 1L, Long::sum);
        } else {
            ImportLedger.record(c, attempt, p.target(), file.getFileName().toString(), o.checksum(), o.counts());
            o.counts().forEach((k, v) -> totals.merge(k, v, Long::sum));
            totals.merge("files", 1L, Long::sum);
        }
        // The last file commits with the run's completion unless it must be moved, which only a commit allows.
        if (!last || p.moveAfterImport()) {
            attempt.commitStep();
        }
        if (!o.skipped()) {
            log.info("import {}: {} applied to {}: {}", attempt.definition().name(), file.getFileName(), p.target(), o.counts());
        }
        if (p.moveAfterImport()) {
            Sources.move(file, "processed");
        }
    }

    /**
     * Memory for the hash joins and the key check of large files (the defaults spill to disk at a few
     * MB), and room for the temporary staging tables, which only a session that has not yet used
     * temporary tables can be given.
     */
    private static void prepareSession(Connection c) throws SQLException {
        Merge.exec(c, "SET LOCAL work_mem = '128MB'");
        Merge.exec(c, "SAVEPOINT nightshift_temp_buffers");
        try {
            Merge.exec(c, "SELECT set_config('temp_buffers', '256MB', false) WHERE current_setting('temp_buffers') <> '256MB'");
            Merge.exec(c, "RELEASE SAVEPOINT nightshift_temp_buffers");
        } catch (SQLException e) {
            Merge.exec(c, "ROLLBACK TO SAVEPOINT nightshift_temp_buffers");
        }
    }
}
