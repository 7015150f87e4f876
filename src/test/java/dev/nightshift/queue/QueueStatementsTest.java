package dev.nightshift.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.testing.TestDatabase;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The claim and rescue statements on their own, with no node running. */
@Tag("database")
class QueueStatementsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @org.junit.jupiter.api.BeforeAll
    static void schema() {
        org.flywaydb.core.Flyway.configure().dataSource(db.dataSource()).schemas("nightshift").createSchemas(true)
                .locations("classpath:db/migration").load().migrate();
    }

    /** A claim takes runs of every job: each test starts with nothing left to claim or rescue by the others. */
    @org.junit.jupiter.api.BeforeEach
    void nothingWaiting() throws Exception {
        db.execute("UPDATE nightshift.run SET state = 'cancelled', finished_at = now() WHERE state IN ('available', 'running')");
    }

    @Test
    void a_claim_for_one_run_claims_exactly_one_even_with_several_jobs_due() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('one-a', 'sql', 5), ('one-b', 'sql', 5)");
        RunQueue queue = new RunQueue(db.dataSource());
        for (int i = 0; i < 3; i++) {
            queue.enqueue(NewRun.manual("one-a", Map.of(), null));
            queue.enqueue(NewRun.manual("one-b", Map.of(), null));
        }
        for (int round = 1; round <= 6; round++) {
            try (Connection c = db.dataSource().getConnection()) {
                assertThat(queue.claim(c, "claim-test", 1, true)).hasSize(1);
                assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE node = 'claim-test'")).isEqualTo(round);
                unlockAll(c);
            }
        }
    }


    @Test
    void an_orphaned_run_is_rescued_to_available_or_dead_on_its_last_attempt_and_a_locked_one_is_left_alone() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type) VALUES ('orphans', 'sql') ON CONFLICT DO NOTHING");
        db.execute("""
                INSERT INTO nightshift.run (job_name, trigger, state, node, attempt, max_attempts, started_at)
                VALUES ('orphans', 'manual', 'running', 'ghost', 1, 3, now()),
                       ('orphans', 'manual', 'running', 'ghost', 3, 3, now()),
                       ('orphans', 'manual', 'running', 'alive', 1, 3, now())""");
        long live = db.queryLong("SELECT id FROM nightshift.run WHERE node = 'alive'");
        try (Connection owner = db.dataSource().getConnection(); var st = owner.createStatement()) {
            st.execute("SELECT pg_advisory_lock_shared(" + RunLock.key(live) + ")");
            List<Long> rescued = new Maintenance(db.dataSource(), "rescuer").rescue();
            List<Long> ghosts = db.rows("SELECT id FROM nightshift.run WHERE node = 'ghost'").stream().map(Long::valueOf).toList();
            assertThat(rescued).containsAll(ghosts).doesNotContain(live);
            assertThat(ghosts).hasSize(2);
            st.execute("SELECT pg_advisory_unlock_all()");
        }
        assertThat(db.rows("SELECT attempt, state, last_error LIKE 'node ghost lost the run%' FROM nightshift.run "
                + "WHERE job_name = 'orphans' ORDER BY id"))
                .containsExactly("1|available|t", "3|dead|t", "1|running|null");
    }

    @Test
    void a_dead_nodes_run_keeps_its_concurrency_slot_until_it_is_rescued() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('single-slot', 'sql', 1)");
        db.execute("""
                WITH r AS (INSERT INTO nightshift.run (job_name, trigger, state, node, slot, attempt, max_attempts, started_at)
                           VALUES ('single-slot', 'manual', 'running', 'crashed', 0, 1, 3, now()) RETURNING id, job_name, slot)
                UPDATE nightshift.job_slot s SET run_id = r.id FROM r WHERE s.job_name = r.job_name AND s.slot = r.slot""");
        RunQueue queue = new RunQueue(db.dataSource());
        long waiting = queue.enqueue(NewRun.manual("single-slot", Map.of(), null)).id();
        try (Connection c = db.dataSource().getConnection()) {
            // the crashed node's run still counts as running: nothing more of this job may start
            assertThat(queue.claim(c, "survivor", 4, true)).isEmpty();
            new Maintenance(db.dataSource(), "survivor").rescue();
            // rescued: both are available now (the waiting one is older), and still only one may run at a time
            List<ClaimedRun> claimed = queue.claim(c, "survivor", 4, true);
            assertThat(claimed).hasSize(1);
            assertThat(claimed.get(0).id()).isEqualTo(waiting);
            assertThat(db.rows("SELECT state, count(*) FROM nightshift.run WHERE job_name = 'single-slot' GROUP BY state ORDER BY state"))
                    .containsExactly("available|1", "running|1");
            unlockAll(c);
        }
    }

    @Test
    void a_run_that_becomes_available_behind_a_sessions_last_claim_is_still_claimed() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('heads', 'sql', 200)");
        RunQueue queue = new RunQueue(db.dataSource());
        try (Connection c = db.dataSource().getConnection()) {
            queue.enqueue(NewRun.manual("heads", Map.of(), null));
            long first = queue.claim(c, "heads-node", 1, true).get(0).id();
            // older than the run this session claimed last: a rescued or late-committed run
            db.execute("INSERT INTO nightshift.run (job_name, trigger, max_attempts, run_at) VALUES ('heads', 'manual', 3, now() - interval '1 hour')");
            long behind = db.queryLong("SELECT max(id) FROM nightshift.run WHERE job_name = 'heads'");
            // alone, it is found by the probe from the start of the job's runs
            assertThat(queue.claim(c, "heads-node", 1, true)).extracting(ClaimedRun::id).containsExactly(behind);
            queue.enqueue(NewRun.manual("heads", Map.of(), null));
            long head = queue.claim(c, "heads-node", 1, true).get(0).id();

            db.execute("INSERT INTO nightshift.run (job_name, trigger, max_attempts, run_at) VALUES ('heads', 'manual', 3, now() - interval '1 hour')");
            long behindAgain = db.queryLong("SELECT max(id) FROM nightshift.run WHERE job_name = 'heads'");
            for (int i = 0; i < 100; i++) {
                queue.enqueue(NewRun.manual("heads", Map.of(), null));
            }
            // with runs past the head waiting, it is claimed within 64 claims of the session
            List<Long> claimed = new java.util.ArrayList<>();
            for (int i = 0; i < 64; i++) {
                claimed.add(queue.claim(c, "heads-node", 1, true).get(0).id());
            }
            assertThat(claimed).contains(behindAgain).doesNotContain(first, behind, head).doesNotHaveDuplicates();
            assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = 'heads' AND state = 'running'"))
                    .isEqualTo(67);
            unlockAll(c);
        }
    }

    @Test
    void a_job_at_its_concurrency_with_the_oldest_runs_does_not_hide_the_runs_of_other_jobs() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('front', 'sql', 1), ('behind-front', 'sql', 1)");
        db.execute("""
                WITH r AS (INSERT INTO nightshift.run (job_name, trigger, state, node, slot, attempt, max_attempts, started_at)
                           VALUES ('front', 'manual', 'running', 'elsewhere', 0, 1, 3, now()) RETURNING id, job_name, slot)
                UPDATE nightshift.job_slot s SET run_id = r.id FROM r WHERE s.job_name = r.job_name AND s.slot = r.slot""");
        // 100 older due runs of the full job, more than the claim's first walk takes
        db.execute("""
                INSERT INTO nightshift.run (job_name, trigger, max_attempts, run_at)
                SELECT 'front', 'manual', 3, now() - interval '1 hour' FROM generate_series(1, 100)""");
        RunQueue queue = new RunQueue(db.dataSource());
        long other = queue.enqueue(NewRun.manual("behind-front", Map.of(), null)).id();
        try (Connection c = db.dataSource().getConnection()) {
            assertThat(queue.claim(c, "front-node", 1, true)).extracting(ClaimedRun::id).containsExactly(other);
            assertThat(queue.claim(c, "front-node", 1, true)).isEmpty();
            unlockAll(c);
        }
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.run WHERE job_name = 'front' AND state = 'available'")).isEqualTo(100);
    }

    @Test
    void many_jobs_are_claimed_oldest_due_run_first() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) SELECT 'many-' || g, 'sql', 1 FROM generate_series(1, 200) g");
        // one run per job, the later the job's number the older its run
        db.execute("""
                INSERT INTO nightshift.run (job_name, trigger, max_attempts, run_at)
                SELECT 'many-' || g, 'manual', 3, now() - g * interval '1 second' FROM generate_series(1, 200) g""");
        RunQueue queue = new RunQueue(db.dataSource());
        List<String> order = new java.util.ArrayList<>();
        try (Connection c = db.dataSource().getConnection()) {
            for (int i = 0; i < 200; i++) {
                order.add(queue.claim(c, "many-node", 1, true).get(0).jobName());
            }
            assertThat(queue.claim(c, "many-node", 1, true)).isEmpty();
            unlockAll(c);
        }
        assertThat(order).containsExactlyElementsOf(
                java.util.stream.IntStream.iterate(200, g -> g >= 1, g -> g - 1).mapToObj(g -> "many-" + g).toList());
    }

    @Test
    void running_runs_of_a_job_hold_distinct_slots_and_never_more_than_its_concurrency() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('two-slots', 'sql', 2)");
        RunQueue queue = new RunQueue(db.dataSource());
        for (int i = 0; i < 5; i++) {
            queue.enqueue(NewRun.manual("two-slots", Map.of(), null));
        }
        try (Connection a = db.dataSource().getConnection(); Connection b = db.dataSource().getConnection()) {
            assertThat(queue.claim(a, "slots", 1, true)).hasSize(1);
            assertThat(queue.claim(b, "slots", 5, false)).hasSize(1);
            assertThat(queue.claim(b, "slots", 5, false)).isEmpty();
            assertThat(db.rows("SELECT slot FROM nightshift.run WHERE job_name = 'two-slots' AND state = 'running' ORDER BY slot"))
                    .containsExactly("0", "1");
            // a slot is a unique key among running runs: not even a direct update can share one
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> db.execute(
                    "UPDATE nightshift.run SET state = 'running', node = 'x', slot = 0 WHERE job_name = 'two-slots' AND state = 'available'"))
                    .hasMessageContaining("run_running_slot_idx");
            for (Connection c : List.of(a, b)) {
                unlockAll(c);
            }
        }
    }

    @Test
    void a_job_without_a_concurrency_limit_runs_any_number_of_runs_at_once_and_takes_no_slot_rows() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('no-limit', 'sql', 0)");
        RunQueue queue = new RunQueue(db.dataSource());
        for (int i = 0; i < 6; i++) {
            queue.enqueue(NewRun.manual("no-limit", Map.of(), null));
        }
        try (Connection a = db.dataSource().getConnection(); Connection b = db.dataSource().getConnection()) {
            assertThat(queue.claim(a, "free", 3, false)).hasSize(3);
            assertThat(queue.claim(b, "free", 5, false)).hasSize(3);
            assertThat(db.rows("SELECT count(*) || ' ' || count(slot) FROM nightshift.run WHERE job_name = 'no-limit' AND state = 'running'"))
                    .containsExactly("6 0");
            assertThat(db.queryLong("SELECT count(*) FROM nightshift.job_slot WHERE job_name = 'no-limit'")).isZero();
            db.execute("UPDATE nightshift.run SET state = 'succeeded', finished_at = now() WHERE job_name = 'no-limit'");
            assertThat(db.queryLong("SELECT count(*) FROM nightshift.job_slot WHERE job_name = 'no-limit'")).isZero();
            for (Connection c : List.of(a, b)) {
                unlockAll(c);
            }
        }
    }

    @Test
    void a_job_given_a_limit_counts_the_runs_it_started_without_one_until_they_end() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('gets-a-limit', 'sql', 0)");
        RunQueue queue = new RunQueue(db.dataSource());
        for (int i = 0; i < 6; i++) {
            queue.enqueue(NewRun.manual("gets-a-limit", Map.of(), null));
        }
        try (Connection c = db.dataSource().getConnection()) {
            List<ClaimedRun> started = queue.claim(c, "limits", 3, false);
            assertThat(started).hasSize(3);
            db.execute("UPDATE nightshift.job SET concurrency = 2 WHERE name = 'gets-a-limit'");
            // three running, a limit of two: nothing more starts
            assertThat(queue.claim(c, "limits", 1, false)).isEmpty();
            assertThat(db.rows("SELECT slot FROM nightshift.run WHERE job_name = 'gets-a-limit' AND state = 'running' ORDER BY slot"))
                    .containsExactly("0", "1", "2");
            endSlot("gets-a-limit", 0);
            assertThat(queue.claim(c, "limits", 1, false)).isEmpty();
            // one running, in slot 2, past the limit: it holds the job back until it ends, as when a
            // limit is lowered
            endSlot("gets-a-limit", 1);
            assertThat(queue.claim(c, "limits", 1, false)).isEmpty();
            endSlot("gets-a-limit", 2);
            assertThat(queue.claim(c, "limits", 3, false)).hasSize(2);
            assertThat(db.rows("SELECT slot FROM nightshift.run WHERE job_name = 'gets-a-limit' AND state = 'running' ORDER BY slot"))
                    .containsExactly("0", "1");
            unlockAll(c);
        }
    }

    private static void endSlot(String job, int slot) throws Exception {
        db.execute("UPDATE nightshift.run SET state = 'succeeded', finished_at = now() WHERE state = 'running' AND job_name = '"
                + job + "' AND slot = " + slot);
    }

    @Test
    void a_claim_for_the_session_sets_the_runs_logical_time_as_the_worker_would() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type) VALUES ('periodic', 'sql')");
        db.execute("""
                INSERT INTO nightshift.run (job_name, trigger, max_attempts, scheduled_at, period_start, period_end, period_zone)
                VALUES ('periodic', 'schedule', 3, '2026-03-29T00:00:00+01', '2026-03-28T00:00:00+01', '2026-03-29T00:00:00+01',
                        'Europe/Paris')""");
        RunQueue queue = new RunQueue(db.dataSource());
        try (Connection c = db.dataSource().getConnection()) {
            assertThat(queue.claim(c, "periods", 1, true)).hasSize(1);
            assertThat(setting(c, "nightshift.scheduled_at")).isEqualTo("2026-03-29T00:00:00+01:00");
            assertThat(setting(c, "nightshift.period_start")).isEqualTo("2026-03-28T00:00:00+01:00");
            assertThat(setting(c, "nightshift.period_end")).isEqualTo("2026-03-29T00:00:00+01:00");
            queue.enqueue(NewRun.manual("periodic", Map.of(), null));
            db.execute("UPDATE nightshift.run SET state = 'succeeded', finished_at = now() WHERE node = 'periods'");
            assertThat(queue.claim(c, "periods", 1, true)).hasSize(1);
            // a run without a period clears the previous run's
            assertThat(setting(c, "nightshift.period_start")).isEmpty();
            try (var st = c.createStatement()) {
                st.execute("SELECT pg_advisory_unlock_all()");
                st.execute("RESET ALL");
            }
        }
    }

    @Test
    void a_completion_claims_the_next_run_in_its_transaction_with_its_settings_and_a_failed_commit_undoes_the_claim() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency, definition) VALUES ('chain', 'sql', 1, '{\"timeout_ms\": 4000}')");
        db.execute("CREATE TABLE deferred_check (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED)");
        RunQueue queue = new RunQueue(db.dataSource());
        queue.enqueue(NewRun.manual("chain", Map.of("region", "eu"), null));
        long second = queue.enqueue(NewRun.manual("chain", Map.of(), null)).id();
        try (Connection c = db.dataSource().getConnection()) {
            ClaimedRun first = queue.claim(c, "fused", 1, true).get(0);
            assertThat(first.sessionTimeoutMs()).isEqualTo(4000L);
            assertThat(setting(c, "nightshift.param.region")).isEqualTo("eu");

            c.setAutoCommit(false);
            try (var st = c.createStatement()) {
                // the job's work breaks a deferred constraint: only the COMMIT, after the claim, fails
                st.execute("INSERT INTO deferred_check VALUES (1), (1)");
            }
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> queue.completeAndClaim(c, first, Map.of("rows", 1L), null, true))
                    .hasMessageContaining("deferred_check_pkey");
            // concurrency 1: the finished run's slot was free again inside that transaction, so the
            // second run was claimed; its lock, not transactional, outlived the rollback
            assertThat(heldRunLocks(c)).containsExactlyInAnyOrder(first.id(), second);
            c.rollback();
            queue.unlockAllBut(c, first.id());
            assertThat(heldRunLocks(c)).containsExactly(first.id());
            assertThat(db.rows("SELECT state FROM nightshift.run WHERE job_name = 'chain' ORDER BY id")).containsExactly("running", "available");
            assertThat(db.queryLong("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ShareLock' AND granted"))
                    .isEqualTo(1);

            // completion, claim and commit in one call
            ClaimedRun done = queue.completeAndClaim(c, first, Map.of("rows", 1L), null, true);
            c.setAutoCommit(true);
            assertThat(done.id()).isEqualTo(second);
            assertThat(db.rows("SELECT state || ':' || coalesce(counts::text, '') FROM nightshift.run WHERE job_name = 'chain' ORDER BY id"))
                    .containsExactly("succeeded:{\"rows\": 1}", "running:");
            assertThat(setting(c, "nightshift.run_id")).isEqualTo(Long.toString(second));
            assertThat(setting(c, "statement_timeout")).isEqualTo("4s");
            assertThat(setting(c, "nightshift.param.region")).isEmpty();
            // both locks are still held by this session: the finished run's until the next completion releases it
            assertThat(db.queryLong("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ShareLock' AND granted"))
                    .isEqualTo(2);
            try (var st = c.createStatement()) {
                st.execute("SELECT pg_advisory_unlock_all()");
                st.execute("RESET ALL");
            }
        }
    }

    @Test
    void a_completion_of_a_run_this_node_no_longer_owns_aborts_the_work_and_claims_nothing() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('lost', 'sql', 1)");
        db.execute("CREATE TABLE lost_work (n int)");
        RunQueue queue = new RunQueue(db.dataSource());
        queue.enqueue(NewRun.manual("lost", Map.of(), null));
        queue.enqueue(NewRun.manual("lost", Map.of(), null));
        try (Connection c = db.dataSource().getConnection()) {
            ClaimedRun first = queue.claim(c, "owner", 1, true).get(0);
            db.execute("UPDATE nightshift.run SET cancel_requested = true WHERE id = " + first.id());
            c.setAutoCommit(false);
            try (var st = c.createStatement()) {
                st.execute("INSERT INTO lost_work VALUES (1)");
            }
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> queue.completeAndClaim(c, first, Map.of(), null, true))
                    .isInstanceOf(RunQueue.NotCompletedException.class);
            c.rollback();
            c.setAutoCommit(true);
            assertThat(db.queryLong("SELECT count(*) FROM lost_work")).isZero();
            assertThat(db.rows("SELECT state FROM nightshift.run WHERE job_name = 'lost' ORDER BY id")).containsExactly("running", "available");
            unlockAll(c);
        }
    }

    @Test
    void a_claim_never_waits_for_a_runs_lock_held_by_a_rescuer() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('rescued', 'sql', 1)");
        RunQueue queue = new RunQueue(db.dataSource());
        long id = queue.enqueue(NewRun.manual("rescued", Map.of(), null)).id();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
        // a rescuer has just put the run back to available and not yet dropped its exclusive lock
        try (Connection rescuer = db.dataSource().getConnection(); var st = rescuer.createStatement();
             Connection c = db.dataSource().getConnection()) {
            st.execute("SELECT pg_advisory_lock(" + RunLock.key(id) + ")");
            try {
                var claim = pool.submit(() -> queue.claim(c, "no-wait", 1, true));
                claim.get(3, java.util.concurrent.TimeUnit.SECONDS);
                // whatever it claimed, it does not hold a lock it could not take
                assertThat(heldRunLocks(c)).doesNotContain(id);
            } finally {
                st.execute("SELECT pg_advisory_unlock_all()");
            }
            unlockAll(c);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void cancel_interrupts_the_runs_worker_and_never_the_claimer_handing_it_over() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('handoff', 'sql', 1)");
        RunQueue queue = new RunQueue(db.dataSource());
        long id = queue.enqueue(NewRun.manual("handoff", Map.of(), null)).id();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
        try (Connection claimer = db.dataSource().getConnection()) {
            // the claimer holds the run's claim-time lock until the worker holds its own ...
            assertThat(queue.claim(claimer, "handoff-node", 1, false)).extracting(ClaimedRun::id).containsExactly(id);
            // ... and meanwhile goes on with its next statement
            var busy = pool.submit(() -> {
                try (var st = claimer.createStatement()) {
                    st.execute("SELECT pg_sleep(1.5)");
                }
                return null;
            });
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() -> db.queryLong(
                    "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(1.5)' AND state = 'active'") == 1);
            assertThat(new RunOps(db.dataSource()).cancel(id, dev.nightshift.audit.Actor.cli()).changed()).isTrue();
            busy.get(5, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(db.rows("SELECT state, cancel_requested FROM nightshift.run WHERE id = " + id)).containsExactly("running|t");
            unlockAll(claimer);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Drops every advisory lock the claims took on {@code c}, before it goes back to the pool. */
    private static void unlockAll(Connection c) throws Exception {
        try (var st = c.createStatement()) {
            st.execute("SELECT pg_advisory_unlock_all()");
        }
    }

    /** The runs whose lock the session of {@code c} holds. */
    private static List<Long> heldRunLocks(Connection c) throws Exception {
        List<Long> runs = new java.util.ArrayList<>();
        try (var st = c.createStatement(); var rs = st.executeQuery("""
                SELECT ((l.classid::bigint << 32) | l.objid::bigint) & ((1::bigint << 48) - 1)
                FROM pg_locks l
                WHERE l.pid = pg_backend_pid() AND l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted""")) {
            while (rs.next()) {
                runs.add(rs.getLong(1));
            }
        }
        return runs;
    }

    private static String setting(Connection c, String name) throws Exception {
        try (var ps = c.prepareStatement("SELECT current_setting(?, true)")) {
            ps.setString(1, name);
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
