package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.config.Setting;
import dev.nightshift.config.SettingsLoader;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.testing.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The node's scheduler settings reach its Quartz instance. */
@Tag("database")
class SchedulerOptionsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void configured_scheduler_threads_and_misfire_threshold_reach_quartz() throws Exception {
        var settings = SettingsLoader.load(Map.of("NIGHTSHIFT_SCHEDULER_THREADS", "3"), null,
                Map.of(Setting.MISFIRE_THRESHOLD, "90s"));
        SchedulerOptions options = SchedulerOptions.of(settings);

        Properties p = QuartzCluster.properties("n1", "ds", options);
        assertThat(p.getProperty("org.quartz.jobStore.misfireThreshold")).isEqualTo("90000");
        try (QuartzCluster q = QuartzCluster.create(db.dataSource(), "n1", options, new Metrics(new SimpleMeterRegistry()))) {
            assertThat(q.quartz().getMetaData().getThreadPoolSize()).isEqualTo(3);
        }
        assertThat(p.getProperty("org.quartz.scheduler.batchTriggerAcquisitionMaxCount")).isEqualTo("3");
        assertThat(p.getProperty("org.quartz.scheduler.batchTriggerAcquisitionFireAheadTimeWindow")).isEqualTo("0");
        Properties batched = QuartzCluster.properties("n1", "ds", options.withBatch(50, java.time.Duration.ofMillis(500)));
        assertThat(batched.getProperty("org.quartz.scheduler.batchTriggerAcquisitionMaxCount")).isEqualTo("50");
        assertThat(batched.getProperty("org.quartz.scheduler.batchTriggerAcquisitionFireAheadTimeWindow")).isEqualTo("500");
        assertThat(batched.getProperty("org.quartz.jobStore.acquireTriggersWithinLock")).isEqualTo("true");
    }
}
