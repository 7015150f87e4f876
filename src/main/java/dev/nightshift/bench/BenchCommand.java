package dev.nightshift.bench;

import dev.nightshift.cli.Main;
import picocli.CommandLine.Command;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks on this machine's PostgreSQL, each in a scratch database that is dropped afterwards.",
        subcommands = {BenchQueueCommand.class, BenchIdleCommand.class, BenchImportCommand.class, BenchScheduleCommand.class,
            BenchFleetCommand.class})
final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @picocli.CommandLine.ParentCommand
    Main main;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
