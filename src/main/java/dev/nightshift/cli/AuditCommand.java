package dev.nightshift.cli;

import dev.nightshift.audit.Action;
import dev.nightshift.audit.AuditEntry;
import dev.nightshift.audit.AuditLog;
import dev.nightshift.db.Database;
import dev.nightshift.json.Json;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code nightshift audit}: who did what, newest first, from the append-only audit table. */
@Command(name = "audit", mixinStandardHelpOptions = true,
        description = "List operator actions (trigger, cancel, retry, pause, resume, backfill, guard override), newest first, with their actor.")
final class AuditCommand extends BaseCommand {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    @Option(names = "--job", paramLabel = "JOB", description = "only actions on this job")
    String job;

    @Option(names = "--actor", paramLabel = "NAME", description = "only this actor's actions (a token's name, a proxy's user, cli:USER)")
    String actor;

    @Option(names = "--action", paramLabel = "ACTION", description = "only this action: ${COMPLETION-CANDIDATES}",
            completionCandidates = ActionNames.class)
    String action;

    @Option(names = "--run", paramLabel = "RUN", description = "only actions on this run")
    String run;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "at most N rows (default 50, at most 1000)")
    int limit;

    @Option(names = "--json", description = "a JSON array of entries (id, at, actor, role, action, job, runId, backfillId, detail)")
    boolean json;

    /** The action names, for the usage message. */
    static final class ActionNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return Arrays.stream(Action.values()).map(Action::dbName).iterator();
        }
    }

    @Override
    public Integer call() throws Exception {
        quietLogs();
        Action a = null;
        if (action != null) {
            a = Action.parse(action);
            if (a == null) {
                throw new UsageException("--action must be one of " + Arrays.stream(Action.values()).map(Action::dbName)
                        .collect(Collectors.joining(", ")) + "; got '" + action + "'");
            }
        }
        if (limit < 1 || limit > AuditLog.MAX_LIMIT) {
            throw new UsageException("--limit must be between 1 and " + AuditLog.MAX_LIMIT + ", got " + limit);
        }
        Long runId = run == null ? null : runId(run);
        try (Database db = openMigrated(settings())) {
            List<AuditEntry> entries = new AuditLog(db.dataSource()).list(new AuditLog.Filter(job, actor, a, runId), null, limit);
            if (json) {
                out().println(Json.write(entries));
                return Main.OK;
            }
            out().printf("%-19s %-24s %-8s %-15s %-28s %-8s %s%n", "AT (UTC)", "ACTOR", "ROLE", "ACTION", "JOB", "RUN", "DETAIL");
            for (AuditEntry e : entries) {
                out().printf("%-19s %-24s %-8s %-15s %-28s %-8s %s%n", TIME.format(e.at()), e.actor(), e.role(), e.action(),
                        e.job() == null ? "-" : e.job(), e.runId() == null ? (e.backfillId() == null ? "-" : "bf " + e.backfillId())
                                : e.runId().toString(), e.detail().isEmpty() ? "" : Json.write(e.detail()));
            }
            if (entries.isEmpty()) {
                out().println("(no actions recorded)");
            }
        }
        return Main.OK;
    }
}
