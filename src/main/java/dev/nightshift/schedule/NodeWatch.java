package dev.nightshift.schedule;

import dev.nightshift.db.SqlStates;
import dev.nightshift.loop.Loop;
import dev.nightshift.loop.Loops;
import dev.nightshift.metrics.Metrics;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells within a second that another node of the Quartz cluster is gone, and takes over its
 * schedules then, instead of when Quartz declares it dead (its check-in interval, 10 s, plus
 * 7.5 s, during which the triggers it had acquired fire nowhere).
 *
 * <p>Each node holds a session advisory lock on its key, on a session of its own outside the pool
 * ({@code nightshift node NAME}, idle for the node's life), and waits on the lock of one peer on a
 * second one ({@code nightshift watch NAME}): the peer is the next member after it in the sorted
 * list of the cluster's members (a ring, so each node has two sessions for this however many nodes
 * there are). The waiting session holds no lock: sessions each holding a lock and waiting on the
 * next one's would form a cycle, which PostgreSQL's deadlock detector breaks by failing one wait
 * after a second. PostgreSQL grants the lock to the waiter the moment the peer's session ends: a
 * killed process's sockets are closed by its kernel, and an idle backend ends at once. The
 * watcher then enqueues the slots of the peer's acquired or firing
 * triggers that are due, through {@link ScheduledEnqueue} (the slot's dedupe key makes Quartz's
 * later fire of the same slot add nothing), and has Quartz recover the peer at once
 * ({@link ClusterJobStore#recoverNow}), so that the following slots of its triggers fire on time
 * from a live node. A lock that is free when the wait starts is not a death seen (a node of an
 * older version, a peer between two sessions): it is left to Quartz's own recovery.
 *
 * <p>A node frozen rather than dead (SIGSTOP, a paused VM) keeps its sessions, so its lock stays
 * held and nothing fires early; Quartz recovers its triggers after 17.5 s as before. A node whose
 * session ended while the process lives (cut off, its backend terminated) is recovered early; when
 * it comes back, its own fires of those slots find their runs (dedupe keys), as after a Quartz
 * recovery.
 *
 * <p>A statement waiting on a lock holds a snapshot, which holds back the database's vacuum horizon
 * for as long as it waits: each wait ends after {@link #WAIT} (lock_timeout) and starts again, so
 * the horizon is held back at most that long, for one transaction per node per {@link #WAIT}. A
 * node alone in its cluster waits on nobody and sends nothing. Each wait also checks that this
 * node's own lock session still holds its lock, and takes it again on a new one if not. One loop ({@link Loop}); start once, close once.
 */
public final class NodeWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeWatch.class);
    /** The first key of the nodes' locks, in the two-integer key space: "nsnd" in ASCII. */
    static final int LOCK_CLASS = 0x6e736e64;
    /** How long one wait on a peer's lock lasts before it starts again (see the class comment). */
    static final Duration WAIT = Duration.ofSeconds(30);

    /**
     * Waits for the peer's lock unless it is free at once. First, whether this node's own lock is
     * still held by its lock session (a session the server ended is noticed here, at no cost of its
     * own). CASE evaluates its branches in order and only as needed, so the wait happens only when
     * the try failed (the lock was held). The waiting session holds no lock of its own: a ring of
     * sessions each holding one lock and waiting on the next would be a deadlock.
     */
    private static final String WAIT_FOR = """
            SELECT CASE WHEN ? AND NOT EXISTS (SELECT 1 FROM pg_locks
                                                 WHERE locktype = 'advisory' AND classid = (?::int)::oid AND objid = (?::int)::oid
                                                   AND objsubid = 2 AND pid = ? AND granted)
                          THEN 'own-lock-lost'
                        WHEN pg_try_advisory_lock(?, ?) THEN 'free'
                        ELSE (SELECT 'granted' FROM pg_advisory_lock(?, ?)) END""";

    /**
     * The slots the gone node had acquired or was firing, due now and not so late that Quartz
     * would treat them as misfires (it would then fire another instant than the slot).
     */
    private static final String DUE_SLOTS = """
            SELECT trigger_name, sched_time
            FROM nightshift.qrtz_fired_triggers
            WHERE sched_name = ? AND instance_name = ? AND trigger_group = ? AND sched_time <= ? AND sched_time > ?
            ORDER BY sched_time, trigger_name""";

    private enum Wait { OWN_LOCK_LOST, FREE, GRANTED, TIMED_OUT }

    private final Callable<Connection> connect;
    private final ClusterJobStore store;
    private final String self;
    private final DataSource pool;
    private final ScheduledEnqueue enqueue;
    private final Duration misfireThreshold;
    private final Metrics metrics;
    private final Clock clock;
    /** Peers not waited on until the given instant: their lock was free, or they were just recovered. */
    private final Map<String, Instant> resting = new HashMap<>();
    private volatile boolean stopping;
    private volatile Statement waiting;
    private volatile String watched;
    /** The sessions holding this node's lock and waiting on a peer's; only the loop's thread uses them, and close() once it has ended. */
    private Connection holder;
    private Connection waiter;
    private int holderPid;
    private boolean holdsOwnLock;
    private Loop loop;

    NodeWatch(Callable<Connection> connect, ClusterJobStore store, String self, DataSource pool, Metrics metrics,
              Duration misfireThreshold, Clock clock) {
        this.connect = connect;
        this.store = store;
        this.self = self;
        this.pool = pool;
        this.metrics = metrics;
        this.misfireThreshold = misfireThreshold;
        this.clock = clock;
        this.enqueue = new ScheduledEnqueue(pool, metrics, misfireThreshold, clock);
    }

    /** The key of a node's lock (second of the two integers): the first four bytes of its id's SHA-256. */
    static int key(String instanceId) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(("node:" + instanceId).getBytes(StandardCharsets.UTF_8));
            return (h[0] & 0xff) << 24 | (h[1] & 0xff) << 16 | (h[2] & 0xff) << 8 | (h[3] & 0xff);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** Starts the watch as a loop of {@code loops}. */
    public synchronized void start(Loops loops) {
        if (loop != null) {
            throw new IllegalStateException("node watch already started");
        }
        loop = loops.add(new Loop("node-watch", this::turn, () -> metrics.loopError("node-watch"))).start();
    }

    /** The peer whose lock it waits on now, or null. */
    public String watched() {
        return watched;
    }

    /**
     * One turn: (re)connect and take this node's lock if need be, then one wait. A failure ends the
     * session (its locks go with it) and the loop backs off; Quartz's own recovery still covers a
     * peer's death meanwhile.
     */
    private Duration turn() throws Exception {
        if (stopping) {
            return WAIT;    // close() is about to stop the loop, which ends this wait
        }
        try {
            if (holder == null) {
                holder = open("nightshift node ");
                holderPid = backendPid(holder);
                holdsOwnLock = false;
            }
            if (!holdsOwnLock) {
                holdsOwnLock = lockOwn(holder);
            }
        } catch (Throwable t) {
            holder = closeQuietly(holder);
            throw t;
        }
        try {
            if (waiter == null) {
                waiter = open("nightshift watch ");
            }
            watchOnce(waiter);
            return Duration.ZERO;
        } catch (InterruptedException e) {
            throw e;
        } catch (Throwable t) {
            waiter = closeQuietly(waiter);
            if (stopping) {
                return WAIT;    // the wait cancelled by close(): not a failure
            }
            throw t;
        }
    }

    /** One wait on the next peer's lock, or on a change of the members when there is no peer to wait on. */
    private void watchOnce(Connection c) throws SQLException, InterruptedException {
        List<String> members = store.members();
        String peer = nextPeer(members, clock.instant());
        watched = peer;
        if (peer == null) {
            store.awaitMembersOtherThan(members, WAIT);
            return;
        }
        switch (waitFor(c, peer)) {
            case OWN_LOCK_LOST -> {
                log.warn("node {}: its lock session has ended (terminated by the server?); taking the lock again", self);
                holder = closeQuietly(holder);
            }
            case FREE -> {
                unlock(c, peer);
                log.debug("node {} holds no lock (older version, or between sessions); not watched for {} s", peer, WAIT.toSeconds());
                resting.put(peer, clock.instant().plus(WAIT));
            }
            case GRANTED -> {
                try {
                    takeOver(peer);
                } finally {
                    unlock(c, peer);
                }
                resting.put(peer, clock.instant().plus(WAIT));
            }
            case TIMED_OUT -> {
                // alive; wait again (the members may have changed meanwhile)
            }
        }
    }

    /** The first member after this node in the sorted ring that is not resting; null when there is none. */
    String nextPeer(List<String> members, Instant now) {
        resting.values().removeIf(until -> !until.isAfter(now));
        List<String> ring = new ArrayList<>();
        members.stream().filter(m -> m.compareTo(self) > 0).forEach(ring::add);
        members.stream().filter(m -> m.compareTo(self) < 0).forEach(ring::add);
        return ring.stream().filter(m -> !resting.containsKey(m)).findFirst().orElse(null);
    }

    private Connection open(String applicationName) throws Exception {
        Connection c = connect.call();
        try (Statement st = c.createStatement()) {
            st.execute("SET lock_timeout = " + WAIT.toMillis());
            st.execute("SET statement_timeout = 0");
            // the node's name, for an operator (and a test) telling its sessions apart
            st.execute("SET application_name = '" + (applicationName + self).replace("'", "''") + "'");
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private static int backendPid(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private boolean lockOwn(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?, ?)")) {
            ps.setInt(1, LOCK_CLASS);
            ps.setInt(2, key(self));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                boolean held = rs.getBoolean(1);
                if (!held) {
                    log.warn("node {}: its lock is held by another session (a previous process of the same name not gone yet, or a peer"
                            + " taking over from it); trying again", self);
                }
                return held;
            }
        }
    }

    private Wait waitFor(Connection c, String peer) throws SQLException {
        int k = key(peer);
        try (PreparedStatement ps = c.prepareStatement(WAIT_FOR)) {
            ps.setBoolean(1, holdsOwnLock);                 // this node's lock, when it has it:
            ps.setInt(2, LOCK_CLASS);                       //   class
            ps.setInt(3, key(self));                        //   key
            ps.setInt(4, holderPid);                        //   held by its lock session
            ps.setInt(5, LOCK_CLASS);                       // the peer's lock
            ps.setInt(6, k);
            ps.setInt(7, LOCK_CLASS);
            ps.setInt(8, k);
            waiting = ps;
            if (stopping) {
                return Wait.TIMED_OUT;
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return switch (rs.getString(1)) {
                    case "own-lock-lost" -> Wait.OWN_LOCK_LOST;
                    case "granted" -> Wait.GRANTED;
                    default -> Wait.FREE;
                };
            }
        } catch (SQLException e) {
            if (SqlStates.LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
                return Wait.TIMED_OUT;
            }
            throw e;
        } finally {
            waiting = null;
        }
    }

    private static void unlock(Connection c, String peer) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock(?, ?)")) {
            ps.setInt(1, LOCK_CLASS);
            ps.setInt(2, key(peer));
            ps.execute();
        }
    }

    /**
     * The peer's session has ended: enqueue its due slots, then have Quartz recover it. A failure
     * here is logged and left to Quartz's own recovery, which comes anyway.
     */
    private void takeOver(String peer) {
        long started = System.nanoTime();
        try {
            List<String> enqueued = new ArrayList<>();
            for (DueSlot s : dueSlots(peer, clock.instant())) {
                enqueue.enqueueForDeadNode(s.schedule(), s.slot());
                enqueued.add(s.schedule() + "@" + s.slot());
            }
            int held = store.recoverNow(peer);
            long ms = (System.nanoTime() - started) / 1_000_000;
            if (held > 0 || !enqueued.isEmpty()) {
                log.warn("node {} is gone (its session ended): enqueued its due slots {} and recovered its {} acquired or firing"
                        + " triggers, in {} ms", peer, enqueued, held, ms);
            } else {
                // a node stopped gracefully releases its triggers itself: only its Quartz state was left, if anything
                log.info("node {} is gone (its session ended); it held no trigger{}", peer, held == 0 ? "; its Quartz state removed" : "");
            }
        } catch (Exception e) {
            metrics.loopError("node-watch");
            log.warn("node {} is gone, but taking over its schedules failed; Quartz's own recovery will do it: {}", peer, e.toString());
        }
    }

    private record DueSlot(String schedule, Instant slot) {
    }

    private List<DueSlot> dueSlots(String peer, Instant now) throws SQLException {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(DUE_SLOTS)) {
            ps.setString(1, QuartzCluster.NAME);                                          // sched_name
            ps.setString(2, peer);                                                        // instance_name
            ps.setString(3, QuartzCluster.GROUP);                                         // trigger_group: not recovery triggers
            ps.setLong(4, now.toEpochMilli());                                            // sched_time: due
            ps.setLong(5, now.minus(misfireThreshold.dividedBy(2)).toEpochMilli());       // sched_time: well within the threshold
            List<DueSlot> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new DueSlot(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2))));
                }
            }
            return out;
        }
    }

    private static Connection closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                log.debug("node watch: closing its connection: {}", e.getMessage());
            }
        }
        return null;
    }

    /** Ends the wait and the loop; the session's end releases this node's lock. */
    @Override
    public void close() {
        stopping = true;
        Statement s = waiting;
        if (s != null) {
            try {
                s.cancel();
            } catch (SQLException e) {
                log.debug("node watch: cancelling its wait: {}", e.getMessage());
            }
        }
        Loop l;
        synchronized (this) {
            l = loop;
        }
        if (l != null) {
            l.stop(Duration.ofSeconds(10));
        }
        waiter = closeQuietly(waiter);
        holder = closeQuietly(holder);
    }
}
