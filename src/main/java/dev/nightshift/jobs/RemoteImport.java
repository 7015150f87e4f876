package dev.nightshift.jobs;

import dev.nightshift.config.ImportParams;
import dev.nightshift.config.RemoteSource;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A batch-import from a URL: a conditional GET with the validators of the content last applied
 * from it (a 304 ends the run as skipped, nothing downloaded), the body spooled to a private
 * temporary file while it is hashed, then applied as a file is ({@link FileImport}), recorded in
 * the ledger under the URL with its new ETag and Last-Modified, in the run's transaction.
 *
 * <p>Why a spool file rather than COPY straight from the socket: the target's merge lock is then
 * taken only once the whole body is here, so a slow partner server never holds the target; and a
 * bad row is explained (file, line, column) or skipped ({@code on_bad_row: skip}) by reading the
 * content again, which a network stream cannot give without a second download that may differ.
 * While the body downloads, the run's session answers a statement every second, so that
 * PostgreSQL does not take an open transaction gone silent for a stalled node. Stateless.
 */
final class RemoteImport {
    private static final Logger log = LoggerFactory.getLogger(RemoteImport.class);

    private RemoteImport() {
    }

    /**
     * @param urlText the URL, its period placeholders expanded
     * @param aimed   the run names this URL itself: fetched unconditionally and applied even when its
     *                content is the last applied from it (the operator asked for it)
     */
    static void run(Attempt attempt, ImportParams p, String urlText, boolean aimed, Map<String, Long> totals) throws Exception {
        Connection c = attempt.connection();
        String job = attempt.definition().name();
        URI url;
        try {
            url = RemoteSource.url(urlText);
        } catch (IllegalArgumentException e) {
            throw new JobFailedException("source: " + e.getMessage());
        }
        RemoteSource rules = p.remote();
        URI source = rules.url() == null ? null : RemoteSource.url(LogicalTimes.expand(c, rules.url()));
        String key = url.toString();
        RemoteFetch.Validators v = aimed ? RemoteFetch.Validators.NONE : ImportLedger.validators(c, job, key);
        Path dir = Files.createTempDirectory("nightshift-remote-");
        try {
            Path spool = dir.resolve(fileName(url));
            RemoteFetch.Result r = new RemoteFetch(rules, source, source == null ? url : source, credentials(rules))
                    .fetch(url, v, spool, () -> keepAlive(attempt));
            if (r instanceof RemoteFetch.NotModified) {
                log.info("import {}: {} not modified since the content last applied (HTTP 304): skipped, nothing downloaded",
                        job, RemoteSource.redact(url));
                totals.merge("skipped", 1L, Long::sum);
                return;
            }
            RemoteFetch.Downloaded d = (RemoteFetch.Downloaded) r;
            log.info("import {}: {} downloaded, {} bytes (sha256 {})", job, RemoteSource.redact(d.url()), d.bytes(),
                    d.checksum().substring(0, 12));
            BatchImport.prepareSession(c);
            TargetTable target = TargetTable.read(c, p.target());
            target.requireUniqueKey(c, p.key());
            FileImport.Outcome o = new FileImport(attempt, p, target, spool, aimed, key).apply();
            if (o.skipped()) {
                log.info("import {}: {} skipped, its content is the last one applied from this URL", job, RemoteSource.redact(url));
                totals.merge("skipped_files", 1L, Long::sum);
                return;
            }
            ImportLedger.record(c, attempt, p.target(), spool.getFileName().toString(), key, o.checksum(), o.counts(), d.validators());
            o.counts().forEach((k, n) -> totals.merge(k, n, Long::sum));
            totals.merge("files", 1L, Long::sum);
            log.info("import {}: {} applied to {}: {}", job, RemoteSource.redact(url), p.target(), o.counts());
        } finally {
            delete(dir);
        }
    }

    /** The Authorization value from the environment variable credentials_env names; never logged. */
    private static String credentials(RemoteSource rules) throws JobFailedException {
        if (rules.credentialsEnv() == null) {
            return null;
        }
        String v = System.getenv(rules.credentialsEnv());
        if (v == null || v.isBlank()) {
            throw new JobFailedException("credentials_env: the environment variable " + rules.credentialsEnv()
                    + " is not set on this node");
        }
        return v.strip();
    }

    /** One statement a second while the body downloads (the attempt's transaction must not sit idle), and the cancel check. */
    private static void keepAlive(Attempt attempt) throws SQLException {
        if (attempt.stopRequested()) {
            throw new SQLException("import stopped while downloading (cancel or shutdown)");
        }
        Merge.exec(attempt.connection(), "SELECT 1");
    }

    /** The URL's last path segment, without .gz, as a safe file name (it names the content in messages and the ledger). */
    static String fileName(URI url) {
        String path = url.getPath() == null ? "" : url.getPath();
        String last = path.substring(path.lastIndexOf('/') + 1);
        if (last.toLowerCase(Locale.ROOT).endsWith(".gz")) {
            last = last.substring(0, last.length() - 3);
        }
        last = last.replaceAll("[^A-Za-z0-9._-]", "_");
        return last.isEmpty() || last.startsWith(".") ? "remote.csv" : last;
    }

    private static void delete(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            log.warn("cannot delete the spool directory {}: {}", dir, e.getMessage());
        }
    }
}
