package dev.nightshift.cli;

import dev.nightshift.audit.Actor;
import dev.nightshift.db.Database;
import dev.nightshift.json.Json;
import dev.nightshift.schedule.BackfillView;
import dev.nightshift.schedule.Backfills;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "backfills", mixinStandardHelpOptions = true,
        description = "List backfills, newest first, with their progress; or cancel one as a whole (--cancel ID).")
final class BackfillsCommand extends BaseCommand {
    @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "at most N backfills (default 20)")
    int limit;

    @Option(names = "--cancel", paramLabel = "ID", description = "cancel backfill ID: no more slots, its waiting runs cancelled, its running ones stopped")
    Long cancel;

    @Option(names = "--json", description = "print the backfills as JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        quietLogs();
        if (limit < 1 || limit > 1000) {
            throw new UsageException("--limit must be between 1 and 1000, got " + limit);
        }
        try (Database db = openMigrated(settings())) {
            Backfills backfills = new Backfills(db.dataSource(), Clock.systemUTC());
            if (cancel != null) {
                Optional<String> outcome = backfills.cancel(cancel, Actor.cli());
                if (outcome.isEmpty()) {
                    throw new UsageException("no backfill " + cancel);
                }
                out().println(outcome.get());
                return Main.OK;
            }
            List<BackfillView> all = backfills.list(limit);
            if (json) {
                out().println(Json.write(all));
                return Main.OK;
            }
            all.forEach(v -> out().println(BackfillCommand.describe(v)));
            if (all.isEmpty()) {
                out().println("(no backfills)");
            }
        }
        return Main.OK;
    }
}
