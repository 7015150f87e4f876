package dev.nightshift.schedule;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.quartz.JobPersistenceException;
import org.quartz.SchedulerConfigException;
import org.quartz.impl.jdbcjobstore.JobStoreTX;
import org.quartz.impl.jdbcjobstore.SchedulerStateRecord;
import org.quartz.spi.ClassLoadHelper;
import org.quartz.spi.SchedulerSignaler;

/**
 * Quartz's clustered JDBC job store with two additions for {@link NodeWatch}: it keeps the
 * cluster's members as its own check-in reads them (one more read of the few rows of
 * {@code qrtz_scheduler_state} in the check-in's transaction, so no transaction of its own), and
 * it recovers one named node at once ({@link #recoverNow}), with Quartz's own recovery code,
 * instead of waiting until the node has missed its check-ins (10 s plus 7.5 s). Quartz creates it
 * from its class name; {@link QuartzCluster} finds it by its data source name, unique per
 * scheduler. Thread-safe as Quartz's store is.
 */
public final class ClusterJobStore extends JobStoreTX {
    private static final Map<String, ClusterJobStore> CREATED = new ConcurrentHashMap<>();

    private final Object membersLock = new Object();
    private List<String> members = List.of();

    @Override
    public void initialize(ClassLoadHelper loadHelper, SchedulerSignaler signaler) throws SchedulerConfigException {
        super.initialize(loadHelper, signaler);
        CREATED.put(getDataSource(), this);
    }

    /** The store Quartz created for {@code dataSource}, handed over once. */
    static ClusterJobStore take(String dataSource) {
        ClusterJobStore s = CREATED.remove(dataSource);
        if (s == null) {
            throw new IllegalStateException("Quartz created no " + ClusterJobStore.class.getSimpleName() + " for " + dataSource);
        }
        return s;
    }

    @Override
    protected List<SchedulerStateRecord> clusterCheckIn(Connection conn) throws JobPersistenceException {
        List<SchedulerStateRecord> failed = super.clusterCheckIn(conn);
        try {
            List<String> now = getDelegate().selectSchedulerStateRecords(conn, null).stream()
                    .map(SchedulerStateRecord::getSchedulerInstanceId).sorted().toList();
            synchronized (membersLock) {
                if (!now.equals(members)) {
                    members = now;
                    membersLock.notifyAll();
                }
            }
        } catch (SQLException e) {
            throw new JobPersistenceException("cannot read the cluster's members: " + e.getMessage(), e);
        }
        return failed;
    }

    /** The instance ids of the cluster's members at the last check-in, sorted; this node among them once it has checked in. */
    List<String> members() {
        synchronized (membersLock) {
            return members;
        }
    }

    /** Waits until the members differ from {@code known} or {@code max} has passed; returns them. */
    List<String> awaitMembersOtherThan(List<String> known, Duration max) throws InterruptedException {
        long end = System.nanoTime() + max.toNanos();
        synchronized (membersLock) {
            long left;
            while (members.equals(known) && (left = end - System.nanoTime()) > 0) {
                membersLock.wait(Math.max(1, left / 1_000_000));
            }
            return members;
        }
    }

    /**
     * Recovers the node {@code instanceId} now, as Quartz's cluster manager does for a node that
     * missed its check-ins: under the same two locks, its acquired triggers go back to waiting (a
     * live node acquires them at its next look, which this wakes on this node), a fire it had
     * started gets a recovery trigger (nightshift's jobs request recovery; the slot's dedupe key
     * absorbs the repeat), its fired-trigger rows and its state row go.
     *
     * @return how many triggers it had acquired or was firing; -1 when nothing was left of it (a
     *         cluster manager recovered it first)
     */
    int recoverNow(String instanceId) throws JobPersistenceException {
        if (instanceId.equals(getInstanceId())) {
            throw new IllegalArgumentException("a node does not recover itself: " + instanceId);
        }
        Connection conn = getNonManagedTXConnection();
        boolean stateLocked = false;
        boolean triggersLocked = false;
        try {
            // the cluster manager's order (doCheckin): state first, then triggers
            getLockHandler().obtainLock(conn, LOCK_STATE_ACCESS);
            stateLocked = true;
            int fired = getDelegate().selectInstancesFiredTriggerRecords(conn, instanceId).size();
            boolean left = fired > 0 || !getDelegate().selectSchedulerStateRecords(conn, instanceId).isEmpty();
            if (left) {
                getLockHandler().obtainLock(conn, LOCK_TRIGGER_ACCESS);
                triggersLocked = true;
                SchedulerStateRecord gone = new SchedulerStateRecord();
                gone.setSchedulerInstanceId(instanceId);
                clusterRecover(conn, List.of(gone));
            }
            commitConnection(conn);
            if (left) {
                signalSchedulingChangeImmediately(0L);
            }
            return left ? fired : -1;
        } catch (SQLException e) {
            rollbackConnection(conn);
            throw new JobPersistenceException("cannot recover node " + instanceId + ": " + e.getMessage(), e);
        } catch (JobPersistenceException | RuntimeException e) {
            rollbackConnection(conn);
            throw e;
        } finally {
            try {
                releaseLock(LOCK_TRIGGER_ACCESS, triggersLocked);
            } finally {
                try {
                    releaseLock(LOCK_STATE_ACCESS, stateLocked);
                } finally {
                    cleanupConnection(conn);
                }
            }
        }
    }
}
