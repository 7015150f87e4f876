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
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
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
    /** How often the claimer looks at pending hand-offs while it has nothing else to do. */
    private static final Duration HANDOFF_CHECK = Duration.ofMillis(20);
    /** A worker that has not taken its run's lock by then has failed to; the rescuer will see the run. */
    private static final Duration HANDOFF_LIMIT = Duration.ofSeconds(10);
    /** The longest an idle claimer waits while the listener watches for due runs. */
    private static final Duration IDLE_BACKSTOP = Duration.ofSeconds(60);

    private final Settings settings;
    private final Database database;
    private final JobCatalog catalog;
    private final JobTypes types;
    private final Metrics metrics;
    private final RunQueue queue;
    private final Maintenance maintenance;
    private final Semaphore idle;
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

    /** @param clock what the node's time-based decisions (pruning, hand-offs) and its HTTP pages read */
    public Node(Settings settings, Database database, JobCatalog catalog, JobTypes types, Metrics metrics, Clock clock) {
        this.clock = clock;
        this.settings = settings;
        this.database = database;
        this.catalog = catalog;
        this.types = types;
        this.metrics = metrics;
        this.queue = new RunQueue(database.dataSource());
        this.maintenance = new Maintenance(database.dataSource(), settings.nodeName());
        this.idle = new Semaphore(settings.workers());
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

    /** Runs claimed in one statement, whose claim-time locks the claimer holds until their workers hold their own. */
    private record Handoff(List<ClaimedRun> runs, CountDownLatch locked, Instant at) {
    }

    private void claimLoop() {
        int failures = 0;
        Connection c = null;
        List<Handoff> handoffs = new ArrayList<>();
        while (!stopping) {
            try {
                if (c == null) {
                    c = database.dataSource().getConnection();
                }
                releaseHandedOff(c, handoffs, false);
                int free = idle.availablePermits();
                int claimed = free == 0 ? 0 : claim(c, free, handoffs);
                databaseOk = true;
                if (failures > 0) {
                    log.info("claimer recovered after {} failed attempts", failures);
                }
                failures = 0;
                if (free == 0 || claimed < free) {
                    if (handoffs.isEmpty()) {
                        // A long wait: the session goes back to the pool, which keeps it alive. Held through
                        // the wait, it was ended by the server's idle_session_timeout (stall_timeout).
                        c = giveBack(c);
                    }
                    claimWaiter.await(handoffs.isEmpty() ? idleWait(settings.pollInterval()) : HANDOFF_CHECK);
                }
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
                // Closing the session drops any claim-time locks it still holds, so nothing stays pinned.
                c = discard(c);
                handoffs.clear();
                Waiter.sleepQuietly(Duration.ofMillis(Math.min(2_000, 100L << Math.min(failures, 5))));
                Thread.interrupted();
            }
        }
        if (c != null) {
            try {
                releaseHandedOff(c, handoffs, true);
            } catch (Exception e) {
                // Closing the session releases whatever hand-off locks it still holds.
                c = discard(c);
            }
            discard(c);
        }
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

    /** Claims up to {@code free} runs, one at a time, each handed to a worker as soon as it is claimed. */
    private int claim(Connection c, int free, List<Handoff> handoffs) throws Exception {
        int claimed = 0;
        while (claimed < free) {
            List<ClaimedRun> runs = queue.claim(c, settings.nodeName(), 1, false);
            if (runs.isEmpty()) {
                break;
            }
            CountDownLatch locked = new CountDownLatch(1);
            idle.acquire();
            workers.execute(new WorkerTask(this, runs.get(0), locked));
            handoffs.add(new Handoff(runs, locked, clock.instant()));
            claimed++;
        }
        return claimed;
    }

    /**
     * Drops the claim-time locks of runs whose workers now hold their own lock (or gave up), without
     * waiting for them: the claimer moves on to the next claim at once.
     */
    private void releaseHandedOff(Connection c, List<Handoff> handoffs, boolean all) throws Exception {
        List<ClaimedRun> done = new ArrayList<>();
        for (var it = handoffs.iterator(); it.hasNext(); ) {
            Handoff h = it.next();
            if (all || h.locked().getCount() == 0 || h.at().plus(HANDOFF_LIMIT).isBefore(clock.instant())) {
                done.addAll(h.runs());
                it.remove();
            }
        }
        queue.releaseHandoff(c, done);
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

    /** Called by a worker task when its worker is free again. */
    void finished() {
        idle.release();
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
