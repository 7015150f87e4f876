package dev.nightshift.worker;

import dev.nightshift.queue.ClaimedRun;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one worker does from the moment the claimer hands it a run until it is idle again: take
 * the run's lock on a connection of its own, execute it, and then, as long as there is work,
 * claim the next run itself on that same connection (the claim takes the lock in this session, so
 * no hand-off is needed) instead of going back to the claimer. Runs on one worker thread.
 */
final class WorkerTask implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(WorkerTask.class);

    private final Node node;
    private final ClaimedRun first;
    private final CountDownLatch handedOff;
    private final AtomicBoolean handOffDone = new AtomicBoolean();

    WorkerTask(Node node, ClaimedRun first, CountDownLatch handedOff) {
        this.node = node;
        this.first = first;
        this.handedOff = handedOff;
    }

    @Override
    public void run() {
        Connection held = null;
        try (Connection c = node.database().dataSource().getConnection()) {
            held = c;
            boolean mine;
            try {
                mine = node.queue().start(c, first);
            } finally {
                handOffDone();
            }
            if (!mine) {
                log.warn("run {} was taken from this node before it started; skipping it", first.id());
                return;
            }
            ClaimedRun run = first;
            Long kept = null;
            boolean sessionSet = false;
            while (run != null) {
                Execution e = new Execution(node, run, c, kept, !node.draining());
                node.execute(e, run);
                kept = e.keptLock();
                if (e.next() != null) {
                    run = e.next();
                } else {
                    // a completion that looked for a next run and found none: the queue is empty for now
                    run = node.draining() || e.claimTried() ? null : next(c, sessionSet);
                }
                sessionSet |= run != null;
            }
            if (sessionSet) {
                // the worker's own claims set their runs' settings on the session: the pool gets it back clean
                Execution.resetSession(node, c);
            }
            if (kept != null) {
                try {
                    node.queue().unlock(c, kept);
                } catch (SQLException e) {
                    node.database().evict(c);
                }
            }
        } catch (Throwable t) {
            // The session may still hold a run's lock: never hand it back to the pool.
            if (held != null) {
                node.database().evict(held);
            }
            log.error("worker failed; its run, if any, goes to the rescuer: {}", t.toString());
        } finally {
            handOffDone();
            node.finished();
        }
    }

    /**
     * Claims one more run on this worker's own connection, or null when there is none for now.
     * A failed claim may leave a lock in the session, so that connection is not reused.
     */
    private ClaimedRun next(Connection c, boolean sessionSet) {
        try {
            if (sessionSet) {
                // a claim sets only its own run's parameters: drop those of the runs before it
                Execution.resetSession(node, c);
            }
            List<ClaimedRun> runs = node.queue().claim(c, node.settings().nodeName(), 1, true);
            return runs.isEmpty() ? null : runs.get(0);
        } catch (SQLException | RuntimeException e) {
            node.database().evict(c);
            log.warn("worker's own claim failed; back to the claimer: {}", e.toString());
            return null;
        }
    }

    /** Tells the claimer this run's lock is held here (or never will be), once. */
    private void handOffDone() {
        if (handOffDone.compareAndSet(false, true)) {
            handedOff.countDown();
        }
    }
}
