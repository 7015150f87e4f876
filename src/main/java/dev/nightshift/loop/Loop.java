package dev.nightshift.loop;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A background loop of the node that must not die: a named daemon thread that runs its body again
 * and again until {@link #stop()}, whatever the body throws. A failure ({@link Throwable}, an
 * {@link Error} too: a scheduled executor would drop the task silently) is counted, logged once per
 * streak of failures (WARN at the first, INFO when it works again, DEBUG between), and followed by a
 * pause that doubles from 100 ms to 5 s. An interrupt that is not a stop is ignored. The body says
 * how long to wait before its next turn; {@link #wake()} ends that wait early. Thread-safe; start
 * once, stop once.
 */
public final class Loop {
    private static final Logger log = LoggerFactory.getLogger(Loop.class);
    static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    /** One turn of a loop. */
    @FunctionalInterface
    public interface Body {
        /** Does one turn's work; returns how long to wait before the next (zero: at once). */
        Duration run() throws Exception;
    }

    private final String name;
    private final Body body;
    private final Runnable onFailure;
    private final Object waiter = new Object();
    private boolean woken;                      // guarded by waiter
    private volatile boolean stopping;
    private volatile boolean killedForTest;
    private volatile Thread thread;

    /**
     * @param name      the loop's name: its thread's ({@code nightshift-NAME}), its logs', and what /readyz says when it ended
     * @param onFailure counts a failure (the loop errors metric); must not throw
     */
    public Loop(String name, Body body, Runnable onFailure) {
        this.name = name;
        this.body = body;
        this.onFailure = onFailure;
    }

    public String name() {
        return name;
    }

    public synchronized Loop start() {
        if (thread != null) {
            throw new IllegalStateException("loop " + name + " already started");
        }
        Thread t = new Thread(this::run, "nightshift-" + name);
        t.setDaemon(true);
        thread = t;
        t.start();
        return this;
    }

    /** Started and its thread has ended while the loop was not stopped: a bug, or the test hook. */
    public boolean dead() {
        Thread t = thread;
        return t != null && !t.isAlive() && !stopping;
    }

    /** Ends the current wait: the body runs again at once. */
    public void wake() {
        synchronized (waiter) {
            woken = true;
            waiter.notifyAll();
        }
    }

    /** Ends the loop and waits up to {@code max} for its thread (a body in a blocking call may take that long). */
    public void stop(Duration max) {
        stopping = true;
        wake();
        Thread t = thread;
        if (t == null || t == Thread.currentThread()) {
            return;
        }
        t.interrupt();
        try {
            t.join(max.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public boolean stopping() {
        return stopping;
    }

    /** Test hook: ends the thread as a bug would, without stopping the loop; /readyz must then name it. */
    void killForTest() {
        killedForTest = true;
        wake();
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void run() {
        int failures = 0;
        while (!stopping && !killedForTest) {
            Duration wait;
            try {
                wait = body.run();
                if (failures > 0) {
                    log.info("loop {} works again after {} failures", name, failures);
                }
                failures = 0;
            } catch (InterruptedException e) {
                // only stop() ends the loop; an interrupt from anything else is not a reason to
                if (!stopping && !killedForTest) {
                    log.debug("loop {}: interrupted while running; going on", name);
                }
                wait = Duration.ZERO;
            } catch (Throwable t) {
                if (stopping || killedForTest) {
                    break;
                }
                failures++;
                try {
                    onFailure.run();
                } catch (RuntimeException counting) {
                    log.debug("loop {}: counting a failure failed: {}", name, counting.toString());
                }
                if (failures == 1) {
                    log.warn("loop {} failed, retrying with backoff: {}", name, t.toString(), t);
                } else {
                    log.debug("loop {} failed again ({} in a row): {}", name, failures, t.toString());
                }
                wait = backoff(failures);
            }
            pause(wait);
        }
    }

    /** 100 ms after the first failure of a streak, doubling up to 5 s. */
    static Duration backoff(int failures) {
        long ms = FIRST_BACKOFF.toMillis() << Math.min(failures - 1, 10);
        return ms > MAX_BACKOFF.toMillis() ? MAX_BACKOFF : Duration.ofMillis(ms);
    }

    private void pause(Duration wait) {
        long end = System.nanoTime() + wait.toNanos();
        synchronized (waiter) {
            long left;
            while (!woken && !stopping && !killedForTest && (left = end - System.nanoTime()) > 0) {
                try {
                    waiter.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    // a stray interrupt shortens nothing: the loop condition decides
                }
            }
            woken = false;
        }
    }
}
