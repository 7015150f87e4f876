package dev.nightshift.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.testing.Cli;
import dev.nightshift.testing.FaultProxy;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A trigger whose COMMIT reaches the server but whose reply is lost: the client's retry must not
 * create a second run (every trigger carries an idempotency key, generated when none is given).
 */
@Tag("database")
class LostReplyTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void a_trigger_whose_commit_reply_is_lost_creates_exactly_one_run() throws Exception {
        JobsDir jobs = new JobsDir(db.tempDir(), "lost-reply").sql("once", "select 1", "");
        Map<String, String> env = new HashMap<>(db.env());
        env.put("NIGHTSHIFT_JOBS_DIR", jobs.path().toString());
        assertThat(Cli.run(env, "sync").exitCode()).isZero();
        URI server = URI.create(db.url().substring("jdbc:".length()));

        Cli.Result r;
        try (FaultProxy proxy = new FaultProxy(server.getHost(), server.getPort())) {
            env.put("NIGHTSHIFT_DB_URL", proxy.url(db.url()));
            proxy.loseCommitReply("INSERT INTO nightshift.run_key");
            r = Cli.run(env, "trigger", "once");
            assertThat(proxy.lostReplies()).as("the fault was injected").isEqualTo(1);
        }

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("run \\d+ of job once enqueued");
        assertThat(db.rows("SELECT count(*), min(trigger) FROM nightshift.run WHERE job_name = 'once'")).containsExactly("1|manual");
    }
}
