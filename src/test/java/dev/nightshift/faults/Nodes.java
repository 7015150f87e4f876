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

    /**
     * A job's SQL that records its run and attempt in {@code ledger} (no unique constraint, so a
     * duplicate shows) and then, on the first attempt only, waits until a row appears in the table
     * {@code gate}: the test holds its runs running until the moment of its fault.
     */
    static String gatedRecord(String ledger) {
        return "INSERT INTO " + ledger + " (run_id, attempt) VALUES (current_setting('nightshift.run_id')::bigint,"
                + " current_setting('nightshift.attempt')::int);\n"
                + "DO $$ BEGIN IF current_setting('nightshift.attempt') = '1' THEN"
                + " WHILE NOT EXISTS (SELECT 1 FROM gate) LOOP PERFORM pg_sleep(0.05); END LOOP; END IF; END $$";
    }

    /**
     * The ledgers, the gate and two gated jobs the node-fault tests share: {@code counted}
     * (transactional, concurrency 2, recorded in {@code ledger}) and {@code loose} ({@code
     * transaction: false}, recorded in {@code loose_ledger}).
     */
    static JobsDir gatedJobs(TestDatabase db) throws Exception {
        db.execute("CREATE TABLE ledger (run_id bigint NOT NULL, attempt int NOT NULL)");
        db.execute("CREATE TABLE loose_ledger (run_id bigint NOT NULL, attempt int NOT NULL)");
        db.execute("CREATE TABLE gate (opened boolean)");
        return new JobsDir(db.tempDir(), "jobs")
                .sql("counted", gatedRecord("ledger"), "max_attempts: 5\nconcurrency: 2\n")
                .file("loose.yaml", looseJob("loose", gatedRecord("loose_ledger")));
    }

    /** A {@code transaction: false} sql job. */
    static String looseJob(String name, String sql) {
        return "name: " + name + "\ntype: sql\nmax_attempts: 5\nparams:\n  transaction: false\n  sql: |\n    "
                + sql.replace("\n", "\n    ") + "\n";
    }

    /** One line per run of {@code job}: "state|node|attempt", ordered by id. */
    static List<String> runs(TestDatabase db, String job) throws Exception {
        return db.rows("SELECT state, node, attempt FROM nightshift.run WHERE job_name = '" + job + "' ORDER BY id");
    }
}
