package dev.nightshift.cli;

import dev.nightshift.audit.Actor;
import dev.nightshift.queue.RunOps;
import java.sql.SQLException;
import picocli.CommandLine.Command;

@Command(name = "cancel", mixinStandardHelpOptions = true,
        description = "Cancel a run: a waiting run at once; a running one has its statement cancelled (pg_cancel_backend) and rolls back.")
final class CancelCommand extends RunActionCommand {
    @Override
    RunOps.Outcome act(RunOps ops, long id) throws SQLException {
        return ops.cancel(id, Actor.cli());
    }
}
