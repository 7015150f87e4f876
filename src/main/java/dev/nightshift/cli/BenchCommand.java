package dev.nightshift.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code nightshift bench ...}: measurements on the configured database; each kind is a subcommand. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure nightshift on the configured database.",
        subcommands = {BenchImportCommand.class})
final class BenchCommand implements Runnable {
    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
