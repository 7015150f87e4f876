package dev.nightshift.testing;

import static org.awaitility.Awaitility.await;

import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueries;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.queue.RunView;
import java.time.Duration;
import java.util.Map;
import javax.sql.DataSource;

/** Triggers a run through the queue, as `nightshift trigger` does, and waits until it has finished. */
public final class Runs {
    private Runs() {
    }

    public static RunView triggerAndWait(DataSource ds, String job) throws Exception {
        long id = new RunQueue(ds).enqueue(NewRun.manual(job, Map.of(), null)).id();
        RunQueries q = new RunQueries(ds);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .until(() -> q.find(id).orElseThrow().finished());
        return q.find(id).orElseThrow();
    }
}
