package dev.nightshift.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;

/** {@code nightshift resume}: the counterpart of {@link PauseCommand}. */
@Command(name = "resume", mixinStandardHelpOptions = true,
        description = "Resume paused jobs: their next slots fire again (slots missed while paused are not made up).")
final class ResumeCommand extends BaseCommand {
    @ArgGroup(multiplicity = "1")
    PauseCommand.Target target;

    @Override
    public Integer call() throws Exception {
        return PauseCommand.setPaused(this, target, false);
    }
}
