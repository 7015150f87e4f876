package dev.nightshift.jobs;

import dev.nightshift.config.ImportParams;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code type: batch-import}: each file of the source, in name order, in its own transaction
 * recorded with the file's path and checksum, so that a re-delivery of the content last applied
 * from a path is skipped, also when the run is retried after a crash between a commit and the
 * file's move; a file that reverts to an older content is applied. Stateless; thread-safe.
 */
final class BatchImport {
    private static final Logger log = LoggerFactory.getLogger(BatchImport.class);

    /** Does the work of one attempt (see {@link JobType#execute}). */
    Map<String, Long> execute(Attempt attempt, ImportParams p) throws Exception {
        String aimed = attempt.params().get(AimedSource.PARAM);
        String arrived = attempt.params().get(ArrivalWatcher.PARAM);
        if (aimed != null && dev.nightshift.config.RemoteSource.isUrl(aimed) || aimed == null && p.remoteSource()) {
            return remote(attempt, p, aimed);
        }
        Path source = Path.of(LogicalTimes.expand(attempt.connection(), p.source().toString()));
        List<Path> files = aimed != null ? List.of(aimedFile(attempt, aimed))
                : arrived != null ? arrivedFile(attempt, p, arrived)
                : p.arrival() != null ? Sources.importable(p) : Sources.files(source);
        Map<String, Long> totals = FileImport.counts(0, 0, 0, 0, 0, 0);
        totals.put("files", 0L);
        totals.put("skipped_files", 0L);
        for (int i = 0; i < files.size(); i++) {
            if (attempt.stopRequested()) {
                throw new SQLException("import stopped before " + files.get(i).getFileName() + " (cancel or shutdown)");
            }
            importFile(attempt, p, files.get(i), i == files.size() - 1, aimed != null, totals);
        }
        if (files.isEmpty()) {
            log.info("import {}: no file in {}", attempt.definition().name(), source);
        }
        return totals;
    }

    /** A URL: the job's own or the run's, which the worker checks again (the fetch checks every hop). */
    private static Map<String, Long> remote(Attempt attempt, ImportParams p, String aimed) throws Exception {
        if (aimed != null) {
            try {
                AimedSource.check(attempt.definition(), aimed);
            } catch (AimedSource.RefusedException e) {
                throw new JobFailedException(e.getMessage());
            }
        }
        Map<String, Long> totals = FileImport.counts(0, 0, 0, 0, 0, 0);
        totals.put("files", 0L);
        totals.put("skipped_files", 0L);
        totals.put("skipped", 0L);
        RemoteImport.run(attempt, p, aimed != null ? aimed : LogicalTimes.expand(attempt.connection(), p.remote().url()),
                aimed != null, totals);
        return totals;
    }

    /** The worker's own check of the run's source parameter: the authority, whatever the trigger checked. */
    private static Path aimedFile(Attempt attempt, String aimed) throws JobFailedException {
        try {
            Path file = AimedSource.check(attempt.definition(), aimed);
            log.info("import {}: run aimed at {} (applied even if it is the content last applied from that path; not moved)",
                    attempt.definition().name(), file);
            return file;
        } catch (AimedSource.RefusedException e) {
            throw new JobFailedException(e.getMessage());
        }
    }

    /**
     * The file an arrival run was enqueued for, if it is still as it was when found complete: a
     * file moved away meanwhile (by another run) or changed again (its writer resumed) is left to
     * the arrival watcher, which enqueues its new version once that is complete.
     */
    private static List<Path> arrivedFile(Attempt attempt, ImportParams p, String arrived) throws Exception {
        Path file;
        try {
            file = AimedSource.check(attempt.definition(), arrived);
        } catch (AimedSource.RefusedException e) {
            if (!java.nio.file.Files.exists(Path.of(arrived))) {
                log.info("import {}: {} has gone since it arrived (imported and moved by another run?); nothing to do",
                        attempt.definition().name(), arrived);
                return List.of();
            }
            throw new JobFailedException(e.getMessage());
        }
        var a = java.nio.file.Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
        String size = attempt.params().get(ArrivalWatcher.SIZE);
        String modified = attempt.params().get(ArrivalWatcher.MODIFIED);
        boolean same = (size == null || size.equals(Long.toString(a.size())))
                && (modified == null || modified.equals(a.lastModifiedTime().toInstant().toString()));
        if (!same || p.arrival() != null && p.arrival().marker() != null && !Sources.markerCurrent(file, p.arrival().marker())) {
            log.info("import {}: {} changed since it was found complete; its new version will be enqueued when complete",
                    attempt.definition().name(), file);
            return List.of();
        }
        return List.of(file);
    }

    /**
     * @param aimed the run names this file itself: it is applied even when its content is the last
     *              applied from its path (the operator asked for it), and it stays where it is
     */
    private void importFile(Attempt attempt, ImportParams p, Path file, boolean last, boolean aimed, Map<String, Long> totals)
            throws Exception {
        Connection c = attempt.connection();
        boolean move = p.moveAfterImport() && !aimed;
        FileImport.Outcome o;
        try {
            prepareSession(c);
            TargetTable target = TargetTable.read(c, p.target());
            target.requireUniqueKey(c, p.key());
            o = new FileImport(attempt, p, target, file, aimed).apply();
        } catch (JobFailedException e) {
            if (move && java.nio.file.Files.exists(file)) {
                Sources.move(file, "failed");
                moveMarker(p, file, "failed");
            }
            throw e;
        }
        if (o.skipped()) {
            log.info("import {}: {} skipped, its content (sha256 {}) is the last one applied from this path", attempt.definition().name(),
                    file.getFileName(), o.checksum().substring(0, 12));
            totals.merge("skipped_files", 1L, Long::sum);
        } else {
            ImportLedger.record(c, attempt, p.target(), file, o.checksum(), o.counts());
            o.counts().forEach((k, v) -> totals.merge(k, v, Long::sum));
            totals.merge("files", 1L, Long::sum);
        }
        // The last file commits with the run's completion unless it must be moved, which only a commit allows.
        if (!last || move) {
            attempt.commitStep();
        }
        if (!o.skipped()) {
            log.info("import {}: {} applied to {}: {}", attempt.definition().name(), file.getFileName(), p.target(), o.counts());
        }
        if (move) {
            Sources.move(file, "processed");
            moveMarker(p, file, "processed");
        }
    }

    private static void moveMarker(ImportParams p, Path file, String folder) throws java.io.IOException {
        if (p.arrival() != null && p.arrival().marker() != null) {
            Sources.moveMarker(file, p.arrival().marker(), folder);
        }
    }

    /**
     * Memory for the hash joins and the key check of large files (the defaults spill to disk at a few
     * MB), and room for the temporary staging tables, which only a session that has not yet used
     * temporary tables can be given.
     */
    static void prepareSession(Connection c) throws SQLException {
        Merge.exec(c, "SET LOCAL work_mem = '128MB'");
        Merge.exec(c, "SAVEPOINT nightshift_temp_buffers");
        try {
            Merge.exec(c, "SELECT set_config('temp_buffers', '256MB', false) WHERE current_setting('temp_buffers') <> '256MB'");
            Merge.exec(c, "RELEASE SAVEPOINT nightshift_temp_buffers");
        } catch (SQLException e) {
            // temp_buffers can no longer change once the session used temporary tables: the import runs with the current value
            Merge.exec(c, "ROLLBACK TO SAVEPOINT nightshift_temp_buffers");
        }
    }
}
