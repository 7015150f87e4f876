package dev.nightshift.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.PrivateServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 15, defect 1: the database goes away for 10 s in the middle of a fire, after Quartz has
 * moved the trigger on and before the slot's runs are inserted. The fire must keep trying, so the
 * slot still gets its run. Uses a PostgreSQL server of its own, which it stops.
 */
@Tag("process")
class FireOutageTest {
    @RegisterExtension
    static final PrivateServer pg = new PrivateServer("nightshift-fire-outage");

    private static List<Instant> slots() throws Exception {
        try (Connection c = pg.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT scheduled_at FROM nightshift.run WHERE trigger = 'schedule' ORDER BY scheduled_at")) {
            List<Instant> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getTimestamp(1).toInstant());
            }
            return out;
        }
    }

    @Test
    void a_fire_cut_off_by_a_10_second_outage_still_enqueues_its_slot() throws Exception {
        JobsDir jobs = new JobsDir(pg.home(), "jobs").sql("tick", "SELECT 1", "schedule:\n  cron: \"0/3 * * * * ?\"\n");
        try (Daemon daemon = Daemon.start(pg.settings(jobs, "fire-outage-node", Map.of()))) {
            await().atMost(Duration.ofSeconds(20)).until(() -> slots().size() >= 1);
            List<Instant> before = slots();
            // The next fire's INSERT waits behind this lock, then the server goes away under it.
            Connection blocker = pg.connect();
            blocker.setAutoCommit(false);
            blocker.createStatement().execute("LOCK TABLE nightshift.queue IN ACCESS EXCLUSIVE MODE");
            try (Connection watch = pg.connect(); Statement st = watch.createStatement()) {
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                            + " AND query LIKE '%INSERT INTO nightshift.queue (id, job_name, trigger, scheduled_at%'")) {
                        rs.next();
                        return rs.getLong(1) > 0;
                    }
                });
            }
            pg.server().stop();
            Thread.sleep(10_000);   // the outage itself, not a wait for a result
            pg.server().start();

            Instant last = before.get(before.size() - 1);
            await().atMost(Duration.ofSeconds(40)).ignoreExceptions()
                    .until(() -> slots().stream().filter(s -> s.isAfter(last.plusSeconds(12))).count() >= 1);
            List<Instant> after = slots();
            List<Instant> expected = new ArrayList<>();
            for (Instant s = before.get(0); !s.isAfter(after.get(after.size() - 1)); s = s.plusSeconds(3)) {
                expected.add(s);
            }
            assertThat(after).as("every slot from the first to the last, once, the one fired at the outage included")
                    .containsExactlyElementsOf(expected);
        }
    }
}
