package dev.nightshift.cli;

import dev.nightshift.db.Database;
import dev.nightshift.queue.RunOps;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "retry", mixinStandardHelpOptions = true,
        description = "Run a dead or cancelled run again, with fresh attempts; a run waiting for its backoff is made due now.")
final class RetryCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "RUN", description = "run id")
    String run;

    @Override
    public Integer call() throws Exception {
        quietLogs();
        long id = runId(run);
        try (Database db = openMigrated(settings())) {
            RunOps.Outcome o = new RunOps(db.dataSource()).retry(id);
            if (o == null) {
                throw new UsageException("no run " + id);
            }
            (o.changed() ? out() : err()).println(o.message());
            return o.changed() ? Main.OK : Main.FAILED;
        }
    }
}
