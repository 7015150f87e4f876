package dev.nightshift.schedule;

import dev.nightshift.metrics.Metrics;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.impl.SchedulerRepository;
import org.quartz.impl.StdSchedulerFactory;
import org.quartz.impl.jdbcjobstore.PostgreSQLDelegate;
import org.quartz.impl.matchers.GroupMatcher;
import org.quartz.utils.DBConnectionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's member of the Quartz cluster: a scheduler on the clustered JDBC job store in the
 * nightshift schema, using the node's own connection pool. Every node uses the scheduler name
 * {@value #NAME} (the cluster) and its node name as instance id. Created stopped: {@code sync}
 * uses it unstarted to edit triggers; the daemon starts it. Thread-safe; close once.
 */
public final class QuartzCluster implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QuartzCluster.class);
    /** SCHED_NAME in the qrtz_ tables; the same on every node, or they would not form one cluster. */
    public static final String NAME = "nightshift";
    /** Group of nightshift's job details and triggers; Quartz keeps recovery triggers in a group of its own. */
    public static final String GROUP = "nightshift";
    private static final Object CREATION = new Object();
    private static final AtomicInteger DATA_SOURCES = new AtomicInteger();

    private final Scheduler scheduler;
    private final SchedulerMetrics listener;
    private final ClusterJobStore store;
    private final String nodeName;
    private final DataSource pool;
    private final Metrics metrics;
    private final Duration misfireThreshold;
    private final Clock clock;

    private QuartzCluster(Scheduler scheduler, SchedulerMetrics listener, ClusterJobStore store, String nodeName, DataSource pool,
                          Metrics metrics, Duration misfireThreshold, Clock clock) {
        this.scheduler = scheduler;
        this.listener = listener;
        this.store = store;
        this.nodeName = nodeName;
        this.pool = pool;
        this.metrics = metrics;
        this.misfireThreshold = misfireThreshold;
        this.clock = clock;
    }

    public static QuartzCluster create(DataSource pool, String nodeName, SchedulerOptions options, Metrics metrics) {
        return create(pool, nodeName, options, metrics, Clock.systemUTC());
    }

    /** @param clock what a fire reads to tell whether its slot is past the misfire threshold */
    public static QuartzCluster create(DataSource pool, String nodeName, SchedulerOptions options, Metrics metrics, Clock clock) {
        String dataSource = "nightshift-" + DATA_SOURCES.incrementAndGet();
        DBConnectionManager.getInstance().addConnectionProvider(dataSource, new PoolConnectionProvider(pool));
        try {
            Scheduler s;
            ClusterJobStore store;
            // Quartz keeps one scheduler per name in a JVM-wide registry; tests run several nodes in
            // one JVM, all named NAME. Each is unregistered as soon as it exists: nothing here looks it up.
            synchronized (CREATION) {
                StdSchedulerFactory f = new StdSchedulerFactory(properties(nodeName, dataSource, options));
                s = f.getScheduler();
                store = ClusterJobStore.take(dataSource);
                SchedulerRepository.getInstance().remove(NAME);
            }
            s.setJobFactory(new EnqueueJobFactory(pool, metrics, options.misfireThreshold(), clock));
            SchedulerMetrics listener = new SchedulerMetrics(pool, metrics);
            s.getListenerManager().addTriggerListener(listener, GroupMatcher.anyTriggerGroup());
            return new QuartzCluster(s, listener, store, nodeName, pool, metrics, options.misfireThreshold(), clock);
        } catch (SchedulerException e) {
            throw new IllegalStateException("cannot create the Quartz scheduler: " + e.getMessage(), e);
        }
    }

    static Properties properties(String nodeName, String dataSource, SchedulerOptions o) {
        Properties p = new Properties();
        p.setProperty("org.quartz.scheduler.instanceName", NAME);
        p.setProperty("org.quartz.scheduler.instanceId", nodeName);
        p.setProperty("org.quartz.scheduler.threadName", "nightshift-quartz-" + nodeName);
        p.setProperty("org.quartz.scheduler.makeSchedulerThreadDaemon", "true");
        p.setProperty("org.quartz.scheduler.idleWaitTime", Long.toString(o.idleWait().toMillis()));
        // A batch per acquisition: with many jobs on one slot, each round trip under the
        // cluster-wide TRIGGER_ACCESS lock serves several triggers instead of one.
        p.setProperty("org.quartz.scheduler.batchTriggerAcquisitionMaxCount", Integer.toString(o.effectiveBatchSize()));
        p.setProperty("org.quartz.scheduler.batchTriggerAcquisitionFireAheadTimeWindow", Long.toString(o.fireAhead().toMillis()));
        p.setProperty("org.quartz.threadPool.class", "org.quartz.simpl.SimpleThreadPool");
        p.setProperty("org.quartz.threadPool.threadCount", Integer.toString(o.threads()));
        p.setProperty("org.quartz.threadPool.threadNamePrefix", "nightshift-fire-" + nodeName);
        p.setProperty("org.quartz.threadPool.makeThreadsDaemons", "true");
        // A fire that keeps trying through a database outage (ScheduledEnqueue) is told to stop at shutdown.
        p.setProperty("org.quartz.scheduler.interruptJobsOnShutdown", "true");
        p.setProperty("org.quartz.scheduler.interruptJobsOnShutdownWithWait", "true");
        // JobStoreTX with a recovery of a named node on demand (NodeWatch)
        p.setProperty("org.quartz.jobStore.class", ClusterJobStore.class.getName());
        p.setProperty("org.quartz.jobStore.driverDelegateClass", PostgreSQLDelegate.class.getName());
        p.setProperty("org.quartz.jobStore.dataSource", dataSource);
        p.setProperty("org.quartz.jobStore.tablePrefix", "nightshift.qrtz_");
        p.setProperty("org.quartz.jobStore.isClustered", "true");
        p.setProperty("org.quartz.jobStore.clusterCheckinInterval", Long.toString(o.checkinInterval().toMillis()));
        p.setProperty("org.quartz.jobStore.misfireThreshold", Long.toString(o.misfireThreshold().toMillis()));
        // Strings only in JobDataMaps: no Java serialization in the database.
        p.setProperty("org.quartz.jobStore.useProperties", "true");
        // Acquisition under the row lock too: without it, nodes can acquire the same trigger.
        p.setProperty("org.quartz.jobStore.acquireTriggersWithinLock", "true");
        return p;
    }

    public Scheduler quartz() {
        return scheduler;
    }

    /**
     * The watch that takes over a gone peer's schedules at once ({@link NodeWatch}), on sessions
     * from {@code connect} (one at a time, outside the pool, kept for the node's life); not started.
     */
    public NodeWatch watch(Callable<Connection> connect) {
        return new NodeWatch(connect, store, nodeName, pool, metrics, misfireThreshold, clock);
    }

    public void start() {
        try {
            scheduler.start();
        } catch (SchedulerException e) {
            throw new IllegalStateException("cannot start the Quartz scheduler: " + e.getMessage(), e);
        }
    }

    public boolean started() {
        try {
            return scheduler.isStarted() && !scheduler.isShutdown() && !scheduler.isInStandbyMode();
        } catch (SchedulerException e) {
            // a scheduler that cannot say it is started is not: readiness reports it
            return false;
        }
    }

    /** Stops firing at once and waits for fires in progress (each only inserts a run); fires nothing more. */
    @Override
    public void close() {
        try {
            scheduler.shutdown(true);
        } catch (SchedulerException e) {
            log.warn("Quartz did not shut down cleanly: {}", e.getMessage());
        }
        listener.close();
    }
}
