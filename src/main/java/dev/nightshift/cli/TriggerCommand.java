package dev.nightshift.cli;

import dev.nightshift.audit.Actor;
import dev.nightshift.config.ConfigException;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.db.Database;
import dev.nightshift.jobs.AimedSource;
import dev.nightshift.db.Tx;
import dev.nightshift.json.Json;
import dev.nightshift.queue.Period;
import dev.nightshift.schedule.LogicalTime;
import java.time.Clock;
import java.time.Instant;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunParams;
import dev.nightshift.queue.RunQueries;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.queue.RunView;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "trigger", mixinStandardHelpOptions = true,
        description = "Enqueue a run of JOB now. Parameters are readable in SQL as current_setting('nightshift.param.NAME').")
final class TriggerCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "JOB", description = "job name")
    String job;

    @Option(names = "--param", paramLabel = "NAME=VALUE", description = "a run parameter (repeatable)")
    Map<String, String> params = new LinkedHashMap<>();

    @Option(names = "--key", paramLabel = "KEY", description = "idempotency key: a second trigger with the same key returns the first run")
    String key;

    @Option(names = "--at", paramLabel = "TIME", description = "the slot the run stands for (ISO-8601 with offset, e.g. "
            + "2026-03-01T00:00Z); its period is the schedule's period ending there. Default: the schedule's latest slot")
    String at;

    @Option(names = "--override-guards", description = "let this run pass the job's guards (min_rows, max_delete, "
            + "max_change, assert): a delivery a guard refused, applied on purpose; the run records who overrode (admin)")
    boolean overrideGuards;

    @Option(names = "--wait", description = "wait for the run to finish; exit 0 if it succeeded, 1 if not")
    boolean await;

    @Option(names = "--json", description = "print the run as JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        quietLogs();
        validate(params, key);
        checkSource();
        Instant slot = parseAt(at);
        try (Database db = openMigrated(settings())) {
            RunQueue.Enqueued e;
            try {
                Period period = period(db, slot);
                Actor actor = Actor.cli();
                Map<String, String> runParams = overrideGuards ? RunParams.overridingGuards(params, actor.name()) : params;
                e = new RunQueue(db.dataSource()).enqueue(NewRun.manual(job, runParams, key, period).by(actor));
            } catch (RunQueue.UnknownJobException ex) {
                throw new UsageException("unknown job '" + job + "' (known: " + String.join(", ", knownJobs(db)) + ")");
            }
            RunQueries q = new RunQueries(db.dataSource());
            if (!json) {
                out().println(e.created() ? "run " + e.id() + " of job " + job + " enqueued"
                        : "run " + e.id() + " already exists for key '" + key + "'; nothing enqueued");
                if (pausedJob(db)) {
                    out().println("note: job " + job + " is paused; manual triggers still run");
                }
            }
            if (!await) {
                if (json) {
                    out().println(Json.write(q.find(e.id()).orElseThrow()));
                }
                return Main.OK;
            }
            RunView v = waitFor(q, e.id());
            if (json) {
                out().println(Json.write(v));
            } else {
                out().println("run " + v.id() + " " + v.state() + (v.lastError() != null && !v.state().equals("succeeded")
                        ? ": " + v.lastError() : "") + (v.counts() != null ? " " + v.counts() : ""));
            }
            return v.state().equals("succeeded") ? Main.OK : Main.FAILED;
        }
    }

    /**
     * A batch-import's {@code source} parameter, checked against the job's definition in this
     * host's catalog before anything is enqueued (the worker checks it again before reading).
     */
    private void checkSource() {
        String source = params.get(AimedSource.PARAM);
        if (source == null) {
            return;
        }
        JobCatalog catalog;
        try {
            catalog = JobCatalog.load(settings().jobsDir());
        } catch (ConfigException e) {
            throw new UsageException("param source: the job catalog in " + settings().jobsDir()
                    + " cannot be read, so the path cannot be checked: " + e.getMessage());
        }
        JobDefinition d = catalog.find(job).orElseThrow(() -> new UsageException("param source: job '" + job
                + "' is not in the catalog in " + settings().jobsDir() + ", so the path cannot be checked"));
        if (!AimedSource.applies(d)) {
            return;
        }
        try {
            AimedSource.check(d, source);
        } catch (AimedSource.RefusedException e) {
            throw new UsageException(e.getMessage());
        }
    }

    static void validate(Map<String, String> params, String key) {
        List<String> problems = RunParams.problems(params, key);
        if (!problems.isEmpty()) {
            throw new UsageException(String.join("; ", problems));
        }
    }

    static Instant parseAt(String at) {
        try {
            return at == null ? null : LogicalTime.parseAt(at);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--" + e.getMessage());
        }
    }

    private Period period(Database db, Instant slot) throws Exception {
        try {
            return Tx.call(db.dataSource(), c -> new LogicalTime(Clock.systemUTC()).ofTrigger(c, job, slot)).orElse(null);
        } catch (LogicalTime.NotASlotException e) {
            throw new UsageException("--at " + e.getMessage());
        }
    }

    private boolean pausedJob(Database db) throws Exception {
        return Tx.call(db.dataSource(), c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT paused FROM nightshift.job WHERE name = ?")) {
                ps.setString(1, job);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() && rs.getBoolean(1);
                }
            }
        });
    }

    static List<String> knownJobs(Database db) throws Exception {
        return Tx.call(db.dataSource(), c -> {
            List<String> names = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT name FROM nightshift.job WHERE removed_at IS NULL ORDER BY name");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
            return names;
        });
    }

    private static RunView waitFor(RunQueries q, long id) throws Exception {
        long pause = 20;
        while (true) {
            RunView v = q.find(id).orElseThrow(() -> new IllegalStateException("run " + id + " vanished (pruned?)"));
            if (v.finished()) {
                return v;
            }
            Thread.sleep(pause);
            pause = Math.min(500, pause * 2);
        }
    }
}
