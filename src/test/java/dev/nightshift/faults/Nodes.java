package dev.nightshift.faults;

import static org.awaitility.Awaitility.await;

import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.NodeProcess;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Starts daemons for the fault tests, each with a short stall timeout, optionally through a proxy. */
final class Nodes {
    /** The stall timeout of the fault tests' nodes: short, so a test waits seconds, not minutes. */
    static final Duration STALL = Duration.ofSeconds(10);

    private Nodes() {
    }

    /**
     * Starts {@code nightshift run} as {@code name} on {@code db} (or on {@code url} when not null, e.g.
     * a proxy's) and waits until it has connected.
     */
    static NodeProcess start(TestDatabase db, JobsDir jobs, String name, String url, String... more) throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        if (url != null) {
            env.put("NIGHTSHIFT_DB_URL", url);
        }
        List<String> flags = new ArrayList<>(List.of("--jobs-dir", jobs.path().toString(), "--poll-interval", "200ms",
                "--rescue-interval", "500ms", "--http-port", "0", "--stall-timeout", STALL.toSeconds() + "s",
                "--shutdown-grace", "5s"));
        flags.addAll(List.of(more));
        NodeProcess p = db.closeAfterAll(NodeProcess.start(env, db.tempDir(), name, flags.toArray(String[]::new)));
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> db.queryLong(
                "SELECT count(*) FROM nightshift.job") > 0
                && db.queryLong("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        + " AND application_name = 'nightshift " + name + "'") > 0);
        return p;
    }

    /** One line per run of {@code job}: "state|node|attempt", ordered by id. */
    static List<String> runs(TestDatabase db, String job) throws Exception {
        return db.rows("SELECT state, node, attempt FROM nightshift.run WHERE job_name = '" + job + "' ORDER BY id");
    }
}
