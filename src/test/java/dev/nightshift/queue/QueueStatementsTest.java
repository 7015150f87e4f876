package dev.nightshift.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nightshift.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The statements of db/queue.sql on their own, with no node running: each worker here is a connection with an owner. */
@Tag("database")
class QueueStatementsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private final RunQueue queue = new RunQueue(db.dataSource());
    private final List<Connection> opened = new ArrayList<>();

    @BeforeAll
    static void schema() {
        org.flywaydb.core.Flyway.configure().dataSource(db.dataSource()).schemas("nightshift").createSchemas(true)
                .locations("classpath:db/migration").load().migrate();
    }

    /** A claim takes runs of every job: each test starts with nothing waiting, running or held. */
    @BeforeEach
    void nothingWaiting() throws Exception {
        db.execute("DELETE FROM nightshift.queue");
        db.execute("DELETE FROM nightshift.running");
        db.execute("DELETE FROM nightshift.worker");
        db.execute("UPDATE nightshift.job_slot SET owner = NULL");
    }

    @AfterEach
    void closeWorkers() throws Exception {
        for (Connection c : opened) {
            c.close();
        }
    }

    /** A worker's connection (outside the pool: closing it ends its session, and its owner's lock). */
    private Connection connection() throws Exception {
        Connection c = DriverManager.getConnection(db.url(), db.user(), null);
        opened.add(c);
        return c;
    }

    private record Worker(Connection c, long owner) {
    }

    private Worker worker() throws Exception {
        Connection c = connection();
        return new Worker(c, queue.register(c, "test-node"));
    }

    private long enqueue(String job) throws Exception {
        return enqueue(job, Map.of());
    }

    private long enqueue(String job, Map<String, String> params) throws Exception {
        return queue.enqueue(NewRun.manual(job, params, null)).id();
    }

    /** Completes a run in its own transaction, as a run without a transaction of its own would. */
    private void complete(Worker w, ClaimedRun run) throws Exception {
        w.c().setAutoCommit(false);
        queue.complete(w.c(), run, Map.of());
        w.c().setAutoCommit(true);
    }

    @Test
    void a_worker_holds_its_owners_lock_for_its_sessions_life_and_a_rescue_leaves_it_alone() throws Exception {
        Worker w = worker();
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.worker WHERE owner = " + w.owner() + " AND backend_pid > 0"))
                .isEqualTo(1);
        assertThat(queue.rescue("rescuer")).isEmpty();
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.worker WHERE owner = " + w.owner())).isEqualTo(1);
        w.c().close();
        // a dead owner's row goes even when it held no run (once the server has ended its session)
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> queue.rescue("rescuer").isEmpty()
                && db.queryLong("SELECT count(*) FROM nightshift.worker WHERE owner = " + w.owner()) == 0);
    }

    @Test
    void a_claim_claims_exactly_one_run_for_its_owner_even_with_several_jobs_due() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('one-a', 'sql', 5), ('one-b', 'sql', 5) ON CONFLICT DO NOTHING");
        for (int i = 0; i < 3; i++) {
            enqueue("one-a");
            enqueue("one-b");
        }
        Connection claimer = connection();
        List<Worker> workers = new ArrayList<>();
        for (int round = 1; round <= 6; round++) {
            Worker w = worker();
            workers.add(w);
            ClaimedRun run = queue.claimFirst(claimer, w.owner(), "claim-test");
            assertThat(run.owner()).isEqualTo(w.owner());
            assertThat(run.attempt()).isEqualTo(1);
            assertThat(db.queryLong("SELECT count(*) FROM nightshift.running WHERE node = 'claim-test'")).isEqualTo(round);
            assertThat(db.queryLong("SELECT count(*) FROM nightshift.running WHERE owner = " + w.owner())).isEqualTo(1);
        }
        assertThat(queue.claimFirst(claimer, workers.get(0).owner(), "claim-test")).isNull();
        assertThat(db.rows("SELECT state, count(*) FROM nightshift.run WHERE job_name LIKE 'one-_' AND state <> 'cancelled' "
                + "GROUP BY state")).containsExactly("running|6");
    }

    @Test
    void a_dead_owners_runs_are_rescued_to_the_queue_or_dead_on_their_last_attempt_and_a_live_owners_are_left_alone()
            throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency, max_attempts) VALUES ('orphans', 'sql', 0, 2)");
        long first = enqueue("orphans");
        long second = enqueue("orphans");
        long live = enqueue("orphans");
        Worker ghost = worker();
        Worker alive = worker();
        assertThat(queue.claimFirst(ghost.c(), ghost.owner(), "ghost").id()).isEqualTo(first);
        // the second has had an attempt before: this one is its last
        db.execute("UPDATE nightshift.queue SET attempt = 1 WHERE id = " + second);
        assertThat(queue.claimFirst(ghost.c(), ghost.owner(), "ghost").id()).isEqualTo(second);
        assertThat(queue.claimFirst(alive.c(), alive.owner(), "alive").id()).isEqualTo(live);
        ghost.c().close();

        List<RunQueue.Rescued> rescued = new ArrayList<>();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
            rescued.addAll(queue.rescue("rescuer"));
            return !rescued.isEmpty();
        });
        assertThat(rescued).extracting(RunQueue.Rescued::id).containsExactly(first, second);
        assertThat(db.rows("SELECT id, state, attempt, last_error LIKE 'node ghost lost the run%rescued by rescuer' "
                + "FROM nightshift.run WHERE job_name = 'orphans' ORDER BY id"))
                .containsExactly(first + "|available|1|t", second + "|dead|2|t", live + "|running|1|null");
        // a dead run notifies, in the rescue's transaction
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.notification WHERE event = 'dead' AND run_id = " + second))
                .isEqualTo(1);
        assertThat(queue.rescue("rescuer")).isEmpty();
    }

    @Test
    void a_dead_owners_run_keeps_its_slot_until_it_is_rescued() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('single-slot', 'sql', 1)");
        long crashed = enqueue("single-slot");
        Worker dead = worker();
        assertThat(queue.claimFirst(dead.c(), dead.owner(), "crashed").id()).isEqualTo(crashed);
        long waiting = enqueue("single-slot");
        dead.c().close();
        Worker survivor = worker();
        // the dead owner's run still counts as running: nothing more of this job may start
        assertThat(queue.claimFirst(survivor.c(), survivor.owner(), "survivor")).isNull();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !queue.rescue("survivor").isEmpty());
        // rescued: both wait again (the rescued one is due now, the other was older), one may run at a time
        ClaimedRun claimed = queue.claimFirst(survivor.c(), survivor.owner(), "survivor");
        assertThat(claimed.id()).isEqualTo(waiting);
        assertThat(db.rows("SELECT state, count(*) FROM nightshift.run WHERE job_name = 'single-slot' GROUP BY state ORDER BY state"))
                .containsExactly("available|1", "running|1");
        assertThat(db.rows("SELECT slot, owner = " + survivor.owner() + " FROM nightshift.job_slot WHERE job_name = 'single-slot'"))
                .containsExactly("0|t");
    }

    @Test
    void a_job_at_its_concurrency_with_the_oldest_runs_does_not_hide_the_runs_of_other_jobs() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('front', 'sql', 1), ('behind-front', 'sql', 1)");
        Worker elsewhere = worker();
        enqueue("front");
        assertThat(queue.claimFirst(elsewhere.c(), elsewhere.owner(), "elsewhere")).isNotNull();
        // 100 older due runs of the full job, more than the claim's first walk takes
        for (int i = 0; i < 100; i++) {
            enqueue("front");
        }
        db.execute("UPDATE nightshift.queue SET run_at = now() - interval '1 hour' WHERE job_name = 'front'");
        long other = enqueue("behind-front");
        Worker w = worker();
        assertThat(queue.claimFirst(w.c(), w.owner(), "front-node").id()).isEqualTo(other);
        assertThat(queue.claimFirst(w.c(), w.owner(), "front-node")).isNull();
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.queue WHERE job_name = 'front'")).isEqualTo(100);
    }

    @Test
    void many_jobs_are_claimed_oldest_due_run_first() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) SELECT 'many-' || g, 'sql', 0 FROM generate_series(1, 200) g");
        for (int g = 1; g <= 200; g++) {
            enqueue("many-" + g);
        }
        // the later the job's number, the older its run
        db.execute("UPDATE nightshift.queue SET run_at = now() - substr(job_name, 6)::int * interval '1 second' WHERE job_name LIKE 'many-%'");
        Worker w = worker();
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            order.add(queue.claimFirst(w.c(), w.owner(), "many-node").jobName());
        }
        assertThat(queue.claimFirst(w.c(), w.owner(), "many-node")).isNull();
        assertThat(order).containsExactlyElementsOf(
                java.util.stream.IntStream.iterate(200, g -> g >= 1, g -> g - 1).mapToObj(g -> "many-" + g).toList());
    }

    @Test
    void running_runs_of_a_job_hold_distinct_slots_of_distinct_owners_and_never_more_than_its_concurrency() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('two-slots', 'sql', 2)");
        for (int i = 0; i < 5; i++) {
            enqueue("two-slots");
        }
        Worker a = worker();
        Worker b = worker();
        Worker c = worker();
        assertThat(queue.claimFirst(a.c(), a.owner(), "slots")).isNotNull();
        assertThat(queue.claimFirst(a.c(), b.owner(), "slots")).isNotNull();
        assertThat(queue.claimFirst(a.c(), c.owner(), "slots")).isNull();
        assertThat(db.rows("SELECT s.slot, s.owner = r.owner FROM nightshift.running r JOIN nightshift.job_slot s "
                + "ON s.job_name = r.job_name AND s.slot = r.slot WHERE r.job_name = 'two-slots' ORDER BY s.slot"))
                .containsExactly("0|t", "1|t");
    }

    @Test
    void a_job_without_a_concurrency_limit_runs_any_number_of_runs_at_once_and_takes_no_slot_rows() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('no-limit', 'sql', 0)");
        for (int i = 0; i < 6; i++) {
            enqueue("no-limit");
        }
        Connection claimer = connection();
        for (int i = 0; i < 6; i++) {
            assertThat(queue.claimFirst(claimer, worker().owner(), "free")).isNotNull();
        }
        assertThat(db.rows("SELECT count(*) || ' ' || count(slot) FROM nightshift.running WHERE job_name = 'no-limit'"))
                .containsExactly("6 0");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.job_slot WHERE job_name = 'no-limit'")).isZero();
    }

    @Test
    void a_job_given_a_limit_counts_the_runs_it_started_without_one_until_they_end() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('gets-a-limit', 'sql', 0)");
        for (int i = 0; i < 6; i++) {
            enqueue("gets-a-limit");
        }
        List<Worker> workers = new ArrayList<>();
        List<ClaimedRun> started = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Worker w = worker();
            workers.add(w);
            started.add(queue.claimFirst(w.c(), w.owner(), "limits"));
        }
        db.execute("UPDATE nightshift.job SET concurrency = 2 WHERE name = 'gets-a-limit'");
        Worker other = worker();
        // three running, a limit of two: nothing more starts
        assertThat(queue.claimFirst(other.c(), other.owner(), "limits")).isNull();
        assertThat(db.rows("SELECT slot FROM nightshift.running WHERE job_name = 'gets-a-limit' ORDER BY slot"))
                .containsExactly("0", "1", "2");
        List<ClaimedRun> withSlots = new ArrayList<>();
        for (ClaimedRun r : started) {
            withSlots.add(new ClaimedRun(r.id(), r.jobName(), r.attempt(), r.maxAttempts(), r.trigger(), r.params(), r.createdAt(),
                    r.startedAt(), r.node(), r.owner(), (int) db.queryLong("SELECT slot FROM nightshift.running WHERE id = " + r.id()),
                    r.settings(), r.settingsSet()));
        }
        withSlots.sort(java.util.Comparator.comparing(ClaimedRun::slot));
        complete(workers.get(0), withSlots.get(0));
        assertThat(queue.claimFirst(other.c(), other.owner(), "limits")).isNull();
        // one running in slot 2, past the limit: it holds the job back until it ends, as when a limit is lowered
        complete(workers.get(1), withSlots.get(1));
        assertThat(queue.claimFirst(other.c(), other.owner(), "limits")).isNull();
        complete(workers.get(2), withSlots.get(2));
        assertThat(queue.claimFirst(other.c(), other.owner(), "limits")).isNotNull();
        assertThat(queue.claimFirst(other.c(), workers.get(0).owner(), "limits")).isNotNull();
        assertThat(db.rows("SELECT slot FROM nightshift.running WHERE job_name = 'gets-a-limit' ORDER BY slot"))
                .containsExactly("0", "1");
        assertThat(db.rows("SELECT slot FROM nightshift.job_slot WHERE job_name = 'gets-a-limit' ORDER BY slot"))
                .containsExactly("0", "1");
    }

    @Test
    void a_claimed_runs_settings_are_set_on_its_owners_session_and_a_run_without_a_period_clears_the_previous_ones() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('periodic', 'sql', 0)");
        java.time.ZoneId paris = java.time.ZoneId.of("Europe/Paris");
        Period p = new Period(java.time.Instant.parse("2026-03-28T23:00:00Z"), java.time.Instant.parse("2026-03-27T23:00:00Z"),
                java.time.Instant.parse("2026-03-28T23:00:00Z"), paris);
        queue.enqueue(NewRun.manual("periodic", Map.of("region", "eu"), null, p));
        Worker w = worker();
        ClaimedRun run = queue.claimFirst(connection(), w.owner(), "periods");
        assertThat(run.settingsSet()).isFalse();
        queue.useSettings(w.c(), run, List.of());
        assertThat(setting(w.c(), "nightshift.scheduled_at")).isEqualTo("2026-03-29T00:00:00+01:00");
        assertThat(setting(w.c(), "nightshift.period_start")).isEqualTo("2026-03-28T00:00:00+01:00");
        assertThat(setting(w.c(), "nightshift.period_end")).isEqualTo("2026-03-29T00:00:00+01:00");
        assertThat(setting(w.c(), "nightshift.param.region")).isEqualTo("eu");
        assertThat(setting(w.c(), "nightshift.run_id")).isEqualTo(Long.toString(run.id()));
        assertThat(setting(w.c(), "nightshift.attempt")).isEqualTo("1");
        complete(w, run);
        enqueue("periodic");
        ClaimedRun next = queue.claimFirst(w.c(), w.owner(), "periods");
        queue.useSettings(w.c(), next, run.paramSettings());
        assertThat(setting(w.c(), "nightshift.period_start")).isEmpty();
        assertThat(setting(w.c(), "nightshift.param.region")).isEmpty();
        assertThat(setting(w.c(), "nightshift.run_id")).isEqualTo(Long.toString(next.id()));
    }

    @Test
    void the_fast_path_completes_and_claims_the_next_run_of_its_job_in_its_slot_and_a_failed_commit_undoes_both() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency, definition) VALUES ('chain', 'sql', 1, '{\"timeout_ms\": 4000}')");
        db.execute("CREATE TABLE deferred_check (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED)");
        long firstId = enqueue("chain", Map.of("region", "eu"));
        long second = enqueue("chain");
        Worker w = worker();
        ClaimedRun first = queue.claimFirst(w.c(), w.owner(), "fused");
        assertThat(first.id()).isEqualTo(firstId);
        queue.useSettings(w.c(), first, List.of());
        assertThat(setting(w.c(), "nightshift.param.region")).isEqualTo("eu");

        w.c().setAutoCommit(false);
        try (var st = w.c().createStatement()) {
            // the job's work breaks a deferred constraint: only the COMMIT, after the claim, fails
            st.execute("INSERT INTO deferred_check VALUES (1), (1)");
        }
        assertThatThrownBy(() -> queue.completeAndClaimNext(w.c(), first, Map.of("rows", 1L))).hasMessageContaining("deferred_check_pkey");
        w.c().rollback();
        assertThat(db.rows("SELECT id, state FROM nightshift.run WHERE job_name = 'chain' ORDER BY id"))
                .containsExactly(firstId + "|running", second + "|available");

        // completion, claim and commit in one call; the slot is kept (its row not written)
        String slotRow = db.queryString("SELECT xmin::text FROM nightshift.job_slot WHERE job_name = 'chain' AND slot = 0");
        ClaimedRun done = queue.completeAndClaimNext(w.c(), first, Map.of("rows", 1L));
        w.c().setAutoCommit(true);
        assertThat(done.id()).isEqualTo(second);
        assertThat(done.slot()).isEqualTo(0);
        assertThat(done.settingsSet()).isTrue();
        assertThat(db.queryString("SELECT xmin::text FROM nightshift.job_slot WHERE job_name = 'chain' AND slot = 0")).isEqualTo(slotRow);
        assertThat(db.rows("SELECT state || ':' || coalesce(counts::text, '') FROM nightshift.run WHERE job_name = 'chain' ORDER BY id"))
                .containsExactly("succeeded:{\"rows\": 1}", "running:");
        assertThat(setting(w.c(), "nightshift.run_id")).isEqualTo(Long.toString(second));
        assertThat(setting(w.c(), "statement_timeout")).isEqualTo("4s");
        assertThat(setting(w.c(), "nightshift.param.region")).isEmpty();
        assertThat(setting(w.c(), "nightshift.attempt")).isEqualTo("1");
    }

    @Test
    void a_slot_is_kept_across_a_workers_runs_of_one_job_and_freed_when_it_claims_another_job_or_nothing() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('kept', 'sql', 1), ('next-job', 'sql', 1)");
        enqueue("kept");
        Worker w = worker();
        ClaimedRun run = queue.claimFirst(w.c(), w.owner(), "keeper");
        w.c().setAutoCommit(false);
        // nothing due: the fast claim finds nothing, and the worker still holds its slot
        assertThat(queue.completeAndClaimNext(w.c(), run, Map.of())).isNull();
        w.c().setAutoCommit(true);
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.job_slot WHERE job_name = 'kept' AND owner = " + w.owner())).isEqualTo(1);
        // the general claim with the held slot: a run of the same job keeps it ...
        long again = enqueue("kept");
        ClaimedRun same = queue.claimNext(w.c(), run);
        assertThat(same.id()).isEqualTo(again);
        assertThat(same.slot()).isEqualTo(run.slot());
        w.c().setAutoCommit(false);
        assertThat(queue.completeAndClaimNext(w.c(), same, Map.of())).isNull();
        w.c().setAutoCommit(true);
        // ... another job's run frees it and takes a slot of that job
        long other = enqueue("next-job");
        ClaimedRun switched = queue.claimNext(w.c(), same);
        assertThat(switched.id()).isEqualTo(other);
        assertThat(db.rows("SELECT job_name, owner IS NOT NULL FROM nightshift.job_slot WHERE job_name IN ('kept', 'next-job') ORDER BY job_name"))
                .containsExactly("kept|f", "next-job|t");
        w.c().setAutoCommit(false);
        assertThat(queue.completeAndClaimNext(w.c(), switched, Map.of())).isNull();
        w.c().setAutoCommit(true);
        // and nothing due frees it too
        assertThat(queue.claimNext(w.c(), switched)).isNull();
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.job_slot WHERE owner IS NOT NULL AND job_name IN ('kept', 'next-job')"))
                .isZero();
    }

    @Test
    void a_lowered_concurrency_stops_the_fast_path_and_the_general_claim_drops_the_slot_above_it() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('lowered', 'sql', 2)");
        enqueue("lowered");
        enqueue("lowered");
        Worker a = worker();
        Worker b = worker();
        ClaimedRun ra = queue.claimFirst(a.c(), a.owner(), "low");
        ClaimedRun rb = queue.claimFirst(b.c(), b.owner(), "low");
        ClaimedRun high = ra.slot() == 1 ? ra : rb;
        Worker highWorker = ra.slot() == 1 ? a : b;
        enqueue("lowered");
        db.execute("UPDATE nightshift.job SET concurrency = 1 WHERE name = 'lowered'");
        highWorker.c().setAutoCommit(false);
        // slot 1 is at the new concurrency: the fast claim takes nothing for it
        assertThat(queue.completeAndClaimNext(highWorker.c(), high, Map.of())).isNull();
        highWorker.c().setAutoCommit(true);
        // the general claim drops that slot; slot 0 is still held: nothing starts
        assertThat(queue.claimNext(highWorker.c(), high)).isNull();
        assertThat(db.rows("SELECT slot FROM nightshift.job_slot WHERE job_name = 'lowered'")).containsExactly("0");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.running WHERE job_name = 'lowered'")).isEqualTo(1);
    }

    @Test
    void a_completion_of_a_run_whose_cancel_was_asked_fails_with_ns409_aborts_the_work_and_claims_nothing() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('lost', 'sql', 1)");
        db.execute("CREATE TABLE lost_work (n int)");
        enqueue("lost");
        enqueue("lost");
        Worker w = worker();
        ClaimedRun first = queue.claimFirst(w.c(), w.owner(), "owner");
        assertThat(new RunOps(db.dataSource()).cancel(first.id(), dev.nightshift.audit.Actor.cli()).changed()).isTrue();
        w.c().setAutoCommit(false);
        try (var st = w.c().createStatement()) {
            st.execute("INSERT INTO lost_work VALUES (1)");
        }
        assertThatThrownBy(() -> queue.completeAndClaimNext(w.c(), first, Map.of()))
                .isInstanceOf(RunQueue.NotCompletedException.class).hasFieldOrPropertyWithValue("SQLState", "NS409");
        w.c().rollback();
        w.c().setAutoCommit(true);
        assertThat(db.queryLong("SELECT count(*) FROM lost_work")).isZero();
        assertThat(db.rows("SELECT state, cancel_requested FROM nightshift.run WHERE job_name = 'lost' ORDER BY id"))
                .containsExactly("running|t", "available|f");
        assertThat(queue.markCancelled(first)).isTrue();
        assertThat(db.rows("SELECT state FROM nightshift.run WHERE job_name = 'lost' ORDER BY id")).containsExactly("cancelled", "available");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.job_slot WHERE job_name = 'lost' AND owner IS NOT NULL")).isZero();
    }

    @Test
    void a_run_rescued_from_its_owner_can_never_be_completed_by_it() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('taken', 'sql', 1)");
        long id = enqueue("taken");
        Worker w = worker();
        ClaimedRun run = queue.claimFirst(w.c(), w.owner(), "old-owner");
        // rescued meanwhile and claimed again by another owner: a new attempt
        Worker other = worker();
        db.execute("UPDATE nightshift.running SET owner = " + other.owner() + ", attempt = 2 WHERE id = " + id);
        w.c().setAutoCommit(false);
        assertThatThrownBy(() -> queue.completeAndClaimNext(w.c(), run, Map.of())).isInstanceOf(RunQueue.NotCompletedException.class);
        w.c().rollback();
        assertThat(queue.fail(run, new RunQueue.Failure("x", null, Duration.ZERO, false, null))).isNull();
        assertThat(queue.release(run, "x")).isFalse();
        assertThat(queue.markCancelled(run)).isFalse();
        assertThat(db.rows("SELECT state, attempt FROM nightshift.run WHERE id = " + id)).containsExactly("running|2");
    }

    @Test
    void a_failed_attempt_waits_for_its_backoff_in_the_queue_and_its_last_one_is_dead_and_notifies() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency, max_attempts) VALUES ('failing', 'sql', 1, 2)");
        long id = enqueue("failing");
        Worker w = worker();
        ClaimedRun run = queue.claimFirst(w.c(), w.owner(), "f");
        RunQueue.Failed f = queue.fail(run, new RunQueue.Failure("boom", "22012", Duration.ofHours(1), false, null));
        assertThat(f.state()).isEqualTo("available");
        assertThat(db.rows("SELECT state, attempt, last_error, last_error_sqlstate, run_at > now() + interval '50 minutes' "
                + "FROM nightshift.run WHERE id = " + id)).containsExactly("available|1|boom|22012|t");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.job_slot WHERE job_name = 'failing' AND owner IS NOT NULL")).isZero();
        db.execute("UPDATE nightshift.queue SET run_at = now() - interval '1 second' WHERE id = " + id);
        ClaimedRun last = queue.claimFirst(w.c(), w.owner(), "f");
        assertThat(last.attempt()).isEqualTo(2);
        assertThat(queue.fail(last, new RunQueue.Failure("boom again", null, Duration.ZERO, false, null)).state()).isEqualTo("dead");
        assertThat(db.rows("SELECT state, attempt, last_error FROM nightshift.run WHERE id = " + id)).containsExactly("dead|2|boom again");
        assertThat(db.queryLong("SELECT count(*) FROM nightshift.notification WHERE event = 'dead' AND run_id = " + id)).isEqualTo(1);
    }

    @Test
    void a_released_run_is_due_again_at_once_and_its_attempt_does_not_count() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('released', 'sql', 1)");
        long id = enqueue("released");
        Worker w = worker();
        ClaimedRun run = queue.claimFirst(w.c(), w.owner(), "r");
        assertThat(queue.release(run, "shutdown")).isTrue();
        assertThat(db.rows("SELECT state, attempt, last_error FROM nightshift.run WHERE id = " + id)).containsExactly("available|0|shutdown");
        assertThat(queue.claimFirst(w.c(), w.owner(), "r").attempt()).isEqualTo(1);
    }

    /**
     * The case that made the claim move runs rather than update them: a claimer whose snapshot still
     * sees a run another claimer took would, were the run updated, follow it to its new version and
     * lock it (EvalPlanQual) until its own transaction ends, and the owner's completion would wait.
     * Here claimers keep claiming in transactions held open a while, and an owner completes its runs
     * with a lock timeout: no completion may ever wait for a claimer.
     */
    @Test
    void a_completion_never_waits_for_another_claimer() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('epq', 'sql', 0)");
        for (int i = 0; i < 400; i++) {
            enqueue("epq");
        }
        Worker owner = worker();
        try (var st = owner.c().createStatement()) {
            st.execute("SET lock_timeout = '500ms'");
        }
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Integer>> claimers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                Worker claimer = worker();
                claimers.add(pool.submit(() -> {
                    int claimed = 0;
                    while (!stop.get()) {
                        claimer.c().setAutoCommit(false);
                        try (var st = claimer.c().createStatement()) {
                            st.execute("SELECT set_config('synchronous_commit', 'off', true)");
                        }
                        try (QueueSql.Bound s = QueueSql.prepare(claimer.c(), "claim")) {
                            s.bigint("owner", claimer.owner()).text("node", "claimer").text("held_job", null).integer("held_slot", null);
                            try (var rs = s.query()) {
                                claimed += rs.next() ? 1 : 0;
                            }
                        }
                        Thread.sleep(20);
                        claimer.c().rollback();
                    }
                    claimer.c().setAutoCommit(true);
                    return claimed;
                }));
            }
            int completed = 0;
            for (int i = 0; i < 150; i++) {
                ClaimedRun run = queue.claimFirst(owner.c(), owner.owner(), "owner");
                if (run == null) {
                    continue;
                }
                owner.c().setAutoCommit(false);
                queue.completeAndClaimNext(owner.c(), run, Map.of());
                owner.c().setAutoCommit(true);
                completed++;
            }
            stop.set(true);
            for (Future<Integer> f : claimers) {
                assertThat(f.get(10, TimeUnit.SECONDS)).isPositive();
            }
            assertThat(completed).isGreaterThan(50);
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
    }

    @Test
    void an_operators_cancel_interrupts_the_statement_of_the_runs_owner() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type, concurrency) VALUES ('interrupted', 'sql', 1)");
        long id = enqueue("interrupted");
        Worker w = worker();
        Connection claimer = connection();
        assertThat(queue.claimFirst(claimer, w.owner(), "cancel-node").id()).isEqualTo(id);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            // the claimer goes on with another statement; the owner's session works on the run
            Future<?> work = pool.submit(() -> {
                try (var st = w.c().createStatement()) {
                    st.execute("SELECT pg_sleep(30)");
                }
                return null;
            });
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> db.queryLong(
                    "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'") == 1);
            assertThat(new RunOps(db.dataSource()).cancel(id, dev.nightshift.audit.Actor.cli()).message()).contains("interrupted");
            assertThatThrownBy(() -> work.get(10, TimeUnit.SECONDS)).hasMessageContaining("canceling statement");
            assertThat(db.rows("SELECT state, cancel_requested FROM nightshift.run WHERE id = " + id)).containsExactly("running|t");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void a_slot_enqueued_twice_has_one_run_and_the_key_is_the_schedulers() throws Exception {
        db.execute("INSERT INTO nightshift.job (name, type) VALUES ('keyed', 'sql')");
        Period p = Period.instant(java.time.Instant.parse("2026-12-08T01:00:00Z"));
        try (Connection c = connection()) {
            assertThat(RunQueue.enqueueSlot(c, List.of("keyed"), p)).containsEntry("keyed", "enqueued");
            assertThat(RunQueue.enqueueSlot(c, List.of("keyed"), p)).containsEntry("keyed", "duplicate");
        }
        assertThat(db.rows("SELECT dedupe_key FROM nightshift.run WHERE job_name = 'keyed'"))
                .containsExactly(DedupeKey.schedule("keyed", p.slot()));
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
