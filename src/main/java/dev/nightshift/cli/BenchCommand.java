package dev.nightshift.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code nightshift bench …}: benchmarks, each in a scratch database of its own. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks; each creates a scratch database on the configured server and drops it at the end.",
        subcommands = {BenchScheduleCommand.class})
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
