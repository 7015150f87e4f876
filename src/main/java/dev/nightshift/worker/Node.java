package dev.nightshift.worker;

import dev.nightshift.config.Durations;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.Settings;
import dev.nightshift.db.Database;
import dev.nightshift.db.SqlStates;
import dev.nightshift.jobs.JobTypes;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.queue.ClaimedRun;
import dev.nightshift.queue.Listener;
import dev.nightshift.queue.Maintenance;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.runlog.RunLogWriter;
import dev.nightshift.runlog.Scrubber;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker node: the claimer, the worker pool, the LISTEN connection and the maintenance
 * loop (rescue, prune). Several nodes may run in one JVM (tests) or on many hosts; they
 * coordinate only through PostgreSQL. Thread-safe; start once, stop once.
 */
public final class Node {
    private static final Logger log = LoggerFactory.getLogger(Node.class);
    private static final Duration PRUNE_EVERY = Duration.ofMinutes(10);
    /** The longest an idle claimer waits while the listener watches for due runs. */
    private static final Duration IDLE_BACKSTOP = Duration.ofSeconds(60);

    private final Settings settings;
    private final Database database;
    private final JobCatalog catalog;
    private final JobTypes types;
    private final Metrics metrics;
    private final RunQueue queue;
    private final Maintenance maintenance;
    /** Workers waiting for a run, and not being claimed for right now. */
    private final Set<Worker> idle = ConcurrentHashMap.newKeySet();
    private final ExecutorService workers;
    private final Waiter claimWaiter = new Waiter();
    private final Waiter maintenanceWaiter = new Waiter();
    private final Map<Long, Execution> active = new ConcurrentHashMap<>();
    private final List<SuccessHook> successHooks = new CopyOnWriteArrayList<>();
    private final Listener listener;
    private final RunLogWriter runLogs;
    private volatile boolean stopping;
    private volatile boolean started;
    private volatile boolean databaseOk;
    private final Clock clock;
    private volatile Instant lastPrune = Instant.EPOCH;
    private Thread claimer;
    private Thread listenerThread;
    private Thread maintainer;

    public Node(Settings settings, Database database, JobCatalog catalog, JobTypes types, Metrics metrics) {
        this(settings, database, catalog, types, metrics, Clock.systemUTC());
    }

    /** @param clock what the node's time-based decisions (pruning) and its HTTP pages read */
    public Node(Settings settings, Database database, JobCatalog catalog, JobTypes types, Metrics metrics, Clock clock) {
        this.clock = clock;
        this.settings = settings;
        this.database = database;
        this.catalog = catalog;
        this.types = types;
        this.metrics = metrics;
        this.queue = new RunQueue(database.dataSource());
        this.maintenance = new Maintenance(database.dataSource(), settings.nodeName());
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(settings.workers(), settings.workers(), 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), r -> new Thread(r, "nightshift-worker-" + n.incrementAndGet()));
        this.runLogs = new RunLogWriter(database.dataSource(), new Scrubber(settings.secrets()), clock,
                RunLogWriter.DEFAULT_MAX_LINES, RunLogWriter.DEFAULT_MAX_BYTES, () -> metrics.loopError("run-log"));
        this.listener = new Listener(database::openDedicated, settings.rescueInterval(), claimWaiter::wake, maintenanceWaiter::wake,
                () -> metrics.loopError("listener"));
    }

    public void addSuccessHook(SuccessHook hook) {
        successHooks.add(hook);
    }

    /** Starts the background threads; returns at once. */
    public synchronized void start() {
        if (started) {
            throw new IllegalStateException("node already started");
        }
        started = true;
        runLogs.start(settings.nodeName());
        claimer = thread("nightshift-claimer-" + settings.nodeName(), this::claimLoop);
        listenerThread = thread("nightshift-listener-" + settings.nodeName(), listener);
        maintainer = thread("nightshift-maintenance-" + settings.nodeName(), this::maintenanceLoop);
        for (int i = 0; i < settings.workers(); i++) {
            workers.execute(new Worker(this));
        }
        log.info("node {} started: {} workers, {} jobs in the catalog", settings.nodeName(), settings.workers(), catalog.size());
    }

    private static Thread thread(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Ready to take work: started, not draining, every loop running, and the database answered
     * at its last check (every rescue interval).
     */
    public boolean ready() {
        return started && !stopping && deadLoop() == null && databaseReachable();
    }

    /** The name of a loop that ended while the node runs (a bug: each loop ends only on stop), or null. */
    private String deadLoop() {
        for (Thread t : new Thread[] {claimer, listenerThread, maintainer}) {
            if (t != null && !t.isAlive()) {
                return t.getName();
            }
        }
        return null;
    }

    /** Wakes {@code onNotify} on each notification of {@code channel}, through the listener's connection; before {@link #start()}. */
    public void onNotification(String channel, Runnable onNotify) {
        listener.alsoListen(channel, onNotify);
    }

    /** The listener's connection is checked every rescue interval; a failing claim also counts as unreachable. */
    public boolean databaseReachable() {
        return listener.connected() && databaseOk;
    }

    /** Why the node is not ready, in a few words, or "ready". */
    public String readiness() {
        if (!started) {
            return "starting";
        }
        if (stopping) {
            return "draining";
        }
        String dead = deadLoop();
        if (dead != null) {
            return "loop " + dead + " ended";
        }
        return databaseReachable() ? "ready" : "database unreachable";
    }

    public boolean draining() {
        return stopping;
    }

    private void claimLoop() {
        int failures = 0;
        Connection c = null;
        while (!stopping) {
            try {
                if (!idle.isEmpty()) {
                    c = c == null ? database.dataSource().getConnection() : c;
                    claim(c);
                }
                databaseOk = true;
                if (failures > 0) {
                    log.info("claimer recovered after {} failed attempts", failures);
                }
                failures = 0;
                // A long wait: the session goes back to the pool, which keeps it alive. Held through
                // the wait, it was ended by the server's idle_session_timeout (stall_timeout).
                c = giveBack(c);
                claimWaiter.await(idleWait(settings.pollInterval()));
            } catch (InterruptedException e) {
                // Only stop() ends this loop, and it sets stopping first; an interrupt from
                // anything else (a library, a hook) must not leave the node without a claimer.
                strayInterrupt("claimer");
            } catch (Throwable t) {
                failures++;
                metrics.loopError("claimer");
                if (SqlStates.isConnectionError(t)) {
                    databaseOk = false;
                }
                if (failures == 1) {
                    log.warn("claimer failed, retrying with backoff: {}", t.toString());
                } else {
                    log.debug("claimer failed again ({} in a row): {}", failures, t.toString());
                }
                c = discard(c);
                Waiter.sleepQuietly(Duration.ofMillis(Math.min(2_000, 100L << Math.min(failures, 5))));
                Thread.interrupted();
            }
        }
        discard(c);
    }

    /**
     * Claims a run for each idle worker's owner, until none is due with room, and hands each over
     * as it comes: the run is its worker's from the claim's commit on (its owner's lock is held by
     * the worker's session), so nothing waits for the hand-over.
     */
    private void claim(Connection c) throws Exception {
        for (Worker w : List.copyOf(idle)) {
            if (stopping || !idle.remove(w)) {
                continue;
            }
            long owner = w.owner();
            ClaimedRun run;
            try {
                run = owner == 0 ? null : queue.claimFirst(c, owner, settings.nodeName());
            } catch (Exception e) {
                idle.add(w);
                throw e;
            }
            if (run == null) {
                idle.add(w);
                if (owner != 0) {
                    return;
                }
                continue;
            }
            if (!w.hand(run)) {
                giveBack(run);
            }
        }
    }

    /** A run claimed for a worker that did not take it: back to the queue at once, the attempt not counted. */
    void giveBack(ClaimedRun run) {
        try {
            queue.release(run, "claimed for a worker of node " + run.node() + " that could not take it");
        } catch (SQLException e) {
            log.warn("run {}: could not give it back ({}); the rescuer will", run.id(), e.getMessage());
        }
    }

    /** A worker waiting for a run; wakes the claimer. */
    void idle(Worker w) {
        if (idle.add(w)) {
            claimWaiter.wake();
        }
    }

    /** A worker that is not waiting (any more). */
    void busy(Worker w) {
        idle.remove(w);
    }

    /** Returns a healthy session to the pool (one that fails to go back is discarded). */
    private Connection giveBack(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                return discard(c);
            }
        }
        return null;
    }

    private Connection discard(Connection c) {
        if (c != null) {
            database.evict(c);
            try {
                c.close();
            } catch (Exception ignored) {
                // already broken
            }
        }
        return null;
    }

    /** Executes one run on a worker thread, visible to {@link #stop()} for aborting meanwhile. */
    void execute(Execution e, ClaimedRun run) {
        active.put(run.id(), e);
        try {
            e.execute();
        } finally {
            active.remove(run.id());
        }
    }

    /** Called by a worker when it stops. */
    void finished() {
        claimWaiter.wake();
    }

    private void maintenanceLoop() {
        while (!stopping) {
            try {
                List<Long> rescued = maintenance.rescue();
                databaseOk = true;
                if (!rescued.isEmpty()) {
                    metrics.rescued(rescued.size());
                }
                if (clock.instant().isAfter(lastPrune.plus(PRUNE_EVERY))) {
                    lastPrune = clock.instant();
                    maintenance.prune(settings.retention());
                }
            } catch (Throwable t) {
                metrics.loopError("maintenance");
                if (SqlStates.isConnectionError(t)) {
                    databaseOk = false;
                }
                log.debug("maintenance failed: {}", t.toString());
            }
            try {
                // while the listener watches for orphaned runs, only the next prune is due here
                maintenanceWaiter.await(listener.connected() ? PRUNE_EVERY : settings.rescueInterval());
            } catch (InterruptedException e) {
                strayInterrupt("maintenance");
            }
        }
    }

    /**
     * How long the idle claimer waits for a wake-up. While the listener is connected, its checks
     * wake it when a run is due, so it need not poll: it waits {@link #IDLE_BACKSTOP}. Without
     * the listener, it polls every {@code interval}.
     */
    private Duration idleWait(Duration interval) {
        return listener.connected() ? IDLE_BACKSTOP : interval;
    }

    /** Counts and logs an interrupt that came while the node runs; the loop goes on (stop() sets stopping first). */
    private void strayInterrupt(String loop) {
        if (!stopping) {
            metrics.loopError(loop);
            log.warn("{} loop interrupted while the node runs; it goes on", loop);
        }
    }

    /**
     * Graceful stop: claim nothing more, let running runs finish within the grace period, then
     * abort the rest (their transactions roll back and they become available again).
     */
    public void stop() {
        synchronized (this) {
            if (stopping) {
                return;
            }
            stopping = true;
        }
        log.info("node {} draining: {} runs in progress, grace period {}", settings.nodeName(), active.size(),
                Durations.format(settings.shutdownGrace()));
        claimWaiter.wake();
        join(claimer, Duration.ofSeconds(15));
        workers.shutdown();
        try {
            if (!workers.awaitTermination(settings.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("grace period over: aborting {} runs", active.size());
                active.values().forEach(Execution::abort);
                if (!workers.awaitTermination(15, TimeUnit.SECONDS)) {
                    log.error("{} runs did not stop after abort; the rescuer of another node will take them", active.size());
                }
            }
        } catch (InterruptedException e) {
            // Stop goes on without waiting longer (the runs' locks go with the process); the caller sees the flag.
            Thread.currentThread().interrupt();
        }
        listener.stop();
        maintenanceWaiter.wake();
        join(listenerThread, Duration.ofSeconds(5));
        join(maintainer, Duration.ofSeconds(5));
        runLogs.stop();
        log.info("node {} stopped", settings.nodeName());
    }

    private static void join(Thread t, Duration max) {
        if (t == null) {
            return;
        }
        try {
            t.join(max.toMillis());
        } catch (InterruptedException e) {
            // Stop goes on without waiting for this thread; the caller sees the flag.
            Thread.currentThread().interrupt();
        }
    }

    public int activeRuns() {
        return active.size();
    }

    Settings settings() {
        return settings;
    }

    Database database() {
        return database;
    }

    JobCatalog catalog() {
        return catalog;
    }

    JobTypes types() {
        return types;
    }

    Metrics metrics() {
        return metrics;
    }

    /** The clock of this node's time-based decisions, for the parts of the node's process that decide by time too. */
    public Clock clock() {
        return clock;
    }

    RunLogWriter runLogs() {
        return runLogs;
    }

    RunQueue queue() {
        return queue;
    }

    List<SuccessHook> successHooks() {
        return successHooks;
    }
}
