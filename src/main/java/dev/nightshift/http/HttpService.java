package dev.nightshift.http;

import com.sun.net.httpserver.HttpServer;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.Settings;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.schedule.Backfills;
import dev.nightshift.worker.Node;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's one HTTP port: /metrics, /livez, /readyz, the JSON API under /api and the dashboard
 * at /. The JDK's server is enough for an operator's traffic and adds no dependency. A few threads
 * serve requests; when they are all busy, the accepting thread serves the next one itself, which
 * slows down accepting instead of queueing without bound. Thread-safe; start once, stop once.
 */
public final class HttpService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpService.class);
    private static final int THREADS = 4;

    static {
        // The JDK server waits forever for a slow client by default; a few such clients would hold
        // every thread. Limits in seconds, read once by the server; an explicit -D wins.
        setIfAbsent("sun.net.httpserver.maxReqTime", "30");
        setIfAbsent("sun.net.httpserver.maxRspTime", "60");
    }

    private static void setIfAbsent(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    private final HttpServer server;
    private final ThreadPoolExecutor executor;

    private HttpService(HttpServer server, ThreadPoolExecutor executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Binds {@code settings.httpBind():settings.httpPort()} (port 0: any free port, see {@link #port()})
     * and starts serving.
     *
     * @param catalog          this node's jobs, against which a trigger's parameters are checked
     * @param schedulerStarted whether this node's scheduler runs, for /readyz
     */
    public static HttpService start(Settings settings, Node node, DataSource ds, Metrics metrics, JobCatalog catalog,
                                    BooleanSupplier schedulerStarted) {
        Readiness readiness = new Readiness(node, schedulerStarted);
        Auth auth = Auth.of(settings);
        Router router = new Router(auth);
        new Probes(readiness, metrics).routes(router);
        java.time.Clock clock = node.clock();
        new JobsApi(ds, catalog, clock).routes(router);
        new RunsApi(ds).routes(router);
        Backfills backfills = new Backfills(ds, clock);
        new BackfillsApi(backfills).routes(router);
        new Dashboard(ds, settings.nodeName(), backfills, clock, catalog).routes(router);
        new AuditApi(ds, settings.nodeName()).routes(router);
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(THREADS, THREADS, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(64), r -> {
                    Thread t = new Thread(r, "nightshift-http-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.CallerRunsPolicy());
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(settings.httpBind(), settings.httpPort()), 64);
        } catch (IOException e) {
            executor.shutdown();
            throw new UncheckedIOException("cannot listen on " + settings.httpBind() + ":" + settings.httpPort()
                    + " (NIGHTSHIFT_HTTP_BIND, NIGHTSHIFT_HTTP_PORT): " + e.getMessage(), e);
        }
        server.createContext("/", router);
        server.setExecutor(executor);
        server.start();
        log.info("HTTP on {}:{} (/, /api, /metrics, /livez, /readyz){}", settings.httpBind(), server.getAddress().getPort(),
                (auth.actorsConfigured() ? "" : "; no NIGHTSHIFT_ADMIN_TOKEN, NIGHTSHIFT_TOKENS_FILE or NIGHTSHIFT_TRUSTED_PROXIES:"
                        + " state-changing requests are refused")
                        + (auth.readsClosed() ? "" : "; no NIGHTSHIFT_READ_TOKEN or NIGHTSHIFT_TOKENS_FILE: the dashboard and API reads are open"));
        return new HttpService(server, executor);
    }

    /** The bound port, also when 0 was asked for. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** Stops accepting, gives requests in progress a second to finish, then stops the threads. */
    @Override
    public void close() {
        server.stop(1);
        executor.shutdownNow();
    }
}
