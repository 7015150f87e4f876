package dev.nightshift.cli;

import dev.nightshift.audit.Actor;
import dev.nightshift.queue.RunOps;
import java.sql.SQLException;
import picocli.CommandLine.Command;

@Command(name = "retry", mixinStandardHelpOptions = true,
        description = "Run a dead or cancelled run again, with fresh attempts; a run waiting for its backoff is made due now.")
final class RetryCommand extends RunActionCommand {
    @Override
    RunOps.Outcome act(RunOps ops, long id) throws SQLException {
        return ops.retry(id, Actor.cli());
    }
}
