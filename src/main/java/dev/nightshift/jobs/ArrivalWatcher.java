package dev.nightshift.jobs;

import dev.nightshift.config.ImportParams;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The arrival trigger of batch-import ({@code on_arrival: true}): one loop per node that polls the
 * source of each such job (file, directory or glob; polling works on shared mounts where file
 * system events do not) and enqueues one run per file that arrived or changed, once the file is
 * complete: when its marker file ({@code data.csv.done}) exists and is not older than it, or, without
 * a marker, when its size, modification time and identity (inode) have not changed for the settle
 * time. The run's dedupe key is made of the job, the path, the size, the modification time and
 * the inode, so nodes watching one shared directory enqueue each arrival once. The loop survives
 * every error (logged once, counted, retried after a backoff) and ends only with {@link #stop()}.
 * Thread-safe: one thread works; start and stop may come from others.
 */
public final class ArrivalWatcher {
    private static final Logger log = LoggerFactory.getLogger(ArrivalWatcher.class);
    /** The run parameters naming the file that arrived, and its size and modification time when it was found complete. */
    public static final String PARAM = "arrived";
    static final String SIZE = "arrived_size";
    static final String MODIFIED = "arrived_modified";

    /** What was last seen of one file, and since when it has looked like that. */
    private record Seen(long size, Instant modified, Object identity, Instant since, boolean enqueued) {
        boolean same(BasicFileAttributes a) {
            return size == a.size() && modified.equals(a.lastModifiedTime().toInstant()) && java.util.Objects.equals(identity, a.fileKey());
        }
    }

    private final List<Watched> jobs;

    /** A job that watches its source, with its params. */
    private record Watched(JobDefinition d, ImportParams p) {
    }
    private final RunQueue queue;
    private final Metrics metrics;
    private final Clock clock;
    private final Map<String, Map<Path, Seen>> seen = new HashMap<>();
    private final Map<String, Instant> nextPoll = new HashMap<>();
    private final Set<String> failing = new HashSet<>();
    private final Object wake = new Object();
    private volatile boolean stopping;
    private Thread thread;

    public ArrivalWatcher(JobCatalog catalog, RunQueue queue, Metrics metrics, Clock clock) {
        List<Watched> watched = new ArrayList<>();
        for (JobDefinition d : catalog.all()) {
            if (d.params() instanceof ImportParams p && p.arrival() != null) {
                watched.add(new Watched(d, p));
            }
        }
        this.jobs = List.copyOf(watched);
        this.queue = queue;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** Starts the loop, if any job of the catalog has {@code on_arrival: true}. */
    public synchronized void start() {
        if (jobs.isEmpty() || thread != null) {
            return;
        }
        thread = new Thread(this::loop, "nightshift-arrivals");
        thread.setDaemon(true);
        thread.start();
        log.info("watching for arrivals: {}", jobs.stream().map(w -> w.d().name() + " (" + w.p().source() + ")").toList());
    }

    /** Stops the loop and waits a moment for it. */
    public void stop() {
        stopping = true;
        synchronized (wake) {
            wake.notifyAll();
        }
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                // closing while interrupted: stop waiting for the thread, keep the interrupt for the caller
                Thread.currentThread().interrupt();
            }
        }
    }

    private void loop() {
        int failures = 0;
        while (!stopping) {
            Duration pause;
            try {
                pause = pollDue();
                if (failures > 0) {
                    log.info("arrival watcher recovered after {} failed polls", failures);
                }
                failures = 0;
            } catch (Throwable t) {
                failures++;
                metrics.loopError("arrivals");
                if (failures == 1) {
                    log.warn("arrival watcher failed, retrying with backoff: {}", t.toString());
                } else {
                    log.debug("arrival watcher failed again ({} in a row): {}", failures, t.toString());
                }
                pause = Duration.ofMillis(Math.min(10_000, 200L << Math.min(failures, 6)));
            }
            synchronized (wake) {
                if (!stopping) {
                    try {
                        wake.wait(Math.max(1, pause.toMillis()));
                    } catch (InterruptedException e) {
                        // Only stop() ends the loop; an interrupt from elsewhere is not a reason to stop watching.
                        Thread.interrupted();
                    }
                }
            }
        }
    }

    /** Polls every job whose time has come; returns how long until the next one is due. */
    Duration pollDue() throws java.sql.SQLException {
        Instant now = clock.instant();
        Instant next = now.plusSeconds(60);
        for (Watched w : jobs) {
            JobDefinition d = w.d();
            ImportParams p = w.p();
            Instant due = nextPoll.getOrDefault(d.name(), now);
            if (!due.isAfter(now)) {
                poll(d, p, now);
                due = now.plus(p.arrival().poll());
                nextPoll.put(d.name(), due);
            }
            if (due.isBefore(next)) {
                next = due;
            }
        }
        return Duration.between(clock.instant(), next);
    }

    private void poll(JobDefinition d, ImportParams p, Instant now) throws java.sql.SQLException {
        List<Path> files;
        try {
            files = Sources.candidates(p);
            if (failing.remove(d.name())) {
                log.info("arrival: job {}: source {} readable again", d.name(), p.source());
            }
        } catch (IOException | JobFailedException e) {
            if (failing.add(d.name())) {
                log.warn("arrival: job {}: cannot list source {}: {}", d.name(), p.source(), e.getMessage());
            }
            return;
        }
        Map<Path, Seen> known = seen.computeIfAbsent(d.name(), k -> new HashMap<>());
        known.keySet().retainAll(new HashSet<>(files));
        for (Path f : files) {
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(f, BasicFileAttributes.class);
            } catch (NoSuchFileException e) {
                continue;   // moved or deleted since the listing
            } catch (IOException e) {
                log.debug("arrival: job {}: cannot read the attributes of {}: {}", d.name(), f, e.getMessage());
                continue;
            }
            Seen s = known.get(f);
            if (s == null || !s.same(a)) {
                if (s == null) {
                    log.info("arrival: job {}: {} noticed ({} bytes, modified {}); waiting until it is complete", d.name(), f,
                            a.size(), a.lastModifiedTime());
                }
                known.put(f, new Seen(a.size(), a.lastModifiedTime().toInstant(), a.fileKey(), now, false));
                s = known.get(f);
            }
            if (!s.enqueued() && complete(p, f, s, now)) {
                enqueue(d, f, s);
                known.put(f, new Seen(s.size(), s.modified(), s.identity(), s.since(), true));
            }
        }
    }

    /** The settle rule: the marker, when the job names one; else unchanged for the settle time. */
    private static boolean complete(ImportParams p, Path f, Seen s, Instant now) {
        if (p.arrival().marker() != null) {
            return Sources.markerCurrent(f, p.arrival().marker());
        }
        return !now.isBefore(s.since().plus(p.arrival().settle()));
    }

    private void enqueue(JobDefinition d, Path f, Seen s) throws java.sql.SQLException {
        String key = "arrival:" + d.name() + ":" + digest(f + "\n" + s.size() + "\n" + s.modified() + "\n" + s.identity());
        RunQueue.Enqueued e = queue.enqueue(new NewRun(d.name(), NewRun.Trigger.ARRIVAL,
                Map.of(PARAM, f.toString(), SIZE, Long.toString(s.size()), MODIFIED, s.modified().toString()), key,
                null, null, null));
        if (e.created()) {
            metrics.arrival(d.name());
            log.info("arrival: job {}: {} complete ({} bytes, modified {}), run {} enqueued", d.name(), f, s.size(), s.modified(), e.id());
        } else {
            log.debug("arrival: job {}: {} already enqueued as run {} (by another node, or before a restart)", d.name(), f, e.id());
        }
    }

    private static String digest(String s) {
        return HexFormat.of().formatHex(FileImport.sha256().digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
