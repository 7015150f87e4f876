package dev.nightshift.jobs;

import dev.nightshift.config.RemoteSource;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.net.URI;
import dev.nightshift.config.Durations;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/**
 * One conditional GET of a remote source with the JDK's HttpClient: the validators of the content
 * last applied go out as If-None-Match / If-Modified-Since, and a 304 ends it without a byte of
 * body. Otherwise the body streams, un-gzipped (Content-Encoding or a {@code .gz} name) and hashed
 * on the way, into a spool file, never whole in memory, under a size cap and a stall timeout.
 * Redirects are followed by hand, each hop checked against allowed_sources, and the credentials
 * go only to the source's own host. TLS is the JDK's, verified. Stateless apart from its shared
 * clients and watchdog; thread-safe.
 */
final class RemoteFetch {
    /** The validators of the content last applied from a URL; either may be null. */
    record Validators(String etag, String lastModified) {
        static final Validators NONE = new Validators(null, null);
    }

    /** What a fetch brought: nothing (not modified), or a spooled body with its checksum and validators. */
    sealed interface Result permits NotModified, Downloaded {
    }

    record NotModified(URI url) implements Result {
    }

    record Downloaded(URI url, Path file, String checksum, long bytes, Validators validators) implements Result {
    }

    /** A failure another attempt may not repeat (a server error, a timeout): the run is retried with backoff. */
    static final class TransientException extends IOException {
        TransientException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final Map<Duration, HttpClient> CLIENTS = new ConcurrentHashMap<>();
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "nightshift-fetch-watchdog");
        t.setDaemon(true);
        return t;
    });

    /** What the download loop calls between reads: the session's keep-alive and the cancel check. */
    interface Progress {
        void tick() throws Exception;
    }

    private final RemoteSource rules;
    private final URI source;
    private final URI origin;
    private final String credentials;

    /**
     * @param source      the job's source URL (expanded), whose directory the rules allow, or null
     *                    (a job of files whose run names a URL: only allowed_sources then)
     * @param origin      the URL whose host alone is sent the credentials
     * @param credentials the Authorization value, or null
     */
    RemoteFetch(RemoteSource rules, URI source, URI origin, String credentials) {
        this.rules = rules;
        this.source = source;
        this.origin = origin;
        this.credentials = credentials;
    }

    /** GETs {@code url} (after its redirects), into {@code spool} unless not modified. */
    Result fetch(URI url, Validators v, Path spool, Progress progress) throws Exception {
        URI current = url;
        for (int hop = 0; ; hop++) {
            String refusal = rules.refusal(source, current);
            if (refusal != null) {
                throw new JobFailedException((hop == 0 ? "source " : "redirect to ") + refusal + ": refused, nothing fetched");
            }
            HttpResponse<InputStream> r = send(current, v);
            int status = r.statusCode();
            if (status == 304) {
                r.body().close();
                return new NotModified(current);
            }
            if (status >= 300 && status < 400 && status != 304) {
                r.body().close();
                String location = r.headers().firstValue("Location").orElse(null);
                if (location == null) {
                    throw new JobFailedException("HTTP " + status + " from " + RemoteSource.redact(current) + " without a Location");
                }
                if (hop >= rules.maxRedirects()) {
                    throw new JobFailedException(RemoteSource.redact(url) + ": more than " + rules.maxRedirects()
                            + " redirects (max_redirects): refused");
                }
                current = current.resolve(location.strip());
                continue;
            }
            if (status != 200) {
                r.body().close();
                String what = "HTTP " + status + " from " + RemoteSource.redact(current);
                if (status >= 500 || status == 408 || status == 429) {
                    throw new TransientException(what + "; the run is retried with backoff", null);
                }
                throw new JobFailedException(what);
            }
            return download(current, r, spool, progress);
        }
    }

    private HttpResponse<InputStream> send(URI u, Validators v) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(u).GET().timeout(rules.readTimeout())
                .header("Accept-Encoding", "gzip").header("User-Agent", "nightshift");
        if (v.etag() != null) {
            b.header("If-None-Match", v.etag());
        }
        if (v.lastModified() != null) {
            b.header("If-Modified-Since", v.lastModified());
        }
        if (credentials != null && sameOrigin(u, origin)) {
            b.header("Authorization", credentials);   // never to another host a redirect leads to
        }
        try {
            return client(rules.connectTimeout()).send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpConnectTimeoutException e) {
            throw new TransientException(RemoteSource.redact(u) + ": no connection within connect_timeout ("
                    + Durations.format(rules.connectTimeout()) + "); the run is retried with backoff", e);
        } catch (HttpTimeoutException e) {
            throw new TransientException(RemoteSource.redact(u) + ": no answer within read_timeout ("
                    + Durations.format(rules.readTimeout()) + "); the run is retried with backoff", e);
        } catch (IOException e) {
            throw new TransientException(RemoteSource.redact(u) + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + "; the run is retried with backoff", e);
        }
    }

    private Downloaded download(URI u, HttpResponse<InputStream> r, Path spool, Progress progress) throws Exception {
        long declared = r.headers().firstValueAsLong("Content-Length").orElse(-1);
        if (declared > rules.maxBytes()) {
            r.body().close();
            throw new JobFailedException(RemoteSource.redact(u) + ": " + declared + " bytes, more than max_size ("
                    + rules.maxBytes() + " bytes): refused, nothing read");
        }
        Watched body = new Watched(r.body());
        ScheduledFuture<?> watch = WATCHDOG.scheduleAtFixedRate(() -> body.closeIfStalled(rules.readTimeout()),
                200, 200, TimeUnit.MILLISECONDS);
        MessageDigest sha = FileImport.sha256();
        long total = 0;
        try (InputStream in = new DigestInputStream(decoded(r, u, body), sha); OutputStream out = Files.newOutputStream(spool)) {
            byte[] buffer = new byte[1 << 16];
            long lastTick = System.nanoTime();
            int n;
            while ((n = in.read(buffer)) > 0) {
                total += n;
                if (total > rules.maxBytes()) {
                    throw new JobFailedException(RemoteSource.redact(u) + ": more than max_size (" + rules.maxBytes()
                            + " bytes) of content: refused, nothing applied");
                }
                out.write(buffer, 0, n);
                if (System.nanoTime() - lastTick > TimeUnit.SECONDS.toNanos(1)) {
                    progress.tick();
                    lastTick = System.nanoTime();
                }
            }
        } catch (IOException e) {
            if (body.stalled) {
                throw new TransientException(RemoteSource.redact(u) + ": no data for " + Durations.format(rules.readTimeout())
                        + " (read_timeout) after " + total + " bytes; the run is retried with backoff", e);
            }
            if (e instanceof java.util.zip.ZipException) {
                throw new JobFailedException(RemoteSource.redact(u) + ": the body is not valid gzip: " + e.getMessage());
            }
            throw new TransientException(RemoteSource.redact(u) + ": download broke after " + total + " bytes: " + e.getMessage()
                    + "; the run is retried with backoff", e);
        } finally {
            watch.cancel(false);
        }
        Validators got = new Validators(r.headers().firstValue("ETag").orElse(null),
                r.headers().firstValue("Last-Modified").orElse(null));
        return new Downloaded(u, spool, HexFormat.of().formatHex(sha.digest()), total, got);
    }

    /** The body un-gzipped as its Content-Encoding says, then again if the name ends in .gz and the bytes are gzip. */
    private static InputStream decoded(HttpResponse<?> r, URI u, InputStream body) throws IOException, JobFailedException {
        String encoding = r.headers().firstValue("Content-Encoding").orElse("identity").strip().toLowerCase(Locale.ROOT);
        if (!encoding.equals("gzip") && !encoding.equals("x-gzip") && !encoding.equals("identity")) {
            throw new JobFailedException(RemoteSource.redact(u) + ": Content-Encoding " + encoding + " is not supported (gzip or none)");
        }
        InputStream in = encoding.equals("identity") ? body : new GZIPInputStream(body, 1 << 16);
        if (u.getPath() != null && u.getPath().toLowerCase(Locale.ROOT).endsWith(".gz")) {
            PushbackInputStream p = new PushbackInputStream(in, 2);
            byte[] magic = p.readNBytes(2);
            p.unread(magic);
            return magic.length == 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b ? new GZIPInputStream(p, 1 << 16) : p;
        }
        return in;
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost())
                && RemoteSource.portOf(a) == RemoteSource.portOf(b);
    }

    private static HttpClient client(Duration connectTimeout) {
        return CLIENTS.computeIfAbsent(connectTimeout, t -> HttpClient.newBuilder().connectTimeout(t)
                .followRedirects(HttpClient.Redirect.NEVER).build());
    }

    /** A body whose reads are timed: the watchdog closes it when no byte came for the read timeout. */
    private static final class Watched extends FilterInputStream {
        private volatile long lastRead = System.nanoTime();
        volatile boolean stalled;

        Watched(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            lastRead = System.nanoTime();
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            lastRead = System.nanoTime();
            return n;
        }

        void closeIfStalled(Duration timeout) {
            if (!stalled && System.nanoTime() - lastRead > timeout.toNanos()) {
                stalled = true;
                try {
                    close();   // the blocked read fails at once
                } catch (IOException e) {
                    // closing a stalled connection: nothing to add to the stall reported by the reader
                }
            }
        }
    }
}
