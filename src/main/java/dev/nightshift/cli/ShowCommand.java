package dev.nightshift.cli;

import dev.nightshift.db.Database;
import dev.nightshift.json.Json;
import dev.nightshift.queue.RunParams;
import dev.nightshift.queue.RunQueries;
import dev.nightshift.queue.RunView;
import dev.nightshift.schedule.FanIn;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "show", mixinStandardHelpOptions = true, description = "Show one run in full.")
final class ShowCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "RUN", description = "run id")
    String run;

    @Option(names = "--json", description = "print the run as JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        quietLogs();
        long id = runId(run);
        try (Database db = openMigrated(settings())) {
            RunView r = new RunQueries(db.dataSource()).find(id)
                    .orElseThrow(() -> new UsageException("no run " + id));
            if (json) {
                out().println(Json.write(r));
                return Main.OK;
            }
            line("run", r.id());
            line("job", r.job());
            line("state", r.state() + (r.cancelRequested() && r.state().equals("running") ? " (cancel requested)" : ""));
            line("trigger", r.trigger() + (r.parentRunId() != null ? " (after run " + r.parentRunId() + ")" : ""));
            line("actor", r.actor());
            line("params", r.params().isEmpty() ? null : r.params());
            line("key", r.dedupeKey());
            line("scheduled at", r.scheduledAt());
            line("period", r.periodStart() == null ? null : r.periodLabel() + " (" + r.periodZone() + ")");
            line("attempt", r.attempt() + " of " + r.maxAttempts());
            line("run at", r.runAt());
            line("created", r.createdAt());
            line("started", r.startedAt());
            line("finished", r.finishedAt());
            line("duration", RunsCommand.duration(r));
            line("node", r.node());
            line("backend pid", r.backendPid());
            line("counts", r.counts());
            if (r.counts() != null && r.counts().containsKey("guard")) {
                line("guard", "refused by " + r.counts().get("guard") + " (limit " + r.counts().get("guard_limit")
                        + "); target unchanged; to apply it anyway: nightshift trigger " + r.job() + " --override-guards");
            }
            line("guards", r.params().containsKey(RunParams.OVERRIDE_GUARDS)
                    ? "overridden by " + r.params().get(RunParams.OVERRIDE_GUARDS) : null);
            line("last error", r.lastError());
            line("sqlstate", r.lastErrorSqlstate());
            for (String f : FanIn.downstreamOf(db.dataSource(), r.job(), r.id())) {
                line("fan-in", f);
            }
        }
        return Main.OK;
    }

    private void line(String label, Object value) {
        if (value != null) {
            out().printf("%-13s %s%n", label + ":", value);
        }
    }
}
