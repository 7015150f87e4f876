package dev.nightshift.cli;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.Settings;
import dev.nightshift.db.Database;
import dev.nightshift.db.PoolerException;
import dev.nightshift.db.SqlStates;
import dev.nightshift.http.Operations;
import dev.nightshift.jobs.ArrivalWatcher;
import dev.nightshift.loop.Loops;
import dev.nightshift.notify.Notifier;
import dev.nightshift.notify.Outbox;
import dev.nightshift.jobs.JobTypes;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.schedule.AfterChain;
import dev.nightshift.schedule.BackfillPump;
import dev.nightshift.schedule.NodeWatch;
import dev.nightshift.schedule.Backfills;
import dev.nightshift.schedule.FanIn;
import java.time.Clock;
import java.time.Duration;
import dev.nightshift.schedule.QuartzCluster;
import dev.nightshift.schedule.ScheduleSync;
import dev.nightshift.schedule.SchedulerOptions;
import dev.nightshift.worker.Node;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole daemon of one node, assembled: database, HTTP port, migrations, catalog and trigger
 * sync, worker node, Quartz. {@code nightshift run} wraps it with signal handling; tests start
 * several in one JVM. Thread-safe; stop once.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);
    /** How often each node looks for backfills with room for more runs (a success makes room at once). */
    static final Duration BACKFILL_PUMP_INTERVAL = Duration.ofSeconds(2);
    /** How often each node looks for backfills when none is active (a backfill made elsewhere, whose runs fail). */
    static final Duration BACKFILL_PUMP_BACKSTOP = Duration.ofMinutes(1);

    /** The node's own loops, each with a connection of its own while it works: claimer, listener, maintenance, run log writer. */
    private static final int NODE_LOOP_CONNECTIONS = 4;
    /**
     * Shared by the short reads that borrow a connection for a moment and wait their turn for one:
     * HTTP requests, the database gauges, the arrival watcher, the backfill pump, the deadline watch.
     */
    private static final int SHORT_READ_CONNECTIONS = 3;
    /** Quartz's own threads besides its fire threads: the scheduler thread, the misfire handler, the cluster manager. */
    private static final int QUARTZ_OWN_CONNECTIONS = 3;

    private final Settings settings;
    private final Database database;
    private final Node node;
    private final Metrics metrics;
    private final QuartzCluster quartz;
    private final Operations ops;
    private final ArrivalWatcher arrivals;
    private final BackfillPump pump;
    private final NodeWatch watch;
    private final Loops loops;
    private Notifier notifier;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AtomicBoolean closing = new AtomicBoolean();

    private Daemon(Settings settings, Database database, Node node, Metrics metrics, QuartzCluster quartz, Operations ops,
                   ArrivalWatcher arrivals, BackfillPump pump, NodeWatch watch, Loops loops) {
        this.arrivals = arrivals;
        this.loops = loops;
        this.watch = watch;
        this.settings = settings;
        this.database = database;
        this.node = node;
        this.metrics = metrics;
        this.quartz = quartz;
        this.ops = ops;
        this.pump = pump;
    }

    /** Validates the catalog (throws on problems), then starts; waits for the database if it is down. */
    public static Daemon start(Settings settings) {
        return start(settings, SchedulerOptions.of(settings));
    }

    /** One connection per worker and per Quartz fire thread, plus the named shares above. */
    static int poolSize(Settings settings, SchedulerOptions scheduling) {
        return settings.workers() + NODE_LOOP_CONNECTIONS + SHORT_READ_CONNECTIONS
                + scheduling.threads() + QUARTZ_OWN_CONNECTIONS;
    }

    /**
     * As {@link #start(Settings)}, with the scheduler's intervals given (tests, benchmark). The
     * HTTP port opens first, so /livez answers (and /readyz says why not ready) while the daemon
     * waits for its database.
     */
    public static Daemon start(Settings settings, SchedulerOptions scheduling) {
        JobCatalog catalog = JobCatalog.load(settings.jobsDir());
        log.info("nightshift {} starting with {}", Version.current(), settings.describe());
        Database db = Database.open(settings, poolSize(settings, scheduling));
        Metrics metrics = Metrics.prometheus(Version.current());
        // The one clock of this process's time-based decisions: tests of those decisions step their own.
        Clock clock = Clock.systemUTC();
        QuartzCluster quartz = null;
        Node node = null;
        Operations ops = null;
        ArrivalWatcher arrivals = new ArrivalWatcher(catalog, new RunQueue(db.dataSource()), metrics, clock);
        BackfillPump pump = null;
        NodeWatch watch = null;
        // the schedule side's loops, the gauges' and the arrival watcher's, for /readyz (the worker node keeps its own)
        Loops loops = new Loops();
        Notifier notifier = null;
        try {
            quartz = QuartzCluster.create(db.dataSource(), settings.nodeName(), scheduling, metrics, clock);
            node = new Node(settings, db, catalog, JobTypes.standard(), metrics, clock);
            ops = Operations.start(settings, db, node, metrics, catalog, quartz::started, loops);
            prepare(db, settings.workers(), catalog, new ScheduleSync(db.dataSource(), quartz));
            ops.catalogSynced();
            node.addSuccessHook(new AfterChain(catalog, new RunQueue(db.dataSource())));
            node.addSuccessHook(new FanIn(catalog, new RunQueue(db.dataSource())));
            pump = new BackfillPump(new Backfills(db.dataSource(), clock), metrics);
            node.addSuccessHook(pump);
            notifier = new Notifier(new Outbox(db.dataSource()), settings, metrics, clock);
            node.onNotification(Notifier.CHANNEL, notifier::wake);
            node.start();
            quartz.start();
            watch = quartz.watch(db::openDedicated);
            watch.start(loops);
            pump.start(BACKFILL_PUMP_INTERVAL, BACKFILL_PUMP_BACKSTOP, loops);
            arrivals.start(loops);
            Daemon daemon = new Daemon(settings, db, node, metrics, quartz, ops, arrivals, pump, watch, loops);
            daemon.notifier = notifier;
            notifier.start();
            return daemon;
        } catch (RuntimeException e) {
            arrivals.stop();
            if (notifier != null) {
                notifier.close();
            }
            if (pump != null) {
                pump.close();
            }
            if (quartz != null) {
                quartz.close();
            }
            if (watch != null) {
                watch.close();
            }
            if (node != null) {
                node.stop();
            }
            if (ops != null) {
                ops.close();
            }
            metrics.close();
            db.close();
            throw e;
        }
    }

    /**
     * The sessions' check (a pooler that cannot keep the guarantees stops the start), migrations,
     * catalog and trigger sync, retried while the database cannot be reached.
     */
    private static void prepare(Database db, int workers, JobCatalog catalog, ScheduleSync sync) {
        Instant lastWarning = Instant.EPOCH;
        for (int failures = 0; ; failures++) {
            try {
                db.checkSessions(workers);
                db.migrate();
                ScheduleSync.Result r = sync.sync(catalog);
                log.info("catalog synced: {} jobs ({})", catalog.size(), r.describe());
                return;
            } catch (PoolerException | dev.nightshift.db.PreReleaseSchemaException e) {
                throw e;
            } catch (Exception e) {
                Database.refusedByPooler(e).ifPresent(refused -> {
                    throw refused;
                });
                if (!SqlStates.isConnectionError(e) && !(e.getCause() != null && SqlStates.isConnectionError(e.getCause()))
                        && !(e instanceof org.flywaydb.core.api.FlywayException)) {
                    throw new IllegalStateException("cannot prepare the database: " + e.getMessage(), e);
                }
                if (Instant.now().isAfter(lastWarning.plusSeconds(10))) {
                    log.warn("database not reachable yet, retrying: {}", e.getMessage());
                    lastWarning = Instant.now();
                }
                try {
                    Thread.sleep(Math.min(5_000, 200L << Math.min(failures, 5)));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for the database", ie);
                }
            }
        }
    }

    public Node node() {
        return node;
    }

    public Database database() {
        return database;
    }

    public Metrics metrics() {
        return metrics;
    }

    public Settings settings() {
        return settings;
    }

    /** The loops of the node besides the worker node's own (see {@link Loops}). */
    public Loops loops() {
        return loops;
    }

    public QuartzCluster quartz() {
        return quartz;
    }

    /** The bound HTTP port (the configured one, or the one picked for port 0). */
    public int httpPort() {
        return ops.port();
    }

    public Operations operations() {
        return ops;
    }

    /**
     * Graceful stop (guarantee 7): the node stops claiming and drains (the HTTP port meanwhile says
     * "draining"); Quartz keeps firing meanwhile, since the runs it enqueues go to the other nodes;
     * then Quartz stops without firing, and the port and the pool close.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        try {
            arrivals.stop();
            if (notifier != null) {
                notifier.close();
            }
            pump.close();
            node.stop();
            quartz.close();
            // after Quartz: while this node's session lives, no peer takes its triggers over
            watch.close();
            ops.close();
            database.close();
            metrics.close();
        } finally {
            closed.countDown();
        }
    }

    /** Waits until {@link #close()} has stopped the node and closed the database. */
    public void awaitStopped() throws InterruptedException {
        closed.await();
    }
}
