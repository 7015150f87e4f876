package dev.nightshift.cli;

import dev.nightshift.db.Database;
import dev.nightshift.queue.RunOps;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "cancel", mixinStandardHelpOptions = true,
        description = "Cancel a run: a waiting run at once; a running one has its statement cancelled (pg_cancel_backend) and rolls back.")
final class CancelCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "RUN", description = "run id")
    String run;

    @Override
    public Integer call() throws Exception {
        quietLogs();
        long id = runId(run);
        try (Database db = openMigrated(settings())) {
            RunOps.Outcome o = new RunOps(db.dataSource()).cancel(id);
            if (o == null) {
                throw new UsageException("no run " + id);
            }
            (o.changed() ? out() : err()).println(o.message());
            return o.changed() ? Main.OK : Main.FAILED;
        }
    }
}
