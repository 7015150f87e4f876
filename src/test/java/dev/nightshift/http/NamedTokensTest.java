package dev.nightshift.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.ConfigException;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.Cli;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Named tokens and a trusted proxy give every action an actor: recorded on the run, in the audit
 * table, and readable by the job's SQL; roles bound what each may do; the tokens file is re-read
 * when it changes, and a bad line never locks anyone out nor lets anyone in.
 */
@Tag("database")
class NamedTokensTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    static final String ALICE = "alice-operator-token-5d1e0c";
    static final String VIEWER = "viewer-read-token-77a0f1";
    static final String ROOT = "root-admin-token-e3b4a9";
    static final String BOB = "bob-operator-token-a0c3d2";

    static Path tokens;
    static JobsDir jobs;
    static Http http;

    static String sha256(String token) {
        return HexFormat.of().formatHex(Auth.sha256(token));
    }

    static void writeTokens(String text) throws Exception {
        Path tmp = tokens.resolveSibling("tokens.tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, tokens, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @BeforeAll
    static void start() throws Exception {
        db.execute("CREATE TABLE public.seen (run_id bigint, actor text)");
        jobs = new JobsDir(db.tempDir(), "named-tokens")
                .sql("note", "INSERT INTO public.seen SELECT current_setting('nightshift.run_id')::bigint, current_setting('nightshift.actor')", null)
                .sql("hold", "SELECT pg_sleep(30)", null)
                .sql("broken", "SELECT 1 / 0", "max_attempts: 1\n")
                .sql("refused", "SELECT 1 / 0", "max_attempts: 1\n");
        tokens = db.tempDir().resolve("tokens");
        writeTokens("# name role sha256\nalice operator " + sha256(ALICE) + "\nviewer read " + sha256(VIEWER) + "\n\nroot admin "
                + sha256(ROOT) + "\n");
        Daemon daemon = db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.TOKENS_FILE, tokens.toString(),
                Setting.TRUSTED_PROXIES, "127.0.0.1", Setting.PROXY_ROLE, "operator"))));
        http = new Http(daemon.httpPort());
    }

    @Test
    void a_named_tokens_trigger_records_its_name_on_the_run_in_the_audit_table_and_in_the_jobs_sql() throws Exception {
        Http.Reply r = http.post("/api/jobs/note/trigger", "{\"params\": {\"why\": \"month end\"}}", ALICE);
        assertThat(r.status()).isEqualTo(201);
        long id = r.json().path("run").path("id").asLong();
        assertThat(r.json().path("run").path("actor").asText()).isEqualTo("alice");
        await().atMost(Duration.ofSeconds(20)).until(() -> db.queryLong("SELECT count(*) FROM public.seen WHERE run_id = " + id) == 1);
        assertThat(db.queryString("SELECT actor FROM public.seen WHERE run_id = " + id)).isEqualTo("alice");
        assertThat(db.rows("SELECT actor || ' ' || role || ' ' || action || ' ' || job_name || ' ' || (detail->'params'->>'why')"
                + " FROM nightshift.audit WHERE run_id = " + id)).containsExactly("alice operator trigger note month end");
    }

    @Test
    void an_operator_cannot_override_guards_and_an_admins_override_is_audited_as_such() throws Exception {
        long before = db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name IN ('note', 'refused')");
        Http.Reply refused = http.post("/api/jobs/note/trigger", "{\"override_guards\": true}", ALICE);
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.json().path("error").asText()).isEqualTo("'alice' has the role operator; guard-override needs admin");
        long dead = http.post("/api/jobs/refused/trigger", "{}", ROOT).json().path("run").path("id").asLong();
        await().atMost(Duration.ofSeconds(20)).until(() -> "dead".equals(db.queryString("SELECT state FROM nightshift.run WHERE id = " + dead)));
        assertThat(http.post("/api/runs/" + dead + "/override-guards", "", ALICE).status()).isEqualTo(403);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name IN ('note', 'refused')")).as("only the admin's broken run").isEqualTo(before + 1);

        Http.Reply allowed = http.post("/api/runs/" + dead + "/override-guards", "", ROOT);
        assertThat(allowed.status()).isEqualTo(201);
        long rerun = allowed.json().path("run").path("id").asLong();
        assertThat(db.rows("SELECT actor || ' ' || action FROM nightshift.audit WHERE run_id = " + rerun)).containsExactly("root guard-override");
    }

    @Test
    void a_read_token_reads_but_cannot_act_and_nothing_is_recorded() throws Exception {
        long before = db.queryLong("SELECT count(*) FROM nightshift.run");
        Http.Reply r = http.post("/api/jobs/note/trigger", "{}", VIEWER);
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.json().path("error").asText()).isEqualTo("'viewer' has the role read: it cannot change anything");
        assertThat(http.get("/api/jobs", "Bearer " + VIEWER).status()).isEqualTo(200);
        assertThat(http.get("/api/jobs", null).status()).as("a tokens file closes reads").isEqualTo(401);
        assertThat(http.post("/api/jobs/note/trigger", "{}", "no-such-token-0000000000").json().path("error").asText())
                .isEqualTo("unknown token");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run")).isEqualTo(before);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.audit WHERE actor = 'viewer'")).isZero();
    }

    @Test
    void cancel_retry_pause_and_resume_record_their_actor_in_the_same_transaction() throws Exception {
        long id = http.post("/api/jobs/hold/trigger", "{}", ROOT).json().path("run").path("id").asLong();
        await().atMost(Duration.ofSeconds(20)).until(() -> "running".equals(db.queryString("SELECT state FROM nightshift.run WHERE id = " + id)));
        assertThat(http.post("/api/runs/" + id + "/cancel", null, ALICE).status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).until(() -> "cancelled".equals(db.queryString("SELECT state FROM nightshift.run WHERE id = " + id)));
        assertThat(db.queryString("SELECT actor FROM nightshift.run WHERE id = " + id)).isEqualTo("alice");
        assertThat(http.post("/api/runs/" + id + "/retry", null, ROOT).status()).isEqualTo(200);
        assertThat(db.queryString("SELECT actor FROM nightshift.run WHERE id = " + id)).isEqualTo("root");
        http.post("/api/runs/" + id + "/cancel", null, ROOT);
        assertThat(http.post("/api/jobs/broken/pause", null, ALICE).status()).isEqualTo(200);
        assertThat(http.post("/api/jobs/broken/resume", null, ALICE).status()).isEqualTo(200);
        assertThat(db.rows("SELECT actor || ' ' || action FROM nightshift.audit WHERE run_id = " + id + " ORDER BY id"))
                .containsExactly("root trigger", "alice cancel", "root retry", "root cancel");
        assertThat(db.rows("SELECT actor || ' ' || action FROM nightshift.audit WHERE job_name = 'broken' ORDER BY id"))
                .containsExactly("alice pause", "alice resume");
        assertThat(http.get("/api/audit?actor=alice&action=pause", "Bearer " + VIEWER).json().path("entries").get(0)
                .path("job").asText()).isEqualTo("broken");
        assertThat(http.get("/audit?run=" + id, "Bearer " + VIEWER).body()).contains("alice").contains("root").contains("cancel");
    }

    @Test
    void the_audit_table_refuses_updates_and_deletes() throws Exception {
        http.post("/api/jobs/note/trigger", "{}", ROOT);
        assertThatThrownBy(() -> db.execute("UPDATE nightshift.audit SET actor = 'someone-else'")).hasMessageContaining("append-only");
        assertThatThrownBy(() -> db.execute("DELETE FROM nightshift.audit")).hasMessageContaining("append-only");
        assertThatThrownBy(() -> db.execute("TRUNCATE nightshift.audit")).hasMessageContaining("append-only");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.audit WHERE actor = 'root'")).isPositive();
    }

    @Test
    void the_tokens_file_is_reread_when_it_changes_and_a_bad_line_keeps_the_tokens_in_force() throws Exception {
        assertThat(http.post("/api/jobs/note/trigger", "{}", BOB).status()).isEqualTo(401);
        String good = "alice operator " + sha256(ALICE) + "\nviewer read " + sha256(VIEWER) + "\nroot admin " + sha256(ROOT)
                + "\nbob operator " + sha256(BOB) + "\n";
        writeTokens(good);
        assertThat(http.post("/api/jobs/note/trigger", "{}", BOB).status()).isEqualTo(201);
        // alice's line now broken: nothing of the new file applies, bob keeps working, alice too
        writeTokens("alice operator\nroot admin " + sha256(ROOT) + "\n");
        assertThat(http.post("/api/jobs/note/trigger", "{}", BOB).status()).isEqualTo(201);
        assertThat(http.post("/api/jobs/note/trigger", "{}", ALICE).status()).isEqualTo(201);
        writeTokens(good);
    }

    @Test
    void a_trusted_proxy_names_the_actor_and_the_header_from_elsewhere_is_ignored() throws Exception {
        Http.Reply r = http.post("/api/jobs/note/trigger", "{}", null, Map.of("X-Forwarded-User", "carol@example.org"));
        assertThat(r.status()).isEqualTo(201);
        assertThat(r.json().path("run").path("actor").asText()).isEqualTo("carol@example.org");
        assertThat(http.post("/api/jobs/note/trigger", "{}", null, Map.of("X-Forwarded-User", "carol <x>")).status()).isEqualTo(400);

        JobsDir other = new JobsDir(db.tempDir(), "untrusted").sql("note", "SELECT 1", null);
        try (Daemon untrusting = Daemon.start(db.settings(other.path(), Map.of(Setting.TOKENS_FILE, tokens.toString(),
                Setting.TRUSTED_PROXIES, "10.9.9.9", Setting.PROXY_ROLE, "admin")))) {
            Http.Reply refused = new Http(untrusting.httpPort()).post("/api/jobs/note/trigger", "{}", null,
                    Map.of("X-Forwarded-User", "mallory"));
            assertThat(refused.status()).isEqualTo(401);
        }
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.audit WHERE actor = 'mallory'")).isZero();
    }

    @Test
    void the_cli_records_its_operating_system_user_and_lists_the_audit() throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("NIGHTSHIFT_JOBS_DIR", jobs.path().toString());
        Cli.Result t = Cli.run(env, "trigger", "note");
        assertThat(t.exitCode()).as(t.err()).isZero();
        String cliActor = "cli:" + System.getProperty("user.name");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.audit WHERE action = 'trigger' AND actor = '" + cliActor + "'"))
                .isEqualTo(1);
        Cli.Result a = Cli.run(env, "audit", "--actor", cliActor, "--json");
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(a.out()).contains("\"actor\":\"" + cliActor + "\"").contains("\"action\":\"trigger\"");
        Cli.Result bad = Cli.run(env, "audit", "--action", "delete");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("--action must be one of trigger, cancel, retry");
    }

    @Test
    void a_tokens_file_with_bad_lines_stops_the_node_naming_each_file_and_line_and_never_echoing_a_token() throws Exception {
        Path bad = db.tempDir().resolve("bad-tokens");
        Files.writeString(bad, String.join("\n", List.of(
                "alice operator " + sha256(ALICE),
                "bob superuser " + sha256(BOB),
                "carol operator pasted-the-token-itself-by-mistake",
                "alice read " + sha256(VIEWER),
                "dave operator",
                "erin operator " + sha256(ALICE),
                "-frank read " + sha256("frank-token-000000000000"))) + "\n");
        assertThatThrownBy(() -> Daemon.start(db.settings(jobs.path(), Map.of(Setting.TOKENS_FILE, bad.toString()))))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems()).containsExactly(
                        bad + ":2: role 'superuser' must be admin, operator or read",
                        bad + ":3: the third field must be the token's SHA-256 as 64 hex digits (sha256sum), got 34 characters",
                        bad + ":4: name 'alice' is already used on line 1",
                        bad + ":5: expected NAME ROLE SHA256-HEX (3 fields), got 2 fields",
                        bad + ":6: the same token hash as line 1: each name needs a token of its own",
                        bad + ":7: name '-frank' must be 1-128 letters, digits and . _ @ : + -, starting with a letter or digit"))
                .hasMessageNotContaining("pasted-the-token-itself");
        assertThatThrownBy(() -> Daemon.start(db.settings(jobs.path(), Map.of(Setting.TOKENS_FILE, bad + "-missing"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("tokens file not found");
        assertThatThrownBy(() -> db.settings(jobs.path(), Map.of(Setting.TRUSTED_PROXIES, "proxy.example.org")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("trusted_proxies must be IP addresses");
        assertThatThrownBy(() -> db.settings(jobs.path(), Map.of(Setting.PROXY_ROLE, "root")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("proxy_role must be admin, operator or read");
    }
}
