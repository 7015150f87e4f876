package dev.nightshift.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.Receiver;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A slot turns late at its deadline instant: the node wakes then (not at its 30 s refresh) and notifies within 2 s. */
@Tag("database")
class LateNotificationTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void a_late_slot_is_notified_within_two_seconds_of_its_deadline() throws Exception {
        try (Receiver hook = new Receiver(n -> 200)) {
            JobsDir jobs = new JobsDir(db.tempDir(), "late").file("slow.yaml", "name: slow\ntype: sql\nmax_attempts: 1\n"
                    + "schedule: {cron: \"0/15 * * * * ?\"}\ndeadline: 4s\nnotify: [" + hook.url() + "]\n"
                    + "params: {sql: SELECT pg_sleep(20)}\n");
            db.closeAfterAll(Daemon.start(db.settings(jobs.path())));
            await().atMost(Duration.ofSeconds(40)).until(() -> db.queryLong(
                    "SELECT count(*) FROM nightshift.notification WHERE event = 'late'") > 0);
            double lag = Double.parseDouble(db.queryString("""
                    SELECT extract(epoch FROM created_at - (slot + interval '4 seconds'))
                    FROM nightshift.notification WHERE event = 'late' ORDER BY id LIMIT 1"""));
            assertThat(lag).as("seconds from the deadline to the notification").isBetween(0.0, 2.0);
            await().atMost(Duration.ofSeconds(10)).until(() -> !hook.hits().isEmpty());
            assertThat(hook.hits().get(0).body()).contains("\"event\":\"late\"", "\"job\":\"slow\"");
        }
    }
}
