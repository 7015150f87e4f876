package dev.nightshift.bench;

import dev.nightshift.cli.CommonOptions;
import dev.nightshift.config.Settings;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/** What every benchmark shares: the settings flags, the environment of the command line, the output. */
abstract class BenchSubcommand implements Callable<Integer> {
    @CommandLine.Mixin
    CommonOptions options;

    @CommandLine.ParentCommand
    BenchCommand bench;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The configured settings: the database next to which the benchmark makes its scratch one. */
    Settings settings() {
        return options.settings(bench.main.env());
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }
}
