package dev.nightshift.notify;

import dev.nightshift.config.NotifyTarget;
import dev.nightshift.config.Settings;
import dev.nightshift.db.SqlStates;
import dev.nightshift.metrics.Metrics;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every node's delivery loop: takes due notifications from the {@link Outbox} and POSTs each to its
 * target (or to this node's default targets), at least once: a failed try is retried with a
 * doubling backoff (1 s, 2 s, … up to 10 min), {@link Outbox#MAX_ATTEMPTS} times. A target that
 * fails is logged and retried, never fatal to anything else. Target URLs are logged as scheme and
 * host only (a webhook's path is its secret). Thread-safe; start once, close once.
 */
public final class Notifier implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Notifier.class);
    /** The channel the outbox's insert trigger notifies (R__notify_wake.sql): wakes {@link #wake()} on every node. */
    public static final String CHANNEL = "nightshift_outbox";
    /**
     * The longest an idle node waits between looks at the outbox. Written rows wake it (the channel),
     * retries are due at a time it reads; this only catches a wake-up lost while its listener was down.
     */
    static final Duration BACKSTOP = Duration.ofMinutes(1);
    private static final Duration MAX_BACKOFF = Duration.ofMinutes(10);
    private static final Duration PRUNE = Duration.ofMinutes(30);
    private static final Duration RETRY_AFTER_ERROR = Duration.ofSeconds(2);
    private static final Duration MIN_WAIT = Duration.ofMillis(250);

    private final Outbox outbox;
    private final Webhook webhook;
    private final Settings settings;
    private final Metrics metrics;
    private final Clock clock;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "nightshift-notifier");
        t.setDaemon(true);
        return t;
    });

    private ScheduledFuture<?> pending;     // guarded by this
    private long wakes;                     // guarded by this

    public Notifier(Outbox outbox, Settings settings, Metrics metrics, Clock clock) {
        this.outbox = outbox;
        this.webhook = new Webhook(settings.notifications().secret());
        this.settings = settings;
        this.metrics = metrics;
        this.clock = clock;
    }

    public void start() {
        next(Duration.ZERO);
        timer.scheduleWithFixedDelay(this::prune, PRUNE.toMillis(), PRUNE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Looks at the outbox now: notifications were written (the channel's notification). */
    public synchronized void wake() {
        wakes++;
        next(Duration.ZERO);
    }

    /** Replaces the pending look at the outbox: there is only ever one. */
    private synchronized void next(Duration wait) {
        if (timer.isShutdown()) {
            return;
        }
        if (pending != null) {
            pending.cancel(false);
        }
        pending = timer.schedule(this::tick, wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Delivered and given-up notifications go with the runs' retention. */
    private void prune() {
        try {
            outbox.prune(settings.retention());
        } catch (Exception e) {
            metrics.loopError("notifier");
            log.warn("cannot prune the notification outbox: {}", e.getMessage());
        }
    }

    /** Delivers every due notification, then waits until the next retry is due (at most the backstop). */
    private void tick() {
        long wakesBefore;
        synchronized (this) {
            wakesBefore = wakes;
        }
        Duration wait = RETRY_AFTER_ERROR;
        try {
            List<Notification> due;
            while (!(due = outbox.take(10)).isEmpty()) {
                for (Notification n : due) {
                    deliver(n);
                }
            }
            // a row due now that take() passed is another node's, being taken: look again shortly
            wait = outbox.untilNextDue().map(d -> d.compareTo(MIN_WAIT) < 0 ? MIN_WAIT : d)
                    .filter(d -> d.compareTo(BACKSTOP) < 0).orElse(BACKSTOP);
        } catch (Exception e) {
            if (!"42P01".equals(SqlStates.of(e))) {     // 42P01: the schema is not migrated yet
                metrics.loopError("notifier");
                log.warn("cannot read the notification outbox: {}", e.getMessage());
            }
        } catch (Error e) {
            // a scheduled task that throws is never run again: log and go on, as for an exception
            metrics.loopError("notifier");
            log.error("notification loop", e);
        }
        synchronized (this) {
            // a wake-up that came while this look ran may concern rows it did not see
            next(wakes != wakesBefore ? Duration.ZERO : wait);
        }
    }

    /** One try of one notification; its outcome recorded in the outbox. */
    void deliver(Notification n) throws java.sql.SQLException {
        List<NotifyTarget> targets = n.url() != null ? List.of(new NotifyTarget(URI.create(n.url()), n.format()))
                : settings.notifications().targets();
        if (targets.isEmpty()) {
            metrics.notification("no-target");
            log.info("notification {} ({} of job {}): the job has no notify: and this node no notify setting; not sent",
                    n.id(), n.event(), n.job());
            outbox.failed(n.id(), "no target: the job has no notify: and the delivering node no notify setting", Duration.ZERO, true);
            return;
        }
        String failure = null;
        for (NotifyTarget t : targets) {
            Webhook.Reply r = webhook.post(t.url(), n.body(t.format(), settings.dashboardUrl()), n.idempotencyKey(),
                    clock.instant().getEpochSecond());
            if (!r.delivered()) {
                failure = (failure == null ? "" : failure + "; ") + t.shown() + ": " + r.detail();
            }
        }
        if (failure == null) {
            outbox.delivered(n.id());
            metrics.notification("delivered");
            log.info("notification {} ({} of job {}{}) delivered to {} (try {})", n.id(), n.event(), n.job(),
                    n.runId() == null ? "" : ", run " + n.runId(), targets.stream().map(NotifyTarget::shown).toList(), n.attempts());
            return;
        }
        boolean last = n.attempts() >= Outbox.MAX_ATTEMPTS;
        Duration delay = backoff(n.attempts());
        outbox.failed(n.id(), failure, delay, last);
        metrics.notification(last ? "failed" : "retry");
        log.warn("notification {} ({} of job {}): try {} failed: {}; {}", n.id(), n.event(), n.job(), n.attempts(), failure,
                last ? "given up after " + n.attempts() + " tries" : "next try in " + delay.toSeconds() + " s");
    }

    /** What {@code notify test} got from one target. */
    public record TestResult(String target, boolean delivered, String detail) {
    }

    /**
     * Sends a sample notification of {@code job} to {@code targets} (the job's, else the settings'
     * default), once each, without the outbox: {@code nightshift notify test JOB}.
     */
    public static List<TestResult> test(String job, List<NotifyTarget> targets, Settings settings, Clock clock) {
        Webhook w = new Webhook(settings.notifications().secret());
        Notification sample = new Notification(0, job, "test", null, clock.instant(), null, null,
                "a sample error text, as a dead run's error would appear", null, NotifyTarget.Format.JSON,
                "test:" + job + ":" + java.util.UUID.randomUUID(), 1);
        return targets.stream().map(t -> {
            Webhook.Reply r = w.post(t.url(), sample.body(t.format(), settings.dashboardUrl()), sample.idempotencyKey(),
                    clock.instant().getEpochSecond());
            return new TestResult(t.shown() + " (" + t.format().name().toLowerCase(java.util.Locale.ROOT) + ")", r.delivered(),
                    r.detail());
        }).toList();
    }

    /** 1 s after the first failed try, doubling, at most 10 min. */
    static Duration backoff(int attempts) {
        long ms = 1000L << Math.min(Math.max(attempts - 1, 0), 20);
        return Duration.ofMillis(Math.min(ms, MAX_BACKOFF.toMillis()));
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
