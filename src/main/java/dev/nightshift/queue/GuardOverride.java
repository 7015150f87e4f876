package dev.nightshift.queue;

import dev.nightshift.audit.Actor;
import java.sql.SQLException;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * An operator passes one delivery through its job's guards on purpose: a new manual run of a dead
 * run's job, with the dead run's parameters and period, carrying {@link RunParams#OVERRIDE_GUARDS}
 * (the actor). One such run per dead run, however often it is asked for (its idempotency key names
 * the dead run). Thread-safe.
 */
public final class GuardOverride {
    private final RunQueue queue;
    private final RunQueries runs;

    public GuardOverride(DataSource ds) {
        this.queue = new RunQueue(ds);
        this.runs = new RunQueries(ds);
    }

    /** What became of the request: the new run, or why there is none. */
    public record Outcome(RunQueue.Enqueued enqueued, String refusal) {
    }

    /** Empty when run {@code deadRunId} does not exist. */
    public Optional<Outcome> rerun(long deadRunId, Actor actor) throws SQLException {
        Optional<RunView> found = runs.find(deadRunId);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        RunView dead = found.get();
        if (!dead.state().equals("dead")) {
            return Optional.of(new Outcome(null, "run " + deadRunId + " is " + dead.state() + ", not dead: only a dead run is run again with its guards overridden"));
        }
        Map<String, String> params = new LinkedHashMap<>(dead.params());
        params.remove(RunParams.OVERRIDE_GUARDS);
        Period period = dead.scheduledAt() == null || dead.periodStart() == null ? null
                : new Period(dead.scheduledAt(), dead.periodStart(), dead.periodEnd(),
                ZoneId.of(dead.periodZone() == null ? "UTC" : dead.periodZone()));
        NewRun run = NewRun.manual(dead.job(), RunParams.overridingGuards(params, actor.name()), "override-guards-of-run-" + deadRunId, period)
                .by(actor);
        return Optional.of(new Outcome(queue.enqueue(run), null));
    }
}
