package dev.nightshift.cli;

import dev.nightshift.db.Database;
import dev.nightshift.json.Json;
import dev.nightshift.queue.RunQueries;
import dev.nightshift.queue.RunView;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "runs", mixinStandardHelpOptions = true, description = "List runs, newest first.")
final class RunsCommand extends BaseCommand {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    @Option(names = "--job", paramLabel = "JOB", description = "only this job")
    String job;

    @Option(names = "--state", paramLabel = "STATE", description = "only this state: available, running, succeeded, dead, cancelled")
    String state;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "at most N runs (default 20, at most 10000)")
    int limit;

    @Option(names = "--json", description = "a JSON array of runs (the shape of `show --json`)")
    boolean json;

    @Override
    public Integer call() throws Exception {
        quietLogs();
        if (state != null && !RunQueries.STATES.contains(state)) {
            throw new UsageException("--state must be one of available, running, succeeded, dead, cancelled; got '" + state + "'");
        }
        if (limit < 1 || limit > 10_000) {
            throw new UsageException("--limit must be between 1 and 10000, got " + limit);
        }
        try (Database db = openMigrated(settings())) {
            List<RunView> runs = new RunQueries(db.dataSource()).list(job, state, null, limit);
            if (json) {
                out().println(Json.write(runs));
                return Main.OK;
            }
            out().printf("%-8s %-28s %-10s %-9s %-7s %-19s %-35s %-9s %s%n", "ID", "JOB", "STATE", "TRIGGER", "ATTEMPT",
                    "CREATED (UTC)", "PERIOD (LOCAL)", "DURATION", "RESULT");
            for (RunView r : runs) {
                out().printf("%-8d %-28s %-10s %-9s %-7s %-19s %-35s %-9s %s%n", r.id(), r.job(), r.state(), r.trigger(),
                        r.attempt() + "/" + r.maxAttempts(), TIME.format(r.createdAt()), r.periodLabel(), duration(r), result(r));
            }
            if (runs.isEmpty()) {
                out().println("(no runs)");
            }
        }
        return Main.OK;
    }

    static String duration(RunView r) {
        if (r.startedAt() == null) {
            return "-";
        }
        Instant end = r.finishedAt() != null ? r.finishedAt() : r.state().equals("running") ? Instant.now() : null;
        if (end == null) {
            return "-";
        }
        Duration d = Duration.between(r.startedAt(), end);
        return d.toMillis() < 10_000 ? d.toMillis() + "ms" : d.toSeconds() + "s";
    }

    static String result(RunView r) {
        if (r.state().equals("succeeded")) {
            return r.counts() == null ? "" : r.counts().toString();
        }
        if (r.lastError() == null) {
            return r.state().equals("available") && r.runAt().isAfter(Instant.now()) ? "due " + TIME.format(r.runAt()) : "";
        }
        String e = r.lastError().replaceAll("\\s+", " ");
        return e.length() > 80 ? e.substring(0, 77) + "..." : e;
    }
}
