package dev.nightshift.worker;

import dev.nightshift.queue.ClaimedRun;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker: a thread with a database connection of its own for as long as the worker lives,
 * registered as an owner whose lock the session holds (RunQueue.register). The claimer claims a
 * run for an idle worker's owner and hands it over; the worker then works on it and, as long as
 * there is work, claims its next runs itself on its connection (with the completion, in the same
 * round trip, for a run of the same job). A worker whose connection fails closes it (its lock,
 * and with it its runs and slots, go to the rescuer) and opens another under a new owner key.
 * Runs on one thread of the node's pool; {@link #hand} is called by the claimer.
 */
final class Worker implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);
    /** How often an idle worker looks whether the node is stopping. */
    private static final Duration STOP_CHECK = Duration.ofMillis(500);

    private final Node node;
    private final SynchronousQueue<ClaimedRun> handed = new SynchronousQueue<>();
    private Connection connection;
    private volatile long owner;
    /** The parameters (setting names) the session has from the last run. */
    private List<String> sessionParams = List.of();
    /**
     * The job of the last run on this session, whose settings (and its SQL's own SETs) the session
     * keeps for that job's next run; another job's run, or an idle wait, gets a reset session.
     */
    private String sessionJob;
    private long lastUsed;

    Worker(Node node) {
        this.node = node;
    }

    /** The owner key of this worker's connection, 0 while it has none. */
    long owner() {
        return owner;
    }

    /** Gives this idle worker a run claimed for its owner; false when it does not take it now. */
    boolean hand(ClaimedRun run) throws InterruptedException {
        return handed.offer(run, 1, TimeUnit.SECONDS);
    }

    @Override
    public void run() {
        int failures = 0;
        try {
            while (!node.draining()) {
                try {
                    if (connection == null) {
                        open();
                    }
                    failures = 0;
                    node.idle(this);
                    ClaimedRun run = null;
                    while (run == null && !node.draining()) {
                        run = handed.poll(STOP_CHECK.toMillis(), TimeUnit.MILLISECONDS);
                        if (run == null) {
                            keepAlive();
                        } else if (run.owner() != owner) {
                            // claimed for this worker's previous connection, which failed meanwhile
                            node.giveBack(run);
                            run = null;
                        }
                    }
                    if (run != null) {
                        work(run);
                    }
                } catch (InterruptedException e) {
                    // only stop() ends this loop, after setting draining
                    Thread.interrupted();
                } catch (Exception e) {
                    failures++;
                    node.busy(this);
                    close();
                    node.metrics().loopError("worker");
                    if (failures == 1) {
                        log.warn("worker failed; its runs, if any, go to the rescuer; opening another connection: {}", e.toString());
                    }
                    Waiter.sleepQuietly(Duration.ofMillis(Math.min(2_000, 100L << Math.min(failures, 5))));
                }
            }
        } finally {
            node.busy(this);
            unregister();
            node.finished();
        }
    }

    private void open() throws SQLException {
        connection = node.database().openWorker();
        owner = node.queue().register(connection, node.settings().nodeName());
        sessionParams = List.of();
        sessionJob = null;
        lastUsed = System.nanoTime();
    }

    /**
     * Back to the session's start-up settings (RESET ALL): a job's own {@code SET search_path} or
     * {@code SET statement_timeout}, committed at session level, must not reach another job's runs
     * or this worker's claims. The node's session settings are the reset values (SessionSettings).
     */
    private void resetSession() throws SQLException {
        if (!connection.getAutoCommit()) {
            connection.rollback();
            connection.setAutoCommit(true);
        }
        try (Statement st = connection.createStatement()) {
            st.execute("RESET ALL");
        }
        sessionParams = List.of();
        sessionJob = null;
    }

    /**
     * An idle worker's session would be ended by the server's idle_session_timeout (the stall
     * timeout): it is touched well within that bound.
     */
    private void keepAlive() throws SQLException {
        if (System.nanoTime() - lastUsed > node.settings().stallTimeout().toNanos() / 3) {
            try (Statement st = connection.createStatement()) {
                st.execute("SELECT 1");
            }
            lastUsed = System.nanoTime();
        }
    }

    /** Works on {@code first} and the runs this worker claims after it, until none is due for it. */
    private void work(ClaimedRun first) throws SQLException {
        ClaimedRun run = first;
        while (run != null) {
            if (sessionJob != null && !sessionJob.equals(run.jobName())) {
                resetSession();
            }
            Execution e = new Execution(node, run, connection, sessionParams, !node.draining());
            node.execute(e, run);
            sessionJob = run.jobName();
            sessionParams = run.paramSettings();
            lastUsed = System.nanoTime();
            if (e.broken()) {
                throw new SQLException("the worker's connection failed during run " + run.id());
            }
            if (e.next() != null) {
                run = e.next();
            } else if (node.draining()) {
                node.queue().freeSlots(connection, owner);
                run = null;
            } else if (e.slotKept()) {
                run = node.queue().claimNext(connection, run);
            } else {
                if (e.lost()) {
                    node.queue().freeSlots(connection, owner);
                }
                run = node.queue().claimFirst(connection, owner, node.settings().nodeName());
            }
        }
        resetSession();
    }

    /** A worker stopping: its owner row goes and its connection closes (releasing its lock). */
    private void unregister() {
        if (connection != null) {
            try {
                node.queue().unregister(connection, owner);
            } catch (SQLException e) {
                log.debug("worker could not unregister owner {} (the rescuer will): {}", owner, e.toString());
            }
        }
        close();
    }

    private void close() {
        owner = 0;
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                log.debug("closing a worker's connection: {}", e.toString());
            }
            connection = null;
        }
    }
}
