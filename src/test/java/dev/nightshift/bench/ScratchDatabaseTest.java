package dev.nightshift.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nightshift.config.Settings;
import dev.nightshift.testing.TestDatabase;
import java.sql.SQLException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The scratch database's life against a shutdown that comes at the worst moment, made
 * deterministic by standing in for the JVM's hook registration (a real SIGTERM is tried in
 * {@link BenchScratchTest}).
 */
@Tag("database")
class ScratchDatabaseTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static long scratchDatabases(String purpose) throws SQLException {
        return db.queryLong("SELECT count(*) FROM pg_database WHERE datname = 'nightshift_bench_" + purpose + "_"
                + ProcessHandle.current().pid() + "'");
    }

    @Test
    void a_shutdown_that_refuses_the_drop_hook_leaves_no_scratch_database() throws Exception {
        Settings s = db.settings(db.tempDir());
        assertThatThrownBy(() -> new ScratchDatabase(s, "refused", hook -> {
            throw new IllegalStateException("Shutdown in progress");
        })).isInstanceOf(SQLException.class).hasMessageContaining("shutting down");
        assertThat(scratchDatabases("refused")).isZero();
    }

    @Test
    void a_drop_hook_that_runs_as_soon_as_it_is_registered_leaves_no_scratch_database() throws Exception {
        Settings s = db.settings(db.tempDir());
        // the signal arrives right after the registration: the hook runs before the CREATE could
        assertThatThrownBy(() -> new ScratchDatabase(s, "early", Thread::run)).isInstanceOf(SQLException.class);
        assertThat(scratchDatabases("early")).isZero();
    }

    @Test
    void a_closed_scratch_database_is_dropped() throws Exception {
        Settings s = db.settings(db.tempDir());
        try (ScratchDatabase scratch = new ScratchDatabase(s, "closed", hook -> { })) {
            assertThat(scratchDatabases("closed")).isEqualTo(1);
        }
        assertThat(scratchDatabases("closed")).isZero();
    }
}
