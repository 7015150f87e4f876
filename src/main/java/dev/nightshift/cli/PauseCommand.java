package dev.nightshift.cli;

import dev.nightshift.audit.Actor;
import dev.nightshift.db.Database;
import dev.nightshift.schedule.Pauses;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code nightshift pause}: no scheduled or chained runs for the jobs until resumed; shared with resume. */
@Command(name = "pause", mixinStandardHelpOptions = true,
        description = "Pause jobs on every node: no scheduled or after: runs until resumed (manual triggers still run; running runs finish).")
final class PauseCommand extends BaseCommand {
    /** JOB... or --all, exactly one of them. */
    static final class Target {
        @Parameters(paramLabel = "JOB", arity = "1..*", description = "job names")
        List<String> jobs;

        @Option(names = "--all", required = true, description = "every job")
        boolean all;

        List<String> namesOrNull() {
            return all ? null : jobs;
        }
    }

    @ArgGroup(multiplicity = "1")
    Target target;

    @Override
    public Integer call() throws Exception {
        return setPaused(this, target, true);
    }

    /** Shared by pause and resume: prints what changed; unknown names are a usage error and change nothing. */
    static int setPaused(BaseCommand cmd, Target target, boolean paused) throws Exception {
        quietLogs();
        try (Database db = openMigrated(cmd.settings())) {
            Pauses.Outcome o = new Pauses(db.dataSource()).set(target.namesOrNull(), paused, Actor.cli());
            if (!o.unknown().isEmpty()) {
                throw new UsageException("unknown job" + (o.unknown().size() > 1 ? "s " : " ") + String.join(", ", o.unknown())
                        + " (known: " + String.join(", ", TriggerCommand.knownJobs(db)) + "); nothing changed");
            }
            String verb = paused ? "paused" : "resumed";
            if (o.changed().isEmpty()) {
                cmd.out().println("nothing changed: already " + verb);
            } else {
                cmd.out().println(verb + ": " + String.join(", ", o.changed()));
            }
            return Main.OK;
        }
    }
}
