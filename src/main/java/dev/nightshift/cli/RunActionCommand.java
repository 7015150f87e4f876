package dev.nightshift.cli;

import dev.nightshift.db.Database;
import dev.nightshift.queue.RunOps;
import java.sql.SQLException;
import picocli.CommandLine.Parameters;

/** An operator action on one run (cancel, retry): exit 0 if it changed the run, 1 if its state forbids it, 2 if there is no such run. */
abstract class RunActionCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "RUN", description = "run id")
    String run;

    abstract RunOps.Outcome act(RunOps ops, long id) throws SQLException;

    @Override
    public Integer call() throws Exception {
        quietLogs();
        long id = runId(run);
        try (Database db = openMigrated(settings())) {
            RunOps.Outcome o = act(new RunOps(db.dataSource()), id);
            if (o == null) {
                throw new UsageException("no run " + id);
            }
            (o.changed() ? out() : err()).println(o.message());
            return o.changed() ? Main.OK : Main.FAILED;
        }
    }
}
